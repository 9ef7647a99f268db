import { describe, expect, it } from "vitest";
import {
  activeRuns,
  jobProgress,
  progressRecord,
  sameProgress,
} from "../../../src/remote/progress.js";
import {
  changeLines,
  progressText,
  runCounts,
  runLine,
  watchScreen,
} from "../../../src/remote/progress-text.js";
import { TAGS } from "../../helpers/factories.js";
import * as api from "../../helpers/runloop-views.js";

const finishedOutcome = api.outcomeJson("claude-code", "sonnet", "bmr_done", [
  api.scenarioOutcomeJson("a", "COMPLETED", 1),
  api.scenarioOutcomeJson("b", "COMPLETED", 0.5),
  api.scenarioOutcomeJson("c", "FAILED"),
]);

describe("jobProgress", () => {
  it("counts an in-progress run from its scenario runs: pending = total − started", () => {
    const v = api.view(
      api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex", "gpt-5")] }),
    );
    const runs = api.runsOf([
      api.scenarioRunJson("s1", "completed", { scoring_contract_result: { score: 1 } }),
      api.scenarioRunJson("s2", "running"),
    ]);
    const p = jobProgress(v, new Map([["bmr_1", runs]]));
    expect(p.final).toBe(false);
    expect(p.expectedTotal).toBe(4);
    expect(p.runs).toEqual([
      {
        benchmarkRunId: "bmr_1",
        agent: "codex",
        model: "gpt-5",
        label: "codex:gpt-5",
        source: "in_progress",
        total: 4,
        started: 2,
        finished: 1,
        running: 1,
        scoring: 0,
        starting: 0,
        pending: 2,
        score: 1,
        active: [{ id: "s2", name: "run s2", state: "running", startMs: api.CREATED_MS + 2000 }],
      },
    ]);
  });

  it("counts `scored` and every final spelling as finished, whatever the case", () => {
    const v = api.view(api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex")] }));
    const states = ["scored", "COMPLETED", "Failed", "canceled", "cancelled", "timeout", "error"];
    const runs = api.runsOf(states.map((s, i) => api.scenarioRunJson(`s${i}`, s)));
    const [r] = jobProgress(v, new Map([["bmr_1", runs]])).runs;
    expect(r).toMatchObject({ total: 7, started: 7, finished: 7, pending: 0, running: 0 });
  });

  it("counts scoring, running, starting (undocumented states) and leaves pending runs unstarted", () => {
    const v = api.view(api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex")] }));
    const runs = api.runsOf([
      api.scenarioRunJson("s1", "scoring"),
      api.scenarioRunJson("s2", "RUNNING"),
      api.scenarioRunJson("s3", "provisioning"),
      api.scenarioRunJson("s4", "pending"),
    ]);
    const [r] = jobProgress(v, new Map([["bmr_1", runs]])).runs;
    expect(r).toMatchObject({ started: 3, scoring: 1, running: 1, starting: 1, pending: 1 });
    expect(r?.active.map((a) => a.id)).toEqual(["s1", "s2", "s3"]);
  });

  it("lists active scenario runs oldest first", () => {
    const v = api.view(api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex")] }));
    const runs = api.runsOf([
      api.scenarioRunJson("late", "running", { start_time_ms: api.CREATED_MS + 9000 }),
      api.scenarioRunJson("early", "running", { start_time_ms: api.CREATED_MS + 1000 }),
      api.scenarioRunJson("unknown", "running", { start_time_ms: null }),
    ]);
    const [r] = jobProgress(v, new Map([["bmr_1", runs]])).runs;
    expect(r?.active.map((a) => a.id)).toEqual(["early", "late", "unknown"]);
  });

  it("takes an outcome as authoritative and skips the in-progress run with the same id", () => {
    const v = api.view(
      api.jobJson({
        benchmark_outcomes: [finishedOutcome],
        in_progress_runs: [
          api.inProgressJson("bmr_done", "claude-code", "sonnet"),
          api.inProgressJson("bmr_2", "codex"),
          api.inProgressJson("bmr_2", "codex"),
        ],
      }),
    );
    expect(activeRuns(v).map((r) => r.benchmark_run_id)).toEqual(["bmr_2"]);
    const runs = new Map([["bmr_done", api.runsOf([api.scenarioRunJson("zzz", "running")])]]);
    const p = jobProgress(v, runs);
    expect(p.runs.map((r) => [r.benchmarkRunId, r.source])).toEqual([
      ["bmr_done", "outcome"],
      ["bmr_2", "in_progress"],
    ]);
    expect(p.runs[0]).toMatchObject({
      label: "claude-code:sonnet",
      total: 4,
      started: 3,
      finished: 3,
      running: 0,
      pending: 1,
      score: 0.75,
    });
    expect(p.runs[1]).toMatchObject({ started: 0, pending: 4 });
  });

  it("counts a scenario run listed twice (pagination overlap) once", () => {
    const v = api.view(api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", "codex")] }));
    const runs = api.runsOf([
      api.scenarioRunJson("s1", "running"),
      api.scenarioRunJson("s1", "scored"),
    ]);
    const [r] = jobProgress(v, new Map([["bmr_1", runs]])).runs;
    expect(r).toMatchObject({ started: 1, finished: 1, running: 0 });
  });

  it("names a run made outside a job `unknown`", () => {
    const v = api.view(api.jobJson({ in_progress_runs: [api.inProgressJson("bmr_1", null)] }));
    expect(jobProgress(v, new Map()).runs[0]).toMatchObject({ agent: "unknown", label: "unknown" });
  });

  it("never shows a negative pending: total grows to what started", () => {
    const v = api.view(
      api.jobJson({ job_spec: null, in_progress_runs: [api.inProgressJson("bmr_1", "x")] }),
    );
    const runs = api.runsOf([
      api.scenarioRunJson("s1", "running"),
      api.scenarioRunJson("s2", "running"),
    ]);
    expect(jobProgress(v, new Map([["bmr_1", runs]])).runs[0]).toMatchObject({
      total: 2,
      pending: 0,
    });
  });

  it.each(["completed", "FAILED", "cancelled", "canceled", "Timeout"])(
    "reads job state %s as final",
    (state) => {
      expect(jobProgress(api.view(api.jobJson({ state })), new Map()).final).toBe(true);
    },
  );

  it.each(["initializing", "queued", "running"])("reads job state %s as not final", (state) => {
    expect(jobProgress(api.view(api.jobJson({ state })), new Map()).final).toBe(false);
  });
});

describe("progress records (watch -o json)", () => {
  const v = api.view(
    api.jobJson({
      benchmark_outcomes: [finishedOutcome],
      in_progress_runs: [api.inProgressJson("bmr_2", "codex", "gpt-5")],
    }),
  );
  const runs = new Map([["bmr_2", api.runsOf([api.scenarioRunJson("s1", "running")])]]);

  it("has the documented fields", () => {
    const record = progressRecord(jobProgress(v, runs), api.CREATED_MS + 65_000);
    expect(record).toEqual({
      type: "progress",
      time: new Date(api.CREATED_MS + 65_000).toISOString(),
      job_id: "bmj_test1",
      name: "nightly",
      state: "running",
      final: false,
      elapsed_ms: 65_000,
      runs: [
        {
          benchmark_run_id: "bmr_done",
          agent: "claude-code",
          model: "sonnet",
          source: "outcome",
          total: 4,
          finished: 3,
          running: 0,
          scoring: 0,
          starting: 0,
          pending: 1,
          score: 0.75,
        },
        {
          benchmark_run_id: "bmr_2",
          agent: "codex",
          model: "gpt-5",
          source: "in_progress",
          total: 4,
          finished: 0,
          running: 1,
          scoring: 0,
          starting: 0,
          pending: 3,
          score: null,
        },
      ],
    });
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it("are the same when only the time moved, different when a count moved", () => {
    const a = progressRecord(jobProgress(v, runs), api.CREATED_MS + 1000);
    const b = progressRecord(jobProgress(v, runs), api.CREATED_MS + 9000);
    expect(sameProgress(null, a)).toBe(false);
    expect(sameProgress(a, b)).toBe(true);
    const moved = new Map([["bmr_2", api.runsOf([api.scenarioRunJson("s1", "scoring")])]]);
    expect(sameProgress(a, progressRecord(jobProgress(v, moved), api.CREATED_MS + 9000))).toBe(
      false,
    );
  });
});

describe("progress text", () => {
  const v = api.view(
    api.jobJson({
      benchmark_outcomes: [
        api.outcomeJson("oracle", null, "bmr_o", [
          api.scenarioOutcomeJson("a", "COMPLETED", 1),
          api.scenarioOutcomeJson("b", "COMPLETED", 1),
          api.scenarioOutcomeJson("c", "COMPLETED", 1),
          api.scenarioOutcomeJson("d", "COMPLETED", 0.46),
        ]),
      ],
      in_progress_runs: [
        api.inProgressJson("bmr_2", "claude-code", "claude-sonnet-4-5-20250929-long"),
      ],
    }),
  );
  const runs = new Map([
    [
      "bmr_2",
      api.runsOf([
        api.scenarioRunJson("s1", "completed", { scoring_contract_result: { score: 0.5 } }),
        api.scenarioRunJson("s2", "running", {
          name: "a-scenario-name-that-is-longer-than-thirty-five",
          start_time_ms: api.CREATED_MS + 60_000,
        }),
        api.scenarioRunJson("s3", "scoring", { start_time_ms: api.CREATED_MS + 120_000 }),
      ]),
    ],
  ]);
  const p = jobProgress(v, runs);

  it("runCounts shows only non-zero parts", () => {
    expect(runCounts(p.runs[1]!)).toBe("1/4 complete, 1 running, 1 scoring, 1 pending, score: 50%");
  });

  it("runLine marks a finished run with ✓ and its score, and cuts long labels to 27 + ...", () => {
    expect(runLine(p.runs[0]!, TAGS)).toBe(`<green>✓</green> ${"oracle".padEnd(30)} score: 87%`);
    expect(runLine(p.runs[1]!)).toBe(
      `  claude-code:claude-sonnet-4... 1/4 complete, 1 running, 1 scoring, 1 pending, score: 50%`,
    );
  });

  it("watchScreen draws Runloop's layout with a spinner and durations per active scenario", () => {
    const lines = watchScreen(p, { nowMs: api.CREATED_MS + 125_000, rows: 40 });
    expect(lines).toEqual([
      "Benchmark Job: nightly (2m 5s)",
      "ID: bmj_test1",
      "State: running",
      "",
      "Progress:",
      `✓ ${"oracle".padEnd(30)} score: 87%`,
      "  claude-code:claude-sonnet-4... 1/4 complete, 1 running, 1 scoring, 1 pending, score: 50%",
      `      └ ${"a-scenario-name-that-is-longer-t...".padEnd(35)} ⠋ running (1m 5s)`,
      `      └ ${"run s3".padEnd(35)} ⠋ scoring (5s)`,
      "",
      "Press Ctrl+C to stop watching (the job keeps running)",
    ]);
  });

  it("watchScreen bounds the scenario lines per run and shows a note", () => {
    const many = new Map([
      [
        "bmr_2",
        api.runsOf(Array.from({ length: 9 }, (_, i) => api.scenarioRunJson(`s${i}`, "running"))),
      ],
    ]);
    const lines = watchScreen(jobProgress(v, many), {
      nowMs: api.CREATED_MS,
      rows: 10,
      note: "Warning: polling failed",
    });
    expect(lines.filter((l) => l.includes("└"))).toHaveLength(3);
    expect(lines).toContain("      ... and 6 more");
    expect(lines.at(-2)).toBe("Warning: polling failed");
  });

  it("watchScreen waits for scenarios when the job has no runs yet", () => {
    const lines = watchScreen(jobProgress(api.view(api.jobJson({ state: "queued" })), new Map()), {
      nowMs: api.CREATED_MS,
      rows: 30,
    });
    expect(lines[4]).toBe("Waiting for scenarios to start...");
  });

  it("progressText is Runloop's running summary: Job, ID, State, Progress", () => {
    expect(progressText(p, api.CREATED_MS + 3_723_000)).toBe(
      [
        "Job: nightly (1h 2m 3s)",
        "ID: bmj_test1",
        "State: running",
        "",
        "Progress:",
        `✓ ${"oracle".padEnd(30)} score: 87%`,
        "  claude-code:claude-sonnet-4... 1/4 complete, 1 running, 1 scoring, 1 pending, score: 50%",
        "",
      ].join("\n"),
    );
    const queued = jobProgress(api.view(api.jobJson({ state: "queued", name: "" })), new Map());
    expect(progressText(queued, api.CREATED_MS)).toBe(
      "Job: bmj_test1 (0s)\nID: bmj_test1\nState: queued\n\nNo runs in progress\n",
    );
  });

  it("changeLines prints everything first, then only what changed", () => {
    const first = changeLines(null, p);
    expect(first).toEqual([
      "Watching benchmark job bmj_test1 (nightly)",
      "State: running",
      "oracle: 4/4 complete, score: 87%",
      "claude-code:claude-sonnet-4-5-20250929-long: 1/4 complete, 1 running, 1 scoring, 1 pending, score: 50%",
    ]);
    expect(changeLines(p, p)).toEqual([]);
    const done = jobProgress(api.view({ ...api.jobJson(), ...{ state: "completed" } }), new Map());
    expect(changeLines(p, done)).toEqual(["State: completed"]);
  });

  it("strips terminal escapes from names", () => {
    const evil = jobProgress(api.view(api.jobJson({ name: "x\u001b[2Jy" })), new Map());
    expect(progressText(evil, api.CREATED_MS)).toContain("Job: xy (0s)");
  });
});
