import { agentLabel } from "../core/ids.js";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../core/schemas.js";
import { TRIAL_STATUSES } from "../core/schemas.js";

/** Per-agent counts behind Runloop's results table and our own columns. */
export interface AgentSummary {
  agent: AgentRef;
  label: string;
  total: number;
  /** Verified with score exactly 1 and no agent or infrastructure failure. */
  passed: number;
  /** Verified with a score below 1 and no failure: Runloop's "Failed (0.0)". */
  failedScore: number;
  /** Every other outcome (timeouts, errors, cancels): Runloop's "Failed (error)". */
  failedError: number;
  byStatus: Record<TrialStatus, number>;
  /** Mean over trials that have a score; null when none has. */
  meanScore: number | null;
  /** Mean with unscored trials counted as 0 (Harbor's and Runloop's server-side convention). */
  meanScoreErrorsAsZero: number | null;
  medianDurationMs: number | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Summaries per agent, in the job's agent order (agents with no results yet included). */
export function summarizeByAgent(
  agents: readonly AgentRef[],
  results: readonly TrialResult[],
): AgentSummary[] {
  return agents.map((agent) => {
    const label = agentLabel(agent);
    const mine = results.filter((r) => agentLabel(r.agent) === label);
    const byStatus = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<
      TrialStatus,
      number
    >;
    for (const r of mine) byStatus[r.status]++;
    const scores = mine.flatMap((r) => (r.score === null ? [] : [r.score]));
    const sum = scores.reduce((a, b) => a + b, 0);
    return {
      agent,
      label,
      total: mine.length,
      passed: byStatus.passed,
      failedScore: byStatus.failed,
      failedError: mine.length - byStatus.passed - byStatus.failed,
      byStatus,
      meanScore: scores.length === 0 ? null : sum / scores.length,
      meanScoreErrorsAsZero: mine.length === 0 ? null : sum / mine.length,
      medianDurationMs: median(mine.map((r) => r.duration_ms)),
    };
  });
}

/** The finished job as one document: `run -o json|yaml`. */
export function jobDocument(job: JobDoc, results: readonly TrialResult[]) {
  return {
    schema_version: job.schema_version,
    id: job.id,
    name: job.spec.name,
    state: job.state,
    created_at: job.created_at,
    finished_at: job.finished_at,
    failure_reason: job.failure_reason,
    spec: job.spec,
    agents: summarizeByAgent(job.spec.agents, results).map((s) => ({
      agent: s.agent.name,
      model: s.agent.model,
      n_trials: s.total,
      n_passed: s.passed,
      n_failed: s.failedScore,
      n_errors: s.failedError,
      by_status: s.byStatus,
      mean_score: s.meanScore,
      mean_score_errors_as_zero: s.meanScoreErrorsAsZero,
      median_duration_ms: s.medianDurationMs,
    })),
    trials: [...results].sort((a, b) =>
      a.trial_id < b.trial_id ? -1 : a.trial_id > b.trial_id ? 1 : 0,
    ),
  };
}
