import { agentLabel } from "../core/ids.js";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../core/schemas.js";

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
function rliTrial(r: TrialResult) {
  return {
    trial_id: r.trial_id,
    status: r.status,
    attempt: r.attempt,
    score: r.score,
    rewards: r.rewards,
    phases: r.phases,
    usage: r.usage,
    agent_exit_code: r.agent_exit_code,
    errors: r.errors,
  };
}

function scenarioOutcome(r: TrialResult, scenarioName: string) {
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
    rli_trial: rliTrial(r),
  };
}

function agentConfig(job: JobDoc, agent: AgentRef) {
  const env = job.spec.env_vars;
  const secrets = job.spec.secrets;
  const environment = {
    ...(Object.keys(env).length > 0 ? { environment_variables: env } : {}),
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
  };
  return {
    type: "job_agent" as const,
    name: agent.name,
    ...(agent.model !== null ? { model_name: agent.model } : {}),
    ...(job.spec.timeout_sec !== null ? { timeout_seconds: job.spec.timeout_sec } : {}),
    ...(Object.keys(environment).length > 0 ? { agent_environment: environment } : {}),
  };
}

/**
 * The job as Runloop's BenchmarkJobView (field names and meanings of `GET /v1/benchmark_jobs/{id}`), so
 * scripts written against `rli benchmark-job summary -o json` work on local jobs. One benchmark run per
 * agent: finished agents are in `benchmark_outcomes`, the others in `in_progress_runs`.
 */
export function toBenchmarkJobView(
  job: JobDoc,
  results: readonly TrialResult[],
  nowMs = Date.now(),
) {
  const names = new Map(job.spec.scenarios.map((s) => [s.id, s.name]));
  const perAgent = job.spec.scenarios.length * job.spec.n_attempts;
  const createMs = Date.parse(job.created_at);
  const outcomes = [];
  const inProgress = [];
  for (const agent of job.spec.agents) {
    const label = agentLabel(agent);
    const mine = results
      .filter((r) => agentLabel(r.agent) === label)
      .sort((a, b) => (a.trial_id < b.trial_id ? -1 : 1));
    const runId = `${job.id}/${label}`;
    const finished = mine.length >= perAgent || job.state !== "running";
    if (!finished) {
      inProgress.push({
        benchmark_run_id: runId,
        start_time_ms: createMs,
        state: "running" as const,
        agent_config: agentConfig(job, agent),
        duration_ms: Math.max(0, nowMs - createMs),
      });
      continue;
    }
    const scenarioOutcomes = mine.map((r) =>
      scenarioOutcome(r, names.get(r.scenario_id) ?? r.scenario_id),
    );
    const completed = scenarioOutcomes.filter((o) => o.state === "COMPLETED");
    const scores = completed.flatMap((o) =>
      "score" in o && o.score !== undefined ? [o.score] : [],
    );
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
    });
  }
  return {
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
    rli_job: {
      schema_version: job.schema_version,
      finished_at: job.finished_at,
      backend: job.spec.backend,
      sandbox: job.spec.sandbox,
      metadata: job.spec.metadata,
    },
  };
}
