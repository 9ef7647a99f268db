import { createHash, randomBytes } from "node:crypto";

/** A handler's failure, answered as `{ message }` with this status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (what: string): ApiError => new ApiError(404, `${what} not found`);

/** A complete response, kept whole so an idempotent replay sends the same bytes. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function json(value: unknown, status = 200): Reply {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function bytes(
  body: Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): Reply {
  return { status: 200, headers: { "content-type": contentType, ...headers }, body };
}

export function errorReply(status: number, message: string, headers: Record<string, string> = {}) {
  const reply = json({ message }, status);
  Object.assign(reply.headers, headers);
  return reply;
}

/** What a handler sees of one request. */
export interface Ctx {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  contentType: string;
  raw: Buffer;
  /** The JSON body as an object; {} when empty. Throws 400 for anything else. */
  body(): Record<string, unknown>;
  /** Aborted when the client goes away (long polls stop holding). */
  signal: AbortSignal;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

interface Route {
  method: string;
  template: string;
  segments: string[];
  literals: number;
  handler: Handler;
}

/** Route templates like /v1/devboxes/{id}/execute; literal segments win over parameters. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): void {
    const segments = template.split("/").filter(Boolean);
    const literals = segments.filter((s) => !s.startsWith("{")).length;
    this.routes.push({ method, template, segments, literals, handler });
  }

  match(
    method: string,
    path: string,
  ): { template: string; params: Record<string, string>; handler: Handler } | null {
    const parts = path.split("/").filter(Boolean);
    let best: { route: Route; params: Record<string, string> } | null = null;
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith("{")) {
          try {
            params[seg.slice(1, -1)] = decodeURIComponent(part);
          } catch {
            ok = false;
          }
        } else ok = seg === part;
      }
      if (ok && (best === null || route.literals > best.route.literals)) best = { route, params };
    }
    if (best === null) return null;
    return { template: best.route.template, params: best.params, handler: best.route.handler };
  }
}

/** A Runloop-looking id: prefix plus 21 base62 characters, random or derived from `key`. */
export function newId(prefix: string, key?: string): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const source =
    key === undefined ? randomBytes(32) : createHash("sha256").update(`${prefix}${key}`).digest();
  let out = "";
  for (let i = 0; i < 21; i++) out += alphabet[source[i]! % alphabet.length];
  return `${prefix}${out}`;
}

// Body field readers: each throws 400 naming the field.

export function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${key} must be a string`);
  return v;
}

export function reqString(body: Record<string, unknown>, key: string): string {
  const v = optString(body, key);
  if (v === undefined || v === "") throw badRequest(`${key} is required`);
  return v;
}

export function optNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw badRequest(`${key} must be a number`);
  return v;
}

export function optBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badRequest(`${key} must be a boolean`);
  return v;
}

export function optObject(
  body: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw badRequest(`${key} must be an object`);
  return v as Record<string, unknown>;
}

export function stringMap(body: Record<string, unknown>, key: string): Record<string, string> {
  const obj = optObject(body, key) ?? {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string") throw badRequest(`${key}.${k} must be a string`);
  }
  return obj as Record<string, string>;
}

export function stringArray(body: Record<string, unknown>, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw badRequest(`${key} must be an array of strings`);
  }
  return v as string[];
}

const MAX_LIMIT = 5000;

/**
 * One page of `items` (already in list order) as `{ [key]: [...], has_more, total_count? }`:
 * `limit` (default 20, at most 5000), `starting_after` (an id from the list, else 400),
 * `include_total_count` (default true).
 */
export function page<T>(
  items: readonly T[],
  query: URLSearchParams,
  key: string,
  view: (item: T) => unknown,
  idOf: (item: T) => string,
): Reply {
  const limitText = query.get("limit");
  let limit = 20;
  if (limitText !== null && limitText !== "") {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) {
      throw badRequest(`limit must be a positive integer, got ${limitText}`);
    }
    limit = Math.min(limit, MAX_LIMIT);
  }
  let start = 0;
  const after = query.get("starting_after");
  if (after !== null && after !== "") {
    const at = items.findIndex((item) => idOf(item) === after);
    if (at < 0) throw badRequest(`starting_after: no item with id ${after}`);
    start = at + 1;
  }
  const slice = items.slice(start, start + limit);
  const out: Record<string, unknown> = {
    [key]: slice.map(view),
    has_more: start + limit < items.length,
  };
  if (query.get("include_total_count") !== "false") out.total_count = items.length;
  return json(out);
}

/** `name` (exact) and `search` (case-insensitive substring of the name or id) list filters. */
export function nameFilter<T>(
  items: readonly T[],
  query: URLSearchParams,
  nameOf: (item: T) => string,
  idOf: (item: T) => string,
): T[] {
  const name = query.get("name");
  const search = query.get("search")?.toLowerCase();
  return items.filter(
    (item) =>
      (name === null || name === "" || nameOf(item) === name) &&
      (search === undefined ||
        search === "" ||
        nameOf(item).toLowerCase().includes(search) ||
        idOf(item).toLowerCase() === search),
  );
}

/** Wakes long polls: every state change calls notify(), each waiter re-checks its condition. */
export class Notifier {
  private readonly waiters = new Map<() => void, (value: boolean) => void>();

  notify(): void {
    for (const check of [...this.waiters.keys()]) check();
  }

  /** Resolves true once `done()` holds, false after `holdMs`, on abort or on releaseAll(). */
  waitUntil(done: () => boolean, holdMs: number, signal?: AbortSignal): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const check = (): void => {
        if (done()) finish(true);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(done()), Math.max(0, holdMs));
      this.waiters.set(check, finish);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends every hold at once (close()). */
  releaseAll(): void {
    for (const finish of [...this.waiters.values()]) finish(false);
  }
}

/** A FNV-1a hash of `text` in [0, 2^32): stable across runs, for default outcomes. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
