import {
  ApiError,
  badRequest,
  json,
  newId,
  notFound,
  page,
  type Router,
  reqString,
} from "./http.js";

/** SecretView: never carries the value. */
export interface SecretView {
  id: string;
  name: string;
  create_time_ms: number;
  update_time_ms: number;
}

interface Secret extends SecretView {
  value: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The account's secrets (reference §2.7): names are unique env-var names, values write-only. */
export class SecretStore {
  private readonly byName = new Map<string, Secret>();

  set(name: string, value: string): SecretView {
    if (!NAME.test(name)) {
      throw badRequest(`invalid secret name ${JSON.stringify(name)}: use letters, digits and _`);
    }
    const now = Date.now();
    const old = this.byName.get(name);
    const secret: Secret = old
      ? { ...old, value, update_time_ms: now }
      : { id: newId("sec_"), name, value, create_time_ms: now, update_time_ms: now };
    this.byName.set(name, secret);
    return view(secret);
  }

  value(name: string): string | undefined {
    return this.byName.get(name)?.value;
  }

  /** ENV → value for an ENV → secret-name map; 400 naming the first unknown secret. */
  resolve(map: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [env, name] of Object.entries(map)) {
      const secret = this.byName.get(name);
      if (secret === undefined) throw badRequest(`secret ${name} (for ${env}) not found`);
      out[env] = secret.value;
    }
    return out;
  }

  routes(router: Router): void {
    router.add("POST", "/v1/secrets", (ctx) => {
      const body = ctx.body();
      const name = reqString(body, "name");
      if (typeof body.value !== "string") throw badRequest("value must be a string");
      if (this.byName.has(name)) throw new ApiError(409, `secret ${name} already exists`);
      return json(this.set(name, body.value));
    });
    router.add("GET", "/v1/secrets", (ctx) =>
      page([...this.byName.values()], ctx.query, "secrets", view, (s) => s.id),
    );
    router.add("GET", "/v1/secrets/{name}", (ctx) => json(view(this.get(ctx.params.name!))));
    router.add("POST", "/v1/secrets/{name}", (ctx) => {
      const body = ctx.body();
      const secret = this.get(ctx.params.name!);
      if (typeof body.value !== "string") throw badRequest("value must be a string");
      return json(this.set(secret.name, body.value));
    });
    router.add("POST", "/v1/secrets/{name}/delete", (ctx) => {
      const secret = this.get(ctx.params.name!);
      this.byName.delete(secret.name);
      return json(view(secret));
    });
  }

  private get(name: string): Secret {
    const secret = this.byName.get(name);
    if (secret === undefined) throw notFound(`secret ${name}`);
    return secret;
  }
}

function view(s: Secret): SecretView {
  return {
    id: s.id,
    name: s.name,
    create_time_ms: s.create_time_ms,
    update_time_ms: s.update_time_ms,
  };
}
