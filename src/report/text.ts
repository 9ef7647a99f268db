import type { TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc } from "../core/schemas.js";
import { NO_COLOR, type Paint, sanitize } from "./format.js";
import { outcomeState } from "./runloop-view.js";
import { summarizeByAgent } from "./summary.js";

export { formatDuration, NO_COLOR, type Paint } from "./format.js";

function pct(n: number, total: number): string {
  return `${total === 0 ? "0.0" : ((n / total) * 100).toFixed(1)}%`;
}

function rowLabel(name: string, model: string | null): string {
  const label = model === null || model === "default" ? name : `${name} (${model})`;
  return label.length > 38 ? `${label.slice(0, 35)}...` : label;
}

/**
 * One line per trial under its agent's row (Runloop's `summary -e`, before rli PR #230):
 * `  ✓ <name padEnd 52>score=1.0`, then our status and attempt where they add something.
 */
export function scenarioLine(r: TrialDigest, name: string, paint: Paint, attempts: number): string {
  const state = outcomeState(r.status);
  const icon =
    state === "COMPLETED" ? (r.score === 1 ? paint.green("✓") : paint.yellow("✗")) : paint.red("!");
  const clean = sanitize(name);
  const shown = clean.length > 50 ? `${clean.slice(0, 47)}...` : clean;
  const scoreStr =
    state === "COMPLETED" && r.score !== null ? `score=${r.score.toFixed(1)}` : state;
  const extra: string[] = [];
  if (state !== "COMPLETED") {
    extra.push(r.exception ? `${r.status}: ${r.exception.type}` : r.status);
  }
  if (attempts > 1) extra.push(`attempt ${r.attempt}`);
  return `  ${icon} ${shown.padEnd(52)}${scoreStr}${extra.length > 0 ? paint.dim(`  ${extra.join(", ")}`) : ""}`;
}

/**
 * Runloop's results table (rli `printResultsTable`), byte for byte in its layout. `extended` adds a line
 * per trial under each agent's row, as Runloop's `summary -e` did.
 */
export function resultsTable(
  job: JobDoc,
  results: readonly TrialDigest[],
  paint: Paint = NO_COLOR,
  extended = false,
): string {
  const lines: string[] = ["", paint.bold("Benchmark Job Results"), `Job ID: ${job.id}`];
  lines.push(`Name: ${sanitize(job.spec.name)}`, `State: ${job.state}`, "");
  const summaries = summarizeByAgent(job.spec.agents, results);
  if (summaries.every((s) => s.total === 0)) {
    lines.push(
      job.failure_reason
        ? paint.red(`Job failed: ${sanitize(job.failure_reason)}`)
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
    if (extended) {
      const names = new Map(job.spec.scenarios.map((sc) => [sc.id, sc.name]));
      const label = agentLabel(s.agent);
      for (const r of results) {
        if (agentLabel(r.agent) !== label) continue;
        lines.push(
          scenarioLine(r, names.get(r.scenario_id) ?? r.scenario_id, paint, job.spec.n_attempts),
        );
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
