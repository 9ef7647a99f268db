import type { BenchmarkJobView, InProgressRun, ScenarioRunView } from "../runloop/schemas.js";
import { isJobFinal, type JobEnd, scenarioRunPhase } from "./states.js";

/** A scenario run under way, as the watch screen lists it. */
export interface ActiveScenario {
  id: string;
  name: string;
  state: string;
  startMs: number | null;
}

/** One benchmark run (an agent) of a job: Runloop's watch counters (rl-cli fetchAllRunsProgress). */
export interface RunProgress {
  benchmarkRunId: string;
  agent: string;
  model: string | null;
  /** `agent` or `agent:model`. */
  label: string;
  /** `outcome`: the run finished and its outcomes are authoritative; `in_progress`: counted from its scenario runs. */
  source: "outcome" | "in_progress";
  total: number;
  started: number;
  finished: number;
  running: number;
  scoring: number;
  /** Started in a state Runloop does not document (neither pending, running, scoring nor final). */
  starting: number;
  /** total − started, never negative. */
  pending: number;
  /** Mean score of the finished scenarios that have one; null when none has. */
  score: number | null;
  /** Scenario runs under way (running, scoring, starting), oldest first. */
  active: ActiveScenario[];
}

export interface JobProgress {
  id: string;
  name: string;
  state: string;
  final: boolean;
  createTimeMs: number;
  failureReason: string | null;
  /** `job_spec.scenario_ids.length`, or 0 when the server did not say. */
  expectedTotal: number;
  runs: RunProgress[];
}

function label(agent: string, model: string | null): string {
  return model === null || model === "" ? agent : `${agent}:${model}`;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The job's in-progress runs that are not also among its outcomes (the outcome wins), each once. These
 * are the runs whose scenario runs a watcher fetches.
 */
export function activeRuns(view: BenchmarkJobView): InProgressRun[] {
  const seen = new Set((view.benchmark_outcomes ?? []).map((o) => o.benchmark_run_id));
  const out: InProgressRun[] = [];
  for (const run of view.in_progress_runs ?? []) {
    if (seen.has(run.benchmark_run_id)) continue;
    seen.add(run.benchmark_run_id);
    out.push(run);
  }
  return out;
}

/** The agent and model of an in-progress run: a `job_agent` config names them; others are `unknown`. */
export function runAgent(run: InProgressRun): { agent: string; model: string | null } {
  const config = run.agent_config;
  if (config?.type === "job_agent" && config.name) {
    return { agent: config.name, model: config.model_name ?? null };
  }
  return { agent: "unknown", model: null };
}

function uniqueById(runs: readonly ScenarioRunView[]): ScenarioRunView[] {
  const byId = new Map<string, ScenarioRunView>();
  for (const r of runs) byId.set(r.id, r);
  return [...byId.values()];
}

/**
 * The progress of a job from its view and the scenario runs of its in-progress runs (keyed by
 * benchmark_run_id; a run missing from the map counts as not started). Outcomes are authoritative; an
 * in-progress run also listed among the outcomes is counted once, from its outcome. `scored` counts as
 * finished, `pending` = total − started. Pure.
 */
export function jobProgress(
  view: BenchmarkJobView,
  scenarioRuns: ReadonlyMap<string, readonly ScenarioRunView[]>,
): JobProgress {
  const expectedTotal = view.job_spec?.scenario_ids?.length ?? 0;
  const totalOf = (started: number) => Math.max(expectedTotal, started);
  const runs: RunProgress[] = [];
  const seen = new Set<string>();
  for (const o of view.benchmark_outcomes ?? []) {
    if (seen.has(o.benchmark_run_id)) continue;
    seen.add(o.benchmark_run_id);
    const n = o.scenario_outcomes.length;
    const total = totalOf(n);
    const model = o.model_name ?? null;
    runs.push({
      benchmarkRunId: o.benchmark_run_id,
      agent: o.agent_name,
      model,
      label: label(o.agent_name, model),
      source: "outcome",
      total,
      started: n,
      finished: n,
      running: 0,
      scoring: 0,
      starting: 0,
      pending: total - n,
      score: mean(o.scenario_outcomes.flatMap((s) => (s.score != null ? [s.score] : []))),
      active: [],
    });
  }
  for (const run of activeRuns(view)) {
    const { agent, model } = runAgent(run);
    const counts = { started: 0, finished: 0, running: 0, scoring: 0, starting: 0 };
    const scores: number[] = [];
    const active: ActiveScenario[] = [];
    for (const sr of uniqueById(scenarioRuns.get(run.benchmark_run_id) ?? [])) {
      const phase = scenarioRunPhase(sr.state);
      if (phase === "pending") continue;
      counts.started++;
      counts[phase]++;
      if (phase === "finished") {
        const score = sr.scoring_contract_result?.score;
        if (score != null) scores.push(score);
      } else {
        active.push({
          id: sr.id,
          name: sr.name ?? sr.scenario_id,
          state: sr.state,
          startMs: sr.start_time_ms ?? null,
        });
      }
    }
    active.sort(
      (a, b) => (a.startMs ?? Infinity) - (b.startMs ?? Infinity) || (a.id < b.id ? -1 : 1),
    );
    const total = totalOf(counts.started);
    runs.push({
      benchmarkRunId: run.benchmark_run_id,
      agent,
      model,
      label: label(agent, model),
      source: "in_progress",
      total,
      ...counts,
      pending: total - counts.started,
      score: mean(scores),
      active,
    });
  }
  return {
    id: view.id,
    name: view.name,
    state: view.state,
    final: isJobFinal(view.state),
    createTimeMs: view.create_time_ms,
    failureReason: view.failure_reason ?? null,
    expectedTotal,
    runs,
  };
}

/** One benchmark run in an NDJSON progress record. */
export interface RunRecord {
  benchmark_run_id: string;
  agent: string;
  model: string | null;
  source: "outcome" | "in_progress";
  total: number;
  finished: number;
  running: number;
  scoring: number;
  starting: number;
  pending: number;
  /** Mean score of the finished scenarios that have one, in [0, 1]; null when none has. */
  score: number | null;
}

/** `watch -o json`: one line per poll that changed something (and the first). */
export interface ProgressRecord {
  type: "progress";
  /** ISO time of the poll. */
  time: string;
  job_id: string;
  name: string;
  state: string;
  /** The state is final (completed, failed, cancelled, timeout). */
  final: boolean;
  /** Since the job was created. */
  elapsed_ms: number;
  runs: RunRecord[];
}

/** `watch -o json`: the last line. */
export interface EndRecord {
  type: "end";
  time: string;
  job_id: string;
  state: string;
  /** How watching ended: the job's final state, or `watch_timeout` when --timeout ran out first. */
  end: JobEnd | "watch_timeout";
  /** From creation to when the watcher saw the job end; null when it had already ended. */
  total_time_ms: number | null;
  /** The results table's numbers, one entry per benchmark outcome. */
  results: {
    benchmark_run_id: string;
    agent: string;
    model: string | null;
    passed: number;
    failed_score: number;
    failed_error: number;
    total: number;
  }[];
}

export function progressRecord(p: JobProgress, nowMs: number): ProgressRecord {
  return {
    type: "progress",
    time: new Date(nowMs).toISOString(),
    job_id: p.id,
    name: p.name,
    state: p.state,
    final: p.final,
    elapsed_ms: Math.max(0, nowMs - p.createTimeMs),
    runs: p.runs.map((r) => ({
      benchmark_run_id: r.benchmarkRunId,
      agent: r.agent,
      model: r.model,
      source: r.source,
      total: r.total,
      finished: r.finished,
      running: r.running,
      scoring: r.scoring,
      starting: r.starting,
      pending: r.pending,
      score: r.score,
    })),
  };
}

/** Whether two records say the same thing (time aside): a watcher prints a record only on change. */
export function sameProgress(a: ProgressRecord | null, b: ProgressRecord): boolean {
  if (a === null) return false;
  const strip = (r: ProgressRecord) => JSON.stringify({ ...r, time: 0, elapsed_ms: 0 });
  return strip(a) === strip(b);
}
