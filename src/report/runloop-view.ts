import { agentLabel } from "../core/ids.js";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../core/schemas.js";
import type { AgentConfigSchema, BenchmarkJobView } from "../core/view-schema.js";
import { comparisonJson } from "./compare-view.js";
import { type AgentConsistency, flakyReport, scenarioMatrix } from "./flaky.js";
import type { Interval } from "./stats.js";
import { type AgentSummary, type IntervalMethod, summarizeByAgent } from "./summary.js";
import { jobComparisons } from "./summary-text.js";

type AgentConfig = import("zod").infer<typeof AgentConfigSchema>;

/** Runloop's ScenarioOutcome.state (uppercase on the wire). */
export type OutcomeState = "COMPLETED" | "FAILED" | "TIMEOUT" | "CANCELED";

/** How a trial status reads in Runloop's vocabulary: verified runs are COMPLETED, whatever their score. */
export function outcomeState(status: TrialStatus): OutcomeState {
  switch (status) {
    case "passed":
    case "failed":
      return "COMPLETED";
    case "agent_timeout":
      return "TIMEOUT";
    case "cancelled":
      return "CANCELED";
    case "agent_error":
    case "infra_error":
    case "verifier_error":
      return "FAILED";
  }
}

/** Our per-trial record, kept next to Runloop's fields under one clearly named key. */
function rliTrial(r: TrialResult, jobDir: string) {
  return {
    trial_id: r.trial_id,
    status: r.status,
    attempt: r.attempt,
    score: r.score,
    rewards: r.rewards,
    started_at: r.started_at,
    finished_at: r.finished_at,
    phases: r.phases,
    usage: r.usage,
    agent_exit_code: r.agent_exit_code,
    exception: r.exception,
    errors: r.errors,
    logs_dir: `${jobDir}/trials/${r.trial_id}/${r.logs_dir}`,
    earlier_tries: (r.earlier_tries ?? []).map((t) => ({
      ...t,
      logs_dir: `${jobDir}/trials/${r.trial_id}/${t.logs_dir}`,
    })),
  };
}

function intervalJson(i: Interval | null, method: IntervalMethod) {
  if (i === null) return null;
  const { mean, low, high, n } = i;
  return method.bootstrap === undefined
    ? { mean, low, high, n_scenarios: n, method: "t_over_scenarios" as const }
    : {
        mean,
        low,
        high,
        n_scenarios: n,
        method: "cluster_bootstrap" as const,
        ...method.bootstrap,
      };
}

function rliSummary(s: AgentSummary, consistency: AgentConsistency, method: IntervalMethod) {
  return {
    n_trials: s.total,
    n_passed: s.passed,
    n_failed: s.failedScore,
    n_errors: s.failedError,
    by_status: s.byStatus,
    mean_score: s.meanScore,
    mean_score_errors_as_zero: s.meanScoreErrorsAsZero,
    median_duration_ms: s.medianDurationMs,
    input_tokens: s.inputTokens,
    cache_read_tokens: s.cacheReadTokens,
    cache_write_tokens: s.cacheWriteTokens,
    output_tokens: s.outputTokens,
    cost_usd: s.costUsd,
    n_unknown_cost: s.unknownCost,
    n_retried: s.retried,
    n_retried_passed: s.retriedPassed,
    score_ci_95: intervalJson(s.scoreInterval, method),
    score_excluding_infra_ci_95: intervalJson(s.scoreIntervalExcludingInfra, method),
    p90_duration_ms: s.p90DurationMs,
    scenarios: {
      n_always_pass: consistency.alwaysPass.length,
      n_always_fail: consistency.alwaysFail.length,
      flaky: consistency.flaky,
    },
    pass_at_k: Object.fromEntries(s.passAtK.map((v, i) => [String(i + 1), v])),
    pass_hat_k: Object.fromEntries(s.passHatK.map((v, i) => [String(i + 1), v])),
  };
}

function scenarioOutcome(r: TrialResult, scenarioName: string, jobDir: string) {
  const state = outcomeState(r.status);
  return {
    scenario_definition_id: r.scenario_id,
    scenario_name: scenarioName,
    scenario_run_id: r.trial_id,
    state,
    // Runloop reports a score only for COMPLETED outcomes; ours (a timed-out agent's, say) is in rli_trial.
    ...(state === "COMPLETED" && r.score !== null ? { score: r.score } : {}),
    duration_ms: r.duration_ms,
    ...(r.exception
      ? {
          failure_reason: {
            exception_type: r.exception.type,
            exception_message: r.exception.message,
          },
        }
      : {}),
    rli_trial: rliTrial(r, jobDir),
  };
}

function agentConfig(job: JobDoc, agent: AgentRef): AgentConfig {
  const env = job.spec.env_vars;
  // The agent's own keys came from the runner's environment under their own names.
  const own = job.spec.agent_env?.[agent.name] ?? [];
  const secrets = { ...Object.fromEntries(own.map((k) => [k, k])), ...job.spec.secrets };
  const environment = {
    ...(Object.keys(env).length > 0 ? { environment_variables: env } : {}),
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
  };
  return {
    type: "job_agent",
    name: agent.name,
    ...(agent.model !== null ? { model_name: agent.model } : {}),
    ...(job.spec.timeout_sec !== null ? { timeout_seconds: job.spec.timeout_sec } : {}),
    ...(Object.keys(environment).length > 0 ? { agent_environment: environment } : {}),
  };
}

export interface ViewInput {
  /** The job directory. */
  dir: string;
  job: JobDoc;
  results: readonly TrialResult[];
  /** Whether the runner process is alive: null when it runs on another host. */
  runnerAlive: boolean | null;
  /** How the per-agent intervals are made (default: t over scenarios). */
  intervals?: IntervalMethod;
  /** Seed and draws of the comparisons' random parts (default DEFAULT_BOOTSTRAP). */
  random?: { seed: number; iterations: number };
  /** Trials running now, per agent label (from the event log); absent counts as 0. */
  running?: ReadonlyMap<string, number>;
  nowMs?: number;
}

/**
 * The job as Runloop's BenchmarkJobView (field names and meanings of `GET /v1/benchmark_jobs/{id}`), so
 * scripts written against `rli benchmark-job summary -o json` work on local jobs. One benchmark run per
 * agent: finished agents are in `benchmark_outcomes`, the others in `in_progress_runs` (with their
 * finished trials under `rli_scenario_outcomes`).
 */
export function toBenchmarkJobView(input: ViewInput) {
  const { job, dir } = input;
  const nowMs = input.nowMs ?? Date.now();
  const names = new Map(job.spec.scenarios.map((s) => [s.id, s.name]));
  const perAgent = job.spec.scenarios.length * job.spec.n_attempts;
  const createMs = Date.parse(job.created_at);
  const byAgent = new Map<string, TrialResult[]>();
  for (const r of input.results) {
    const label = agentLabel(r.agent);
    const list = byAgent.get(label);
    if (list) list.push(r);
    else byAgent.set(label, [r]);
  }
  const method = input.intervals ?? {};
  const summaries = summarizeByAgent(job.spec.agents, input.results, method);
  const flaky = flakyReport(scenarioMatrix(job.spec.agents, input.results));
  const comparisons =
    job.state === "running" ? [] : jobComparisons(job, input.results, input.random);
  const outcomes: NonNullable<BenchmarkJobView["benchmark_outcomes"]> = [];
  const inProgress: NonNullable<BenchmarkJobView["in_progress_runs"]> = [];
  job.spec.agents.forEach((agent, i) => {
    const label = agentLabel(agent);
    const mine = (byAgent.get(label) ?? []).sort((a, b) =>
      a.trial_id < b.trial_id ? -1 : a.trial_id > b.trial_id ? 1 : 0,
    );
    const runId = `${job.id}/${label}`;
    const scenarioOutcomes = mine.map((r) =>
      scenarioOutcome(r, names.get(r.scenario_id) ?? r.scenario_id, dir),
    );
    const finished = mine.length >= perAgent || job.state !== "running";
    if (!finished) {
      const running = input.running?.get(label) ?? 0;
      inProgress.push({
        benchmark_run_id: runId,
        start_time_ms: createMs,
        state: "running",
        agent_config: agentConfig(job, agent),
        duration_ms: Math.max(0, nowMs - createMs),
        rli_progress: {
          total: perAgent,
          finished: mine.length,
          running,
          pending: Math.max(0, perAgent - mine.length - running),
        },
        rli_scenario_outcomes: scenarioOutcomes,
      });
      return;
    }
    const completed = scenarioOutcomes.filter((o) => o.state === "COMPLETED");
    const scores = completed.flatMap((o) => (o.score !== undefined ? [o.score] : []));
    const end = Math.max(createMs, ...mine.map((r) => Date.parse(r.finished_at)));
    outcomes.push({
      agent_name: agent.name,
      ...(agent.model !== null ? { model_name: agent.model } : {}),
      benchmark_run_id: runId,
      n_completed: completed.length,
      n_failed: scenarioOutcomes.filter((o) => o.state === "FAILED" || o.state === "CANCELED")
        .length,
      n_timeout: scenarioOutcomes.filter((o) => o.state === "TIMEOUT").length,
      ...(scores.length > 0
        ? { average_score: scores.reduce((a, b) => a + b, 0) / scores.length }
        : {}),
      duration_ms: end - createMs,
      scenario_outcomes: scenarioOutcomes,
      rli_summary: rliSummary(summaries[i]!, flaky.perAgent[i]!, method),
    });
  });
  const view = {
    id: job.id,
    name: job.spec.name,
    state: job.state,
    create_time_ms: createMs,
    failure_reason: job.failure_reason,
    job_source:
      job.spec.benchmark.kind === "scenarios"
        ? { type: "scenarios" as const, scenario_ids: job.spec.scenarios.map((s) => s.id) }
        : {
            type: "benchmark" as const,
            benchmark_id: String(job.spec.benchmark.source),
            benchmark_name: String(job.spec.benchmark.source),
          },
    job_spec: {
      scenario_ids: job.spec.scenarios.map((s) => s.id),
      agent_configs: job.spec.agents.map((a) => agentConfig(job, a)),
      orchestrator_config: {
        n_attempts: job.spec.n_attempts,
        n_concurrent_trials: job.spec.n_concurrent_trials,
        timeout_multiplier: job.spec.timeout_multiplier,
        quiet: false,
      },
    },
    benchmark_outcomes: outcomes,
    in_progress_runs: inProgress,
    ...(comparisons.length > 0 ? { rli_comparisons: comparisons.map(comparisonJson) } : {}),
    ...(outcomes.length > 0
      ? {
          rli_scenarios: {
            flaky_for_every_agent: flaky.flakyForEveryAgent,
            failed_by_every_agent: flaky.failedByEveryAgent,
          },
        }
      : {}),
    rli_job: {
      schema_version: job.schema_version,
      created_at: job.created_at,
      finished_at: job.finished_at,
      dir,
      backend: job.spec.backend,
      sandbox: job.spec.sandbox,
      metadata: job.spec.metadata,
      runner: { ...job.runner, alive: input.runnerAlive },
      n_trials: perAgent * job.spec.agents.length,
      n_finished: input.results.length,
    },
  } satisfies BenchmarkJobView;
  return view;
}
