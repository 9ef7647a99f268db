import type { TrialDigest } from "../core/digest.js";
import { UsageError } from "../core/errors.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc, TrialStatus } from "../core/schemas.js";
import { talliesOf } from "../core/tally.js";
import {
  allPairs,
  type Comparison,
  compareTwo,
  holmAdjusted,
  sidesOfJob,
  verdict,
} from "./compare.js";
import { type FlakyReport, flakyReport, scenarioMatrix } from "./flaky.js";
import { formatDuration, NO_COLOR, type Paint, sanitize } from "./format.js";
import type { Interval } from "./stats.js";
import { type AgentSummary, type IntervalMethod, summarizeByAgent } from "./summary.js";
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

/** `0.643 [0.412, 0.874]`; over a single scenario, which has no interval, `1.000 (1 scenario)`; `-` without trials. */
export function formatInterval(i: Interval | null): string {
  if (i === null) return "-";
  if (i.n < 2) return `${i.mean.toFixed(3)} (1 scenario)`;
  return `${i.mean.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;
}

/**
 * Our columns after Runloop's table: the mean score (unscored trials count as 0) with its 95% interval,
 * the same with infrastructure errors left out, median and p90 duration, tokens (input incl. cache
 * reads / output) and cost where known, and the errors by kind.
 */
export function detailsTable(summaries: readonly AgentSummary[], paint: Paint = NO_COLOR): string {
  const head =
    "Agent".padEnd(30) +
    "Score [95% CI]".padEnd(22) +
    "Excl. infra".padStart(11) +
    "Median".padStart(9) +
    "p90".padStart(9) +
    "Tokens in/out".padStart(17) +
    "Cost".padStart(11) +
    "  Errors";
  const lines = ["", paint.bold(head), "-".repeat(head.length)];
  for (const s of summaries) {
    const time = (ms: number | null) => (ms === null ? "-" : formatElapsed(ms));
    const excluding =
      s.scoreIntervalExcludingInfra === null ? "-" : s.scoreIntervalExcludingInfra.mean.toFixed(3);
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
        formatInterval(s.scoreInterval).padEnd(22) +
        excluding.padStart(11) +
        time(s.medianDurationMs).padStart(9) +
        time(s.p90DurationMs).padStart(9) +
        tokens.padStart(17) +
        formatCost(s).padStart(11) +
        `  ${errors === "-" ? paint.dim(errors) : paint.red(errors)}`,
    );
  }
  const unknown = summaries.filter((s) => s.costUsd !== null && s.unknownCost > 0);
  if (unknown.length > 0) {
    const which = unknown.map((s) => `${s.unknownCost} of ${s.total} trials of ${label(s)}`);
    lines.push(paint.dim(`* cost unknown for ${which.join(", ")}; the sum covers the others`));
  }
  const retried = summaries.filter((s) => s.retried > 0);
  if (retried.length > 0) {
    lines.push("", "Retried after an infrastructure error (kept only the last try's outcome):");
    for (const s of retried) lines.push(`  ${label(s).padEnd(28)}${retriedLine(s)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Which k to show of 1..most: 1, 2, 3, 5, 10, 20, 50, 100 and the largest, at most eight columns. */
export function shownK(most: number): number[] {
  const ks = [1, 2, 3, 5, 10, 20, 50, 100].filter((k) => k < most);
  return [...ks.slice(0, 7), most];
}

/** pass@k and pass^k per agent, when some scenario had more than one attempt; "" otherwise. */
export function passAtKTable(summaries: readonly AgentSummary[], paint: Paint = NO_COLOR): string {
  const most = Math.max(0, ...summaries.map((s) => s.passAtK.length));
  if (most < 2) return "";
  const ks = shownK(most);
  const head = "pass@k (pass^k)".padEnd(30) + ks.map((k) => `k=${k}`.padEnd(15)).join("");
  const lines = ["", paint.bold(head.trimEnd())];
  for (const s of summaries) {
    const cells = ks.map((k) =>
      k <= s.passAtK.length
        ? `${s.passAtK[k - 1]!.toFixed(3)} (${s.passHatK[k - 1]!.toFixed(3)})`.padEnd(15)
        : "-".padEnd(15),
    );
    lines.push((label(s).padEnd(30) + cells.join("")).trimEnd());
  }
  return `${lines.join("\n")}\n`;
}

/** How the intervals were made, in one dim line. */
export function intervalNote(summaries: readonly AgentSummary[], method: IntervalMethod): string {
  const n = Math.max(0, ...summaries.map((s) => s.scoreInterval?.n ?? 0));
  const how =
    method.bootstrap === undefined
      ? "t-interval"
      : `cluster bootstrap (seed ${method.bootstrap.seed}, ${method.bootstrap.iterations} draws)`;
  return `Score: errors count as 0; Excl. infra leaves infrastructure errors out.\n95% CI: ${how} over ${n} scenario${n === 1 ? "" : "s"}, attempts averaged per scenario first.`;
}

const listed = (ids: readonly string[], most = 5): string =>
  ids.length <= most
    ? ids.map(sanitize).join(", ")
    : `${ids.slice(0, most).map(sanitize).join(", ")} and ${ids.length - most} more`;

/** Always-pass / always-fail / flaky per agent and the scenarios that look broken; "" when nothing to say. */
export function scenariosText(report: FlakyReport, paint: Paint = NO_COLOR): string {
  const lines: string[] = [];
  if (report.repeated) {
    for (const a of report.perAgent) {
      const l = sanitize(a.agent);
      const flaky = a.flaky.length > 0 ? `: ${listed(a.flaky)}` : "";
      lines.push(
        `  ${(l.length > 28 ? `${l.slice(0, 25)}...` : l).padEnd(28)}${a.alwaysPass.length} always pass, ${a.alwaysFail.length} always fail, ${a.flaky.length} flaky${flaky}`,
      );
    }
  }
  if (report.flakyForEveryAgent.length > 0) {
    lines.push(
      paint.yellow(`  Flaky for every agent (likely broken): ${listed(report.flakyForEveryAgent)}`),
    );
  }
  if (report.failedByEveryAgent.length > 0) {
    lines.push(`  Failed by every agent: ${listed(report.failedByEveryAgent)}`);
  }
  if (lines.length === 0) return "";
  return `\nScenarios over their attempts (cancels and infrastructure errors left out):\n${lines.join("\n")}\n`;
}

/** The verdict of each pair of agents, Holm-adjusted when there are several; "" for one agent. */
export function comparisonsText(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return "";
  const head =
    comparisons.length === 1
      ? "Comparison (paired by scenario):"
      : `Comparisons (paired by scenario; p-values Holm-adjusted over ${comparisons.length}):`;
  const lines = comparisons.map(
    (c) =>
      `  ${sanitize(verdict(c))}${c.excluded.onlyA.length + c.excluded.onlyB.length > 0 ? ` (on the ${c.diff.n} scenarios both have)` : ""}`,
  );
  return `\n${head}\n${lines.join("\n")}\n`;
}

export interface SummaryOptions {
  extended: boolean;
  paint?: Paint;
  /** Trials running now per agent label, for a running job. */
  running?: ReadonlyMap<string, number>;
  nowMs?: number;
  /** How intervals are made (default: t over scenarios). */
  intervals?: IntervalMethod;
  /** Seed and draws of whatever the comparisons draw at random (default DEFAULT_BOOTSTRAP). */
  random?: { seed: number; iterations: number };
}

/** The default seed and draws of every bootstrap: fixed, so the same results always read the same. */
export const DEFAULT_BOOTSTRAP = { seed: 1, iterations: 2_000 } as const;

/** Every pair of the job's agents that share a scenario, compared (Holm-adjusted); [] for one agent. */
export function jobComparisons(
  job: JobDoc,
  results: readonly TrialDigest[],
  bootstrap: { seed: number; iterations: number } = DEFAULT_BOOTSTRAP,
): Comparison[] {
  const sides = sidesOfJob({
    id: job.id,
    agents: job.spec.agents.map(agentLabel),
    tallies: talliesOf(results),
  }).filter((s) => [...s.scenarios.values()].some((t) => t.n > 0));
  // A pair with no scenario in common (an agent whose every trial was cancelled, say) is left out.
  const each = allPairs(sides).flatMap(([a, b]) => {
    try {
      return [compareTwo(a, b, { ...bootstrap, commonOnly: true })];
    } catch (err) {
      if (err instanceof UsageError) return [];
      throw err;
    }
  });
  return holmAdjusted(each);
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
  const method = opts.intervals ?? {};
  const summaries = summarizeByAgent(job.spec.agents, results, method);
  if (summaries.some((s) => s.total > 0)) {
    parts.push(detailsTable(summaries, paint));
    parts.push(passAtKTable(summaries, paint));
    parts.push(
      `\n${intervalNote(summaries, method)
        .split("\n")
        .map((l) => paint.dim(l))
        .join("\n")}\n`,
    );
    parts.push(scenariosText(flakyReport(scenarioMatrix(job.spec.agents, results)), paint));
    if (job.state !== "running") {
      parts.push(comparisonsText(jobComparisons(job, results, opts.random)));
    }
  }
  if (job.state === "failed" && job.failure_reason && results.length > 0) {
    parts.push(`\n${paint.red(`Job failed: ${sanitize(job.failure_reason)}`)}\n`);
  }
  return parts.join("");
}
