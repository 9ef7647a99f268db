import type { TrialDigest } from "../core/digest.js";
import type { JobDoc } from "../core/schemas.js";
import type { Comparison } from "./compare.js";
import { points, pText, sideNames, signed } from "./compare-view.js";
import { flakyReport, type MatrixCell, scenarioMatrix } from "./flaky.js";
import { sanitize } from "./format.js";
import type { Interval } from "./stats.js";
import { type AgentSummary, summarizeByAgent } from "./summary.js";
import {
  DEFAULT_BOOTSTRAP,
  errorsByKind,
  formatElapsed,
  jobComparisons,
  retriedLine,
} from "./summary-text.js";

/** More scenario rows than this (a PR comment holds 65,536 characters) and the matrix is cut. */
export const MATRIX_ROWS = 200;
/** Scenario names listed per line of the flaky section before "and n more". */
const LISTED = 20;

/**
 * Inline Markdown that renders as the literal text: terminal escapes and line breaks go as in every
 * text view, HTML is entity-escaped (GitHub renders HTML), and the characters that open emphasis, code,
 * links, math or strike-through or end a table cell are backslash-escaped.
 */
export function mdEscape(s: string): string {
  return sanitize(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~$]/g, "\\$&");
}

/** A code span that holds any text: its fence is longer than any run of backticks inside. */
function code(s: string): string {
  const t = sanitize(s);
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = t.startsWith("`") || t.endsWith("`") ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

const row = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;

/** `0.643 [0.412, 0.874]`; the mean alone over one scenario (no interval to speak of); `-` for none. */
function scoreCell(i: Interval | null): string {
  if (i === null) return "-";
  const mean = i.mean.toFixed(3);
  return i.n < 2 ? mean : `${mean} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;
}

/** pass@1 and, with more attempts per scenario, pass@K for the most K every scenario had. */
function passAtKCell(s: AgentSummary): string {
  const k = s.passAtK.length;
  if (k === 0) return "-";
  const first = `pass@1 ${s.passAtK[0]!.toFixed(3)}`;
  return k === 1 ? first : `${first}, pass@${k} ${s.passAtK[k - 1]!.toFixed(3)}`;
}

function timeCell(s: AgentSummary): string {
  if (s.medianDurationMs === null || s.p90DurationMs === null) return "-";
  return `${formatElapsed(s.medianDurationMs)} / ${formatElapsed(s.p90DurationMs)}`;
}

/** As the text summary: `$0.0123`, two decimals from $10, `*` when some trials' cost is unknown. */
function costCell(s: AgentSummary): string {
  if (s.costUsd === null) return "-";
  const cost = `$${s.costUsd.toFixed(s.costUsd < 9.99995 ? 4 : 2)}`;
  return mdEscape(s.unknownCost > 0 ? `${cost}*` : cost);
}

function agentTable(summaries: readonly AgentSummary[]): string[] {
  const lines = [
    row([
      "Agent",
      "Trials",
      "Passed",
      "Score (95% CI)",
      "Excl. infra",
      "pass@k",
      "Median / p90 time",
      "Cost",
      "Errors",
    ]),
    row([":--", "--:", "--:", ":--", ":--", ":--", "--:", "--:", ":--"]),
    ...summaries.map((s) =>
      row([
        mdEscape(s.label),
        String(s.total),
        String(s.passed),
        scoreCell(s.scoreInterval),
        scoreCell(s.scoreIntervalExcludingInfra),
        passAtKCell(s),
        timeCell(s),
        costCell(s),
        errorsByKind(s),
      ]),
    ),
    "",
    "Scores count unscored trials as 0 and leave cancelled ones out; 95% intervals are clustered by " +
      "scenario. Excl. infra leaves infrastructure errors out as well.",
  ];
  const unknown = summaries.filter((s) => s.costUsd !== null && s.unknownCost > 0);
  if (unknown.length > 0) {
    const which = unknown.map(
      (s) => `${s.unknownCost} of ${s.total} trials of ${mdEscape(s.label)}`,
    );
    lines.push("", `\\* cost unknown for ${which.join(", ")}; the sum covers the others`);
  }
  const retried = summaries.filter((s) => s.retried > 0);
  if (retried.length > 0) {
    lines.push("", "Retried after an infrastructure error (only the last try counts):", "");
    for (const s of retried) lines.push(`- ${mdEscape(s.label)}: ${retriedLine(s)}`);
  }
  return lines;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).map(mdEscape).join(", ");
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}

/** The scenarios worth a look: flaky per agent, flaky for every agent, failed by every agent. */
function flakySection(job: JobDoc, results: readonly TrialDigest[]): string[] {
  const report = flakyReport(scenarioMatrix(job.spec.agents, results));
  const items: string[] = [];
  for (const a of report.perAgent) {
    if (a.flaky.length > 0) items.push(`- Flaky for ${mdEscape(a.agent)}: ${list(a.flaky)}`);
  }
  if (report.perAgent.length > 1 && report.flakyForEveryAgent.length > 0) {
    items.push(
      `- Flaky for every agent (maybe a nondeterministic scenario): ${list(report.flakyForEveryAgent)}`,
    );
  }
  if (report.failedByEveryAgent.length > 0) {
    items.push(
      `- Failed by every agent (broken, or just hard): ${list(report.failedByEveryAgent)}`,
    );
  }
  return items.length === 0 ? [] : ["", "### Scenarios to look at", "", ...items];
}

function matrixCell(c: MatrixCell | null): string {
  if (c === null) return "-";
  if (c.consistency === "always_pass") return "✅";
  if (c.consistency === "always_fail") return "❌";
  return `⚠️ ${c.passed}/${c.attempts}`;
}

/** The scenario × agent matrix, collapsed; past MATRIX_ROWS the rows every agent passed are left out first. */
function matrixSection(job: JobDoc, results: readonly TrialDigest[]): string[] {
  const m = scenarioMatrix(job.spec.agents, results);
  if (m.scenarios.length === 0) return [];
  const rows = m.scenarios.map((scenario, i) => ({ scenario, cells: m.cells[i]! }));
  const allPassed = (r: (typeof rows)[number]) =>
    r.cells.every((c) => c !== null && c.consistency === "always_pass");
  let shown = rows;
  let note: string[] = [];
  if (rows.length > MATRIX_ROWS) {
    const others = rows.filter((r) => !allPassed(r));
    shown = others.slice(0, MATRIX_ROWS);
    const hidden = rows.length - shown.length;
    note = [
      "",
      others.length <= MATRIX_ROWS
        ? `${hidden} scenarios every agent passed are not shown.`
        : `${hidden} more scenarios are not shown.`,
    ];
  }
  return [
    "",
    "<details>",
    `<summary>Scenarios × agents (${m.scenarios.length} scenarios)</summary>`,
    "",
    row(["Scenario", ...m.agents.map(mdEscape)]),
    row([":--", ...m.agents.map(() => ":-:")]),
    ...shown.map((r) => row([mdEscape(r.scenario), ...r.cells.map(matrixCell)])),
    ...note,
    "",
    "✅ passed every attempt · ❌ failed every attempt · ⚠️ passed/attempts · - no attempt counted " +
      "(none finished, or cancelled or infrastructure errors only)",
    "",
    "</details>",
  ];
}

/**
 * The job as Markdown for a GitHub step summary or a PR comment: a heading, the per-agent table, the
 * scenarios worth a look (only when there are some) and the scenario × agent matrix, collapsed. A running
 * job says so and covers the trials finished so far.
 */
export function markdownSummary(
  job: JobDoc,
  results: readonly TrialDigest[],
  random: { seed: number; iterations: number } = DEFAULT_BOOTSTRAP,
): string {
  const planned = job.spec.scenarios.length * job.spec.n_attempts * job.spec.agents.length;
  const summaries = summarizeByAgent(job.spec.agents, results);
  const finished = summaries.reduce((a, s) => a + s.total, 0);
  const trials = finished === planned ? `${finished} trials` : `${finished} of ${planned} trials`;
  const lines = [
    `## Benchmark job ${mdEscape(job.spec.name)}`,
    "",
    `**${job.state}** · ${trials} · job ${code(job.id)}`,
  ];
  if (job.state === "running")
    lines.push("", "Still running: the numbers cover the trials so far.");
  if (job.state === "failed" && job.failure_reason) {
    lines.push("", `**Job failed:** ${mdEscape(job.failure_reason)}`);
  }
  if (finished === 0) {
    lines.push("", job.state === "running" ? "No trial has finished yet." : "No trial finished.");
    return `${lines.join("\n")}\n`;
  }
  lines.push("", ...agentTable(summaries));
  const comparisons = job.state === "running" ? [] : jobComparisons(job, results, random);
  if (comparisons.length > 0) {
    lines.push("", "### Paired comparisons", "", compareMarkdown(comparisons).trimEnd());
  }
  lines.push(...flakySection(job, results), ...matrixSection(job, results));
  return `${lines.join("\n")}\n`;
}

/** `compare -o markdown`: a table for a PR comment or CI step summary. */
export function compareMarkdown(comparisons: readonly Comparison[]): string {
  const lines = [
    "| A | B | Scenarios | A − B (points, 95% CI) | p | Verdict |",
    "|---|---|--:|---|--:|---|",
  ];
  for (const c of comparisons) {
    const names = sideNames(c);
    const p = c.pAdjusted !== c.p ? `${pText(c.pAdjusted)} (Holm)` : pText(c.p);
    const v = c.decisive
      ? `**${mdEscape(names[c.diff.mean > 0 ? "a" : "b"])} better, decisive**`
      : `not decisive${c.moreScenarios === null ? "" : ` (about ${c.moreScenarios} more scenarios needed)`}`;
    lines.push(
      `| ${mdEscape(names.a)} | ${mdEscape(names.b)} | ${c.diff.n} | ${signed(c.diff.mean)} [${points(c.diff.low)}, ${points(c.diff.high)}] | ${p} | ${v} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
