import type { TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc } from "../core/schemas.js";
import { NO_COLOR, type Paint, sanitize } from "./format.js";
import { outcomeState } from "./runloop-view.js";
import { summarizeByAgent } from "./summary.js";

export { formatDuration, NO_COLOR, type Paint } from "./format.js";

/** One scenario outcome as Runloop's `summary -e` printed it. */
export interface ScenarioLineInput {
  /** Runloop's outcome state (COMPLETED, FAILED, ...), compared case-insensitively. */
  state: string;
  /** Shown as `score=x.x` when not null; otherwise the state is shown. */
  score: number | null;
  name: string;
  /** Dim notes after the score (our status, the attempt). */
  extra?: readonly string[];
}

/** One agent's row of the results table. */
export interface ResultsRow {
  agent: string;
  model: string | null;
  /** COMPLETED with score exactly 1. */
  passed: number;
  /** Any other COMPLETED outcome: Runloop's "Failed (0.0)". */
  failedScore: number;
  /** Every non-COMPLETED outcome: Runloop's "Failed (error)". */
  failedError: number;
  total: number;
  /** The `-e` lines under the row. */
  scenarios?: readonly ScenarioLineInput[];
}

/** What the results table shows: the same for a local job and a Runloop job. */
export interface ResultsTableInput {
  id: string;
  /** Omitted from the header when null. */
  name: string | null;
  state: string;
  failureReason: string | null;
  rows: readonly ResultsRow[];
}

function pct(n: number, total: number): string {
  return `${total === 0 ? "0.0" : ((n / total) * 100).toFixed(1)}%`;
}

function rowLabel(name: string, model: string | null): string {
  const label = model === null || model === "" || model === "default" ? name : `${name} (${model})`;
  const clean = sanitize(label);
  return clean.length > 38 ? `${clean.slice(0, 35)}...` : clean;
}

/** `  ✓ <name padEnd 52>score=1.0`: Runloop's `summary -e` line (before rl-cli PR #230), plus dim notes. */
export function scenarioLineText(s: ScenarioLineInput, paint: Paint = NO_COLOR): string {
  const completed = s.state.toUpperCase() === "COMPLETED";
  const icon = completed ? (s.score === 1 ? paint.green("✓") : paint.yellow("✗")) : paint.red("!");
  const clean = sanitize(s.name);
  const shown = clean.length > 50 ? `${clean.slice(0, 47)}...` : clean;
  const scoreStr = s.score !== null ? `score=${s.score.toFixed(1)}` : sanitize(s.state);
  const extra = s.extra ?? [];
  return `  ${icon} ${shown.padEnd(52)}${scoreStr}${extra.length > 0 ? paint.dim(`  ${sanitize(extra.join(", "))}`) : ""}`;
}

/**
 * Runloop's results table (rl-cli `printResultsTable`), byte for byte in its layout: the one renderer for
 * local and Runloop jobs. `extended` adds each row's scenario lines, as Runloop's `summary -e` did.
 */
export function renderResultsTable(
  t: ResultsTableInput,
  paint: Paint = NO_COLOR,
  extended = false,
): string {
  const lines: string[] = ["", paint.bold("Benchmark Job Results"), `Job ID: ${sanitize(t.id)}`];
  if (t.name !== null) lines.push(`Name: ${sanitize(t.name)}`);
  lines.push(`State: ${sanitize(t.state)}`, "");
  if (t.rows.every((r) => r.total === 0)) {
    lines.push(
      t.failureReason
        ? paint.red(`Job failed: ${sanitize(t.failureReason)}`)
        : paint.yellow("No benchmark outcomes found"),
    );
    return `${lines.join("\n")}\n`;
  }
  lines.push(
    paint.bold(
      "Agent / Model".padEnd(40) +
        "Passed".padStart(10) +
        "Failed (0.0)".padStart(14) +
        "Failed (error)".padStart(16) +
        "Total".padStart(8),
    ),
  );
  lines.push("-".repeat(88));
  for (const r of t.rows) {
    const color = (n: number, f: (x: string) => string) => (x: string) =>
      n > 0 ? f(x) : paint.dim(x);
    lines.push(
      rowLabel(r.agent, r.model).padEnd(40) +
        color(r.passed, paint.green)(pct(r.passed, r.total).padStart(10)) +
        color(r.failedScore, paint.yellow)(pct(r.failedScore, r.total).padStart(14)) +
        color(r.failedError, paint.red)(pct(r.failedError, r.total).padStart(16)) +
        String(r.total).padStart(8),
    );
    if (extended) for (const s of r.scenarios ?? []) lines.push(scenarioLineText(s, paint));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * One line per trial under its agent's row (Runloop's `summary -e`, before rli PR #230):
 * `  ✓ <name padEnd 52>score=1.0`, then our status and attempt where they add something.
 */
export function scenarioLine(r: TrialDigest, name: string, paint: Paint, attempts: number): string {
  return scenarioLineText(trialScenario(r, name, attempts), paint);
}

function trialScenario(r: TrialDigest, name: string, attempts: number): ScenarioLineInput {
  const state = outcomeState(r.status);
  const extra: string[] = [];
  if (state !== "COMPLETED")
    extra.push(r.exception ? `${r.status}: ${r.exception.type}` : r.status);
  if (attempts > 1) extra.push(`attempt ${r.attempt}`);
  return { state, score: state === "COMPLETED" ? r.score : null, name, extra };
}

/**
 * A local job's results table: Runloop's layout over the job's agents. `extended` adds a line per trial
 * under each agent's row, as Runloop's `summary -e` did.
 */
export function resultsTable(
  job: JobDoc,
  results: readonly TrialDigest[],
  paint: Paint = NO_COLOR,
  extended = false,
): string {
  const names = new Map(job.spec.scenarios.map((sc) => [sc.id, sc.name]));
  const rows = summarizeByAgent(job.spec.agents, results).map((s): ResultsRow => {
    const label = agentLabel(s.agent);
    return {
      agent: s.agent.name,
      model: s.agent.model,
      passed: s.passed,
      failedScore: s.failedScore,
      failedError: s.failedError,
      total: s.total,
      scenarios: extended
        ? results
            .filter((r) => agentLabel(r.agent) === label)
            .map((r) =>
              trialScenario(r, names.get(r.scenario_id) ?? r.scenario_id, job.spec.n_attempts),
            )
        : [],
    };
  });
  return renderResultsTable(
    { id: job.id, name: job.spec.name, state: job.state, failureReason: job.failure_reason, rows },
    paint,
    extended,
  );
}
