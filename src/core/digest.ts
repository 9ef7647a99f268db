import type { AgentRef, TrialResult, TrialStatus, Usage } from "./schemas.js";

/**
 * What every summary needs of a trial: the store keeps these for a finished job in digest.json, a
 * tenth the size of the full results, so `summary` of a large job stays fast. A TrialResult is one.
 */
export interface TrialDigest {
  trial_id: string;
  scenario_id: string;
  agent: AgentRef;
  attempt: number;
  status: TrialStatus;
  score: number | null;
  duration_ms: number;
  usage: Usage;
  exception: { type: string } | null;
  /** Infra-error tries that were run again before the last one (absent: none). */
  retries?: number;
}

export function digestOf(r: TrialResult): TrialDigest {
  return {
    trial_id: r.trial_id,
    scenario_id: r.scenario_id,
    agent: r.agent,
    attempt: r.attempt,
    status: r.status,
    score: r.score,
    duration_ms: r.duration_ms,
    usage: r.usage,
    exception: r.exception === null ? null : { type: r.exception.type },
    ...(r.earlier_tries !== undefined && r.earlier_tries.length > 0
      ? { retries: r.earlier_tries.length }
      : {}),
  };
}

/** How many tries of a trial were run again after an infrastructure error (a digest or a full result). */
export function retriesOf(r: TrialDigest): number {
  return r.retries ?? (r as Partial<TrialResult>).earlier_tries?.length ?? 0;
}

export function byTrialId(a: { trial_id: string }, b: { trial_id: string }): number {
  return a.trial_id < b.trial_id ? -1 : a.trial_id > b.trial_id ? 1 : 0;
}
