import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, type Dispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { RunloopConnectionError } from "../../../src/runloop/errors.js";
import { RunloopHttp, type RunloopHttpOptions } from "../../../src/runloop/http.js";
import { BenchmarkJobViewSchema } from "../../../src/runloop/schemas.js";

const KEY = "rl_api_integration_key_0123456789";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1 whose handlers answer requests in order (the last one repeats). */
let server: Server;
let baseUrl: string;
let handlers: Handler[] = [];
let seen: Array<{
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}> = [];
const timers = new Set<NodeJS.Timeout>();
/** Counts dispatches, to prove requests go through the injected dispatcher. */
class CountingAgent extends Agent {
  dispatched = 0;
  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    this.dispatched++;
    return super.dispatch(options, handler);
  }
}
const agent = new CountingAgent({ keepAliveTimeout: 2_000, connectTimeout: 2_000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const handler = handlers[Math.min(seen.length, handlers.length) - 1]!;
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  server.closeAllConnections();
  handlers = [];
  seen = [];
});

afterAll(async () => {
  await agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
}
const reset: Handler = (req) => req.socket.destroy();
const slow: Handler = (_req, res) => {
  const timer = setTimeout(() => json(200, { late: true })(_req, res, ""), 5_000);
  timers.add(timer);
};

/** A client with the real undici Agent; sleeps are recorded and skipped unless realSleep. */
function makeClient(options: Partial<RunloopHttpOptions> & { realSleep?: boolean } = {}) {
  const delays: number[] = [];
  const { realSleep, ...rest } = options;
  const client = new RunloopHttp({
    apiKey: KEY,
    baseUrl,
    dispatcher: agent,
    random: () => 0,
    ...(realSleep
      ? {}
      : {
          sleep: async (ms: number) => {
            delays.push(ms);
          },
        }),
    ...rest,
  });
  return { client, delays };
}

const job = { id: "bmj_1", name: "n", create_time_ms: 1, state: "completed", extra: [1] };

describe("RunloopHttp over real HTTP", () => {
  it("sends auth and JSON through the injected undici dispatcher", async () => {
    handlers = [json(200, job)];
    const { client } = makeClient();
    const before = agent.dispatched;
    const result = await client.request("POST", "/v1/benchmark_jobs", {
      schema: BenchmarkJobViewSchema,
      body: { name: "n" },
    });
    expect(result).toEqual(job);
    expect(agent.dispatched).toBe(before + 1);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: "n" });
  });

  it("retries after the server resets the connection, with the same idempotency key", async () => {
    handlers = [reset, json(200, job)];
    const { client, delays } = makeClient();
    const result = await client.request("POST", "/v1/benchmark_jobs", {
      schema: BenchmarkJobViewSchema,
      body: { name: "n" },
    });
    expect(result.id).toBe("bmj_1");
    expect(seen).toHaveLength(2);
    expect(delays).toEqual([1000]);
    expect(seen[0]!.headers["x-request-id"]).toMatch(/^rli-/);
    expect(seen[1]!.headers["x-request-id"]).toBe(seen[0]!.headers["x-request-id"]);
  });

  it("gives up on repeated resets with a RunloopConnectionError naming the base URL", async () => {
    handlers = [reset];
    const { client } = makeClient({ maxRetries: 2 });
    const err = await failure(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err.message).toContain(`cannot reach the Runloop API at ${baseUrl}: `);
    expect(err.message).toContain("(3 attempts)");
    expect(err.message).not.toContain(KEY);
    expect(seen).toHaveLength(3);
  });

  it("aborts a slow answer at the per-attempt timeout and retries", async () => {
    handlers = [slow, json(200, { fast: true })];
    const { client, delays } = makeClient({ timeoutMs: 100 });
    expect(await client.request("GET", "/v1/x", { schema: z.unknown() })).toEqual({ fast: true });
    expect(seen).toHaveLength(2);
    expect(delays).toEqual([1000]);
  });

  it("reports a timeout after every attempt is slow", async () => {
    handlers = [slow];
    const { client } = makeClient({ timeoutMs: 100, maxRetries: 1 });
    const err = await failure(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err).toMatchObject({ timedOut: true, attempts: 2 });
    expect(err.message).toBe(
      `the Runloop API at ${baseUrl} did not answer GET /v1/x within 100 ms (2 attempts)`,
    );
  });

  it("waits for Retry-After: 1 on a 429 before retrying", async () => {
    handlers = [json(429, { message: "slow down" }, { "retry-after": "1" }), json(200, { ok: 1 })];
    const { client } = makeClient({ realSleep: true });
    const started = Date.now();
    expect(await client.request("GET", "/v1/x", { schema: z.unknown() })).toEqual({ ok: 1 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
  });

  it("names the base URL when nothing listens there", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { client } = makeClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 });
    const err = await failure(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err.message).toMatch(
      new RegExp(`^cannot reach the Runloop API at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  });

  it("paginates over real HTTP", async () => {
    handlers = [
      json(200, { jobs: [{ ...job, id: "a" }], has_more: true }),
      json(200, { jobs: [{ ...job, id: "b" }], has_more: false }),
    ];
    const { client } = makeClient();
    const ids: string[] = [];
    for await (const item of client.paginate("/v1/benchmark_jobs", "jobs", BenchmarkJobViewSchema, {
      limit: 1,
    })) {
      ids.push(item.id);
    }
    expect(ids).toEqual(["a", "b"]);
    expect(seen.map((r) => r.url)).toEqual([
      "/v1/benchmark_jobs?limit=1",
      "/v1/benchmark_jobs?limit=1&starting_after=a",
    ]);
  });
});
