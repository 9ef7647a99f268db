import { UsageError } from "../core/errors.js";
import { sanitizeDirName, uniqueNames } from "../report/logs-plan.js";
import type { BenchmarkJobView, ScenarioOutcome, ScenarioRunView } from "../runloop/schemas.js";
import { activeRuns, runAgent } from "./progress.js";
import { scenarioRunPhase } from "./states.js";

/** One benchmark run (an agent) of a job, from its outcome or from the in-progress list. */
export interface JobRun {
  benchmarkRunId: string;
  agent: string;
  model: string | null;
  /** `agent` or `agent:model`. */
  label: string;
  outcomes: readonly ScenarioOutcome[];
}

/** A scenario run to write: its outcome, its scenario run, or both. */
export interface LogSource {
  run: JobRun;
  scenarioRunId: string | null;
  scenarioId: string;
  outcome: ScenarioOutcome | null;
  scenarioRun: ScenarioRunView | null;
}

/** Runloop's results.json fields (reference/runloop.md §1.5), then which run it belongs to. */
export interface RemoteResultsJson {
  /** null for an outcome whose scenario never got a run (setup failed). */
  scenario_run_id: string | null;
  scenario_id: string;
  scenario_name: string;
  /** The outcome's state (uppercase), else the scenario run's (lowercase). */
  state: string | null;
  score: number | null;
  duration_ms: number | null;
  failure_reason?: { exception_type: string | null; exception_message: string | null };
  scoring_functions: {
    name: string | null;
    score: number | null;
    state: string | null;
    output: string | null;
  }[];
  rli_run: { job_id: string; benchmark_run_id: string; agent: string; model: string | null };
}

/** A scenario directory of the download. */
export interface LogTarget extends LogSource {
  scenarioName: string;
  /** `<agentDir>/<scenarioDir>`, relative to the output root, `/`-separated. */
  relDir: string;
  /** The run has ended, so its logs will not change: a finished download can be kept. */
  final: boolean;
  results: RemoteResultsJson;
}

function label(agent: string, model: string | null): string {
  return model === null || model === "" ? agent : `${agent}:${model}`;
}

/** The job's runs: every outcome, then every in-progress run that has no outcome, each once. */
export function jobRuns(view: BenchmarkJobView): JobRun[] {
  const runs: JobRun[] = [];
  const seen = new Set<string>();
  for (const o of view.benchmark_outcomes ?? []) {
    if (seen.has(o.benchmark_run_id)) continue;
    seen.add(o.benchmark_run_id);
    const model = o.model_name ?? null;
    runs.push({
      benchmarkRunId: o.benchmark_run_id,
      agent: o.agent_name,
      model,
      label: label(o.agent_name, model),
      outcomes: o.scenario_outcomes,
    });
  }
  for (const r of activeRuns(view)) {
    const { agent, model } = runAgent(r);
    runs.push({
      benchmarkRunId: r.benchmark_run_id,
      agent,
      model,
      label: label(agent, model),
      outcomes: [],
    });
  }
  return runs;
}

/** `--run`: a benchmark_run_id, or an agent label (`agent` or `agent:model`) naming one or more runs. */
export function selectRuns(jobId: string, runs: readonly JobRun[], run?: string): JobRun[] {
  if (run === undefined) return [...runs];
  const byId = runs.filter((r) => r.benchmarkRunId === run);
  const picked = byId.length > 0 ? byId : runs.filter((r) => r.label === run || r.agent === run);
  if (picked.length === 0) {
    const known = runs.map((r) => `${r.benchmarkRunId} (${r.label})`).join(", ");
    throw new UsageError(
      `Benchmark run ${run} not found in job ${jobId} (runs: ${known || "none"})`,
    );
  }
  return picked;
}

/**
 * The scenario runs to write for the given runs: each listed scenario run once (across runs too) with
 * its outcome if it has one, then the outcomes no listed run matched (among them those without a
 * scenario_run_id). `scenarioRuns` holds the listing of each run that could be listed.
 */
export function logSources(
  runs: readonly JobRun[],
  scenarioRuns: ReadonlyMap<string, readonly ScenarioRunView[]>,
): LogSource[] {
  const out: LogSource[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    const outcomeOf = new Map(
      run.outcomes.flatMap((o) => (o.scenario_run_id ? [[o.scenario_run_id, o] as const] : [])),
    );
    for (const sr of scenarioRuns.get(run.benchmarkRunId) ?? []) {
      if (seen.has(sr.id)) continue;
      seen.add(sr.id);
      out.push({
        run,
        scenarioRunId: sr.id,
        scenarioId: outcomeOf.get(sr.id)?.scenario_definition_id ?? sr.scenario_id,
        outcome: outcomeOf.get(sr.id) ?? null,
        scenarioRun: sr,
      });
    }
    for (const o of run.outcomes) {
      if (o.scenario_run_id) {
        if (seen.has(o.scenario_run_id)) continue;
        seen.add(o.scenario_run_id);
      }
      out.push({
        run,
        scenarioRunId: o.scenario_run_id ?? null,
        scenarioId: o.scenario_definition_id,
        outcome: o,
        scenarioRun: null,
      });
    }
  }
  return out;
}

/** `--scenario`: a scenario run id, or a scenario id (every run of that scenario). */
export function selectScenario<T extends LogSource>(
  jobId: string,
  sources: readonly T[],
  scenario?: string,
): T[] {
  if (scenario === undefined) return [...sources];
  const picked = sources.filter((s) => s.scenarioRunId === scenario || s.scenarioId === scenario);
  if (picked.length === 0) {
    throw new UsageError(
      `Scenario ${scenario} not found in job ${jobId}: give a scenario run id or a scenario id`,
    );
  }
  return picked;
}

/** Scenario ids whose name no outcome gives: `logs` asks GET /v1/scenarios/{id} for them. */
export function unnamedScenarios(sources: readonly LogSource[]): string[] {
  return [...new Set(sources.filter((s) => !s.outcome?.scenario_name).map((s) => s.scenarioId))];
}

function resultsJson(jobId: string, s: LogSource, scenarioName: string): RemoteResultsJson {
  const { outcome, scenarioRun } = s;
  const contract = scenarioRun?.scoring_contract_result ?? null;
  return {
    scenario_run_id: s.scenarioRunId,
    scenario_id: s.scenarioId,
    scenario_name: scenarioName,
    state: outcome?.state ?? scenarioRun?.state ?? null,
    score: outcome?.score ?? contract?.score ?? null,
    duration_ms: outcome?.duration_ms ?? scenarioRun?.duration_ms ?? null,
    ...(outcome?.failure_reason
      ? {
          failure_reason: {
            exception_type: outcome.failure_reason.exception_type ?? null,
            exception_message: outcome.failure_reason.exception_message ?? null,
          },
        }
      : {}),
    scoring_functions: (contract?.scoring_function_results ?? []).map((f) => ({
      name: f.scoring_function_name ?? null,
      score: f.score ?? null,
      state: f.state ?? null,
      output: f.output ?? null,
    })),
    rli_run: {
      job_id: jobId,
      benchmark_run_id: s.run.benchmarkRunId,
      agent: s.run.agent,
      model: s.run.model,
    },
  };
}

/**
 * Where each scenario run goes (Runloop's layout `<agent>_<model>/<scenario>[-n]/`, the local logs'
 * sanitizer and numbering) and what its results.json says. Names come from the outcome, else `names`
 * (GET scenario), else the scenario id. Repeated paths are numbered in the order the runs started, so
 * a run keeps its directory when later runs appear. Pure.
 */
export function planTargets(
  jobId: string,
  sources: readonly LogSource[],
  names: ReadonlyMap<string, string>,
): LogTarget[] {
  const named = sources.map((s) => ({
    s,
    name: s.outcome?.scenario_name || names.get(s.scenarioId) || s.scenarioId,
  }));
  const agentDir = (r: JobRun) =>
    sanitizeDirName(r.model === null || r.model === "" ? r.agent : `${r.agent}_${r.model}`);
  const base = (x: (typeof named)[number]) => `${agentDir(x.s.run)}/${sanitizeDirName(x.name)}`;
  const start = (s: LogSource) => s.scenarioRun?.start_time_ms ?? Number.POSITIVE_INFINITY;
  const ordered = named
    .map((x) => ({ ...x, base: base(x) }))
    .sort(
      (a, b) =>
        (a.base < b.base ? -1 : a.base > b.base ? 1 : 0) ||
        start(a.s) - start(b.s) ||
        (a.s.scenarioRunId ?? "\uffff").localeCompare(b.s.scenarioRunId ?? "\uffff"),
    );
  const relDirs = uniqueNames(ordered.map((x) => x.base));
  return ordered.map((x, i) => ({
    ...x.s,
    scenarioName: x.name,
    relDir: relDirs[i] as string,
    final:
      x.s.outcome !== null ||
      (x.s.scenarioRun !== null && scenarioRunPhase(x.s.scenarioRun.state) === "finished"),
    results: resultsJson(jobId, x.s, x.name),
  }));
}
