import type { JobDoc, TrialResult } from "../core/schemas.js";
import { summarizeByAgent } from "./summary.js";

export interface Paint {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

export const NO_COLOR: Paint = {
  green: String,
  yellow: String,
  red: String,
  dim: String,
  bold: String,
  cyan: String,
};

function pct(n: number, total: number): string {
  return `${total === 0 ? "0.0" : ((n / total) * 100).toFixed(1)}%`;
}

function rowLabel(name: string, model: string | null): string {
  const label = model === null || model === "default" ? name : `${name} (${model})`;
  return label.length > 38 ? `${label.slice(0, 35)}...` : label;
}

/** Runloop's results table (rli `printResultsTable`), byte for byte in its layout. */
export function resultsTable(
  job: JobDoc,
  results: readonly TrialResult[],
  paint: Paint = NO_COLOR,
): string {
  const lines: string[] = ["", paint.bold("Benchmark Job Results"), `Job ID: ${job.id}`];
  lines.push(`Name: ${job.spec.name}`, `State: ${job.state}`, "");
  const summaries = summarizeByAgent(job.spec.agents, results);
  if (summaries.every((s) => s.total === 0)) {
    lines.push(
      job.failure_reason
        ? paint.red(`Job failed: ${job.failure_reason}`)
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
  for (const s of summaries) {
    const color = (n: number, f: (x: string) => string) => (x: string) =>
      n > 0 ? f(x) : paint.dim(x);
    lines.push(
      rowLabel(s.agent.name, s.agent.model).padEnd(40) +
        color(s.passed, paint.green)(pct(s.passed, s.total).padStart(10)) +
        color(s.failedScore, paint.yellow)(pct(s.failedScore, s.total).padStart(14)) +
        color(s.failedError, paint.red)(pct(s.failedError, s.total).padStart(16)) +
        String(s.total).padStart(8),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** `1h 2m 3s` / `2m 3s` / `3s`, as Runloop's watch prints durations. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}
