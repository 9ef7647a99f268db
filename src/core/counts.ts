import type { TrialDigest } from "./digest.js";
import { agentLabel } from "./ids.js";
import type { AgentRef, JobCounts, TrialStatus } from "./schemas.js";

const ERROR_STATUSES: ReadonlySet<TrialStatus> = new Set([
  "agent_timeout",
  "agent_error",
  "infra_error",
  "verifier_error",
]);

/** A verified trial: Runloop's COMPLETED outcome. */
export function isVerified(status: TrialStatus): boolean {
  return status === "passed" || status === "failed";
}

/**
 * The numbers `list` shows for a job. `score` is Runloop's: per agent the mean score over verified
 * trials, then the mean over agents that have one (null when none has).
 */
export function jobCounts(agents: readonly AgentRef[], results: readonly TrialDigest[]): JobCounts {
  const perAgent = new Map<string, { sum: number; n: number }>(
    agents.map((a) => [agentLabel(a), { sum: 0, n: 0 }]),
  );
  let passed = 0;
  let errors = 0;
  for (const r of results) {
    if (r.status === "passed") passed++;
    if (ERROR_STATUSES.has(r.status)) errors++;
    if (isVerified(r.status) && r.score !== null) {
      const a = perAgent.get(agentLabel(r.agent));
      if (a) {
        a.sum += r.score;
        a.n++;
      }
    }
  }
  const means = [...perAgent.values()].filter((a) => a.n > 0).map((a) => a.sum / a.n);
  return {
    finished: results.length,
    passed,
    errors,
    score: means.length === 0 ? null : means.reduce((a, b) => a + b, 0) / means.length,
  };
}
