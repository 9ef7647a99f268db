import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnvironmentError } from "../../../src/core/errors.js";
import {
  RunloopApiError,
  RunloopConnectionError,
  RunloopPollTimeoutError,
  RunloopResponseError,
} from "../../../src/runloop/errors.js";
import {
  backoffDelayMs,
  DEFAULT_BASE_URL,
  parseBaseUrl,
  parseCustomHeaders,
  RunloopHttp,
  type RunloopHttpOptions,
  runloopEnv,
} from "../../../src/runloop/http.js";
import {
  BenchmarkJobListViewSchema,
  BenchmarkJobViewSchema,
  DevboxExecutionViewSchema,
} from "../../../src/runloop/schemas.js";
import { rejection } from "../../helpers/errors.js";
import { BASE, collect, json, KEY, mockRunloop, status } from "../../helpers/msw-runloop.js";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const UUID = /^rli-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const { server, route } = mockRunloop();

/** A client on a fake clock: sleep records the delay and moves the clock, no real waiting. */
function makeClient(options: Partial<RunloopHttpOptions> = {}) {
  const time = { now: T0, delays: [] as number[] };
  const client = new RunloopHttp({
    apiKey: KEY,
    baseUrl: BASE,
    clock: { now: () => time.now },
    sleep: async (ms) => {
      time.delays.push(ms);
      time.now += ms;
    },
    random: () => 0,
    ...options,
  });
  return { client, time };
}

const job = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `job ${id}`,
  create_time_ms: 1,
  state: "running",
  ...extra,
});
describe("RunloopHttp.request", () => {
  it("sends Bearer auth, JSON accept, the user agent and custom headers, and returns typed data", async () => {
    const seen = route("get", "/v1/benchmark_jobs/j1", json(job("j1")));
    const { client } = makeClient({
      userAgent: "rli/test",
      headers: { "X-Team": "evals", Authorization: "Bearer other" },
    });
    const result = await client.request("GET", "/v1/benchmark_jobs/j1", {
      schema: BenchmarkJobViewSchema,
    });
    expect(result.state).toBe("running");
    const headers = seen[0]!.headers;
    expect(headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(headers.get("accept")).toBe("application/json");
    expect(headers.get("user-agent")).toBe("rli/test");
    expect(headers.get("x-team")).toBe("evals");
    expect(headers.get("content-type")).toBeNull();
  });

  it("sends the body as JSON and encodes the query, skipping undefined values", async () => {
    const seen = route("post", "/v1/benchmark_jobs", json(job("j2")));
    const { client } = makeClient();
    await client.request("POST", "/v1/benchmark_jobs", {
      schema: BenchmarkJobViewSchema,
      body: { name: "x", spec: { type: "harbor", inline_yaml: "a: 1" } },
      query: { force: true, ids: ["a", "b"], skip: undefined, none: null, n: 3 },
    });
    const request = seen[0]!;
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.body).toEqual({
      name: "x",
      spec: { type: "harbor", inline_yaml: "a: 1" },
    });
    expect(new URL(request.url).search).toBe("?force=true&ids=a&ids=b&n=3");
  });

  it("keeps unknown response fields (loose schemas)", async () => {
    route("get", "/v1/benchmark_jobs/j1", json(job("j1", { new_field: { x: 1 } })));
    const { client } = makeClient();
    const result = await client.request("GET", "/v1/benchmark_jobs/j1", {
      schema: BenchmarkJobViewSchema,
    });
    expect(result.new_field).toEqual({ x: 1 });
  });

  it("rejects a malformed response with an error naming the endpoint and the field, without retrying", async () => {
    const seen = route(
      "get",
      "/v1/benchmark_jobs/j1",
      // state is any string (servers add states), but it must be a string.
      json({ id: "j1", name: "n", state: 42 }),
    );
    const { client } = makeClient();
    const err = await rejection(
      client.request("GET", "/v1/benchmark_jobs/j1", { schema: BenchmarkJobViewSchema }),
    );
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toMatch(/^GET \/v1\/benchmark_jobs\/j1: unexpected response: /);
    expect(err.message).toContain("create_time_ms");
    expect(err.message).toContain("state");
    expect(seen).toHaveLength(1);
  });

  it("rejects a 2xx answer that is not JSON", async () => {
    route("get", "/v1/x", () => new HttpResponse("<html>gateway</html>", { status: 200 }));
    const { client } = makeClient();
    const err = await rejection(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toBe("GET /v1/x: the response is not JSON: <html>gateway</html>");
  });

  it("retries 500 and 503 with exponential backoff, then returns", async () => {
    const seen = route("get", "/v1/x", status(500), status(503), json({ fine: true }));
    const { client, time } = makeClient();
    expect(await client.request("GET", "/v1/x", { schema: z.unknown() })).toEqual({ fine: true });
    expect(seen).toHaveLength(3);
    expect(time.delays).toEqual([1000, 2000]);
  });

  it("honours Retry-After in seconds and as an HTTP date, and retry-after-ms before both", async () => {
    route(
      "get",
      "/v1/x",
      status(429, {}, { "retry-after": "3" }),
      status(429, {}, { "retry-after": new Date(T0 + 3000 + 7000).toUTCString() }),
      status(503, {}, { "retry-after-ms": "250.5", "retry-after": "9" }),
      json({}),
    );
    const { client, time } = makeClient();
    await client.request("GET", "/v1/x", { schema: z.unknown() });
    expect(time.delays).toEqual([3000, 7000, 250.5]);
  });

  it("uses the default backoff when Retry-After is unparseable", async () => {
    route("get", "/v1/x", status(429, {}, { "retry-after": "soon" }), json({}));
    const { client, time } = makeClient({ random: () => 0.5 });
    await client.request("GET", "/v1/x", { schema: z.unknown() });
    expect(time.delays).toEqual([875]);
  });

  it("retries 408 and 409", async () => {
    const seen = route("post", "/v1/x", status(408), status(409), json({}));
    const { client } = makeClient();
    await client.request("POST", "/v1/x", { schema: z.unknown() });
    expect(seen).toHaveLength(3);
  });

  it.each([400, 401, 403, 404, 422])("does not retry %i", async (code) => {
    const seen = route("get", "/v1/x", status(code, { message: "nope" }));
    const { client } = makeClient();
    const err = await rejection(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopApiError);
    expect(err).toMatchObject({
      status: code,
      body: { message: "nope" },
      method: "GET",
      path: "/v1/x",
    });
    expect(err.message).toBe(`${code} nope`);
    expect(seen).toHaveLength(1);
  });

  it("words an error without body.message as the JSON body, and keeps the request id", async () => {
    route("post", "/v1/x", status(400, { error: "bad", field: "name" }));
    const { client } = makeClient();
    const err = await rejection(
      client.request("POST", "/v1/x", { schema: z.unknown(), idempotencyKey: "key-1" }),
    );
    expect(err.message).toBe('400 {"error":"bad","field":"name"}');
    expect(err).toMatchObject({ requestId: "key-1" });
  });

  it("lets x-should-retry override the status rule both ways", async () => {
    const never = route("get", "/v1/never", status(503, {}, { "x-should-retry": "false" }));
    const always = route(
      "get",
      "/v1/always",
      status(400, {}, { "x-should-retry": "true" }),
      json({}),
    );
    const { client } = makeClient();
    await expect(client.request("GET", "/v1/never", { schema: z.unknown() })).rejects.toThrow(
      RunloopApiError,
    );
    await client.request("GET", "/v1/always", { schema: z.unknown() });
    expect(never).toHaveLength(1);
    expect(always).toHaveLength(2);
  });

  it("sends the same x-request-id on every retry of a POST, a new one per request, none on GET", async () => {
    const posts = route("post", "/v1/x", status(500), status(502), json({}));
    const { client } = makeClient();
    await client.request("POST", "/v1/x", { schema: z.unknown() });
    const ids = posts.map((r) => r.headers.get("x-request-id"));
    expect(ids[0]).toMatch(UUID);
    expect(new Set(ids)).toEqual(new Set([ids[0]]));

    await client.request("POST", "/v1/x", { schema: z.unknown() });
    expect(posts[3]!.headers.get("x-request-id")).toMatch(UUID);
    expect(posts[3]!.headers.get("x-request-id")).not.toBe(ids[0]);

    const gets = route("get", "/v1/y", status(500), json({}));
    await client.request("GET", "/v1/y", { schema: z.unknown() });
    expect(gets.map((r) => r.headers.get("x-request-id"))).toEqual([null, null]);
  });

  it("uses the caller's idempotency key on every retry", async () => {
    const seen = route("post", "/v1/x", status(500), json({}));
    const { client } = makeClient();
    await client.request("POST", "/v1/x", {
      schema: z.unknown(),
      idempotencyKey: "trial-7-create",
    });
    expect(seen.map((r) => r.headers.get("x-request-id"))).toEqual([
      "trial-7-create",
      "trial-7-create",
    ]);
  });

  it("stops after maxRetries retries (default 5) and throws the last answer", async () => {
    const seen = route("get", "/v1/x", status(500, { message: "down" }));
    const { client, time } = makeClient();
    const err = await rejection(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toMatchObject({ status: 500, message: "500 down" });
    expect(seen).toHaveLength(6);
    expect(time.delays).toEqual([1000, 2000, 4000, 8000, 16000]);

    const few = makeClient({ maxRetries: 2 });
    await expect(few.client.request("GET", "/v1/x", { schema: z.unknown() })).rejects.toThrow(
      "500",
    );
    expect(seen).toHaveLength(9);
    await expect(
      few.client.request("GET", "/v1/x", { schema: z.unknown(), maxRetries: 0 }),
    ).rejects.toThrow("500");
    expect(seen).toHaveLength(10);
  });

  it("starts no retry that would end past maxRetryTimeMs", async () => {
    const seen = route("get", "/v1/x", status(503, {}, { "retry-after": "10" }));
    const { client, time } = makeClient({ maxRetryTimeMs: 25_000 });
    await expect(client.request("GET", "/v1/x", { schema: z.unknown() })).rejects.toThrow("503");
    expect(time.delays).toEqual([10_000, 10_000]);
    expect(seen).toHaveLength(3);

    const long = route("get", "/v1/long", status(429, {}, { "retry-after": "3600" }));
    await expect(client.request("GET", "/v1/long", { schema: z.unknown() })).rejects.toThrow("429");
    expect(long).toHaveLength(1);
  });

  it("aborts an attempt at timeoutMs, retries it, and succeeds", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/v1/slow`, async () => {
        calls++;
        if (calls === 1) await delay("infinite");
        return HttpResponse.json({ ok: true });
      }),
    );
    const { client, time } = makeClient({ timeoutMs: 50 });
    expect(await client.request("GET", "/v1/slow", { schema: z.unknown() })).toEqual({ ok: true });
    expect(calls).toBe(2);
    expect(time.delays).toEqual([1000]);
  });

  it("throws RunloopConnectionError naming the base URL when every attempt times out", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/v1/slow`, async () => {
        calls++;
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const { client } = makeClient({ timeoutMs: 1000, maxRetries: 2 });
    const err = await rejection(
      client.request("GET", "/v1/slow", { schema: z.unknown(), timeoutMs: 30 }),
    );
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err).toMatchObject({ timedOut: true, attempts: 3, baseUrl: BASE });
    expect(err.message).toBe(
      `the Runloop API at ${BASE} did not answer GET /v1/slow within 30 ms (3 attempts)`,
    );
    expect(calls).toBe(3);
  });

  it("retries network errors and then throws RunloopConnectionError naming the base URL", async () => {
    const seen = route("get", "/v1/x", () => HttpResponse.error());
    const { client } = makeClient({ maxRetries: 1 });
    const err = await rejection(client.request("GET", "/v1/x", { schema: z.unknown() }));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err).toMatchObject({ timedOut: false, attempts: 2 });
    expect(err.message).toMatch(
      /^cannot reach the Runloop API at https:\/\/runloop\.test: .+ \(2 attempts\)$/,
    );
    expect(seen).toHaveLength(2);
  });

  it("stops at once when the caller aborts, during an attempt or a backoff sleep", async () => {
    server.use(
      http.get(`${BASE}/v1/hang`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const { client } = makeClient();
    const controller = new AbortController();
    const pending = client.request("GET", "/v1/hang", {
      schema: z.unknown(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("user cancelled")), 20);
    await expect(pending).rejects.toThrow("user cancelled");

    const seen = route("get", "/v1/x", status(500));
    const sleeping = new AbortController();
    const { client: slow } = makeClient({
      sleep: async () => {
        sleeping.abort(new Error("stop"));
        throw new Error("sleep interrupted");
      },
    });
    await expect(
      slow.request("GET", "/v1/x", { schema: z.unknown(), signal: sleeping.signal }),
    ).rejects.toThrow("stop");
    expect(seen).toHaveLength(1);
  });

  it("reports each attempt to onAttempt", async () => {
    route("get", "/v1/x", status(503), json({}));
    const events: unknown[] = [];
    const { client } = makeClient({ onAttempt: (e) => events.push(e) });
    await client.request("GET", "/v1/x", { schema: z.unknown() });
    expect(events).toEqual([
      { method: "GET", path: "/v1/x", attempt: 0, status: 503, retryInMs: 1000 },
      { method: "GET", path: "/v1/x", attempt: 1, status: 200 },
    ]);
  });
});

describe("backoffDelayMs", () => {
  it("doubles from 1 s, caps at 60 s and jitters down by at most a quarter", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelayMs(n, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
    expect(backoffDelayMs(0, () => 0.999999)).toBeCloseTo(750, 2);
    for (let i = 0; i < 1000; i++) {
      const n = i % 8;
      const base = Math.min(1000 * 2 ** n, 60_000);
      const d = backoffDelayMs(n, Math.random);
      expect(d).toBeGreaterThan(base * 0.75);
      expect(d).toBeLessThanOrEqual(base);
    }
  });
});

describe("RunloopHttp.paginate", () => {
  it("follows starting_after=<last id> across three pages while has_more", async () => {
    const pages = [
      { jobs: [job("a"), job("b")], has_more: true, total_count: 5 },
      { jobs: [job("c"), job("d")], has_more: true, total_count: 5 },
      { jobs: [job("e")], has_more: false, total_count: 5 },
    ];
    const seen: URL[] = [];
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs`, ({ request }) => {
        seen.push(new URL(request.url));
        return HttpResponse.json(pages[seen.length - 1]);
      }),
    );
    const { client } = makeClient();
    const ids: string[] = [];
    for await (const item of client.paginate("/v1/benchmark_jobs", "jobs", BenchmarkJobViewSchema, {
      limit: 2,
      query: { name: "nightly" },
    })) {
      ids.push(item.id);
    }
    expect(ids).toEqual(["a", "b", "c", "d", "e"]);
    expect(seen.map((u) => u.searchParams.get("starting_after"))).toEqual([null, "b", "d"]);
    expect(seen.every((u) => u.searchParams.get("limit") === "2")).toBe(true);
    expect(seen.every((u) => u.searchParams.get("name") === "nightly")).toBe(true);
  });

  it("stops on an empty page even when has_more is missing", async () => {
    const seen = route("get", "/v1/benchmark_jobs", json({ jobs: [job("a")] }), json({ jobs: [] }));
    const { client } = makeClient();
    const items = await collect(
      client.paginate("/v1/benchmark_jobs", "jobs", BenchmarkJobViewSchema),
    );
    expect(items.map((i) => i.id)).toEqual(["a"]);
    expect(seen).toHaveLength(2);
  });

  it("refuses a server that ignores starting_after instead of looping forever", async () => {
    route("get", "/v1/benchmark_jobs", json({ jobs: [job("a")], has_more: true }));
    const { client } = makeClient();
    const err = await rejection(
      collect(client.paginate("/v1/benchmark_jobs", "jobs", BenchmarkJobViewSchema)),
    );
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toContain("pagination does not advance");
  });

  it("validates every page with the items schema", async () => {
    route("get", "/v1/benchmark_jobs", json({ jobs: [{ id: 3 }], has_more: false }));
    const { client } = makeClient();
    const err = await rejection(
      collect(client.paginate("/v1/benchmark_jobs", "jobs", BenchmarkJobViewSchema)),
    );
    expect(err.message).toMatch(/^GET \/v1\/benchmark_jobs: unexpected response: jobs\.0\.id: /);
  });

  it("parses a whole list page with the page schema", () => {
    const page = BenchmarkJobListViewSchema.parse({ jobs: [job("a")], has_more: false, extra: 1 });
    expect(page.jobs[0]!.id).toBe("a");
    expect(page.has_more).toBe(false);
  });
});

describe("RunloopHttp.longPoll", () => {
  const WAIT = "/v1/devboxes/dbx_1/executions/exe_1/wait_for_status";
  const execution = (s: string) => ({ devbox_id: "dbx_1", execution_id: "exe_1", status: s });

  it("calls again at once on 408 until the result is final", async () => {
    const seen = route(
      "post",
      WAIT,
      status(408, { message: "still waiting" }, { "x-should-retry": "true" }),
      status(408),
      json({ ...execution("completed"), exit_status: 0 }),
    );
    const { client, time } = makeClient();
    const result = await client.longPoll("POST", WAIT, {
      schema: DevboxExecutionViewSchema,
      body: { statuses: ["completed"] },
      shouldStop: (r) => r.status === "completed",
    });
    expect(result.exit_status).toBe(0);
    expect(seen).toHaveLength(3);
    expect(time.delays).toEqual([]);
    expect(seen[0]!.body).toEqual({ statuses: ["completed"] });
  });

  it("continues while shouldStop says the result is not final", async () => {
    const seen = route(
      "post",
      WAIT,
      json(execution("queued")),
      json(execution("running")),
      json(execution("completed")),
    );
    const { client } = makeClient();
    const result = await client.longPoll("POST", WAIT, {
      schema: DevboxExecutionViewSchema,
      shouldStop: (r) => r.status === "completed",
    });
    expect(result.status).toBe("completed");
    expect(seen).toHaveLength(3);
  });

  it("retries a 5xx inside the poll with backoff", async () => {
    route("post", WAIT, status(502), json(execution("completed")));
    const { client, time } = makeClient();
    await client.longPoll("POST", WAIT, {
      schema: DevboxExecutionViewSchema,
      shouldStop: () => true,
    });
    expect(time.delays).toEqual([1000]);
  });

  it("throws RunloopPollTimeoutError with the last result once the overall timeout passes", async () => {
    let calls = 0;
    const { client, time } = makeClient();
    server.use(
      http.post(`${BASE}${WAIT}`, () => {
        calls++;
        time.now += 10_000;
        return calls === 1 ? HttpResponse.json(execution("running")) : status(408)();
      }),
    );
    const err = await rejection(
      client.longPoll("POST", WAIT, {
        schema: DevboxExecutionViewSchema,
        shouldStop: (r) => r.status === "completed",
        timeoutMs: 25_000,
      }),
    );
    expect(err).toBeInstanceOf(RunloopPollTimeoutError);
    expect(err).toMatchObject({ lastResult: execution("running") });
    expect(err.message).toMatch(
      /^POST .*wait_for_status: long poll timed out after 25000 ms; last result: /,
    );
    expect(calls).toBe(3);
  });

  it("passes the per-call timeout and stops on abort", async () => {
    const controller = new AbortController();
    let calls = 0;
    server.use(
      http.post(`${BASE}${WAIT}`, () => {
        if (++calls === 2) controller.abort(new Error("ctrl-c"));
        return status(408)();
      }),
    );
    const { client } = makeClient();
    await expect(
      client.longPoll("POST", WAIT, {
        schema: DevboxExecutionViewSchema,
        shouldStop: () => true,
        signal: controller.signal,
      }),
    ).rejects.toThrow("ctrl-c");
    expect(calls).toBe(2);
  });
});

describe("the API key", () => {
  it("never appears in an error message, even when the server echoes it", async () => {
    const { client, time } = makeClient({ maxRetries: 0 });
    route("get", "/v1/api", status(401, { message: `invalid key ${KEY}` }));
    route("get", "/v1/bad", json({ id: KEY }));
    route("get", "/v1/text", () => new HttpResponse(`no ${KEY}`, { status: 200 }));
    server.use(
      http.post(`${BASE}/v1/poll`, () => {
        time.now += 10_000;
        return HttpResponse.json({ echo: KEY });
      }),
    );
    const errors = [
      await rejection(client.request("GET", "/v1/api", { schema: z.unknown() })),
      await rejection(
        client.request("GET", "/v1/bad", { schema: z.object({ id: z.literal("x") }) }),
      ),
      await rejection(client.request("GET", "/v1/text", { schema: z.unknown() })),
      await rejection(
        client.longPoll("POST", "/v1/poll", {
          schema: z.unknown(),
          shouldStop: () => false,
          timeoutMs: 5,
        }),
      ),
    ];
    for (const err of errors) expect(err.message).not.toContain(KEY);
    for (const i of [0, 2, 3]) expect(errors[i]!.message).toContain("[redacted]");
    expect(JSON.stringify((errors[0] as RunloopApiError).body)).not.toContain(KEY);
  });
});

describe("configuration", () => {
  it.each([
    ["https://api.runloop.ai", "https://api.runloop.ai"],
    ["https://api.runloop.ai/", "https://api.runloop.ai"],
    ["https://gw.example.com/runloop/", "https://gw.example.com/runloop"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["http://[::1]:9000/", "http://[::1]:9000"],
    ["http://localhost:1234", "http://localhost:1234"],
  ])("accepts the base URL %s", (raw, expected) => {
    expect(parseBaseUrl(raw)).toBe(expected);
  });

  it.each([
    ["http://example.com", 'RUNLOOP_BASE_URL "http://example.com" must use https'],
    ["http://127.0.0.2.example.com", "must use https"],
    ["garbage", 'RUNLOOP_BASE_URL "garbage" is not a URL; expected e.g. https://api.runloop.ai'],
    ["", "is not a URL"],
    ["ftp://api.runloop.ai", 'RUNLOOP_BASE_URL "ftp://api.runloop.ai" must be an https URL'],
    ["https://api.runloop.ai/?x=1", "must not have a query or fragment"],
  ])("refuses the base URL %j in one line", (raw, message) => {
    const err = (() => {
      try {
        parseBaseUrl(raw);
      } catch (e) {
        return e as Error;
      }
      throw new Error("accepted");
    })();
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain("\n");
  });

  it("refuses a base URL with credentials without echoing them", () => {
    expect(() => parseBaseUrl("https://user:hunter2@api.runloop.ai")).toThrow(
      /^RUNLOOP_BASE_URL must not contain a user name or password$/,
    );
    expect(() => new RunloopHttp({ apiKey: KEY, baseUrl: "http://example.com" })).toThrow(
      /^baseUrl "http:\/\/example.com" must use https/,
    );
  });

  it("parses RUNLOOP_CUSTOM_HEADERS and names a bad line without its value", () => {
    expect(parseCustomHeaders("X-A: 1\n\n  X-B:two: parts  \r\n")).toEqual({
      "X-A": "1",
      "X-B": "two: parts",
    });
    expect(parseCustomHeaders(undefined)).toEqual({});
    expect(() => parseCustomHeaders("X-A: 1\nsecret-token-without-colon")).toThrow(
      /^RUNLOOP_CUSTOM_HEADERS line 2: expected "Name: value"$/,
    );
  });

  it("reads the key, base URL and headers from the environment, with a hint when the key is missing", () => {
    expect(
      runloopEnv({ RUNLOOP_API_KEY: KEY, RUNLOOP_CUSTOM_HEADERS: "X-A: 1", RUNLOOP_BASE_URL: "" }),
    ).toEqual({ apiKey: KEY, baseUrl: DEFAULT_BASE_URL, headers: { "X-A": "1" } });
    expect(() => runloopEnv({})).toThrow(/^RUNLOOP_API_KEY is not set: export RUNLOOP_API_KEY=/);
    expect(() => runloopEnv({ RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: "http://x.io" })).toThrow(
      "must use https",
    );
  });

  it("validates numeric options", () => {
    expect(() => new RunloopHttp({ apiKey: "" })).toThrow("apiKey");
    expect(() => new RunloopHttp({ apiKey: KEY, maxRetries: 1.5 })).toThrow(
      "Expected `maxRetries` to be an integer >= 0, got 1.5",
    );
    expect(() => new RunloopHttp({ apiKey: KEY, timeoutMs: 0 })).toThrow("timeoutMs");
  });
});
