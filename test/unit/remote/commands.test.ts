import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HttpResponse, http } from "msw";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../../../src/core/errors.js";
import { cancelRemote } from "../../../src/remote/cancel-action.js";
import type { RemoteDeps } from "../../../src/remote/deps.js";
import { listRemote } from "../../../src/remote/list-action.js";
import { COMPLETE_MARKER, logsRemote } from "../../../src/remote/logs-action.js";
import { summaryRemote } from "../../../src/remote/summary-action.js";
import { captureIo } from "../../helpers/io.js";
import { BASE, mockRunloop, testClient } from "../../helpers/msw-runloop.js";
import * as api from "../../helpers/runloop-views.js";
import { tempDir } from "../../helpers/tasks.js";
import { zipOf } from "../../helpers/zips.js";

const { server } = mockRunloop();

const deps: RemoteDeps = { client: () => testClient() };

describe("summaryRemote", () => {
  it("-o json prints the server's document byte for byte in key order, unknown keys kept", async () => {
    // Keys in an order the schema would change, a field rli does not know, an outcome without
    // scenario_outcomes (the schema would default it).
    const body = `{"state":"completed","name":"n","id":"bmj_test1","create_time_ms":1,"x_new":{"a":[1,2]},"benchmark_outcomes":[{"benchmark_run_id":"bmr_1","agent_name":"a"}]}`;
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.text(body, { headers: { "content-type": "application/json" } }),
      ),
    );
    const c = captureIo();
    expect(await summaryRemote("bmj_test1", { output: "json", extended: false }, c.io, deps)).toBe(
      0,
    );
    expect(c.out()).toBe(`${JSON.stringify(JSON.parse(body), null, 2)}\n`);
    expect(c.err()).toBe("");
  });

  it("-o yaml prints YAML of the same document", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(api.jobJson({ state: "completed" })),
      ),
    );
    const c = captureIo();
    await summaryRemote("bmj_test1", { output: "yaml", extended: false }, c.io, deps);
    expect(c.out()).toMatch(/^id: bmj_test1\nname: nightly\n/);
  });

  it("text of a running job: progress, then the table of runs finished so far", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(
          api.jobJson({
            benchmark_outcomes: [
              api.outcomeJson("oracle", null, "bmr_0", [
                api.scenarioOutcomeJson("a", "COMPLETED", 1),
              ]),
            ],
            in_progress_runs: [api.inProgressJson("bmr_1", "codex")],
          }),
        ),
      ),
      http.get(`${BASE}/v1/benchmark_runs/bmr_1/scenario_runs`, () =>
        HttpResponse.json({ runs: [api.scenarioRunJson("s1", "running")], has_more: false }),
      ),
    );
    const c = captureIo();
    await summaryRemote(
      "bmj_test1",
      { output: "text", extended: true, nowMs: api.CREATED_MS + 5000 },
      c.io,
      deps,
    );
    expect(c.out()).toMatch(
      /^Job: nightly \(5s\)\nID: bmj_test1\nState: running\n\nProgress:\n {2}oracle +1\/4 complete, 3 pending, score: 100%\n {2}codex +0\/4 complete, 1 running, 3 pending\n\nSo far:\n\nBenchmark Job Results\n/,
    );
    expect(c.out()).toContain(`  ✓ ${"a".padEnd(52)}score=1.0\n`);
  });

  it("an unknown job is a RunloopApiError (one line via reportError)", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_nope`, () =>
        HttpResponse.json({ message: "not found" }, { status: 404 }),
      ),
    );
    await expect(
      summaryRemote("bmj_nope", { output: "text", extended: false }, captureIo().io, deps),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe("listRemote", () => {
  const NOW = api.CREATED_MS + 10 * 86_400_000;
  const jobAt = (i: number, ageH: number, over: Record<string, unknown> = {}) =>
    api.jobJson({
      id: `bmj_${i}`,
      name: `job ${i}`,
      state: "completed",
      create_time_ms: NOW - ageH * 3_600_000,
      ...over,
    });

  function pages(all: Record<string, unknown>[]) {
    const seen: Record<string, string>[] = [];
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs`, ({ request }) => {
        const q = Object.fromEntries(new URL(request.url).searchParams);
        seen.push(q);
        const start = q.starting_after ? all.findIndex((j) => j.id === q.starting_after) + 1 : 0;
        const limit = Number(q.limit);
        const page = all.slice(start, start + limit);
        return HttpResponse.json({ jobs: page, has_more: start + limit < all.length });
      }),
    );
    return seen;
  }

  it("pages by 100 with starting_after, stops at the first job older than --days, newest last", async () => {
    const all = Array.from({ length: 150 }, (_, i) => jobAt(i, i * 0.1));
    all.push(jobAt(150, 48), jobAt(151, 1));
    const seen = pages(all);
    const c = captureIo();
    await listRemote(
      { output: "json", days: 1, all: false, statuses: null, nowMs: NOW },
      c.io,
      deps,
    );
    const ids = (JSON.parse(c.out()) as { id: string }[]).map((j) => j.id);
    expect(ids).toHaveLength(150);
    expect(ids[0]).toBe("bmj_149");
    expect(ids.at(-1)).toBe("bmj_0");
    expect(seen.map((q) => [q.limit, q.starting_after, q.include_total_count])).toEqual([
      ["100", undefined, "false"],
      ["100", "bmj_99", "false"],
    ]);
  });

  it("--all reads every page; --status accepts canceled; --name filters and is sent as search", async () => {
    const all = [
      jobAt(0, 1, { state: "cancelled", name: "Nightly A" }),
      jobAt(1, 100, { state: "cancelled", name: "nightly b" }),
      jobAt(2, 200, { state: "failed", name: "nightly c" }),
      jobAt(3, 300, { state: "cancelled", name: "other" }),
    ];
    const seen = pages(all);
    const c = captureIo();
    await listRemote(
      {
        output: "json",
        days: 1,
        all: true,
        statuses: new Set(["cancelled"]),
        name: "NIGHTLY",
        nowMs: NOW,
      },
      c.io,
      deps,
    );
    expect((JSON.parse(c.out()) as { id: string }[]).map((j) => j.id)).toEqual(["bmj_1", "bmj_0"]);
    expect(seen[0]?.search).toBe("NIGHTLY");
  });

  it("text: the local list's table, with counts from outcomes and in-progress scenario runs", async () => {
    pages([
      jobAt(1, 2, {
        state: "running",
        benchmark_outcomes: [
          api.outcomeJson("a", null, "bmr_0", [
            api.scenarioOutcomeJson("a", "COMPLETED", 1),
            api.scenarioOutcomeJson("b", "CANCELED"),
          ]),
        ],
        in_progress_runs: [api.inProgressJson("bmr_1", "codex")],
      }),
    ]);
    server.use(
      http.get(`${BASE}/v1/benchmark_runs/bmr_1/scenario_runs`, () =>
        HttpResponse.json({
          runs: [
            api.scenarioRunJson("s1", "failed"),
            api.scenarioRunJson("s2", "scored", { scoring_contract_result: { score: 0 } }),
          ],
          has_more: false,
        }),
      ),
    );
    const c = captureIo();
    await listRemote(
      { output: "text", days: 1, all: false, statuses: null, nowMs: NOW, width: 100 },
      c.io,
      deps,
    );
    const lines = c.out().split("\n");
    expect(lines[0]).toMatch(/^ID +NAME +STARTED +STATUS +DONE +ERRORS +SCORE$/);
    expect(lines[2]).toMatch(/^bmj_1 +job 1 +2h ago +running +4\/4 +1 +50%$/);
    expect(lines.at(-2)).toBe("1 job");
  });

  it("says no jobs and hints at --days when older ones exist", async () => {
    pages([jobAt(0, 30)]);
    const c = captureIo();
    await listRemote(
      { output: "text", days: 1, all: false, statuses: null, nowMs: NOW },
      c.io,
      deps,
    );
    expect(c.out()).toBe("No benchmark jobs found\n");
    expect(c.err()).toBe(
      "Hint: older jobs exist; use --all or --days <n> to include jobs older than 1 day\n",
    );
  });
});

describe("cancelRemote", () => {
  it("cancels every in-progress run, a line per run, and exits 0", async () => {
    const cancelled: string[] = [];
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(
          api.jobJson({
            benchmark_outcomes: [api.outcomeJson("a", null, "bmr_0", [])],
            in_progress_runs: [
              api.inProgressJson("bmr_0", "a"),
              api.inProgressJson("bmr_1", "codex", "gpt-5"),
              api.inProgressJson("bmr_2", "oracle"),
            ],
          }),
        ),
      ),
      http.post(`${BASE}/v1/benchmark_runs/:id/cancel`, ({ params }) => {
        cancelled.push(String(params.id));
        return HttpResponse.json({ id: params.id, state: "canceled" });
      }),
    );
    const c = captureIo();
    expect(await cancelRemote("bmj_test1", c.io, deps)).toBe(0);
    expect(cancelled.sort()).toEqual(["bmr_1", "bmr_2"]);
    expect(c.out()).toBe(
      "bmr_1 codex:gpt-5: cancelled (canceled)\nbmr_2 oracle: cancelled (canceled)\n",
    );
    expect(c.err()).toBe(
      "Cancelling 2 benchmark run(s) of job bmj_test1\nCancelled 2/2 benchmark run(s) of job bmj_test1\n",
    );
  });

  it("exits 1 when a run cannot be cancelled; a run that ended meanwhile counts as done", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(
          api.jobJson({
            in_progress_runs: [
              api.inProgressJson("bmr_1", "codex"),
              api.inProgressJson("bmr_2", "oracle"),
            ],
          }),
        ),
      ),
      http.post(`${BASE}/v1/benchmark_runs/:id/cancel`, () =>
        HttpResponse.json({ message: "nope" }, { status: 400 }),
      ),
      http.get(`${BASE}/v1/benchmark_runs/:id`, ({ params }) =>
        HttpResponse.json({
          id: params.id,
          state: params.id === "bmr_1" ? "completed" : "running",
        }),
      ),
    );
    const c = captureIo();
    expect(await cancelRemote("bmj_test1", c.io, deps)).toBe(1);
    expect(c.out()).toBe("bmr_1 codex: already completed\n");
    expect(c.err()).toContain(
      "Warning: failed to cancel benchmark run bmr_2 (oracle): the Runloop API answered 400 nope to POST /v1/benchmark_runs/bmr_2/cancel",
    );
    expect(c.err()).toContain("Cancelled 1/2 benchmark run(s) of job bmj_test1\n");
  });

  it("a finished job says so and exits 0 without cancelling", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(api.jobJson({ state: "completed" })),
      ),
    );
    const c = captureIo();
    expect(await cancelRemote("bmj_test1", c.io, deps)).toBe(0);
    expect(c.err()).toBe("Benchmark job bmj_test1 already ended (completed); nothing to cancel\n");
  });

  it("a job without runs yet cannot be cancelled: exit 1", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(api.jobJson({ state: "queued" })),
      ),
    );
    const c = captureIo();
    expect(await cancelRemote("bmj_test1", c.io, deps)).toBe(1);
    expect(c.err()).toMatch(
      /^Benchmark job bmj_test1 is queued but has no benchmark run in progress/,
    );
  });
});

describe("logsRemote", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  const job = api.jobJson({
    state: "completed",
    benchmark_outcomes: [
      api.outcomeJson("claude-code", "sonnet", "bmr_1", [
        api.scenarioOutcomeJson("hello", "COMPLETED", 1, { scenario_run_id: "scr_1" }),
        api.scenarioOutcomeJson("hello", "COMPLETED", 0, { scenario_run_id: "scr_2" }),
        api.scenarioOutcomeJson("broken", "FAILED", undefined, {
          scenario_run_id: null,
          failure_reason: { exception_type: "SetupError", exception_message: "no image" },
        }),
        api.scenarioOutcomeJson("bad-zip", "COMPLETED", 1, { scenario_run_id: "scr_3" }),
      ]),
    ],
    // Also listed as in progress: must not be downloaded twice.
    in_progress_runs: [api.inProgressJson("bmr_1", "claude-code", "sonnet")],
  });

  function routes() {
    const downloads: string[] = [];
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () => HttpResponse.json(job)),
      http.get(`${BASE}/v1/benchmark_runs/bmr_1/scenario_runs`, () =>
        HttpResponse.json({
          runs: [
            api.scenarioRunJson("scr_1", "completed", { start_time_ms: api.CREATED_MS + 1 }),
            api.scenarioRunJson("scr_2", "completed", { start_time_ms: api.CREATED_MS + 2 }),
            api.scenarioRunJson("scr_3", "completed", { start_time_ms: api.CREATED_MS + 3 }),
          ],
          has_more: false,
        }),
      ),
      http.post(`${BASE}/v1/scenarios/runs/:id/download_logs`, async ({ params }) => {
        const id = String(params.id);
        downloads.push(id);
        if (id === "scr_3") return HttpResponse.json({ message: "logs gone" }, { status: 410 });
        const zip = await zipOf([
          { name: `${id}_agent.log`, data: `agent of ${id}` },
          { name: `${id}_logs/verifier/out.txt`, data: "ok" },
          { name: "../../escape.txt", data: "x" },
        ]);
        return HttpResponse.arrayBuffer(
          zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.byteLength) as ArrayBuffer,
          { headers: { "content-type": "application/zip" } },
        );
      }),
    );
    return downloads;
  }

  it("writes Runloop's layout, results.json first, and exits 1 when one download fails", async () => {
    const downloads = routes();
    const out = join(tmp.dir, "logs");
    const c = captureIo();
    const code = await logsRemote("bmj_test1", { outputDir: out, force: false }, c.io, deps);
    expect(code).toBe(1);
    expect(downloads.sort()).toEqual(["scr_1", "scr_2", "scr_3"]);
    const agentDir = join(out, "claude-code_sonnet");
    expect((await readdir(agentDir)).sort()).toEqual(["bad-zip", "broken", "hello-1", "hello-2"]);
    expect((await readdir(join(agentDir, "hello-1"))).sort()).toEqual([
      COMPLETE_MARKER,
      "agent.log",
      "logs",
      "results.json",
    ]);
    expect(await readFile(join(agentDir, "hello-2/agent.log"), "utf8")).toBe("agent of scr_2");
    expect(await readFile(join(agentDir, "hello-1/logs/verifier/out.txt"), "utf8")).toBe("ok");
    const broken = JSON.parse(await readFile(join(agentDir, "broken/results.json"), "utf8"));
    expect(broken).toMatchObject({
      scenario_run_id: null,
      state: "FAILED",
      failure_reason: { exception_type: "SetupError", exception_message: "no image" },
    });
    // The failed download still has its results.json, and no marker.
    expect((await readdir(join(agentDir, "bad-zip"))).sort()).toEqual(["results.json"]);
    await expect(stat(join(tmp.dir, "escape.txt"))).rejects.toThrow();
    const err = c.err();
    expect(err).toContain("Fetching scenario runs for 1 agent(s) in parallel...\n");
    expect(err).toContain(`Downloading logs for 4 scenario run(s) to ${out}\n`);
    expect(err).toMatch(
      /\n {2}Warning: failed to download logs for claude-code:sonnet \/ bad-zip \(scr_3\): the Runloop API answered 410 logs gone to POST \/v1\/scenarios\/runs\/scr_3\/download_logs \(request [^)]+\)\n/,
    );
    expect(err).toContain("  ✓ claude-code:sonnet / hello → hello-1\n");
    expect(err).toContain(
      '    Warning: skipped "../../escape.txt" in the log archive: `..` in the path\n',
    );
    expect(err).toContain("  ✓ claude-code:sonnet / broken (no scenario run: results.json only)\n");
    expect(err).toContain(`\nDownloaded logs for 3/4 scenario run(s) to ${out}\n`);
    expect(c.out()).toBe("");
  });

  it("keeps complete scenario directories on a second run unless --force", async () => {
    const downloads = routes();
    const out = join(tmp.dir, "logs");
    await logsRemote("bmj_test1", { outputDir: out, force: false }, captureIo().io, deps);
    await writeFile(join(out, "claude-code_sonnet/hello-1/agent.log"), "edited");
    downloads.length = 0;
    const c = captureIo();
    await logsRemote("bmj_test1", { outputDir: out, force: false }, c.io, deps);
    expect(downloads).toEqual(["scr_3"]);
    expect(c.err()).toContain("  = claude-code:sonnet / hello → hello-1 (already downloaded");
    expect(await readFile(join(out, "claude-code_sonnet/hello-1/agent.log"), "utf8")).toBe(
      "edited",
    );
    downloads.length = 0;
    await logsRemote("bmj_test1", { outputDir: out, force: true }, captureIo().io, deps);
    expect(downloads.sort()).toEqual(["scr_1", "scr_2", "scr_3"]);
    expect(await readFile(join(out, "claude-code_sonnet/hello-1/agent.log"), "utf8")).toBe(
      "agent of scr_1",
    );
  });

  it("exits 0 when every scenario run was written, and --scenario narrows to one", async () => {
    routes();
    const out = join(tmp.dir, "one");
    const c = captureIo();
    const code = await logsRemote(
      "bmj_test1",
      { outputDir: out, scenario: "scr_2", force: false },
      c.io,
      deps,
    );
    expect(code).toBe(0);
    expect(await readdir(join(out, "claude-code_sonnet"))).toEqual(["hello-2"]);
  });

  it("--archive writes one .tar.gz with entries under the job id", async () => {
    routes();
    const archive = join(tmp.dir, "logs.tar.gz");
    await logsRemote(
      "bmj_test1",
      { archive, scenario: "scr_1", force: false },
      captureIo().io,
      deps,
    );
    const { t } = await import("tar");
    const entries: string[] = [];
    await t({ file: archive, onReadEntry: (e) => entries.push(e.path) });
    expect(entries).toContain("bmj_test1/claude-code_sonnet/hello-1/agent.log");
    expect(entries).toContain("bmj_test1/claude-code_sonnet/hello-1/results.json");
    expect((await readdir(tmp.dir)).sort()).toEqual(["logs.tar.gz"]);
  });

  it("an unknown --run is a usage error; a job without runs says so", async () => {
    routes();
    await expect(
      logsRemote("bmj_test1", { run: "bmr_9", force: false }, captureIo().io, deps),
    ).rejects.toBeInstanceOf(UsageError);
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(api.jobJson({ state: "queued" })),
      ),
    );
    const c = captureIo();
    expect(await logsRemote("bmj_test1", { force: false }, c.io, deps)).toBe(0);
    expect(c.err()).toBe("No benchmark runs found for this job.\n");
  });

  it("resolves names the outcomes lack with GET /v1/scenarios/{id}, falling back to the id", async () => {
    server.use(
      http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () =>
        HttpResponse.json(
          api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_2", "codex")] }),
        ),
      ),
      http.get(`${BASE}/v1/benchmark_runs/bmr_2/scenario_runs`, () =>
        HttpResponse.json({
          runs: [
            api.scenarioRunJson("scr_a", "running", { scenario_id: "scn_named" }),
            api.scenarioRunJson("scr_b", "running", { scenario_id: "scn_gone" }),
          ],
          has_more: false,
        }),
      ),
      http.get(`${BASE}/v1/scenarios/scn_named`, () =>
        HttpResponse.json({ id: "scn_named", name: "Fix the bug" }),
      ),
      http.get(`${BASE}/v1/scenarios/scn_gone`, () =>
        HttpResponse.json({ message: "gone" }, { status: 404 }),
      ),
      http.post(`${BASE}/v1/scenarios/runs/:id/download_logs`, async () => {
        const zip = await zipOf([{ name: "x.txt", data: "x" }]);
        return HttpResponse.arrayBuffer(
          zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.byteLength) as ArrayBuffer,
        );
      }),
    );
    const out = join(tmp.dir, "names");
    const c = captureIo();
    expect(await logsRemote("bmj_test1", { outputDir: out, force: false }, c.io, deps)).toBe(0);
    expect((await readdir(join(out, "codex"))).sort()).toEqual(["Fix-the-bug", "scn_gone"]);
    // Running scenario runs get no marker: the next `logs` downloads them again.
    expect(await readdir(join(out, "codex/Fix-the-bug"))).not.toContain(COMPLETE_MARKER);
    expect(c.err()).toContain("  ✓ codex / Fix the bug (still running: partial logs)\n");
  });
});
