import { UsageError } from "../core/errors.js";
import { agentLabel, trialId } from "../core/ids.js";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../core/schemas.js";
import { type OutcomeState, outcomeState } from "./runloop-view.js";

/**
 * Runloop's directory-name sanitizer (`[/\\:*?"<>|]` → `_`, whitespace runs → `-`), plus what it missed:
 * control characters become `_`, and a name that would mean "here" or "up" (empty, `.`, `..`) cannot
 * escape the output directory.
 */
export function sanitizeDirName(name: string): string {
  const s = name
    .replace(/\s+/g, "-")
    .replace(/[/\\:*?"<>|]/g, "_")
    .replace(/[\x00-\x1f\x7f]/g, "_");
  if (s === "") return "_";
  return /^\.+$/.test(s) ? s.replace(/\./g, "_") : s;
}

/** `agent_model`, or `agent` when it has no model, as a directory name. */
export function agentDirName(agent: AgentRef): string {
  return sanitizeDirName(agent.model === null ? agent.name : `${agent.name}_${agent.model}`);
}

/**
 * Unique names for a list of base names, in order. As Runloop: a name used once stays plain, and every
 * member of a repeated name is numbered `-1`, `-2`, ... in order. Unlike Runloop, a numbered name never
 * lands on a name that is already taken (a scenario literally called `hello-2`): it takes the next free
 * number instead.
 */
export function uniqueNames(bases: readonly string[]): string[] {
  const count = new Map<string, number>();
  for (const b of bases) count.set(b, (count.get(b) ?? 0) + 1);
  const taken = new Set(bases.filter((b) => count.get(b) === 1));
  const next = new Map<string, number>();
  return bases.map((b) => {
    if (count.get(b) === 1) return b;
    let n = next.get(b) ?? 1;
    while (taken.has(`${b}-${n}`)) n++;
    next.set(b, n + 1);
    const name = `${b}-${n}`;
    taken.add(name);
    return name;
  });
}

/** What Runloop's scoring_functions entries hold. */
export interface ScoringFunctionJson {
  name: string;
  score: number;
  state: "complete";
  output: null;
}

/** What a trial without a result is doing: still running, or left unfinished by a job that ended. */
export type TrialProgress = TrialStatus | "running" | "incomplete";

/** `<agentDir>/<scenarioDir>/results.json`: Runloop's fields, then ours under `rli_trial`. */
export interface ResultsJson {
  scenario_run_id: string;
  scenario_id: string;
  scenario_name: string;
  /** Runloop's outcome state; `running` (Runloop's scenario-run state) for a trial still running. */
  state: OutcomeState | "running";
  /** As in `summary -o json`: the score of a COMPLETED trial, else null (the raw one is in rli_trial). */
  score: number | null;
  duration_ms: number | null;
  failure_reason?: { exception_type: string; exception_message: string };
  scoring_functions: ScoringFunctionJson[];
  rli_trial: {
    status: TrialProgress;
    agent: string;
    attempt: number;
    score: number | null;
    started_at: string | null;
    finished_at: string | null;
    agent_exit_code: number | null;
    usage: TrialResult["usage"] | null;
    phases: TrialResult["phases"];
    errors: TrialResult["errors"];
  };
}

/** One scenario run to write: where, what results.json says, and where its logs are. */
export interface LogTarget {
  trialId: string;
  agent: AgentRef;
  agentLabel: string;
  scenarioId: string;
  scenarioName: string;
  attempt: number;
  /** `<agentDir>/<scenarioDir>`, relative to the output root, `/`-separated, without `.` or `..`. */
  relDir: string;
  progress: TrialProgress;
  /** The trial's logs directory relative to its trial directory. */
  logsDir: string;
  results: ResultsJson;
}

export interface LogsPlan {
  targets: LogTarget[];
  /** Trials the filters select that have not started, so have nothing to copy yet. */
  pending: number;
}

export interface LogsPlanInput {
  job: JobDoc;
  results: readonly TrialResult[];
  /** Names of the directories under the job's trials/ (a trial has one once it starts). */
  trialDirs: ReadonlySet<string>;
  /** `--run`: an agent label (`oracle`, `claude-code:claude-sonnet-4-5`) or `<jobId>/<label>`. */
  run?: string | undefined;
  /** `--scenario`: a trial id (Runloop's scenario run id) or a scenario id (every attempt). */
  scenario?: string | undefined;
}

interface Planned {
  trialId: string;
  agent: AgentRef;
  scenarioId: string;
  attempt: number;
}

/** What a trial's results.json says. A trial without a result is `running` or, if the job ended, FAILED. */
export function resultsJson(
  t: Planned,
  scenarioName: string,
  result: TrialResult | null,
  jobState: JobDoc["state"],
): ResultsJson {
  const base = {
    scenario_run_id: t.trialId,
    scenario_id: t.scenarioId,
    scenario_name: scenarioName,
  };
  if (result === null) {
    const running = jobState === "running";
    return {
      ...base,
      state: running ? "running" : "FAILED",
      score: null,
      duration_ms: null,
      ...(running
        ? {}
        : {
            failure_reason: {
              exception_type: "TrialIncomplete",
              exception_message: `the job ended (${jobState}) before this trial finished; its logs may be partial`,
            },
          }),
      scoring_functions: [],
      rli_trial: {
        status: running ? "running" : "incomplete",
        agent: agentLabel(t.agent),
        attempt: t.attempt,
        score: null,
        started_at: null,
        finished_at: null,
        agent_exit_code: null,
        usage: null,
        phases: {},
        errors: [],
      },
    };
  }
  const state = outcomeState(result.status);
  return {
    ...base,
    state,
    score: state === "COMPLETED" ? result.score : null,
    duration_ms: result.duration_ms,
    ...(result.exception
      ? {
          failure_reason: {
            exception_type: result.exception.type,
            exception_message: result.exception.message,
          },
        }
      : {}),
    scoring_functions: Object.entries(result.rewards ?? {}).map(([name, score]) => ({
      name,
      score,
      state: "complete" as const,
      output: null,
    })),
    rli_trial: {
      status: result.status,
      agent: agentLabel(result.agent),
      attempt: result.attempt,
      score: result.score,
      started_at: result.started_at,
      finished_at: result.finished_at,
      agent_exit_code: result.agent_exit_code,
      usage: result.usage,
      phases: result.phases,
      errors: result.errors,
    },
  };
}

/** results.json's bytes: 2-space JSON and a trailing newline, as Runloop writes it. */
export function resultsJsonText(r: ResultsJson): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

function listed(items: readonly string[], max = 5): string {
  return items.length > max ? `${items.slice(0, max).join(", ")}, ...` : items.join(", ");
}

/**
 * Which scenario runs `logs` writes and where. Every trial of the job is named first (agents and
 * scenarios in the job's order, then attempts), so a trial's directory is the same whether the download
 * is filtered, partial (a running job) or whole. Then the filters apply, and trials that have not
 * started (no result, no directory) are left out. Unknown `run` or `scenario` values are usage errors.
 */
export function planLogs(input: LogsPlanInput): LogsPlan {
  const { job } = input;
  const names = new Map(job.spec.scenarios.map((s) => [s.id, s.name]));
  const byId = new Map(input.results.map((r) => [r.trial_id, r]));
  const planned: Planned[] = [];
  const seen = new Set<string>();
  const add = (p: Planned) => {
    if (seen.has(p.trialId)) return;
    seen.add(p.trialId);
    planned.push(p);
  };
  for (const agent of job.spec.agents) {
    for (const s of job.spec.scenarios) {
      for (let attempt = 1; attempt <= job.spec.n_attempts; attempt++) {
        add({ trialId: trialId(s.id, agent, attempt), agent, scenarioId: s.id, attempt });
      }
    }
  }
  // Results the plan does not name (a spec edited by hand) are still the job's trials.
  for (const r of [...input.results].sort((a, b) => (a.trial_id < b.trial_id ? -1 : 1))) {
    add({ trialId: r.trial_id, agent: r.agent, scenarioId: r.scenario_id, attempt: r.attempt });
  }

  const scenarioName = (p: Planned) => names.get(p.scenarioId) ?? p.scenarioId;
  const relDirs = uniqueNames(
    planned.map((p) => `${agentDirName(p.agent)}/${sanitizeDirName(scenarioName(p))}`),
  );

  let selected = planned.map((p, i) => ({ p, relDir: relDirs[i] as string }));
  const labels = [...new Set(planned.map((p) => agentLabel(p.agent)))];
  if (input.run !== undefined) {
    const run = input.run;
    const label = run.startsWith(`${job.id}/`) ? run.slice(job.id.length + 1) : run;
    if (!labels.includes(label)) {
      throw new UsageError(
        `Benchmark run ${run} not found in job ${job.id} (runs: ${labels.join(", ")})`,
      );
    }
    selected = selected.filter(({ p }) => agentLabel(p.agent) === label);
  }
  if (input.scenario !== undefined) {
    const sc = input.scenario;
    const matches = (p: Planned) => p.trialId === sc || p.scenarioId === sc;
    if (!planned.some(matches)) {
      const ids = [...new Set(planned.map((p) => p.scenarioId))];
      throw new UsageError(
        `Scenario ${sc} not found in job ${job.id}: give a scenario id (${listed(ids)}) or a scenario run id (e.g. ${planned[0]?.trialId})`,
      );
    }
    selected = selected.filter(({ p }) => matches(p));
    if (selected.length === 0) {
      throw new UsageError(
        `Scenario ${sc} has no runs of ${input.run} in job ${job.id} (try without --run)`,
      );
    }
  }

  const targets: LogTarget[] = [];
  let pending = 0;
  for (const { p, relDir } of selected) {
    const result = byId.get(p.trialId) ?? null;
    if (result === null && !input.trialDirs.has(p.trialId)) {
      pending++;
      continue;
    }
    const results = resultsJson(p, scenarioName(p), result, job.state);
    targets.push({
      trialId: p.trialId,
      agent: p.agent,
      agentLabel: agentLabel(p.agent),
      scenarioId: p.scenarioId,
      scenarioName: scenarioName(p),
      attempt: p.attempt,
      relDir,
      progress: results.rli_trial.status,
      logsDir: result?.logs_dir ?? "logs",
      results,
    });
  }
  return { targets, pending };
}
