import { trialId } from "../core/ids.js";
import type { AgentRef } from "../core/schemas.js";

export interface PlannedTrial<S extends { id: string }> {
  trialId: string;
  scenario: S;
  agent: AgentRef;
  /** 1-based. */
  attempt: number;
}

/**
 * Trials = attempts × scenarios × agents, agents innermost so that concurrent trials spread over
 * agents (and their model providers) rather than hammering one.
 */
export function planTrials<S extends { id: string }>(
  scenarios: readonly S[],
  agents: readonly AgentRef[],
  nAttempts: number,
): PlannedTrial<S>[] {
  const trials: PlannedTrial<S>[] = [];
  for (let attempt = 1; attempt <= nAttempts; attempt++) {
    for (const scenario of scenarios) {
      for (const agent of agents) {
        trials.push({ trialId: trialId(scenario.id, agent, attempt), scenario, agent, attempt });
      }
    }
  }
  return trials;
}
