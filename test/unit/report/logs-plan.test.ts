import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/core/errors.js";
import { trialId } from "../../../src/core/ids.js";
import {
  type AgentRef,
  type JobDoc,
  type TrialResult,
  type TrialStatus,
  UNKNOWN_USAGE,
} from "../../../src/core/schemas.js";
import {
  agentDirName,
  type LogsPlanInput,
  planLogs,
  resultsJsonText,
  sanitizeDirName,
  uniqueNames,
} from "../../../src/report/logs-plan.js";
import { thrownBy } from "../../helpers/errors.js";
import { CLAUDE, DIGEST, JOB_ID, makeJob, makeResult, ORACLE } from "../../helpers/factories.js";

function job(
  agents: AgentRef[],
  scenarios: [string, string][],
  nAttempts = 1,
  over: Partial<JobDoc> = {},
): JobDoc {
  return makeJob(agents, over, {
    n_attempts: nAttempts,
    scenarios: scenarios.map(([id, name]) => ({ id, name, path: `/p/${id}`, digest: DIGEST })),
  });
}

function result(
  agent: AgentRef,
  scenario: string,
  attempt: number,
  status: TrialStatus,
  score: number | null,
  over: Partial<TrialResult> = {},
): TrialResult {
  return makeResult(agent, status, score, {
    trial_id: trialId(scenario, agent, attempt),
    job_id: JOB_ID,
    scenario_id: scenario,
    attempt,
    finished_at: "2024-05-01T12:00:05.000Z",
    duration_ms: 5000,
    ...over,
  });
}

/** Every trial of a job finished with the given status. */
function allResults(j: JobDoc, status: TrialStatus = "passed", score: number | null = 1) {
  const out: TrialResult[] = [];
  for (const a of j.spec.agents)
    for (const s of j.spec.scenarios)
      for (let n = 1; n <= j.spec.n_attempts; n++) out.push(result(a, s.id, n, status, score));
  return out;
}

function plan(input: Partial<LogsPlanInput> & { job: JobDoc }) {
  const results = input.results ?? allResults(input.job);
  return planLogs({
    trialDirs: new Set(results.map((r) => r.trial_id)),
    ...input,
    results,
  });
}

function usageError(f: () => unknown): UsageError {
  return thrownBy(UsageError, f);
}

describe("sanitizeDirName", () => {
  it("replaces Runloop's unsafe characters with _ and whitespace runs with -", () => {
    expect(sanitizeDirName('a/b\\c:d*e?f"g<h>i|j')).toBe("a_b_c_d_e_f_g_h_i_j");
    expect(sanitizeDirName("fix  csv \t quoting")).toBe("fix-csv-quoting");
    expect(sanitizeDirName("starter/py-foo")).toBe("starter_py-foo");
  });

  it("never yields a name that points at the directory itself or its parent", () => {
    expect(sanitizeDirName("")).toBe("_");
    expect(sanitizeDirName(".")).toBe("_");
    expect(sanitizeDirName("..")).toBe("__");
    expect(sanitizeDirName("...x")).toBe("...x");
  });

  it("replaces control characters", () => {
    expect(sanitizeDirName("a\x1b[31mb\x00")).toBe("a_[31mb_");
  });
});

describe("agentDirName", () => {
  it("is agent_model, or the agent alone without a model", () => {
    expect(agentDirName(CLAUDE)).toBe("claude-code_claude-sonnet-4-5");
    expect(agentDirName(ORACLE)).toBe("oracle");
    expect(agentDirName({ name: "my agent", model: "org/model:v1" })).toBe("my-agent_org_model_v1");
  });
});

describe("uniqueNames", () => {
  it("keeps names used once and numbers every member of a repeated name from -1, as Runloop", () => {
    expect(uniqueNames(["a", "b", "a", "a", "c"])).toEqual(["a-1", "b", "a-2", "a-3", "c"]);
  });

  it("skips a number whose name is already taken by another scenario", () => {
    expect(uniqueNames(["x", "x-1", "x", "x"])).toEqual(["x-2", "x-1", "x-3", "x-4"]);
  });

  it("returns distinct names for any input", () => {
    const input = ["a", "a", "a-1", "a-1", "a-1-1", "b", "a"];
    const out = uniqueNames(input);
    expect(new Set(out).size).toBe(input.length);
  });
});

describe("planLogs layout", () => {
  it("writes <agentDir>/<scenarioDir> from scenario names, agents and scenarios in job order", () => {
    const j = job(
      [CLAUDE, ORACLE],
      [
        ["starter/b", "Second task"],
        ["starter/a", "starter/a"],
      ],
    );
    const p = plan({ job: j });
    expect(p.targets.map((t) => [t.trialId, t.relDir])).toEqual([
      ["starter_b__claude-code-claude-sonnet-4-5__1", "claude-code_claude-sonnet-4-5/Second-task"],
      ["starter_a__claude-code-claude-sonnet-4-5__1", "claude-code_claude-sonnet-4-5/starter_a"],
      ["starter_b__oracle__1", "oracle/Second-task"],
      ["starter_a__oracle__1", "oracle/starter_a"],
    ]);
    expect(p.pending).toBe(0);
  });

  it("numbers attempts -1, -2, ... per agent and scenario, in attempt order", () => {
    const j = job([ORACLE, CLAUDE], [["b/hello", "hello"]], 3);
    const p = plan({ job: j });
    expect(p.targets.map((t) => `${t.relDir} ${t.attempt}`)).toEqual([
      "oracle/hello-1 1",
      "oracle/hello-2 2",
      "oracle/hello-3 3",
      "claude-code_claude-sonnet-4-5/hello-1 1",
      "claude-code_claude-sonnet-4-5/hello-2 2",
      "claude-code_claude-sonnet-4-5/hello-3 3",
    ]);
  });

  it("numbers different scenarios whose names sanitize alike instead of merging them", () => {
    const j = job(
      [ORACLE],
      [
        ["x/a", "a b"],
        ["y/a", "a-b"],
      ],
    );
    expect(plan({ job: j }).targets.map((t) => t.relDir)).toEqual(["oracle/a-b-1", "oracle/a-b-2"]);
  });

  it("keeps each trial's directory when filtered or partial, so names do not shift", () => {
    const j = job([ORACLE], [["b/hello", "hello"]], 3);
    const all = allResults(j);
    const only2 = plan({ job: j, scenario: "b_hello__oracle__2" });
    expect(only2.targets.map((t) => t.relDir)).toEqual(["oracle/hello-2"]);
    const partial = plan({ job: j, results: [all[2]!] });
    expect(partial.targets.map((t) => t.relDir)).toEqual(["oracle/hello-3"]);
    expect(partial.pending).toBe(2);
  });

  it("falls back to the scenario id when the spec does not name the scenario", () => {
    const j = job([ORACLE], [["b/hello", "hello"]]);
    const extra = result(ORACLE, "b/gone", 1, "passed", 1);
    const p = plan({ job: j, results: [...allResults(j), extra] });
    expect(p.targets.map((t) => [t.scenarioName, t.relDir])).toEqual([
      ["hello", "oracle/hello"],
      ["b/gone", "oracle/b_gone"],
    ]);
  });

  it("has one target per trial id even if a result is listed twice", () => {
    const j = job([ORACLE], [["b/hello", "hello"]]);
    const r = allResults(j);
    const p = plan({ job: j, results: [...r, ...r] });
    expect(p.targets.map((t) => t.trialId)).toEqual(["b_hello__oracle__1"]);
  });
});

describe("planLogs trials without a result", () => {
  it("includes a cancelled trial that never got a directory (its result exists)", () => {
    const j = job([ORACLE], [["b/hello", "hello"]], 1, { state: "cancelled" });
    const r = result(ORACLE, "b/hello", 1, "cancelled", null, {
      exception: {
        type: "CancelledError",
        message: "job cancelled",
        phase: "provision",
        occurred_at: "2024-05-01T12:00:01.000Z",
      },
    });
    const p = planLogs({ job: j, results: [r], trialDirs: new Set() });
    expect(p.targets).toHaveLength(1);
    expect(p.targets[0]!.results).toMatchObject({
      state: "CANCELED",
      score: null,
      failure_reason: { exception_type: "CancelledError", exception_message: "job cancelled" },
      scoring_functions: [],
    });
  });

  it("marks a running job's started trials running and counts the others pending", () => {
    const j = job(
      [ORACLE],
      [
        ["b/a", "a"],
        ["b/b", "b"],
        ["b/c", "c"],
      ],
      1,
      {
        state: "running",
        finished_at: null,
      },
    );
    const done = result(ORACLE, "b/a", 1, "passed", 1);
    const p = planLogs({
      job: j,
      results: [done],
      trialDirs: new Set([done.trial_id, "b_b__oracle__1"]),
    });
    expect(p.targets.map((t) => [t.trialId, t.progress, t.results.state])).toEqual([
      ["b_a__oracle__1", "passed", "COMPLETED"],
      ["b_b__oracle__1", "running", "running"],
    ]);
    expect(p.pending).toBe(1);
    const running = p.targets[1]!.results;
    expect(running).toMatchObject({ score: null, duration_ms: null, scoring_functions: [] });
    expect(running.failure_reason).toBeUndefined();
    expect(running.rli_trial).toMatchObject({ status: "running", agent: "oracle", attempt: 1 });
  });

  it("reports a started trial of an ended job as FAILED with a TrialIncomplete reason", () => {
    const j = job([ORACLE], [["b/a", "a"]], 1, { state: "failed" });
    const p = planLogs({ job: j, results: [], trialDirs: new Set(["b_a__oracle__1"]) });
    expect(p.targets[0]!.results).toMatchObject({
      state: "FAILED",
      failure_reason: { exception_type: "TrialIncomplete" },
      rli_trial: { status: "incomplete" },
    });
  });
});

describe("planLogs results.json", () => {
  it("holds Runloop's fields, the rewards as scoring functions, and our record under rli_trial", () => {
    const j = job([CLAUDE], [["b/partial", "mini/partial"]]);
    const r = result(CLAUDE, "b/partial", 1, "failed", 0.5, {
      rewards: { reward: 0.5, style: 0.25 },
      duration_ms: 1234,
      usage: { ...UNKNOWN_USAGE, input_tokens: 10, output_tokens: 5, cost_source: "reported" },
    });
    const t = plan({ job: j, results: [r] }).targets[0]!;
    expect(t.results).toEqual({
      scenario_run_id: "b_partial__claude-code-claude-sonnet-4-5__1",
      scenario_id: "b/partial",
      scenario_name: "mini/partial",
      state: "COMPLETED",
      score: 0.5,
      duration_ms: 1234,
      scoring_functions: [
        { name: "reward", score: 0.5, state: "complete", output: null },
        { name: "style", score: 0.25, state: "complete", output: null },
      ],
      rli_trial: {
        status: "failed",
        agent: "claude-code:claude-sonnet-4-5",
        attempt: 1,
        score: 0.5,
        started_at: r.started_at,
        finished_at: r.finished_at,
        agent_exit_code: 0,
        usage: r.usage,
        phases: {},
        errors: [],
      },
    });
    const text = resultsJsonText(t.results);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  });

  it("maps statuses to Runloop states and keeps a score only for COMPLETED trials", () => {
    const j = job(
      [ORACLE],
      [
        ["b/t", "t"],
        ["b/e", "e"],
        ["b/v", "v"],
      ],
    );
    const rs = [
      result(ORACLE, "b/t", 1, "agent_timeout", 1),
      result(ORACLE, "b/e", 1, "agent_error", null, {
        exception: {
          type: "AgentExitError",
          message: "exit 3",
          phase: "agent_run",
          occurred_at: "2024-05-01T12:00:01.000Z",
        },
      }),
      result(ORACLE, "b/v", 1, "verifier_error", null),
    ];
    const out = plan({ job: j, results: rs }).targets.map((t) => t.results);
    expect(out.map((o) => [o.state, o.score, o.rli_trial.score])).toEqual([
      ["TIMEOUT", null, 1],
      ["FAILED", null, null],
      ["FAILED", null, null],
    ]);
    expect(out[0]!.failure_reason).toBeUndefined();
    expect(out[1]!.failure_reason).toEqual({
      exception_type: "AgentExitError",
      exception_message: "exit 3",
    });
  });
});

describe("planLogs filters", () => {
  const j = job(
    [ORACLE, CLAUDE],
    [
      ["b/a", "a"],
      ["b/b", "b"],
    ],
    2,
  );

  it("--run takes an agent label or the benchmark_run_id <jobId>/<label>", () => {
    const byLabel = plan({ job: j, run: "claude-code:claude-sonnet-4-5" });
    const byRunId = plan({ job: j, run: `${j.id}/claude-code:claude-sonnet-4-5` });
    expect(byLabel.targets).toHaveLength(4);
    expect(byLabel.targets.every((t) => t.agentLabel === "claude-code:claude-sonnet-4-5")).toBe(
      true,
    );
    expect(byRunId.targets.map((t) => t.trialId)).toEqual(byLabel.targets.map((t) => t.trialId));
  });

  it("--run that names no agent of the job is a usage error listing the runs", () => {
    const err = usageError(() => plan({ job: j, run: "claude-code" }));
    expect(err.message).toBe(
      `Benchmark run claude-code not found in job ${j.id} (runs: oracle, claude-code:claude-sonnet-4-5)`,
    );
  });

  it("--scenario takes a scenario id (every attempt) or one trial id", () => {
    expect(plan({ job: j, scenario: "b/a" }).targets.map((t) => t.trialId)).toEqual([
      "b_a__oracle__1",
      "b_a__oracle__2",
      "b_a__claude-code-claude-sonnet-4-5__1",
      "b_a__claude-code-claude-sonnet-4-5__2",
    ]);
    expect(plan({ job: j, scenario: "b_b__oracle__2" }).targets.map((t) => t.relDir)).toEqual([
      "oracle/b-2",
    ]);
  });

  it("--scenario combines with --run", () => {
    const p = plan({ job: j, run: "oracle", scenario: "b/b" });
    expect(p.targets.map((t) => t.trialId)).toEqual(["b_b__oracle__1", "b_b__oracle__2"]);
  });

  it("--scenario that matches nothing is a usage error naming it", () => {
    const err = usageError(() => plan({ job: j, scenario: "b/zzz" }));
    expect(err.message).toMatch(/^Scenario b\/zzz not found in job job_20240501_120000_abcdef: /);
    expect(err.message).toContain("b/a, b/b");
  });

  it("--scenario of another agent's trial under --run is a usage error", () => {
    const err = usageError(() =>
      plan({ job: j, run: "oracle", scenario: "b_a__claude-code-claude-sonnet-4-5__1" }),
    );
    expect(err.message).toContain("has no runs of oracle");
  });
});
