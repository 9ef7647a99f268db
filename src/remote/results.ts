import type { ResultsRow, ResultsTableInput } from "../report/text.js";
import type { BenchmarkJobView, BenchmarkOutcome, ScenarioOutcome } from "../runloop/schemas.js";

export interface OutcomeCounts {
  passed: number;
  failedScore: number;
  failedError: number;
  total: number;
}

function isCompleted(o: ScenarioOutcome): boolean {
  return o.state.toUpperCase() === "COMPLETED";
}

/**
 * Runloop's results-table math (rl-cli printResultsTable): passed = COMPLETED with score exactly 1.0,
 * Failed (0.0) = any other COMPLETED (partial scores and no score included), Failed (error) = any other
 * state. States are compared case-insensitively.
 */
export function outcomeCounts(o: BenchmarkOutcome): OutcomeCounts {
  const c = { passed: 0, failedScore: 0, failedError: 0, total: o.scenario_outcomes.length };
  for (const s of o.scenario_outcomes) {
    if (!isCompleted(s)) c.failedError++;
    else if (s.score === 1) c.passed++;
    else c.failedScore++;
  }
  return c;
}

/** The scenario name as Runloop's `summary -e` showed it. */
export function outcomeName(o: ScenarioOutcome): string {
  return o.scenario_name || o.scenario_definition_id || "unknown";
}

/** A Runloop job's results table: one row per benchmark outcome, with its scenario outcomes for `-e`. */
export function resultsTableInput(view: BenchmarkJobView): ResultsTableInput {
  const rows = (view.benchmark_outcomes ?? []).map(
    (o): ResultsRow => ({
      agent: o.agent_name,
      model: o.model_name ?? null,
      ...outcomeCounts(o),
      scenarios: o.scenario_outcomes.map((s) => ({
        state: s.state,
        score: s.score ?? null,
        name: outcomeName(s),
      })),
    }),
  );
  return {
    id: view.id,
    name: view.name === "" ? null : view.name,
    state: view.state,
    failureReason: view.failure_reason ?? null,
    rows,
  };
}
