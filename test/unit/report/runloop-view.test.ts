import { describe, expect, it } from "vitest";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../../../src/core/schemas.js";
import { outcomeState, toBenchmarkJobView } from "../../../src/report/runloop-view.js";
import { CLAUDE, makeJob, makeResult, ORACLE } from "../../helpers/factories.js";

function job(over: Partial<JobDoc> = {}, spec: Partial<JobDoc["spec"]> = {}): JobDoc {
  return makeJob(
    [ORACLE, CLAUDE],
    { id: "job_1", finished_at: "2024-05-01T12:01:00.000Z", ...over },
    {
      name: "starter run",
      scenarios: [
        { id: "starter/a", name: "starter/a", path: "/x/a", digest: `sha256:${"a".repeat(64)}` },
        { id: "starter/b", name: "starter/b", path: "/x/b", digest: `sha256:${"b".repeat(64)}` },
      ],
      n_concurrent_trials: 10,
      sandbox: "bubblewrap",
      ...spec,
    },
  );
}

function result(
  agent: AgentRef,
  scenario: string,
  status: TrialStatus,
  score: number | null,
  finishedSec = 10,
): TrialResult {
  return makeResult(agent, status, score, {
    trial_id: `${scenario.replace("/", "_")}__${agent.name}__1`,
    scenario_id: scenario,
    finished_at: new Date(
      Date.parse("2024-05-01T12:00:00.000Z") + finishedSec * 1000,
    ).toISOString(),
    duration_ms: 1234,
    exception:
      status === "agent_timeout"
        ? {
            type: "AgentTimeoutError",
            message: "slow",
            phase: "agent_run",
            occurred_at: "2024-05-01T12:00:05.000Z",
          }
        : null,
  });
}

describe("outcomeState", () => {
  it.each([
    ["passed", "COMPLETED"],
    ["failed", "COMPLETED"],
    ["agent_timeout", "TIMEOUT"],
    ["cancelled", "CANCELED"],
    ["agent_error", "FAILED"],
    ["infra_error", "FAILED"],
    ["verifier_error", "FAILED"],
  ] as const)("maps %s to %s", (status, state) => {
    expect(outcomeState(status)).toBe(state);
  });
});

function view(j: JobDoc, results: TrialResult[]) {
  return toBenchmarkJobView({ dir: "/jobs/job_1", job: j, results, runnerAlive: false });
}

describe("toBenchmarkJobView", () => {
  it("adds our per-agent numbers and per-trial records under rli_ keys", () => {
    const withUsage = {
      ...result(ORACLE, "starter/a", "passed", 1),
      usage: {
        input_tokens: 100,
        cache_read_tokens: null,
        cache_write_tokens: null,
        output_tokens: 7,
        cost_usd: 0.25,
        cost_source: "reported" as const,
      },
    };
    const v = view(job({}, { agents: [ORACLE] }), [
      withUsage,
      result(ORACLE, "starter/b", "infra_error", null),
    ]);
    const outcome = v.benchmark_outcomes[0];
    expect(outcome?.rli_summary).toMatchObject({
      n_trials: 2,
      n_passed: 1,
      n_errors: 1,
      mean_score: 1,
      mean_score_errors_as_zero: 0.5,
      input_tokens: 100,
      cache_read_tokens: null,
      output_tokens: 7,
      cost_usd: 0.25,
      n_unknown_cost: 1,
    });
    expect(outcome?.scenario_outcomes[0]?.rli_trial.logs_dir).toBe(
      "/jobs/job_1/trials/starter_a__oracle__1/logs",
    );
    expect(v.rli_job).toMatchObject({
      dir: "/jobs/job_1",
      n_trials: 2,
      n_finished: 2,
      runner: { pid: 1, alive: false },
    });
  });

  it("uses Runloop's field names for the job, its spec and one outcome per agent", () => {
    const results = [
      result(ORACLE, "starter/a", "passed", 1, 5),
      result(ORACLE, "starter/b", "agent_timeout", 1, 20),
      result(CLAUDE, "starter/a", "failed", 0),
      result(CLAUDE, "starter/b", "verifier_error", null),
    ];
    const v = view(
      job({}, { timeout_sec: 600, secrets: { ANTHROPIC_API_KEY: "MY_KEY" } }),
      results,
    );
    expect(v).toMatchObject({
      id: "job_1",
      name: "starter run",
      state: "completed",
      create_time_ms: Date.parse("2024-05-01T12:00:00.000Z"),
      job_source: { type: "benchmark", benchmark_id: "starter", benchmark_name: "starter" },
      job_spec: {
        scenario_ids: ["starter/a", "starter/b"],
        agent_configs: [
          {
            type: "job_agent",
            name: "oracle",
            timeout_seconds: 600,
            agent_environment: { secrets: { ANTHROPIC_API_KEY: "MY_KEY" } },
          },
          {
            type: "job_agent",
            name: "claude-code",
            model_name: "claude-sonnet-4-5",
            timeout_seconds: 600,
          },
        ],
        orchestrator_config: {
          n_attempts: 1,
          n_concurrent_trials: 10,
          timeout_multiplier: 1,
          quiet: false,
        },
      },
      in_progress_runs: [],
    });
    expect(v.job_spec.agent_configs[0]).not.toHaveProperty("model_name");
    const [oracle, claude] = v.benchmark_outcomes;
    expect(oracle).toMatchObject({
      agent_name: "oracle",
      n_completed: 1,
      n_failed: 0,
      n_timeout: 1,
      average_score: 1,
      duration_ms: 20_000,
    });
    expect(oracle).not.toHaveProperty("model_name");
    expect(claude).toMatchObject({
      agent_name: "claude-code",
      model_name: "claude-sonnet-4-5",
      n_completed: 1,
      n_failed: 1,
      n_timeout: 0,
      average_score: 0,
    });
  });

  it("gives a score only to COMPLETED outcomes and keeps ours under rli_trial", () => {
    const v = view(job({}, { agents: [ORACLE] }), [
      result(ORACLE, "starter/a", "passed", 1),
      result(ORACLE, "starter/b", "agent_timeout", 0.5),
    ]);
    const [a, b] = v.benchmark_outcomes[0]!.scenario_outcomes;
    expect(a).toMatchObject({
      scenario_definition_id: "starter/a",
      scenario_name: "starter/a",
      state: "COMPLETED",
      score: 1,
      duration_ms: 1234,
    });
    expect(a).not.toHaveProperty("failure_reason");
    expect(b).toMatchObject({
      state: "TIMEOUT",
      failure_reason: { exception_type: "AgentTimeoutError", exception_message: "slow" },
    });
    expect(b).not.toHaveProperty("score");
    expect(b?.rli_trial).toMatchObject({ status: "agent_timeout", score: 0.5, attempt: 1 });
  });

  it("omits average_score when no outcome completed", () => {
    const v = view(job({}, { agents: [ORACLE] }), [
      result(ORACLE, "starter/a", "infra_error", null),
      result(ORACLE, "starter/b", "cancelled", null),
    ]);
    expect(v.benchmark_outcomes[0]).not.toHaveProperty("average_score");
    expect(v.benchmark_outcomes[0]).toMatchObject({ n_completed: 0, n_failed: 2, n_timeout: 0 });
  });

  it("lists agents with unfinished trials of a running job as in-progress runs", () => {
    const running = job({ state: "running", finished_at: null });
    const v = toBenchmarkJobView({
      dir: "/jobs/job_1",
      job: running,
      results: [
        result(ORACLE, "starter/a", "passed", 1),
        result(ORACLE, "starter/b", "passed", 1),
        result(CLAUDE, "starter/a", "passed", 1),
      ],
      runnerAlive: true,
      running: new Map([["claude-code:claude-sonnet-4-5", 1]]),
      nowMs: Date.parse("2024-05-01T12:00:30.000Z"),
    });
    expect(v.benchmark_outcomes.map((o) => o.agent_name)).toEqual(["oracle"]);
    expect(v.in_progress_runs).toEqual([
      {
        benchmark_run_id: "job_1/claude-code:claude-sonnet-4-5",
        start_time_ms: Date.parse("2024-05-01T12:00:00.000Z"),
        state: "running",
        agent_config: { type: "job_agent", name: "claude-code", model_name: "claude-sonnet-4-5" },
        duration_ms: 30_000,
        rli_progress: { total: 2, finished: 1, running: 1, pending: 0 },
        rli_scenario_outcomes: [
          expect.objectContaining({ scenario_definition_id: "starter/a", state: "COMPLETED" }),
        ],
      },
    ]);
    expect(v.rli_job).toMatchObject({ n_trials: 4, n_finished: 3, runner: { alive: true } });
  });

  it("describes a --scenarios job by its scenario ids", () => {
    const v = view(
      job({}, { benchmark: { kind: "scenarios", source: ["starter/a", "starter/b"] } }),
      [],
    );
    expect(v.job_source).toEqual({ type: "scenarios", scenario_ids: ["starter/a", "starter/b"] });
  });
});
