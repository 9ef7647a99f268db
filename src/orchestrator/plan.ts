import { createHash } from "node:crypto";
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
 * agents (and their model providers) rather than hammering one. Trial ids are unique: readable ids that
 * sanitising made equal (`org/model` vs `org_model`) get a digest of their exact identity appended.
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
  const counts = new Map<string, number>();
  for (const t of trials) counts.set(t.trialId, (counts.get(t.trialId) ?? 0) + 1);
  for (const t of trials) {
    if ((counts.get(t.trialId) ?? 0) > 1) {
      const identity = JSON.stringify([t.scenario.id, t.agent.name, t.agent.model, t.attempt]);
      t.trialId = `${t.trialId}-${createHash("sha256").update(identity).digest("hex").slice(0, 8)}`;
    }
  }
  return trials;
}
