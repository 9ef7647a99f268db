import type { ListRow } from "../report/list-table.js";
import type { BenchmarkJobView, ScenarioRunView } from "../runloop/schemas.js";
import { activeRuns } from "./progress.js";
import { isScenarioRunError, scenarioRunPhase } from "./states.js";

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * A Runloop job's row in `list` (rl-cli list before PR #230): DONE counts finished scenarios of the
 * outcomes plus the finished scenario runs of in-progress runs (`scored` included) over scenarios ×
 * agents; ERRORS the failed and timed-out ones (a cancel is not an error); SCORE the mean of the runs'
 * average scores. `runs` holds the scenario runs of the in-progress runs, by benchmark_run_id. Pure.
 */
export function remoteListRow(
  view: BenchmarkJobView,
  runs: ReadonlyMap<string, readonly ScenarioRunView[]>,
): ListRow {
  const planned =
    (view.job_spec?.scenario_ids?.length ?? 0) * (view.job_spec?.agent_configs?.length ?? 0);
  let done = 0;
  let errors = 0;
  const runScores: number[] = [];
  for (const o of view.benchmark_outcomes ?? []) {
    const outcomes = o.scenario_outcomes;
    if (outcomes.length > 0) {
      done += outcomes.length;
      for (const s of outcomes) {
        const state = s.state.toUpperCase();
        if (state === "FAILED" || state === "TIMEOUT") errors++;
      }
    } else {
      done += (o.n_completed ?? 0) + (o.n_failed ?? 0) + (o.n_timeout ?? 0);
      errors += (o.n_failed ?? 0) + (o.n_timeout ?? 0);
    }
    const completed = outcomes.filter((s) => s.state.toUpperCase() === "COMPLETED");
    const avg =
      o.average_score ?? mean(completed.flatMap((s) => (s.score != null ? [s.score] : [])));
    if (avg !== null) runScores.push(avg);
  }
  for (const run of activeRuns(view)) {
    const seen = new Set<string>();
    const scores: number[] = [];
    for (const sr of runs.get(run.benchmark_run_id) ?? []) {
      if (seen.has(sr.id)) continue;
      seen.add(sr.id);
      if (scenarioRunPhase(sr.state) !== "finished") continue;
      done++;
      if (isScenarioRunError(sr.state)) errors++;
      const score = sr.scoring_contract_result?.score;
      if (score != null) scores.push(score);
    }
    const avg = mean(scores);
    if (avg !== null) runScores.push(avg);
  }
  return {
    id: view.id,
    name: view.name,
    state: view.state.toLowerCase(),
    create_time_ms: view.create_time_ms,
    n_finished: done,
    n_trials: Math.max(planned, done),
    n_errors: errors,
    score: mean(runScores),
  };
}

/** `--status` reads `canceled` as `cancelled`; Runloop's job states are lowercase. */
export function normalState(state: string): string {
  const s = state.toLowerCase();
  return s === "canceled" ? "cancelled" : s;
}
