import type { JobEvent } from "../core/schemas.js";
import { agentLabel } from "../core/ids.js";
import type { Progress } from "./progress.js";
import { formatDuration, NO_COLOR, type Paint } from "./text.js";

/** Strip terminal control sequences so that names from task files cannot corrupt the screen. */
export function sanitize(s: string): string {
  return s
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, "") // OSC … BEL or ST, payload included
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "") // CSI
    .replace(/\x1b[ -/]*[0-~]?/g, "") // other escapes: ESC 7, ESC c, ESC ( B
    .replace(/[\n\t]+/g, " ")
    .replace(/[\x00-\x1f\x7f-\x9f]/g, "");
}

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
      const phase = t.phase ?? "starting";
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
