import type { Catalogue } from "./catalogue.js";
import type { DevboxStore } from "./devboxes.js";
import { badRequest, json, nameFilter, newId, notFound, page, type Router } from "./http.js";

/** BlueprintView: an image built from a Dockerfile. */
export interface BlueprintView {
  id: string;
  name: string;
  status: "provisioning" | "building" | "failed" | "build_complete";
  create_time_ms: number;
  failure_reason?: string;
  parameters: { dockerfile: string; system_setup_commands?: string[] };
}

/** What a Dockerfile means to the fake: RUN steps, ENV, WORKDIR; the base image is the host's /usr. */
export interface ParsedDockerfile {
  commands: string[];
  env: Record<string, string>;
  workdir: string | null;
}

/**
 * Parses the instructions the fake can honour. FROM is accepted (every image is the host's system);
 * COPY/ADD from the build context cannot be (the API takes no context here) and fail the build.
 */
export function parseDockerfile(text: string): ParsedDockerfile | { error: string } {
  const out: ParsedDockerfile = { commands: [], env: {}, workdir: null };
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\w+)\s*(.*)$/.exec(line);
    const op = m?.[1]?.toUpperCase() ?? "";
    const arg = m?.[2] ?? "";
    if (op === "RUN") {
      const exec = arg.startsWith("[") ? (JSON.parse(arg) as string[]) : null;
      out.commands.push(exec ? exec.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ") : arg);
    } else if (op === "ENV") {
      const pairs = arg.includes("=") ? arg.split(/\s+(?=\w+=)/) : [arg.replace(/\s+/, "=")];
      for (const p of pairs) {
        const eq = p.indexOf("=");
        out.env[p.slice(0, eq)] = p.slice(eq + 1).replace(/^"(.*)"$/, "$1");
      }
    } else if (op === "WORKDIR") {
      out.workdir = arg;
      out.commands.push(`mkdir -p '${arg}'`);
    } else if ((op === "COPY" || op === "ADD") && !/(^|\s)--from=/.test(arg)) {
      return { error: `${op} ${arg}: the build has no context` };
    } else if (
      !["FROM", "LABEL", "USER", "EXPOSE", "CMD", "ENTRYPOINT", "ARG", "SHELL"].includes(op)
    ) {
      return { error: `unknown instruction ${op}` };
    }
  }
  return out;
}

/**
 * Blueprint builds (POST /v1/blueprints): the Dockerfile's RUN steps really run in a build devbox; a step
 * that fails makes the blueprint `failed` with the step and its exit status. A built blueprint becomes an
 * image: devboxes made from it run the same steps as setup commands and get its ENV.
 */
export class BlueprintStore {
  readonly all = new Map<string, BlueprintView>();
  builds = 0;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly devboxes: DevboxStore,
  ) {}

  create(body: Record<string, unknown>): BlueprintView {
    const name = body.name;
    const dockerfile = body.dockerfile;
    if (typeof name !== "string" || name === "") throw badRequest("name is required");
    if (typeof dockerfile !== "string") throw badRequest("dockerfile is required");
    const setup = Array.isArray(body.system_setup_commands)
      ? (body.system_setup_commands as string[])
      : [];
    const view: BlueprintView = {
      id: newId("bpt_"),
      name,
      status: "building",
      create_time_ms: Date.now(),
      parameters: { dockerfile, ...(setup.length > 0 ? { system_setup_commands: setup } : {}) },
    };
    this.all.set(view.id, view);
    this.builds++;
    void this.build(view, dockerfile, setup);
    return view;
  }

  private async build(view: BlueprintView, dockerfile: string, setup: string[]): Promise<void> {
    const parsed = parseDockerfile(dockerfile);
    if ("error" in parsed) {
      view.status = "failed";
      view.failure_reason = parsed.error;
      return;
    }
    const commands = [...parsed.commands, ...setup];
    const d = this.devboxes.create({
      name: `build-${view.id}`,
      environmentVariables: parsed.env,
      launchParameters: { launch_commands: commands },
    });
    await d.ready;
    if (d.status === "running") {
      this.catalogue.blueprints.set(view.id, {
        name: view.name,
        setupCommands: commands,
        env: parsed.env,
      });
      view.status = "build_complete";
    } else {
      view.status = "failed";
      view.failure_reason = `a RUN step failed (${d.failureReason ?? d.status})`;
    }
    await this.devboxes.shutdown(d);
  }

  routes(router: Router): void {
    router.add("POST", "/v1/blueprints", (ctx) => json(this.create(ctx.body())));
    router.add("GET", "/v1/blueprints/{id}", (ctx) => {
      const view = this.all.get(ctx.params.id!);
      if (view === undefined) throw notFound(`blueprint ${ctx.params.id}`);
      return json(view);
    });
    router.add("GET", "/v1/blueprints", (ctx) =>
      page(
        nameFilter(
          [...this.all.values()].reverse(),
          ctx.query,
          (b) => b.name,
          (b) => b.id,
        ),
        ctx.query,
        "blueprints",
        (b) => b,
        (b) => b.id,
      ),
    );
  }
}
