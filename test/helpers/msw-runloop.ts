import { createHash } from "node:crypto";
import { HttpResponse, http } from "msw";
import { type SetupServer, setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";
import { RunloopClient } from "../../src/runloop/client.js";
import { type AttemptEvent, RunloopHttp } from "../../src/runloop/http.js";

export const BASE = "https://runloop.test";
export const KEY = "rl_api_0123456789abcdefSECRET";

/** An msw server for one test file: unhandled requests fail the test. */
export function mswServer() {
  return setupServer();
}

/** A client for msw that logs every attempt: no real sleeps, no jitter, and the default retries
 * unless `maxRetries` is given. */
export function makeClient(maxRetries?: number): {
  client: RunloopClient;
  attempts: AttemptEvent[];
} {
  const attempts: AttemptEvent[] = [];
  const client = new RunloopClient(
    new RunloopHttp({
      apiKey: KEY,
      baseUrl: BASE,
      sleep: async () => {},
      random: () => 0,
      onAttempt: (event) => attempts.push(event),
      ...(maxRetries === undefined ? {} : { maxRetries }),
    }),
  );
  return { client, attempts };
}

/** A client for msw: no real sleeps, no jitter, and no retries unless asked (a failed answer is final). */
export function testClient(maxRetries = 0): RunloopClient {
  return makeClient(maxRetries).client;
}

/** A request as it reached the server. */
export interface Seen {
  method: string;
  /** The whole URL as sent. */
  url: string;
  /** Path as sent, still percent-encoded. */
  path: string;
  query: Record<string, string>;
  headers: Headers;
  /** The parsed JSON body; undefined when there is none or it is not JSON. */
  body: unknown;
  bytes: Buffer;
  bodyLength: number;
  /** The parsed multipart body, when there is one. */
  form?: FormData;
}

/** An answer to the nth request on a route (n counts from 1). */
export type Answer = (n: number, request: Request) => Response | Promise<Response>;

/** Answers every request on `path` (an msw pattern) with `answers` in turn, the last one repeating,
 * and records what was sent. */
export type Route = (
  method: "get" | "post",
  path: string,
  answer: Answer,
  ...more: Answer[]
) => Seen[];

/** msw in place of the Runloop API for one test file: `server` listens for the whole file (an
 * unhandled request fails the test) and drops the handlers a test added when it ends; `route`
 * adds a recording handler to it. */
export function mockRunloop(): { server: SetupServer; route: Route } {
  const server = mswServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  const route: Route = (method, path, ...answers) => {
    const seen: Seen[] = [];
    server.use(
      http[method](`${BASE}${path}`, async ({ request }) => {
        seen.push(await sent(request));
        const n = seen.length;
        return answers[Math.min(n, answers.length) - 1]!(n, request);
      }),
    );
    return seen;
  };
  return { server, route };
}

async function sent(request: Request): Promise<Seen> {
  const url = new URL(request.url);
  const bytes = Buffer.from(await request.clone().arrayBuffer());
  const type = request.headers.get("content-type") ?? "";
  return {
    method: request.method,
    url: request.url,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: request.headers,
    body:
      bytes.length > 0 && type.startsWith("application/json")
        ? JSON.parse(bytes.toString("utf8"))
        : undefined,
    bytes,
    bodyLength: bytes.length,
    ...(type.startsWith("multipart/form-data") ? { form: await request.clone().formData() } : {}),
  };
}

/** Answers 200 with `body` as JSON. */
export const json = (body: unknown) => () => HttpResponse.json(body as object);

/** Answers `code` with a JSON error body (by default `{ message: "status <code>" }`). */
export const status =
  (code: number, body: unknown = { message: `status ${code}` }, headers = {}) =>
  () =>
    HttpResponse.json(body as object, { status: code, headers });

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The hex SHA-256 of some bytes, to compare payloads in a short failure message. */
export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
