import { NO_COLOR, type Paint, sanitize } from "./format.js";

/**
 * One job as `rli benchmark-job list -o json|yaml` prints it: Runloop's BenchmarkJobView identity fields
 * (id, name, state, create_time_ms) plus rli's counts, so a listing never has to read every result.
 */
export interface JobListEntry {
  id: string;
  name: string;
  state: string;
  create_time_ms: number;
  created_at: string;
  finished_at: string | null;
  failure_reason: string | null;
  n_trials: number;
  n_finished: number;
  n_errors: number;
  n_passed: number;
  /** Mean over agents of each agent's mean score over verified trials, in [0, 1]; null when none. */
  score: number | null;
  dir: string;
}

/** The fields of status.json (JobStatus with its counts known) that a list entry needs. */
export interface ListSource {
  id: string;
  name: string;
  state: string;
  created_at: string;
  finished_at: string | null;
  failure_reason: string | null;
  n_trials: number;
}

export interface ListCounts {
  finished: number;
  passed: number;
  errors: number;
  score: number | null;
}

export function listEntry(status: ListSource, counts: ListCounts, dir: string): JobListEntry {
  return {
    id: status.id,
    name: status.name,
    state: status.state,
    create_time_ms: Date.parse(status.created_at),
    created_at: status.created_at,
    finished_at: status.finished_at,
    failure_reason: status.failure_reason,
    n_trials: status.n_trials,
    n_finished: counts.finished,
    n_errors: counts.errors,
    n_passed: counts.passed,
    score: counts.score,
    dir,
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Runloop's STARTED column: `just now`, `Nm ago`, `Nh ago`, `Nd ago` under a week, then `Mon D` (en-US,
 * local time). A time in the future (clock skew) reads as `just now`.
 */
export function formatStarted(createdMs: number, nowMs: number): string {
  const diff = nowMs - createdMs;
  if (diff < MINUTE) return "just now";
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)}m ago`;
  if (diff < DAY) return `${Math.floor(diff / HOUR)}h ago`;
  if (diff < 7 * DAY) return `${Math.floor(diff / DAY)}d ago`;
  // toLocaleDateString("en-US", { month: "short", day: "numeric" }) without loading ICU's data.
  const d = new Date(createdMs);
  return `${MONTHS[d.getMonth()]} ${d.getDate()}`;
}

function statusColor(state: string, paint: Paint): (s: string) => string {
  switch (state) {
    case "running":
      return paint.yellow;
    case "completed":
      return paint.green;
    case "failed":
    case "timeout":
      return paint.red;
    case "cancelled":
      return paint.dim;
    case "initializing":
    case "queued":
      return paint.cyan;
    default:
      return String;
  }
}

function cell(s: string, width: number): string {
  return s.length > width ? `${s.slice(0, width - 3)}...` : s.padEnd(width);
}

const COL = { id: 30, started: 10, status: 14, done: 9, errors: 8, score: 7 } as const;
/** The fixed columns plus the six single spaces between the seven columns. */
const FIXED_WIDTH = COL.id + COL.started + COL.status + COL.done + COL.errors + COL.score + 6;

/** NAME takes what the terminal has left after the fixed columns, at least 10 characters. */
export function nameWidth(termWidth: number): number {
  return Math.max(10, termWidth - FIXED_WIDTH);
}

/** What one row of the table shows: a local job's list entry, or a Runloop job's numbers. */
export type ListRow = Pick<
  JobListEntry,
  "id" | "name" | "state" | "create_time_ms" | "n_finished" | "n_trials" | "n_errors" | "score"
>;

export interface ListTableOptions {
  nowMs: number;
  /** Terminal width in columns; each line fits it (NAME shrinks down to 10). */
  width: number;
  paint?: Paint;
}

/**
 * Runloop's `bmj list` table (before rl-cli PR #230): ID, NAME, STARTED, STATUS, DONE, ERRORS, SCORE,
 * a bold header over a `─` rule, and a `1 job` / `N jobs` footer. Names are stripped of control sequences.
 */
export function listTable(entries: readonly ListRow[], opts: ListTableOptions): string {
  const paint = opts.paint ?? NO_COLOR;
  if (entries.length === 0) return `${paint.dim("No benchmark jobs found")}\n`;
  const nameW = nameWidth(opts.width);
  const header = [
    "ID".padEnd(COL.id),
    "NAME".padEnd(nameW),
    "STARTED".padEnd(COL.started),
    "STATUS".padEnd(COL.status),
    "DONE".padStart(COL.done),
    "ERRORS".padStart(COL.errors),
    "SCORE".padStart(COL.score),
  ].join(" ");
  const lines = [paint.bold(header), paint.dim("─".repeat(Math.min(header.length, opts.width)))];
  for (const e of entries) {
    const errors = String(e.n_errors).padStart(COL.errors);
    let score: string;
    if (e.score === null) {
      score = paint.dim("N/A".padStart(COL.score));
    } else {
      const pct = Math.round(e.score * 100);
      score = (pct >= 50 ? paint.green : paint.yellow)(`${pct}%`.padStart(COL.score));
    }
    lines.push(
      [
        cell(e.id, COL.id),
        cell(sanitize(e.name), nameW),
        formatStarted(e.create_time_ms, opts.nowMs).padEnd(COL.started),
        statusColor(e.state, paint)(e.state) + " ".repeat(Math.max(0, COL.status - e.state.length)),
        `${e.n_finished}/${e.n_trials}`.padStart(COL.done),
        e.n_errors > 0 ? paint.red(errors) : paint.dim(errors),
        score,
      ].join(" "),
    );
  }
  const n = entries.length;
  lines.push("", paint.dim(`${n} job${n === 1 ? "" : "s"}`));
  return `${lines.join("\n")}\n`;
}
