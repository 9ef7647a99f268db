// Runloop's state vocabularies, compared case-insensitively (reference/runloop.md §1.2, §2.1, §2.5):
// a job says `cancelled`, a run and a scenario run `canceled`, an outcome `CANCELED`.

/** Job states after which nothing changes (rl-cli JOB_COMPLETED_STATES). */
const JOB_FINAL = new Set(["completed", "failed", "canceled", "cancelled", "timeout"]);

/** Scenario run states that count as finished; `scored` included (rl-cli SCENARIO_COMPLETED_STATES). */
const SCENARIO_RUN_FINAL = new Set([
  "completed",
  "failed",
  "canceled",
  "cancelled",
  "timeout",
  "error",
  "scored",
]);

/** Benchmark run states after which a cancel has nothing to stop. */
const RUN_FINAL = new Set(["completed", "failed", "canceled", "cancelled", "timeout", "error"]);

export function isJobFinal(state: string): boolean {
  return JOB_FINAL.has(state.toLowerCase());
}

export function isRunFinal(state: string | null | undefined): boolean {
  return state != null && RUN_FINAL.has(state.toLowerCase());
}

/** How a watcher counts a scenario run. Unknown states that are not `pending` count as starting. */
export type ScenarioRunPhase = "finished" | "scoring" | "running" | "pending" | "starting";

export function scenarioRunPhase(state: string): ScenarioRunPhase {
  const s = state.toLowerCase();
  if (SCENARIO_RUN_FINAL.has(s)) return "finished";
  if (s === "scoring") return "scoring";
  if (s === "running") return "running";
  if (s === "pending") return "pending";
  return "starting";
}

/** A finished scenario run that ended badly: failed, timed out or errored (a cancel is not an error). */
export function isScenarioRunError(state: string): boolean {
  const s = state.toLowerCase();
  return s === "failed" || s === "timeout" || s === "error";
}

/** How `watch` ends for a job in a final state. */
export type JobEnd = "completed" | "failed" | "cancelled" | "timeout";

export function jobEnd(state: string): JobEnd {
  const s = state.toLowerCase();
  if (s === "completed") return "completed";
  if (s === "canceled" || s === "cancelled") return "cancelled";
  if (s === "timeout") return "timeout";
  return "failed";
}
