import { HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { isNotFound, RunloopApiError } from "../../../src/runloop/errors.js";
import { collect, json, makeClient, mockRunloop, type Seen } from "../../helpers/msw-runloop.js";

const { route } = mockRunloop();

/** What a plain JSON call is compared on: method, encoded path, query and body. */
const call = ({ method, path, query, body }: Seen) => ({ method, path, query, body });

const job = (id: string) => ({ id, name: `job ${id}`, create_time_ms: 1, state: "queued" });
const benchmark = (id: string) => ({
  id,
  name: `bench ${id}`,
  scenarioIds: ["s1"],
  status: "active",
});
const scenario = (id: string) => ({ id, name: `scenario ${id}`, status: "active" });
const scenarioRun = (id: string) => ({
  id,
  scenario_id: `scn_${id}`,
  benchmark_run_id: "bmr_1",
  state: "scored",
  scoring_contract_result: { score: 0.5, scoring_function_results: [] },
});
const secret = { id: "sec_1", name: "MY_KEY", create_time_ms: 1, update_time_ms: 2 };

describe("RunloopClient endpoints", () => {
  it("benchmarkJobs.create posts the body to /v1/benchmark_jobs", async () => {
    const seen = route("post", "/v1/benchmark_jobs", json(job("bmj_1")));
    const body = {
      name: "nightly",
      spec: {
        type: "scenarios" as const,
        scenario_ids: ["scn_1"],
        agent_configs: [{ type: "job_agent" as const, name: "claude-code" }],
      },
    };
    const created = await makeClient().client.benchmarkJobs.create(body);
    expect(created).toMatchObject({ id: "bmj_1", state: "queued" });
    expect(seen.map(call)).toEqual([
      { method: "POST", path: "/v1/benchmark_jobs", query: {}, body },
    ]);
  });

  it("benchmarkJobs.retrieve gets /v1/benchmark_jobs/{id}", async () => {
    const seen = route("get", "/v1/benchmark_jobs/:id", json(job("bmj_1")));
    expect(await makeClient().client.benchmarkJobs.retrieve("bmj_1")).toMatchObject({
      id: "bmj_1",
    });
    expect(seen.map(call)).toEqual([
      { method: "GET", path: "/v1/benchmark_jobs/bmj_1", query: {}, body: undefined },
    ]);
  });

  it("benchmarkJobs.list follows starting_after across pages with limit and name", async () => {
    const pages = [
      { jobs: [job("a"), job("b")], has_more: true },
      { jobs: [job("c"), job("d")], has_more: true },
      { jobs: [job("e")], has_more: false },
    ];
    const seen = route("get", "/v1/benchmark_jobs", (n) => HttpResponse.json(pages[n - 1]));
    const jobs = await collect(
      makeClient().client.benchmarkJobs.list({ limit: 2, name: "nightly" }),
    );
    expect(jobs.map((j) => j.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(seen.map((s) => s.query)).toEqual([
      { limit: "2", name: "nightly" },
      { limit: "2", name: "nightly", starting_after: "b" },
      { limit: "2", name: "nightly", starting_after: "d" },
    ]);
  });

  it("benchmarks.list and listPublic read the benchmarks key from their own paths", async () => {
    const mine = route(
      "get",
      "/v1/benchmarks",
      json({ benchmarks: [benchmark("bm_1")], has_more: false }),
    );
    const pub = route(
      "get",
      "/v1/benchmarks/list_public",
      json({ benchmarks: [benchmark("bm_2")], has_more: false }),
    );
    const { client } = makeClient();
    expect((await collect(client.benchmarks.list({ name: "swe" }))).map((b) => b.id)).toEqual([
      "bm_1",
    ]);
    const listed = await collect(client.benchmarks.listPublic({ limit: 50 }));
    expect(listed).toEqual([benchmark("bm_2")]);
    expect(mine.map((s) => [s.method, s.path, s.query])).toEqual([
      ["GET", "/v1/benchmarks", { name: "swe" }],
    ]);
    expect(pub.map((s) => [s.method, s.path, s.query])).toEqual([
      ["GET", "/v1/benchmarks/list_public", { limit: "50" }],
    ]);
  });

  it("benchmarks.definitions yields the benchmark's scenarios", async () => {
    const seen = route(
      "get",
      "/v1/benchmarks/:id/definitions",
      json({ scenarios: [scenario("scn_1"), scenario("scn_2")], has_more: false }),
    );
    const scenarios = await collect(makeClient().client.benchmarks.definitions("bm_1"));
    expect(scenarios.map((s) => s.name)).toEqual(["scenario scn_1", "scenario scn_2"]);
    expect(seen.map((s) => [s.method, s.path])).toEqual([
      ["GET", "/v1/benchmarks/bm_1/definitions"],
    ]);
  });

  it("benchmarkRuns.scenarioRuns yields the runs key with score and state filter", async () => {
    const seen = route(
      "get",
      "/v1/benchmark_runs/:id/scenario_runs",
      json({ runs: [scenarioRun("sr_1")], has_more: false }),
    );
    const runs = await collect(
      makeClient().client.benchmarkRuns.scenarioRuns("bmr_1", { state: "scored", limit: 100 }),
    );
    expect(runs[0]).toMatchObject({
      id: "sr_1",
      scenario_id: "scn_sr_1",
      benchmark_run_id: "bmr_1",
      state: "scored",
      scoring_contract_result: { score: 0.5 },
    });
    expect(seen.map((s) => [s.method, s.path, s.query])).toEqual([
      ["GET", "/v1/benchmark_runs/bmr_1/scenario_runs", { state: "scored", limit: "100" }],
    ]);
  });

  it("benchmarkRuns.cancel posts to /v1/benchmark_runs/{id}/cancel without a body", async () => {
    const seen = route(
      "post",
      "/v1/benchmark_runs/:id/cancel",
      json({ id: "bmr_1", state: "canceled", metadata: {}, start_time_ms: 1 }),
    );
    expect(await makeClient().client.benchmarkRuns.cancel("bmr_1")).toMatchObject({
      id: "bmr_1",
      state: "canceled",
    });
    expect(seen.map(call)).toEqual([
      { method: "POST", path: "/v1/benchmark_runs/bmr_1/cancel", query: {}, body: undefined },
    ]);
  });

  it("scenarios.retrieve gets /v1/scenarios/{id}", async () => {
    const seen = route("get", "/v1/scenarios/:id", json(scenario("scn_1")));
    expect(await makeClient().client.scenarios.retrieve("scn_1")).toMatchObject({
      id: "scn_1",
      name: "scenario scn_1",
    });
    expect(seen.map((s) => [s.method, s.path])).toEqual([["GET", "/v1/scenarios/scn_1"]]);
  });

  it("secrets.retrieve gets /v1/secrets/{name} and keeps no value field", async () => {
    const seen = route("get", "/v1/secrets/:name", json({ ...secret, value: "leaked" }));
    const got = await makeClient().client.secrets.retrieve("MY_KEY");
    expect(got).toEqual(secret);
    expect(seen.map((s) => [s.method, s.path])).toEqual([["GET", "/v1/secrets/MY_KEY"]]);
  });

  it("secrets.create posts name and value to /v1/secrets", async () => {
    const seen = route("post", "/v1/secrets", json(secret));
    expect(await makeClient().client.secrets.create("MY_KEY", "hunter2-value")).toEqual(secret);
    expect(seen.map(call)).toEqual([
      {
        method: "POST",
        path: "/v1/secrets",
        query: {},
        body: { name: "MY_KEY", value: "hunter2-value" },
      },
    ]);
  });
});

describe("RunloopClient ids and errors", () => {
  it("encodes an id with a slash as one path segment", async () => {
    const seen = route("get", "/v1/benchmark_jobs/:id", json(job("a/b")));
    await makeClient().client.benchmarkJobs.retrieve("a/b?x=1");
    expect(seen.map((s) => [s.path, s.query])).toEqual([["/v1/benchmark_jobs/a%2Fb%3Fx%3D1", {}]]);
  });

  it("rejects an empty id before any request, from promises and iterators alike", async () => {
    const { client, attempts } = makeClient();
    await expect(client.scenarios.retrieve("")).rejects.toThrow(TypeError);
    const runs = client.benchmarkRuns.scenarioRuns("");
    await expect(runs.next()).rejects.toThrow(TypeError);
    expect(attempts).toEqual([]);
  });

  it("a 404 becomes a RunloopApiError with status 404 that isNotFound recognises", async () => {
    route("get", "/v1/scenarios/:id", () =>
      HttpResponse.json({ message: "scenario not found" }, { status: 404 }),
    );
    const err = await makeClient()
      .client.scenarios.retrieve("scn_missing")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunloopApiError);
    expect(err).toMatchObject({ status: 404, method: "GET", path: "/v1/scenarios/scn_missing" });
    expect((err as Error).message).toBe("404 scenario not found");
    expect(isNotFound(err)).toBe(true);
    expect(isNotFound(new Error("404"))).toBe(false);
  });

  it("secrets.create keeps the value out of the error after retries on 500", async () => {
    const value = "sk-live\n  very-secret-value";
    const seen = route("post", "/v1/secrets", () =>
      HttpResponse.json(
        { message: `cannot store ${value} for MY_KEY`, echo: { value, list: [value] } },
        { status: 500 },
      ),
    );
    const { client, attempts } = makeClient();
    const err = await client.secrets.create("MY_KEY", value).catch((e: unknown) => e);
    expect(seen).toHaveLength(6);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 500, 500, 500, 500]);
    expect(err).toBeInstanceOf(RunloopApiError);
    const apiErr = err as RunloopApiError;
    expect(apiErr.status).toBe(500);
    expect(apiErr.message).toBe("500 cannot store [redacted] for MY_KEY");
    const everything = `${apiErr.message} ${String(apiErr.stack)} ${JSON.stringify(apiErr.body)} ${JSON.stringify(attempts)}`;
    expect(everything).not.toContain("very-secret-value");
    expect(everything).not.toContain("sk-live");
  });
});
