import type { TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { AgentRef } from "../core/schemas.js";
import { scenarioTallies, trialsByAgent } from "../core/tally.js";

/** How a scenario went for one agent over its attempts. */
export type Consistency = "always_pass" | "always_fail" | "flaky";

/** One scenario × agent cell: the attempts that say something about the agent. */
export interface MatrixCell {
  /** Attempts counted: cancelled trials and infrastructure errors are left out. */
  attempts: number;
  passed: number;
  /** Mean score of the counted attempts, unscored as 0. */
  meanScore: number;
  consistency: Consistency;
  /** Attempts left out (cancelled, infrastructure error). */
  excluded: number;
}

/** Scenario × agent results: rows in scenario order, columns in the job's agent order. */
export interface ScenarioMatrix {
  scenarios: string[];
  agents: string[];
  /** cells[scenario][agent]; null where no attempt counted. */
  cells: (MatrixCell | null)[][];
}

/** The matrix of a job's results. Scenarios sorted by id; agents as given. */
export function scenarioMatrix(
  agents: readonly AgentRef[],
  results: readonly TrialDigest[],
): ScenarioMatrix {
  const labels = agents.map(agentLabel);
  const byAgent = trialsByAgent(results);
  const columns = labels.map((l) => scenarioTallies(byAgent.get(l) ?? []));
  const scenarios = [...new Set(columns.flatMap((c) => [...c.keys()]))].sort();
  return {
    scenarios,
    agents: labels,
    cells: scenarios.map((s) =>
      columns.map((column) => {
        const t = column.get(s);
        const attempts = t === undefined ? 0 : t.n - t.infra;
        if (t === undefined || attempts === 0) return null;
        return {
          attempts,
          passed: t.c,
          meanScore: (t.sum - t.infraSum) / attempts,
          consistency: t.c === attempts ? "always_pass" : t.c === 0 ? "always_fail" : "flaky",
          excluded: t.infra + t.cancelled,
        };
      }),
    ),
  };
}

export interface AgentConsistency {
  agent: string;
  alwaysPass: string[];
  alwaysFail: string[];
  flaky: string[];
}

export interface FlakyReport {
  perAgent: AgentConsistency[];
  /** Scenarios that both passed and failed for every agent: a likely broken (nondeterministic) scenario. */
  flakyForEveryAgent: string[];
  /** With two or more agents, scenarios no agent ever passed: possibly broken, possibly just hard. */
  failedByEveryAgent: string[];
  /** Whether any scenario had two or more counted attempts for some agent (else nothing can be flaky). */
  repeated: boolean;
}

/** Per agent, which scenarios always pass, always fail or flip; across agents, the suspicious ones. */
export function flakyReport(m: ScenarioMatrix): FlakyReport {
  const perAgent = m.agents.map((agent, a) => {
    const of = (k: Consistency) => m.scenarios.filter((_, s) => m.cells[s]![a]?.consistency === k);
    return {
      agent,
      alwaysPass: of("always_pass"),
      alwaysFail: of("always_fail"),
      flaky: of("flaky"),
    };
  });
  const every = (k: Consistency) =>
    m.scenarios.filter((_, s) => m.cells[s]!.every((c) => c !== null && c.consistency === k));
  return {
    perAgent,
    flakyForEveryAgent: m.agents.length > 0 ? every("flaky") : [],
    failedByEveryAgent: m.agents.length > 1 ? every("always_fail") : [],
    repeated: m.cells.some((row) => row.some((c) => c !== null && c.attempts > 1)),
  };
}
