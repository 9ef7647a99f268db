import { formatDuration, NO_COLOR, type Paint, sanitize } from "../report/format.js";
import type { JobProgress, RunProgress } from "./progress.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function fitWidth(s: string, width: number): string {
  const clean = sanitize(s);
  return clean.length > width ? `${clean.slice(0, width - 3)}...` : clean.padEnd(width);
}

function pctScore(score: number | null): string | null {
  return score === null ? null : `score: ${(score * 100).toFixed(0)}%`;
}

/** `3/10 complete, 2 running, 1 scoring, 4 pending, score: 50%`: the counts that are not zero. */
export function runCounts(r: RunProgress): string {
  const parts = [`${r.finished}/${r.total} complete`];
  if (r.running > 0) parts.push(`${r.running} running`);
  if (r.starting > 0) parts.push(`${r.starting} starting`);
  if (r.scoring > 0) parts.push(`${r.scoring} scoring`);
  if (r.pending > 0) parts.push(`${r.pending} pending`);
  const score = pctScore(r.score);
  if (score !== null) parts.push(score);
  return parts.join(", ");
}

function runDone(r: RunProgress): boolean {
  return r.total > 0 && r.finished === r.total;
}

/** A run's line: `✓ <label>  score: 73%` once every scenario finished, else its counts. */
export function runLine(r: RunProgress, paint: Paint = NO_COLOR): string {
  const name = fitWidth(r.label, 30);
  if (runDone(r)) return `${paint.green("✓")} ${name} ${pctScore(r.score) ?? "done"}`;
  return `  ${name} ${runCounts(r)}`;
}

function stateColor(state: string, paint: Paint): (s: string) => string {
  switch (state.toLowerCase()) {
    case "running":
      return paint.cyan;
    case "scoring":
    case "scored":
      return paint.yellow;
    default:
      return paint.dim;
  }
}

export interface ScreenOptions {
  nowMs: number;
  /** Terminal rows: bounds the scenario lines per run. */
  rows: number;
  paint?: Paint;
  /** A line shown above the footer (the last poll failed, ...). */
  note?: string | null;
}

/** Runloop's watch screen (rl-cli watch.ts) as lines, with the pending count and a spinner per scenario. */
export function watchScreen(p: JobProgress, opts: ScreenOptions): string[] {
  const paint = opts.paint ?? NO_COLOR;
  const elapsed = formatDuration(opts.nowMs - p.createTimeMs);
  const lines = [
    `${paint.bold(paint.cyan(`Benchmark Job: ${sanitize(p.name || p.id)}`))} ${paint.dim(`(${elapsed})`)}`,
    `ID: ${sanitize(p.id)}`,
    `State: ${sanitize(p.state)}`,
    "",
  ];
  if (p.runs.length === 0) {
    lines.push("Waiting for scenarios to start...");
  } else {
    lines.push("Progress:");
    const n = p.runs.length;
    const budget = Math.max(Math.floor((opts.rows - 7 - n) / n), 3);
    const frame = SPINNER[Math.floor(opts.nowMs / 100) % SPINNER.length];
    for (const r of p.runs) {
      lines.push(runLine(r, paint));
      for (const s of r.active.slice(0, budget)) {
        const since = s.startMs === null ? "" : ` (${formatDuration(opts.nowMs - s.startMs)})`;
        const state = stateColor(s.state, paint)(`${frame} ${sanitize(s.state)}`);
        lines.push(`      └ ${fitWidth(s.name, 35)} ${state}${since}`);
      }
      if (r.active.length > budget) {
        lines.push(paint.dim(`      ... and ${r.active.length - budget} more`));
      }
    }
  }
  lines.push("");
  if (opts.note) lines.push(paint.yellow(sanitize(opts.note)));
  lines.push(paint.dim("Press Ctrl+C to stop watching (the job keeps running)"));
  return lines;
}

/**
 * A running job as `summary` shows it (rl-cli summary before PR #230): Job, ID, State, then a line per
 * run, or `No runs in progress`.
 */
export function progressText(p: JobProgress, nowMs: number, paint: Paint = NO_COLOR): string {
  const lines = [
    `Job: ${sanitize(p.name || p.id)} ${paint.dim(`(${formatDuration(nowMs - p.createTimeMs)})`)}`,
    `ID: ${sanitize(p.id)}`,
    `State: ${sanitize(p.state)}`,
    "",
  ];
  if (p.runs.length === 0) lines.push("No runs in progress");
  else lines.push("Progress:", ...p.runs.map((r) => runLine(r, paint)));
  return `${lines.join("\n")}\n`;
}

/**
 * `watch` off a terminal: the lines that changed since the previous poll (all of them on the first):
 * the state, then one line per run whose counts changed.
 */
export function changeLines(prev: JobProgress | null, next: JobProgress): string[] {
  const lines: string[] = [];
  if (prev === null) {
    lines.push(`Watching benchmark job ${sanitize(next.id)} (${sanitize(next.name || next.id)})`);
  }
  if (prev === null || prev.state !== next.state) lines.push(`State: ${sanitize(next.state)}`);
  const before = new Map((prev?.runs ?? []).map((r) => [r.benchmarkRunId, runCounts(r)]));
  for (const r of next.runs) {
    const now = runCounts(r);
    if (before.get(r.benchmarkRunId) !== now) lines.push(`${sanitize(r.label)}: ${now}`);
  }
  return lines;
}
