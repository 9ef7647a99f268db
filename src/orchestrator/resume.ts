import type {
  JobEvent,
  JobSpec,
  Phase,
  TrialResult,
  TrialStatus,
  TryRecord,
} from "../core/schemas.js";
import type { PlannedTrial } from "./plan.js";

/** The statuses `resume` runs again unless --rerun says otherwise: the ones the agent did not earn. */
export const DEFAULT_RERUN: readonly TrialStatus[] = ["cancelled", "infra_error"];

/** A trial that was running when its runner stopped: what its events say about it. */
export interface InterruptedTry {
  startedAt: string;
  /** The last phase it started, or null when it had not started one. */
  phase: Phase | null;
}

export interface ResumePlan<S extends { id: string }> {
  /** Results that stand, one per trial. */
  keep: TrialResult[];
  /** Trials to run, each with the result it had (null: none) and whether it was cut off mid-run. */
  run: { planned: PlannedTrial<S>; previous: TrialResult | null }[];
}

/**
 * Split a job's planned trials into those whose result stands and those to run again: trials without a
 * result, and trials whose result has one of the `rerun` statuses. Results of trials the plan does not
 * have (none, for an unchanged spec) are dropped.
 */
export function planResume<S extends { id: string }>(
  trials: readonly PlannedTrial<S>[],
  results: readonly TrialResult[],
  rerun: ReadonlySet<TrialStatus>,
): ResumePlan<S> {
  const byId = new Map(results.map((r) => [r.trial_id, r]));
  const plan: ResumePlan<S> = { keep: [], run: [] };
  for (const planned of trials) {
    const result = byId.get(planned.trialId) ?? null;
    if (result !== null && !rerun.has(result.status)) plan.keep.push(result);
    else plan.run.push({ planned, previous: result });
  }
  return plan;
}

/**
 * Trials a stopped runner left mid-run, from the job's events: started (after the job's last start or
 * resume) and not finished.
 */
export function interruptedTries(events: readonly JobEvent[]): Map<string, InterruptedTry> {
  const open = new Map<string, InterruptedTry>();
  for (const e of events) {
    if (e.type === "job_started" || e.type === "job_resumed") open.clear();
    else if (e.type === "trial_started") open.set(e.trial_id, { startedAt: e.ts, phase: null });
    else if (e.type === "phase_started") {
      const t = open.get(e.trial_id);
      if (t) t.phase = e.phase;
    } else if (e.type === "trial_finished") open.delete(e.trial_id);
  }
  return open;
}

/**
 * What a rerun trial's logs directory holds, to be filed before it runs again: the try a stopped runner
 * cut off (a cancelled try saying so), or else its last result's try; null when that is filed already
 * (`filed` holds the start times of the tries on record) or there is nothing.
 */
export function tryToFile(
  previous: TrialResult | null,
  interrupted: InterruptedTry | null,
  filed: ReadonlySet<string>,
  now: string,
): TryRecord | null {
  // A result written after the try started is that try's own (the runner died before saying so).
  const cutOff =
    interrupted !== null &&
    (previous === null || previous.started_at < interrupted.startedAt) &&
    !filed.has(interrupted.startedAt)
      ? interrupted
      : null;
  if (cutOff !== null) {
    return {
      status: "cancelled",
      started_at: cutOff.startedAt,
      finished_at: now,
      duration_ms: Math.max(0, Date.parse(now) - Date.parse(cutOff.startedAt)),
      phases: {},
      exception: {
        type: "RunnerLostError",
        message: "the runner stopped while this try ran (killed, or its machine went down)",
        phase: cutOff.phase ?? "provision",
        occurred_at: now,
      },
      errors: [],
      backoff_ms: 0,
    };
  }
  if (previous === null || filed.has(previous.started_at)) return null;
  return {
    status: previous.status,
    started_at: previous.started_at,
    finished_at: previous.finished_at,
    duration_ms: previous.duration_ms,
    phases: previous.phases,
    exception: previous.exception,
    errors: previous.errors,
    backoff_ms: 0,
  };
}

/** Why resuming would mix different things into one job's numbers; empty when it would not. */
export function resumeConflicts(
  spec: JobSpec,
  scenarios: readonly { id: string; digest: string }[],
  agentVersions: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const now = new Map(scenarios.map((s) => [s.id, s.digest]));
  for (const s of spec.scenarios) {
    const digest = now.get(s.id);
    if (digest === undefined) problems.push(`scenario ${s.id} is gone`);
    else if (digest !== s.digest) {
      problems.push(
        `scenario ${s.id} changed since the job started (${short(s.digest)} → ${short(digest)})`,
      );
    }
  }
  for (const [agent, was] of Object.entries(spec.agent_versions ?? {})) {
    const is = agentVersions[agent];
    if (is !== undefined && is !== was)
      problems.push(`agent ${agent} is ${is}, the job ran ${was}`);
  }
  return problems;
}

const short = (digest: string): string => digest.replace(/^sha256:/, "").slice(0, 12);
