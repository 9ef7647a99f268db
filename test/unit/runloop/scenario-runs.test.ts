import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpResponse } from "msw";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunloopClient } from "../../../src/runloop/client.js";
import { RunloopApiError, RunloopResponseError } from "../../../src/runloop/errors.js";
import { rejection } from "../../helpers/errors.js";
import { json, KEY, makeClient, mockRunloop, sha256, status } from "../../helpers/msw-runloop.js";

const REQUEST_ID = /^rli-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ODD_ID = "run/1 ?x=#";
const ODD_ID_PATH = "run%2F1%20%3Fx%3D%23";

const { route } = mockRunloop();

const run = (id: string, state: string, extra: Record<string, unknown> = {}) => ({
  id,
  scenario_id: "scn_1",
  devbox_id: "dbx_1",
  benchmark_run_id: "bmr_1",
  metadata: {},
  state,
  ...extra,
});

describe("scenarios.startRun", () => {
  it("posts the body (camelCase runProfile) to /v1/scenarios/start_run", async () => {
    const seen = route("post", "/v1/scenarios/start_run", json(run("sr_1", "running")));
    const body = {
      scenario_id: "scn_1",
      benchmark_run_id: "bmr_1",
      run_name: "rli try",
      metadata: { source: "rli" },
      runProfile: {
        envVars: { A: "1" },
        secrets: { OPENAI_API_KEY: "OPENAI" },
        launchParameters: { keep_alive_time_seconds: 600 },
        purpose: "eval",
      },
    };
    const started = await makeClient().client.scenarios.startRun(body);
    expect(started).toMatchObject({ id: "sr_1", state: "running", devbox_id: "dbx_1" });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/v1/scenarios/start_run",
      query: {},
      body,
    });
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("retries a 503 with the same (caller's) request id and the same body", async () => {
    const seen = route(
      "post",
      "/v1/scenarios/start_run",
      status(503),
      json(run("sr_1", "running")),
    );
    await makeClient().client.scenarios.startRun(
      { scenario_id: "scn_1" },
      { idempotencyKey: "start-scn_1-attempt-1" },
    );
    expect(seen.map((s) => [s.headers.get("x-request-id"), s.body])).toEqual([
      ["start-scn_1-attempt-1", { scenario_id: "scn_1" }],
      ["start-scn_1-attempt-1", { scenario_id: "scn_1" }],
    ]);
  });
});

describe("scenarios.runs", () => {
  it("retrieve gets /v1/scenarios/runs/{id} encoded, with no request id even on retry", async () => {
    const seen = route("get", "/v1/scenarios/runs/:id", status(502), json(run(ODD_ID, "scored")));
    const got = await makeClient().client.scenarios.runs.retrieve(ODD_ID);
    expect(got).toMatchObject({ id: ODD_ID, state: "scored" });
    expect(seen.map((s) => [s.method, s.path, s.query, s.headers.get("x-request-id")])).toEqual([
      ["GET", `/v1/scenarios/runs/${ODD_ID_PATH}`, {}, null],
      ["GET", `/v1/scenarios/runs/${ODD_ID_PATH}`, {}, null],
    ]);
  });

  it.each(["score", "complete", "cancel"] as const)(
    "%s posts to /v1/scenarios/runs/{id}/%s without a body, one request id across retries",
    async (action) => {
      const seen = route(
        "post",
        `/v1/scenarios/runs/:id/${action}`,
        status(500),
        status(429),
        json(run(ODD_ID, "scoring")),
      );
      const result = await makeClient().client.scenarios.runs[action](ODD_ID);
      expect(result).toMatchObject({ id: ODD_ID, state: "scoring" });
      expect(seen).toHaveLength(3);
      for (const request of seen) {
        expect(request).toMatchObject({
          method: "POST",
          path: `/v1/scenarios/runs/${ODD_ID_PATH}/${action}`,
          query: {},
          body: undefined,
          bodyLength: 0,
        });
        expect(request.headers.get("content-type")).toBeNull();
      }
      const keys = new Set(seen.map((s) => s.headers.get("x-request-id")));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(REQUEST_ID);
    },
  );

  it("awaitScored polls while running and scoring until scored", async () => {
    const seen = route(
      "get",
      "/v1/scenarios/runs/:id",
      json(run("sr_1", "running")),
      json(run("sr_1", "scoring")),
      status(503),
      json(run("sr_1", "scoring")),
      json(
        run("sr_1", "scored", {
          scoring_contract_result: {
            score: 0.75,
            scoring_function_results: [{ scoring_function_name: "tests", score: 0.75 }],
          },
        }),
      ),
    );
    const scored = await makeClient().client.scenarios.runs.awaitScored("sr_1", { intervalMs: 0 });
    expect(scored).toMatchObject({ state: "scored", scoring_contract_result: { score: 0.75 } });
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((s) => `${s.method} ${s.path}`))).toEqual(
      new Set(["GET /v1/scenarios/runs/sr_1"]),
    );
  });

  it.each(["canceled", "failed", "timeout"])(
    "awaitScored throws a one-line error when the run ends %s",
    async (final) => {
      const seen = route(
        "get",
        "/v1/scenarios/runs/:id",
        json(run("sr_1", "scoring")),
        json(run("sr_1", final)),
      );
      const err = await rejection(
        makeClient().client.scenarios.runs.awaitScored("sr_1", { intervalMs: 0 }),
      );
      expect(err.message).toBe(`scenario run sr_1 ended ${final} instead of scored`);
      expect(seen).toHaveLength(2);
    },
  );

  it("awaitScored stops polling once its timeout has passed", async () => {
    route("get", "/v1/scenarios/runs/:id", json(run("sr_1", "scoring")));
    const err = await rejection(
      makeClient().client.scenarios.runs.awaitScored("sr_1", { intervalMs: 0, timeoutMs: 0 }),
    );
    expect(err.message).toBe("scenario run sr_1 still scoring after 0 ms");
  });

  it("accepts unknown run fields and names a missing scenario_id", async () => {
    route(
      "get",
      "/v1/scenarios/runs/:id",
      json(run("sr_1", "scored", { new_thing: { a: 1 } })),
      json({ id: "sr_1", state: "x" }),
    );
    const { client } = makeClient();
    expect(await client.scenarios.runs.retrieve("sr_1")).toMatchObject({ new_thing: { a: 1 } });
    const err = await rejection(client.scenarios.runs.retrieve("sr_1"));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err).toMatchObject({ method: "GET", path: "/v1/scenarios/runs/sr_1", status: 200 });
    expect(err.message).toMatch(/^GET \/v1\/scenarios\/runs\/sr_1: unexpected response: /);
    expect(err.message).toContain("scenario_id");
  });

  it("an API error after retries is a RunloopApiError with status and message, never the key", async () => {
    const seen = route(
      "post",
      "/v1/scenarios/runs/:id/score",
      status(503, { message: `scorer down; token=${KEY}`, detail: [KEY] }),
    );
    const { client } = makeClient();
    const err = await rejection(client.scenarios.runs.score("sr_1"));
    expect(seen).toHaveLength(6);
    expect(err).toBeInstanceOf(RunloopApiError);
    expect(err).toMatchObject({
      status: 503,
      method: "POST",
      path: "/v1/scenarios/runs/sr_1/score",
      message: "503 scorer down; token=[redacted]",
    });
    const apiErr = err as RunloopApiError;
    expect(`${apiErr.message} ${apiErr.stack} ${JSON.stringify(apiErr.body)}`).not.toContain(KEY);
  });
});

describe("benchmarkRuns.retrieve", () => {
  it("gets /v1/benchmark_runs/{id} encoded and keeps unknown fields", async () => {
    const view = {
      id: ODD_ID,
      state: "running",
      metadata: {},
      start_time_ms: 1,
      secrets_provided: {},
      brand_new: true,
    };
    const seen = route("get", "/v1/benchmark_runs/:id", json(view));
    expect(await makeClient().client.benchmarkRuns.retrieve(ODD_ID)).toEqual(view);
    expect(seen.map((s) => [s.method, s.path, s.query, s.headers.get("x-request-id")])).toEqual([
      ["GET", `/v1/benchmark_runs/${ODD_ID_PATH}`, {}, null],
    ]);
  });

  it("names a missing id", async () => {
    route("get", "/v1/benchmark_runs/:id", json({ state: "running" }));
    const err = await rejection(makeClient().client.benchmarkRuns.retrieve("bmr_1"));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toMatch(/^GET \/v1\/benchmark_runs\/bmr_1: unexpected response: id: /);
  });
});

describe("log downloads", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "rli-logs-download-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const downloads = [
    {
      name: "benchmarkRuns.downloadLogs",
      pattern: "/v1/benchmark_runs/:id/download_logs",
      path: `/v1/benchmark_runs/${ODD_ID_PATH}/download_logs`,
      call: (client: RunloopClient, dest: string) =>
        client.benchmarkRuns.downloadLogs(ODD_ID, dest),
    },
    {
      name: "scenarios.runs.downloadLogs",
      pattern: "/v1/scenarios/runs/:id/download_logs",
      path: `/v1/scenarios/runs/${ODD_ID_PATH}/download_logs`,
      call: (client: RunloopClient, dest: string) =>
        client.scenarios.runs.downloadLogs(ODD_ID, dest),
    },
  ];

  it.each(downloads)(
    "$name posts with Accept: application/zip and streams the bytes exactly",
    async ({ pattern, path, call }) => {
      const zip = Buffer.concat([
        Buffer.from("PK\x03\x04", "latin1"),
        randomBytes(2 * 1024 * 1024),
      ]);
      const seen = route(
        "post",
        pattern,
        status(503),
        () => new HttpResponse(zip, { headers: { "content-type": "application/zip" } }),
      );
      const dest = join(dir, "logs.zip");
      const { client, attempts } = makeClient();
      expect(await call(client, dest)).toBe(zip.length);
      expect(sha256(await readFile(dest))).toBe(sha256(zip));
      expect(await readdir(dir)).toEqual(["logs.zip"]);
      expect(attempts.map((a) => a.status)).toEqual([503, 200]);
      for (const request of seen) {
        expect(request).toMatchObject({ method: "POST", path, query: {}, body: undefined });
        expect(request.headers.get("accept")).toBe("application/zip");
      }
      expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expect(seen[1]!.headers.get("x-request-id")).toBe(seen[0]!.headers.get("x-request-id"));
    },
  );

  it.each(downloads)(
    "$name leaves no file and no .part when every attempt fails",
    async ({ pattern, call }) => {
      const seen = route(
        "post",
        pattern,
        status(500, { message: `log store unavailable for ${KEY}` }),
      );
      const dest = join(dir, "logs.zip");
      const { client } = makeClient(3);
      const err = await rejection(call(client, dest));
      expect(err).toBeInstanceOf(RunloopApiError);
      expect(err).toMatchObject({
        status: 500,
        message: "500 log store unavailable for [redacted]",
      });
      expect(seen).toHaveLength(4);
      expect(await readdir(dir)).toEqual([]);
    },
  );
});
