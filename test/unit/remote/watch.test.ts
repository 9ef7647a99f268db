import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import type { RemoteDeps } from "../../../src/remote/deps.js";
import { type Poll, watchLoop } from "../../../src/remote/watch.js";
import { type RemoteWatchOptions, watchRemote } from "../../../src/remote/watch-action.js";
import { RunloopApiError } from "../../../src/runloop/errors.js";
import { type CapturedIo, captureIo } from "../../helpers/io.js";
import { BASE, json, mockRunloop, status, testClient } from "../../helpers/msw-runloop.js";
import * as api from "../../helpers/runloop-views.js";

const { server } = mockRunloop();

const running = api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex", "gpt-5")] });
const completed = api.jobJson({
  state: "completed",
  benchmark_outcomes: [
    api.outcomeJson("codex", "gpt-5", "bmr_1", [
      api.scenarioOutcomeJson("a", "COMPLETED", 1),
      api.scenarioOutcomeJson("b", "COMPLETED", 0),
    ]),
  ],
});

/** GET job answers in turn from `answers` (the last repeats); counts calls. */
function jobRoute(answers: (() => Response)[]) {
  const calls = { job: 0, runs: 0 };
  server.use(
    http.get(`${BASE}/v1/benchmark_jobs/bmj_test1`, () => {
      const answer = answers[Math.min(calls.job, answers.length - 1)]!;
      calls.job++;
      return answer();
    }),
    http.get(`${BASE}/v1/benchmark_runs/bmr_1/scenario_runs`, () => {
      calls.runs++;
      return HttpResponse.json({
        runs: [api.scenarioRunJson("s1", "running"), api.scenarioRunJson("s2", "scored")],
        has_more: false,
      });
    }),
  );
  return calls;
}

/** A clock that moves 5 s per sleep; `now` never goes backwards. */
function fakeClock(start = api.CREATED_MS + 60_000) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe("watchLoop", () => {
  it("survives two failing polls (5xx, connection-level) and ends when the job does", async () => {
    const calls = jobRoute([
      json(running),
      status(503),
      () => HttpResponse.error(),
      json(running),
      json(completed),
    ]);
    const failures: number[] = [];
    const polls: Poll[] = [];
    const result = await watchLoop(
      testClient(),
      { id: "bmj_test1", ...fakeClock() },
      { onPoll: (p) => polls.push(p), onPollFailed: (_e, n) => failures.push(n) },
    );
    expect(failures).toEqual([1, 2]);
    expect(result.kind).toBe("ended");
    expect(polls.map((p) => p.progress.state)).toEqual(["running", "running", "completed"]);
    // Two running polls listed scenario runs; the end was reconciled with one more GET.
    expect(calls).toEqual({ job: 6, runs: 2 });
    if (result.kind === "ended") {
      expect(result.endedAtMs).not.toBeNull();
      expect(result.poll.progress.runs[0]).toMatchObject({ source: "outcome", finished: 2 });
    }
  });

  it.each([401, 403, 404])("stops at once on %i", async (code) => {
    const calls = jobRoute([json(running), status(code)]);
    const failures: number[] = [];
    const err = await watchLoop(
      testClient(),
      { id: "bmj_test1", ...fakeClock() },
      { onPoll: () => {}, onPollFailed: (_e, n) => failures.push(n) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunloopApiError);
    expect((err as RunloopApiError).status).toBe(code);
    expect(failures).toEqual([]);
    expect(calls.job).toBe(2);
  });

  it("gives up only after failed polls have lasted giveUpAfterMs", async () => {
    jobRoute([status(500)]);
    const clock = fakeClock();
    const failures: number[] = [];
    const result = await watchLoop(
      testClient(),
      { id: "bmj_test1", intervalMs: 5000, giveUpAfterMs: 60_000, ...clock },
      { onPoll: () => {}, onPollFailed: (_e, n) => failures.push(n) },
    );
    expect(result.kind).toBe("gave-up");
    // Polls at 0, 5, ..., 60 s: the 13th is the first 60 s after the first failure.
    expect(failures).toHaveLength(12);
    if (result.kind === "gave-up") expect(result.failures).toBe(13);
  });

  it("stops at --timeout (measured from when watching began, not from the job's creation)", async () => {
    const calls = jobRoute([json(running)]);
    const clock = fakeClock(api.CREATED_MS + 10 * 3_600_000);
    const result = await watchLoop(
      testClient(),
      { id: "bmj_test1", intervalMs: 5000, timeoutMs: 12_000, ...clock },
      { onPoll: () => {}, onPollFailed: () => {} },
    );
    expect(result.kind).toBe("timeout");
    // At 0, 5, 10 and (the deadline) 12 s.
    expect(calls.job).toBe(4);
  });

  it("watches a job older than four hours without a timeout", async () => {
    jobRoute([json(running), json(running), json(completed)]);
    const clock = fakeClock(api.CREATED_MS + 5 * 3_600_000);
    const result = await watchLoop(
      testClient(),
      { id: "bmj_test1", ...clock },
      { onPoll: () => {}, onPollFailed: () => {} },
    );
    expect(result.kind).toBe("ended");
  });

  it("returns interrupted when the signal aborts", async () => {
    jobRoute([json(running)]);
    const ctl = new AbortController();
    const result = await watchLoop(
      testClient(),
      {
        id: "bmj_test1",
        signal: ctl.signal,
        now: Date.now,
        sleep: async () => {
          ctl.abort();
        },
      },
      { onPoll: () => {}, onPollFailed: () => {} },
    );
    expect(result.kind).toBe("interrupted");
  });
});

function deps(clock = fakeClock()): RemoteDeps {
  return { client: () => testClient(), loop: clock };
}

/** watchRemote on bmj_test1 into captured io: text, 5 s polls and no timeout unless `options` says
 * otherwise; `remoteDeps` gets the io (to interrupt it). */
async function watch(
  options: Partial<RemoteWatchOptions> = {},
  remoteDeps: (c: CapturedIo) => RemoteDeps = () => deps(),
): Promise<{ c: CapturedIo; code: number }> {
  const c = captureIo();
  const code = await watchRemote(
    "bmj_test1",
    { json: false, intervalMs: 5000, timeoutMs: null, ...options },
    c.io,
    remoteDeps(c),
  );
  return { c, code };
}

describe("watchRemote", () => {
  it("prints a line per change on stderr, then the banner, total time, table and hint", async () => {
    jobRoute([json(running), json(running), json(completed)]);
    const { c, code } = await watch();
    expect(code).toBe(0);
    expect(c.err()).toBe(
      [
        "Watching benchmark job bmj_test1 (nightly)",
        "State: running",
        "codex:gpt-5: 1/4 complete, 1 running, 2 pending",
        "State: completed",
        "codex:gpt-5: 2/4 complete, 2 pending, score: 50%",
        "Benchmark job completed!",
        "Total time: 1m 10s",
        "",
        "To see full results, run: rli benchmark-job summary -e bmj_test1",
        "",
      ].join("\n"),
    );
    expect(c.out()).toContain("Benchmark Job Results\nJob ID: bmj_test1\n");
    expect(c.out()).toContain("codex (gpt-5)");
  });

  it("prints a warning line per failed poll and keeps watching", async () => {
    jobRoute([json(running), status(502), json(completed)]);
    const { c, code } = await watch();
    expect(code).toBe(0);
    const warnings = c
      .err()
      .split("\n")
      .filter((l) => l.startsWith("Warning:"));
    expect(warnings).toEqual([
      "Warning: polling the job failed: the Runloop API answered 502 status 502 to GET /v1/benchmark_jobs/bmj_test1; trying again in 5s",
    ]);
  });

  it.each([
    ["cancelled", 3, "Benchmark job cancelled."],
    ["failed", 1, "Benchmark job failed."],
    ["timeout", 1, "Benchmark job timed out."],
    ["completed", 0, "Benchmark job completed!"],
  ])("a job that ends %s exits %i and says %j", async (state, exit, banner) => {
    jobRoute([json(running), json({ ...completed, state })]);
    const { c, code } = await watch();
    expect(code).toBe(exit);
    expect(c.err()).toContain(`\n${banner}\n`);
    expect(c.err()).not.toContain(state === "completed" ? "failed" : "completed!");
  });

  it("-o json prints one progress record per change and an end record, nothing else", async () => {
    jobRoute([json(running), json(running), json(completed)]);
    const { c, code } = await watch({ json: true });
    expect(code).toBe(0);
    expect(c.err()).toBe("");
    const records = c
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.type, r.state])).toEqual([
      ["progress", "running"],
      ["progress", "completed"],
      ["end", "completed"],
    ]);
    expect(records[2]).toEqual({
      type: "end",
      time: expect.any(String),
      job_id: "bmj_test1",
      state: "completed",
      end: "completed",
      total_time_ms: 70_000,
      results: [
        {
          benchmark_run_id: "bmr_1",
          agent: "codex",
          model: "gpt-5",
          passed: 1,
          failed_score: 1,
          failed_error: 0,
          total: 2,
        },
      ],
    });
  });

  it("a job already ended shows its results without reconciling twice", async () => {
    const calls = jobRoute([json(completed)]);
    const { c, code } = await watch();
    expect(code).toBe(0);
    expect(calls).toEqual({ job: 1, runs: 0 });
    expect(c.err()).not.toContain("Total time");
  });

  it("--timeout exits 1 with one line naming the state", async () => {
    jobRoute([json(running)]);
    const { c, code } = await watch({ timeoutMs: 7000 });
    expect(code).toBe(1);
    expect(c.err().trim().split("\n").at(-1)).toBe(
      "Stopped watching after 7s (--timeout): benchmark job bmj_test1 is still running",
    );
  });

  it("gives up with an error after long failures", async () => {
    jobRoute([status(500)]);
    const err = await watch({}, () => ({
      client: () => testClient(),
      loop: { ...fakeClock(), giveUpAfterMs: 20_000 },
    })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^gave up watching benchmark job bmj_test1: 5 polls in a row failed over 20s; the last: the Runloop API answered 500/,
    );
  });

  it("Ctrl-C stops watching with 130 and says the job keeps running", async () => {
    jobRoute([json(running)]);
    const { c, code } = await watch({}, (io) => ({
      client: () => testClient(),
      loop: {
        now: Date.now,
        sleep: async () => {
          io.interrupt();
        },
      },
    }));
    expect(code).toBe(130);
    expect(c.err()).toContain(
      'Stopped watching; benchmark job bmj_test1 keeps running ("rli benchmark-job cancel bmj_test1" stops it)\n',
    );
  });
});
