import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/core/errors.js";
import {
  jobRuns,
  logSources,
  planTargets,
  selectRuns,
  selectScenario,
  unnamedScenarios,
} from "../../../src/remote/logs-plan.js";
import * as api from "../../helpers/runloop-views.js";

const v = api.view(
  api.jobJson({
    benchmark_outcomes: [
      api.outcomeJson("claude-code", "claude/sonnet:4", "bmr_1", [
        api.scenarioOutcomeJson("hello world", "COMPLETED", 1, { scenario_run_id: "scr_1" }),
        api.scenarioOutcomeJson("hello world", "FAILED", undefined, {
          scenario_run_id: "scr_2",
          failure_reason: { exception_type: "AgentError", exception_message: "exit 1" },
        }),
        api.scenarioOutcomeJson("setup-broke", "FAILED", undefined, {
          scenario_run_id: undefined,
          failure_reason: { exception_type: "SetupError", exception_message: "no image" },
        }),
      ]),
    ],
    in_progress_runs: [
      api.inProgressJson("bmr_1", "claude-code", "claude/sonnet:4"),
      api.inProgressJson("bmr_2", "codex", null),
    ],
  }),
);

const scenarioRuns = new Map([
  [
    "bmr_1",
    api.runsOf([
      api.scenarioRunJson("scr_2", "failed", { start_time_ms: api.CREATED_MS + 20 }),
      api.scenarioRunJson("scr_1", "completed", {
        start_time_ms: api.CREATED_MS + 10,
        duration_ms: 5,
        scoring_contract_result: {
          score: 1,
          scoring_function_results: [
            { scoring_function_name: "tests", score: 1, output: "ok", state: "complete" },
          ],
        },
      }),
    ]),
  ],
  [
    "bmr_2",
    api.runsOf([
      api.scenarioRunJson("scr_3", "running", { scenario_id: "scn_x", duration_ms: 7 }),
      api.scenarioRunJson("scr_1", "completed"),
    ]),
  ],
]);

describe("jobRuns and selectRuns", () => {
  it("lists every outcome, then in-progress runs without one, each once", () => {
    expect(jobRuns(v).map((r) => [r.benchmarkRunId, r.label])).toEqual([
      ["bmr_1", "claude-code:claude/sonnet:4"],
      ["bmr_2", "codex"],
    ]);
  });

  it("--run takes a benchmark_run_id or an agent label", () => {
    const runs = jobRuns(v);
    expect(selectRuns("bmj_test1", runs, "bmr_2").map((r) => r.benchmarkRunId)).toEqual(["bmr_2"]);
    expect(selectRuns("bmj_test1", runs, "codex").map((r) => r.benchmarkRunId)).toEqual(["bmr_2"]);
    expect(
      selectRuns("bmj_test1", runs, "claude-code:claude/sonnet:4").map((r) => r.benchmarkRunId),
    ).toEqual(["bmr_1"]);
    expect(() => selectRuns("bmj_test1", runs, "bmr_9")).toThrow(UsageError);
    expect(() => selectRuns("bmj_test1", runs, "bmr_9")).toThrow(
      "Benchmark run bmr_9 not found in job bmj_test1 (runs: bmr_1 (claude-code:claude/sonnet:4), bmr_2 (codex))",
    );
  });
});

describe("logSources", () => {
  it("takes each scenario run once across runs, then outcomes no listing matched", () => {
    const sources = logSources(jobRuns(v), scenarioRuns);
    expect(
      sources.map((s) => [s.run.benchmarkRunId, s.scenarioRunId, s.outcome?.state ?? null]),
    ).toEqual([
      ["bmr_1", "scr_2", "FAILED"],
      ["bmr_1", "scr_1", "COMPLETED"],
      ["bmr_1", null, "FAILED"],
      ["bmr_2", "scr_3", null],
    ]);
  });

  it("keeps the outcomes of a run whose listing failed", () => {
    const sources = logSources(jobRuns(v), new Map());
    expect(sources.map((s) => s.scenarioRunId)).toEqual(["scr_1", "scr_2", null]);
  });

  it("--scenario takes a scenario run id or a scenario id", () => {
    const sources = logSources(jobRuns(v), scenarioRuns);
    expect(selectScenario("bmj_test1", sources, "scr_3").map((s) => s.scenarioRunId)).toEqual([
      "scr_3",
    ]);
    expect(
      selectScenario("bmj_test1", sources, "scn_hello world").map((s) => s.scenarioRunId),
    ).toEqual(["scr_2", "scr_1"]);
    expect(() => selectScenario("bmj_test1", sources, "nope")).toThrow(UsageError);
  });
});

describe("planTargets", () => {
  const sources = logSources(jobRuns(v), scenarioRuns);

  it("asks for the names no outcome gives", () => {
    expect(unnamedScenarios(sources)).toEqual(["scn_x"]);
  });

  it("lays out <agent>_<model>/<scenario>[-n] with the shared sanitizer, numbered by start time", () => {
    const targets = planTargets("bmj_test1", sources, new Map([["scn_x", "the x"]]));
    expect(targets.map((t) => [t.scenarioRunId, t.relDir, t.final])).toEqual([
      ["scr_1", "claude-code_claude_sonnet_4/hello-world-1", true],
      ["scr_2", "claude-code_claude_sonnet_4/hello-world-2", true],
      [null, "claude-code_claude_sonnet_4/setup-broke", true],
      ["scr_3", "codex/the-x", false],
    ]);
  });

  it("falls back to the scenario id when no name is known", () => {
    const targets = planTargets("bmj_test1", sources, new Map());
    expect(targets.at(-1)?.relDir).toBe("codex/scn_x");
  });

  it("writes Runloop's results.json fields, also for an outcome without a scenario run", () => {
    const targets = planTargets("bmj_test1", sources, new Map([["scn_x", "the x"]]));
    expect(targets[0]?.results).toEqual({
      scenario_run_id: "scr_1",
      scenario_id: "scn_hello world",
      scenario_name: "hello world",
      state: "COMPLETED",
      score: 1,
      duration_ms: 1000,
      scoring_functions: [{ name: "tests", score: 1, state: "complete", output: "ok" }],
      rli_run: {
        job_id: "bmj_test1",
        benchmark_run_id: "bmr_1",
        agent: "claude-code",
        model: "claude/sonnet:4",
      },
    });
    expect(targets[2]?.results).toEqual({
      scenario_run_id: null,
      scenario_id: "scn_setup-broke",
      scenario_name: "setup-broke",
      state: "FAILED",
      score: null,
      duration_ms: 1000,
      failure_reason: { exception_type: "SetupError", exception_message: "no image" },
      scoring_functions: [],
      rli_run: {
        job_id: "bmj_test1",
        benchmark_run_id: "bmr_1",
        agent: "claude-code",
        model: "claude/sonnet:4",
      },
    });
    expect(targets[3]?.results).toMatchObject({
      scenario_run_id: "scr_3",
      scenario_id: "scn_x",
      scenario_name: "the x",
      state: "running",
      score: null,
      duration_ms: 7,
    });
  });
});
