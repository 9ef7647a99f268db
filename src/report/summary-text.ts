import type { TrialDigest } from "../core/digest.js";
import type { JobDoc, TrialStatus } from "../core/schemas.js";
import { formatDuration, NO_COLOR, type Paint, sanitize } from "./format.js";
import { type AgentSummary, summarizeByAgent } from "./summary.js";
import { resultsTable } from "./text.js";

/** Under a minute with a decimal (`0.4s`, `12.3s`); longer as `1m 5s`. */
export function formatElapsed(ms: number): string {
  // Rounded down, like formatDuration, so 59.99 s never reads as "60.0s".
  return ms < 60_000 ? `${(Math.floor(ms / 100) / 10).toFixed(1)}s` : formatDuration(ms);
}

/** 12345 → `12.3k`, 1234567 → `1.23M`; null → `-`. */
export function formatTokens(n: number | null): string {
  if (n === null) return "-";
  if (n < 1000) return String(n);
  // The cut-off is where one decimal would round up to "1000.0k".
  if (n < 999_950) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

function formatCost(s: AgentSummary): string {
  if (s.costUsd === null) return "-";
  const cost = `$${s.costUsd.toFixed(s.costUsd < 9.99995 ? 4 : 2)}`;
  return s.unknownCost > 0 ? `${cost}*` : cost;
}

const ERROR_ORDER: readonly TrialStatus[] = [
  "agent_timeout",
  "agent_error",
  "infra_error",
  "verifier_error",
  "cancelled",
];

/** `agent_timeout 2, infra_error 1`, or `-` when the agent had none. */
export function errorsByKind(s: AgentSummary): string {
  const parts = ERROR_ORDER.filter((k) => s.byStatus[k] > 0).map((k) => `${k} ${s.byStatus[k]}`);
  return parts.length > 0 ? parts.join(", ") : "-";
}

const percent = (n: number, of: number): string => `${Math.round((100 * n) / of)}%`;

/** `3 of 24 trials; passed 2 (67%), the other 21: 90%` */
export function retriedLine(s: AgentSummary): string {
  const others = s.total - s.retried;
  const othersPassed = s.passed - s.retriedPassed;
  const rest = others > 0 ? `, the other ${others}: ${percent(othersPassed, others)}` : "";
  return `${s.retried} of ${s.total} trials; passed ${s.retriedPassed} (${percent(s.retriedPassed, s.retried)})${rest}`;
}

function label(s: AgentSummary): string {
  const l = sanitize(s.label);
  return l.length > 28 ? `${l.slice(0, 25)}...` : l;
}

/**
 * Our columns after Runloop's table: mean score (unscored trials count as 0), median duration, tokens
 * (input incl. cache reads / output) and cost where known, and the errors by kind.
 */
export function detailsTable(summaries: readonly AgentSummary[], paint: Paint = NO_COLOR): string {
  const head =
    "Agent".padEnd(30) +
    "Mean score".padStart(10) +
    "Median time".padStart(13) +
    "Tokens in/out".padStart(17) +
    "Cost".padStart(11) +
    "  Errors";
  const lines = ["", paint.bold(head), "-".repeat(head.length)];
  for (const s of summaries) {
    const mean = s.meanScoreErrorsAsZero === null ? "-" : s.meanScoreErrorsAsZero.toFixed(3);
    const median = s.medianDurationMs === null ? "-" : formatElapsed(s.medianDurationMs);
    const input =
      s.inputTokens === null && s.cacheReadTokens === null
        ? null
        : (s.inputTokens ?? 0) + (s.cacheReadTokens ?? 0);
    const tokens =
      input === null && s.outputTokens === null
        ? "-"
        : `${formatTokens(input)}/${formatTokens(s.outputTokens)}`;
    const errors = errorsByKind(s);
    lines.push(
      label(s).padEnd(30) +
        mean.padStart(10) +
        median.padStart(13) +
        tokens.padStart(17) +
        formatCost(s).padStart(11) +
        `  ${errors === "-" ? paint.dim(errors) : paint.red(errors)}`,
    );
  }
  const unknown = summaries.filter((s) => s.costUsd !== null && s.unknownCost > 0);
  if (unknown.length > 0) {
    lines.push(paint.dim("* cost unknown for some trials; the sum covers the others"));
  }
  const retried = summaries.filter((s) => s.retried > 0);
  if (retried.length > 0) {
    lines.push("", "Retried after an infrastructure error (kept only the last try's outcome):");
    for (const s of retried) lines.push(`  ${label(s).padEnd(28)}${retriedLine(s)}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface SummaryOptions {
  extended: boolean;
  paint?: Paint;
  /** Trials running now per agent label, for a running job. */
  running?: ReadonlyMap<string, number>;
  nowMs?: number;
}

/** Progress of a running job, as Runloop's summary showed it before the job ended. */
export function progressText(
  job: JobDoc,
  results: readonly TrialDigest[],
  opts: SummaryOptions,
): string {
  const paint = opts.paint ?? NO_COLOR;
  const now = opts.nowMs ?? Date.now();
  const elapsed = formatDuration(now - Date.parse(job.created_at));
  const lines = [
    `Job: ${sanitize(job.spec.name)} ${paint.dim(`(${elapsed})`)}`,
    `ID: ${job.id}`,
    `State: ${job.state}`,
    "",
  ];
  const perAgent = job.spec.scenarios.length * job.spec.n_attempts;
  const summaries = summarizeByAgent(job.spec.agents, results);
  lines.push("Progress:");
  for (const s of summaries) {
    const running = opts.running?.get(s.label) ?? 0;
    const pending = Math.max(0, perAgent - s.total - running);
    const parts = [`${s.total}/${perAgent} complete`];
    if (running > 0) parts.push(`${running} running`);
    if (pending > 0) parts.push(`${pending} pending`);
    if (s.meanScore !== null) parts.push(`score: ${(s.meanScore * 100).toFixed(0)}%`);
    const l = sanitize(s.label);
    lines.push(`  ${(l.length > 30 ? `${l.slice(0, 27)}...` : l).padEnd(30)} ${parts.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * `summary` as text: Runloop's results table (with `-e`, a line per trial), then our columns. A running
 * job shows its progress first; the table then covers the trials finished so far.
 */
export function summaryText(
  job: JobDoc,
  results: readonly TrialDigest[],
  opts: SummaryOptions,
): string {
  const paint = opts.paint ?? NO_COLOR;
  const parts: string[] = [];
  if (job.state === "running") {
    parts.push(progressText(job, results, opts));
    if (results.length === 0) return parts.join("");
    parts.push(`\n${paint.dim("So far:")}\n`);
  }
  parts.push(resultsTable(job, results, paint, opts.extended));
  const summaries = summarizeByAgent(job.spec.agents, results);
  if (summaries.some((s) => s.total > 0)) parts.push(detailsTable(summaries, paint));
  if (job.state === "failed" && job.failure_reason && results.length > 0) {
    parts.push(`\n${paint.red(`Job failed: ${sanitize(job.failure_reason)}`)}\n`);
  }
  return parts.join("");
}
