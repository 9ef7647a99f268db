import { agentLabel } from "../core/ids.js";
import type { JobEvent } from "../core/schemas.js";
import { formatDuration, NO_COLOR, type Paint, sanitize } from "./format.js";
import type { Progress } from "./progress.js";

export { sanitize } from "./format.js";

function fitWidth(s: string, width: number): string {
  return s.length > width ? `${s.slice(0, width - 3)}...` : s.padEnd(width);
}

export interface LiveHeader {
  jobId: string;
  name: string;
}

/** The live progress screen (Runloop's watch layout) as lines; `rows` bounds the running-trial list. */
export function renderProgress(
  p: Progress,
  header: LiveHeader,
  nowMs: number,
  rows = 24,
  paint: Paint = NO_COLOR,
): string[] {
  const elapsed = p.startedAtMs === null ? "" : ` (${formatDuration(nowMs - p.startedAtMs)})`;
  const lines = [
    `${paint.bold(paint.cyan(`Benchmark Job: ${sanitize(header.name)}`))}${paint.dim(elapsed)}`,
    `ID: ${header.jobId}`,
    `State: ${p.state}`,
    "",
  ];
  const nAgents = Math.max(1, p.agents.size);
  const perAgent = p.totalTrials / nAgents;
  if (p.finished === 0 && p.running.size === 0) {
    lines.push("Waiting for trials to start...");
    return lines;
  }
  lines.push("Progress:");
  const budget = Math.max(3, Math.floor((rows - 8 - nAgents) / nAgents));
  for (const a of p.agents.values()) {
    const total = Math.round(perAgent);
    const pending = Math.max(0, total - a.done - a.running);
    const score = a.scored > 0 ? `score: ${((a.scoreSum / a.scored) * 100).toFixed(0)}%` : "";
    const label = fitWidth(sanitize(a.agent), 30);
    if (a.done === total && total > 0) {
      lines.push(`${paint.green("✓")} ${label} ${score || "done"}`);
    } else {
      const parts = [`${a.done}/${total} complete`];
      if (a.running > 0) parts.push(`${a.running} running`);
      if (pending > 0) parts.push(`${pending} pending`);
      if (score) parts.push(score);
      lines.push(`  ${label} ${parts.join(", ")}`);
    }
    const mine = [...p.running.values()].filter((t) => t.agent === a.agent);
    for (const t of mine.slice(0, budget)) {
      const phase = `${t.phase ?? "starting"}${t.retries > 0 ? ` (retry ${t.retries})` : ""}`;
      lines.push(
        `      └ ${fitWidth(sanitize(t.scenarioId), 36)}${paint.cyan(phase)} (${formatDuration(nowMs - t.startedAtMs)})`,
      );
    }
    if (mine.length > budget) lines.push(paint.dim(`      ... and ${mine.length - budget} more`));
  }
  lines.push("", paint.dim("Press Ctrl+C to cancel"));
  return lines;
}

/** One plain line per finished trial, for logs and pipes: `[3/26] passed starter/x oracle score=1.00 1.2s`. */
export function trialLine(
  e: Extract<JobEvent, { type: "trial_finished" }>,
  finished: number,
  total: number,
): string {
  const score = e.score === null ? "score=-" : `score=${e.score.toFixed(2)}`;
  return `[${finished}/${total}] ${e.status} ${sanitize(e.scenario_id)} ${sanitize(agentLabel(e.agent))} ${score} ${(e.duration_ms / 1000).toFixed(1)}s`;
}

/**
 * One plain line per event for `watch` off a terminal: job and trial boundaries, and phases that did not
 * end well. Routine phase events return null (they would bury the trial lines).
 */
export function eventLine(e: JobEvent, finished: number, total: number): string | null {
  switch (e.type) {
    case "job_started":
      return `job started: ${e.n_trials} trial(s)`;
    case "trial_started":
      return `[start] ${sanitize(e.scenario_id)} ${sanitize(agentLabel(e.agent))} attempt ${e.attempt}`;
    case "phase_finished":
      return e.outcome === "ok"
        ? null
        : `[${e.outcome}] ${sanitize(e.trial_id)} ${e.phase} after ${(e.duration_ms / 1000).toFixed(1)}s`;
    case "job_resumed":
      return `job resumed: ${e.n_kept} of ${e.n_trials} trial(s) kept, ${e.n_trials - e.n_kept} to run`;
    case "trial_retrying":
      return `[retry] ${sanitize(e.trial_id)} try ${e.try} hit an infrastructure error (${sanitize(e.reason)}); try ${e.try + 1} in ${(e.delay_ms / 1000).toFixed(1)}s`;
    case "trial_finished":
      return trialLine(e, finished, total);
    case "job_finished":
      return `job ${e.state}`;
    default:
      return null;
  }
}
