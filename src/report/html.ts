import { byTrialId, type TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc, TrialStatus } from "../core/schemas.js";
import { verdict } from "./compare.js";
import { flakyReport, type MatrixCell, type ScenarioMatrix, scenarioMatrix } from "./flaky.js";
import { formatDuration, sanitize } from "./format.js";
import type { Interval } from "./stats.js";
import { type AgentSummary, median, percentile, summarizeByAgent } from "./summary.js";
import { formatElapsed, jobComparisons } from "./summary-text.js";

// `rli bmj report --html`: one page that opens anywhere without a network. Inline CSS and SVG only, no
// scripts, no URLs; every string from the job is stripped of terminal escapes and HTML-escaped.

export interface HtmlReportOptions {
  /** ISO time shown as the page's generation time; the page depends on nothing else outside the job. */
  generatedAt: string;
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for an element or attribute value: terminal escapes stripped, HTML-escaped. */
export function esc(s: string): string {
  return sanitize(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const fixed3 = (n: number): string => n.toFixed(3);
/** An SVG coordinate: one decimal is finer than a pixel and keeps the page small. */
const px = (n: number): string => String(Math.round(n * 10) / 10);

function utc(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? esc(iso)
    : `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function usd(n: number): string {
  if (n === 0) return "$0";
  return `$${n.toFixed(n < 0.01 ? 5 : n < 10 ? 4 : 2)}`;
}

/** `0.500 [0.210, 0.790]`, or `—` without an interval. */
function intervalText(i: Interval | null): string {
  return i === null
    ? "—"
    : `${fixed3(i.mean)} <small>[${fixed3(i.low)}, ${fixed3(i.high)}]</small>`;
}

const ERROR_KINDS: readonly TrialStatus[] = [
  "agent_timeout",
  "agent_error",
  "infra_error",
  "verifier_error",
  "cancelled",
];

/** Dots in the distributions: coloured by outcome. */
function outcomeClass(status: TrialStatus): string {
  return status === "passed" ? "o-pass" : status === "failed" ? "o-fail" : "o-error";
}

const CSS = `
:root{color-scheme:light;--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--soft:#f5f7fa;--accent:#3d5a98;
--pass:#17703a;--pass-bg:#dcf3e3;--fail:#b42318;--fail-bg:#fde5e2;--flaky:#8a5a00;--flaky-bg:#fff1c2;
--none:#7b8794;--none-bg:#f0f2f5}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1120px;margin:0 auto;padding:0 24px}
header{padding-top:28px}
footer{padding-bottom:28px;margin-top:32px;color:var(--muted);font-size:12px}
h1{font-size:24px;margin:0}
h2{font-size:17px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:18px 0 6px}
p{margin:6px 0}
small,.muted{color:var(--muted)}
.nowrap{white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:16px 0 0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.state{display:inline-block;padding:0 9px;border-radius:10px;font-size:12px;font-weight:600;background:var(--none-bg);color:var(--none)}
.state-completed{background:var(--pass-bg);color:var(--pass)}
.state-failed{background:var(--fail-bg);color:var(--fail)}
.state-running{background:#e3ebfa;color:var(--accent)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);color:var(--muted);font-size:12px;font-weight:600;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;margin:0 4px 2px 0;padding:0 7px;border-radius:9px;font-size:12px;background:var(--fail-bg);color:var(--fail);white-space:nowrap}
tbody th[scope=row]{white-space:nowrap}
#matrix th[scope=row]{font-weight:400}
#matrix td{text-align:center;white-space:nowrap;min-width:64px;border:2px solid #fff}
#matrix td.pass{background:var(--pass-bg);color:var(--pass)}
#matrix td.fail{background:var(--fail-bg);color:var(--fail)}
#matrix td.flaky{background:var(--flaky-bg);color:var(--flaky);font-weight:600}
#matrix td.none{background:var(--none-bg);color:var(--none)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:8px 0}
.key{display:inline-block;width:11px;height:11px;border-radius:3px;vertical-align:-1px;margin-right:5px}
.key.pass,.key.o-pass{background:var(--pass)}.key.fail,.key.o-fail{background:var(--fail)}
.key.flaky{background:#e0a800}.key.none{background:var(--none-bg);border:1px solid var(--line)}.key.o-error{background:#e0a800}
ul.names{margin:4px 0;padding-left:20px}
figure{margin:14px 0}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
ul.verdicts{padding-left:20px}ul.verdicts li{margin:4px 0}li.decisive{font-weight:600}
p.note{color:var(--muted);font-size:13px}
p.empty{padding:18px;background:var(--soft);border-radius:6px;color:var(--muted)}
svg{display:block;max-width:100%;height:auto}
svg text{font-size:12px;fill:var(--fg)}
svg .tick text,svg text.note{fill:var(--muted);font-size:11px}
svg .grid{stroke:var(--line)}
svg .track{fill:var(--soft)}
svg .bar{fill:#8fa8dc}
svg .ci{stroke:var(--accent);stroke-width:2}
svg .box{fill:#e3ebfa;stroke:var(--accent)}
svg .med{stroke:var(--accent);stroke-width:2.5}
svg .whisker{stroke:var(--accent)}
svg .o-pass{fill:var(--pass)}svg .o-fail{fill:var(--fail)}svg .o-error{fill:#e0a800}
svg circle{fill-opacity:.75}
`;

/** The job's header: name, id, state, dates and what ran. */
function header(job: JobDoc, digests: readonly TrialDigest[], generatedAt: string): string {
  const s = job.spec;
  const source = Array.isArray(s.benchmark.source)
    ? s.benchmark.source.join(", ")
    : s.benchmark.source;
  const shownSource = source.length > 200 ? `${source.slice(0, 197)}...` : source;
  const planned = s.scenarios.length * s.agents.length * s.n_attempts;
  const rows: [string, string][] = [
    ["ID", `<code>${esc(job.id)}</code>`],
    ["State", `<span class="state state-${esc(job.state)}">${esc(job.state)}</span>`],
    ["Benchmark", `${esc(shownSource)} <small>(${esc(s.benchmark.kind)})</small>`],
    ["Agents", s.agents.map((a) => esc(agentLabel(a))).join(", ")],
    [
      "Trials",
      `${digests.length} of ${planned} <small>(${plural(s.scenarios.length, "scenario")} × ${plural(s.agents.length, "agent")} × ${plural(s.n_attempts, "attempt")})</small>`,
    ],
    ["Backend", `${esc(s.backend)} <small>(${esc(s.sandbox)})</small>`],
    ["Created", utc(job.created_at)],
  ];
  if (job.finished_at !== null) {
    const took = Date.parse(job.finished_at) - Date.parse(job.created_at);
    const tookText = Number.isNaN(took) ? "" : ` <small>(${formatDuration(took)})</small>`;
    rows.push(["Finished", `${utc(job.finished_at)}${tookText}`]);
  }
  if (job.resumed_at !== undefined && job.resumed_at.length > 0) {
    rows.push(["Resumed", job.resumed_at.map(utc).join(", ")]);
  }
  if (job.failure_reason !== null) rows.push(["Failure", esc(job.failure_reason)]);
  const meta = Object.entries(s.metadata);
  if (meta.length > 0) {
    rows.push(["Metadata", meta.map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`).join(" ")]);
  }
  return `<header id="job" data-job-id="${esc(job.id)}" data-state="${esc(job.state)}">
<h1>${esc(s.name)}</h1>
<dl class="meta">
${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("\n")}
</dl>
<p class="muted">Report generated ${utc(generatedAt)}</p>
</header>`;
}

/** pass@k for a few k (1, 2, 3, 5, 10, … and the largest): all of them would not fit a cell. */
function passAtKText(values: readonly number[]): string {
  if (values.length === 0) return "—";
  const ks = [1, 2, 3, 5, 10, 20, 50, 100].filter((k) => k <= values.length);
  if (!ks.includes(values.length)) ks.push(values.length);
  return ks.map((k) => `<span class="nowrap">@${k} ${fixed3(values[k - 1]!)}</span>`).join("<br>");
}

function costText(s: AgentSummary): string {
  if (s.total === 0) return "—";
  if (s.costUsd === null) return `unknown <small>(${plural(s.total, "trial")})</small>`;
  const unknown =
    s.unknownCost > 0 ? `<br><small>unknown for ${plural(s.unknownCost, "trial")}</small>` : "";
  return `${usd(s.costUsd)}${unknown}`;
}

function errorsCell(s: AgentSummary): string {
  const kinds = ERROR_KINDS.filter((k) => s.byStatus[k] > 0);
  if (kinds.length === 0) return `<span class="muted">none</span>`;
  return kinds.map((k) => `<span class="badge">${k} ${s.byStatus[k]}</span>`).join("");
}

function agentTable(summaries: readonly AgentSummary[]): string {
  const rows = summaries.map((s) => {
    const passed =
      s.total === 0
        ? "0"
        : `${s.passed} <small>(${Math.round((100 * s.passed) / s.total)}%)</small>`;
    const times =
      s.medianDurationMs === null || s.p90DurationMs === null
        ? "—"
        : `${formatElapsed(s.medianDurationMs)} / ${formatElapsed(s.p90DurationMs)}`;
    return `<tr data-agent="${esc(s.label)}">
<th scope="row">${esc(s.label)}</th>
<td class="num">${s.total}</td>
<td class="num">${passed}</td>
<td class="num score">${intervalText(s.scoreInterval)}</td>
<td class="num">${intervalText(s.scoreIntervalExcludingInfra)}</td>
<td class="num">${passAtKText(s.passAtK)}</td>
<td class="num">${times}</td>
<td class="num">${costText(s)}</td>
<td>${errorsCell(s)}</td>
</tr>`;
  });
  return `<div class="scroll"><table id="agent-scores">
<thead><tr><th>Agent</th><th>Trials</th><th>Passed</th><th>Score [95% CI]</th><th>Without infra errors</th><th>pass@k</th><th>Median / p90 time</th><th>Cost</th><th>Errors</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>
<p class="muted">Score: the mean over scenarios of each scenario's mean score (unscored trials count as 0,
cancelled trials are left out), with a 95% t-interval over scenarios. pass@k: the chance that at least one
of k attempts passes, averaged over scenarios.</p>`;
}

const CHART_WIDTH = 960;
const LABEL_WIDTH = 200;
const NOTE_WIDTH = 260;
const ROW_HEIGHT = 34;
const AXIS_HEIGHT = 26;

/** An agent's label for a chart row: long ones cut, the whole label kept as the row's tooltip. */
function rowLabel(label: string, y: number): string {
  const clean = sanitize(label);
  const shown = clean.length > 26 ? `${clean.slice(0, 25)}…` : clean;
  return `<text x="${LABEL_WIDTH - 10}" y="${px(y + 4)}" text-anchor="end"><title>${esc(clean)}</title>${esc(shown)}</text>`;
}

/** Vertical grid lines with their labels under the plot. */
function axis(
  ticks: readonly number[],
  x: (v: number) => number,
  top: number,
  bottom: number,
  label: (v: number) => string,
): string {
  return `<g class="tick">${ticks
    .map(
      (t) =>
        `<line class="grid" x1="${px(x(t))}" x2="${px(x(t))}" y1="${top}" y2="${bottom}"/><text x="${px(x(t))}" y="${bottom + 16}" text-anchor="middle">${label(t)}</text>`,
    )
    .join("")}</g>`;
}

/** Per agent: a bar for the mean score and a whisker for its 95% interval, on a 0–1 axis. */
function scoreChart(summaries: readonly AgentSummary[]): string {
  const plotW = CHART_WIDTH - LABEL_WIDTH - NOTE_WIDTH;
  const x = (v: number): number => LABEL_WIDTH + v * plotW;
  const top = 8;
  const bottom = top + summaries.length * ROW_HEIGHT;
  const rows = summaries.map((s, i) => {
    const y = top + i * ROW_HEIGHT + ROW_HEIGHT / 2;
    const iv = s.scoreInterval;
    const note =
      iv === null ? "no trials" : `${fixed3(iv.mean)} [${fixed3(iv.low)}, ${fixed3(iv.high)}]`;
    const marks =
      iv === null
        ? ""
        : `<rect class="bar" x="${px(x(0))}" y="${px(y - 9)}" width="${px(x(iv.mean) - x(0))}" height="18"/>` +
          `<line class="ci" x1="${px(x(iv.low))}" x2="${px(x(iv.high))}" y1="${px(y)}" y2="${px(y)}"/>` +
          `<line class="ci" x1="${px(x(iv.low))}" x2="${px(x(iv.low))}" y1="${px(y - 6)}" y2="${px(y + 6)}"/>` +
          `<line class="ci" x1="${px(x(iv.high))}" x2="${px(x(iv.high))}" y1="${px(y - 6)}" y2="${px(y + 6)}"/>`;
    return `<g class="row" data-agent="${esc(s.label)}" data-mean="${iv === null ? "" : fixed3(iv.mean)}">${rowLabel(s.label, y)}<rect class="track" x="${px(x(0))}" y="${px(y - 9)}" width="${px(plotW)}" height="18"/>${marks}<text class="note" x="${px(x(1) + 10)}" y="${px(y + 4)}">${note}</text></g>`;
  });
  const height = bottom + AXIS_HEIGHT;
  return `<figure id="chart-scores">
<svg viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" role="img" aria-label="Mean score per agent with 95% intervals">
${axis([0, 0.25, 0.5, 0.75, 1], x, top, bottom, (t) => String(t))}
${rows.join("\n")}
</svg>
<figcaption>Mean score per agent; the whisker is the 95% interval.</figcaption>
</figure>`;
}

/** Nice axis steps: the smallest candidate that gives at most six intervals up to `max`. */
function ticksFor(max: number, steps: readonly number[]): number[] {
  const step = steps.find((s) => max / s <= 6) ?? steps[steps.length - 1]!;
  const n = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => i * step);
}

const DURATION_STEPS = [
  100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 86_400_000,
];

/** 1, 2, 5 × 10^k from 10^-4 up to past `max`. */
function decimalSteps(max: number): number[] {
  const out: number[] = [];
  for (let e = -4; 10 ** e <= Math.max(max, 1e-4) * 10; e++) {
    for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  }
  return out;
}

function usdTick(v: number, step: number): string {
  const decimals = Math.min(5, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return `$${v.toFixed(decimals)}`;
}

interface StripRow {
  label: string;
  /** One value per trial with a known value, with the trial's outcome. */
  points: { value: number; status: TrialStatus; title: string }[];
  /** The note at the row's right end (escaped HTML-free text). */
  note: string;
}

/** Rows past this many trials draw the box alone: thousands of dots say nothing more and weigh a lot. */
const MAX_DOTS = 2000;

/**
 * Per agent: a box from the first to the third quartile with the median, whiskers to the extremes, and
 * one dot per trial coloured by its outcome (spread vertically by a fixed sequence, so the page is the
 * same every time).
 */
function stripChart(
  id: string,
  caption: string,
  rows: readonly StripRow[],
  ticks: readonly number[],
  tickLabel: (v: number) => string,
): string {
  const plotW = CHART_WIDTH - LABEL_WIDTH - NOTE_WIDTH;
  const max = ticks[ticks.length - 1]!;
  const x = (v: number): number => LABEL_WIDTH + (max === 0 ? 0 : (v / max) * plotW);
  const top = 8;
  const bottom = top + rows.length * ROW_HEIGHT;
  const drawn = rows.map((r, i) => {
    const y = top + i * ROW_HEIGHT + ROW_HEIGHT / 2;
    const sorted = r.points.map((p) => p.value).sort((a, b) => a - b);
    let marks = "";
    if (sorted.length > 0) {
      const q1 = percentile(sorted, 0.25)!;
      const q3 = percentile(sorted, 0.75)!;
      const med = median(sorted)!;
      const lo = sorted[0]!;
      const hi = sorted[sorted.length - 1]!;
      marks +=
        `<line class="whisker" x1="${px(x(lo))}" x2="${px(x(hi))}" y1="${px(y)}" y2="${px(y)}"/>` +
        `<rect class="box" x="${px(x(q1))}" y="${px(y - 8)}" width="${px(x(q3) - x(q1))}" height="16"/>` +
        `<line class="med" x1="${px(x(med))}" x2="${px(x(med))}" y1="${px(y - 8)}" y2="${px(y + 8)}"/>`;
      if (r.points.length <= MAX_DOTS) {
        marks += r.points
          .map((p, j) => {
            const jitter = (((j * 0.6180339887) % 1) - 0.5) * (ROW_HEIGHT - 10);
            return `<circle class="${outcomeClass(p.status)}" cx="${px(x(p.value))}" cy="${px(y + jitter)}" r="3"><title>${esc(p.title)}</title></circle>`;
          })
          .join("");
      }
    }
    return `<g class="row" data-agent="${esc(r.label)}" data-n="${sorted.length}">${rowLabel(r.label, y)}${marks}<text class="note" x="${px(LABEL_WIDTH + plotW + 10)}" y="${px(y + 4)}">${esc(r.note)}</text></g>`;
  });
  const height = bottom + AXIS_HEIGHT;
  return `<figure id="${id}">
<svg viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" role="img" aria-label="${esc(caption)}">
${axis(ticks, x, top, bottom, tickLabel)}
${drawn.join("\n")}
</svg>
<div class="legend"><span><i class="key o-pass"></i>passed</span><span><i class="key o-fail"></i>failed</span><span><i class="key o-error"></i>timeout or error</span><span>box: quartiles and median</span></div>
<figcaption>${esc(caption)}</figcaption>
</figure>`;
}

function dotTitle(d: TrialDigest): string {
  return `${d.scenario_id} #${d.attempt} ${d.status}`;
}

function trialsOf(label: string, digests: readonly TrialDigest[]): TrialDigest[] {
  return digests.filter((d) => agentLabel(d.agent) === label).sort(byTrialId);
}

function durationChart(
  summaries: readonly AgentSummary[],
  digests: readonly TrialDigest[],
): string {
  const rows = summaries.map((s) => ({
    label: s.label,
    points: trialsOf(s.label, digests).map((d) => ({
      value: d.duration_ms,
      status: d.status,
      title: `${dotTitle(d)}: ${formatElapsed(d.duration_ms)}`,
    })),
    note:
      s.medianDurationMs === null
        ? "no trials"
        : `median ${formatElapsed(s.medianDurationMs)}, p90 ${formatElapsed(s.p90DurationMs!)}`,
  }));
  const max = Math.max(1000, ...rows.flatMap((r) => r.points.map((p) => p.value)));
  return stripChart(
    "chart-durations",
    "Duration of each trial, per agent.",
    rows,
    ticksFor(max, DURATION_STEPS),
    (v) => (v === 0 ? "0" : formatElapsed(v)),
  );
}

function costChart(summaries: readonly AgentSummary[], digests: readonly TrialDigest[]): string {
  const total = summaries.reduce((a, s) => a + s.total, 0);
  if (summaries.every((s) => s.costUsd === null)) {
    return `<figure id="chart-costs" data-empty="true"><p class="empty">No cost data: no trial reported its cost${total > 0 ? ` (cost unknown for ${plural(total, "trial")})` : ""}.</p></figure>`;
  }
  const rows = summaries.map((s) => {
    const points = trialsOf(s.label, digests).flatMap((d) =>
      d.usage.cost_usd === null
        ? []
        : [
            {
              value: d.usage.cost_usd,
              status: d.status,
              title: `${dotTitle(d)}: ${usd(d.usage.cost_usd)}`,
            },
          ],
    );
    const parts: string[] = [];
    if (points.length > 0) {
      parts.push(`mean ${usd(points.reduce((a, p) => a + p.value, 0) / points.length)}`);
    }
    if (s.unknownCost > 0) parts.push(`cost unknown for ${plural(s.unknownCost, "trial")}`);
    return { label: s.label, points, note: parts.length > 0 ? parts.join(", ") : "no trials" };
  });
  const max = Math.max(0.01, ...rows.flatMap((r) => r.points.map((p) => p.value)));
  const ticks = ticksFor(max, decimalSteps(max));
  const step = ticks[1]!;
  return stripChart(
    "chart-costs",
    "Cost of each trial with a known cost, per agent (USD).",
    rows,
    ticks,
    (v) => (v === 0 ? "$0" : usdTick(v, step)),
  );
}

function cellClass(c: MatrixCell | null): string {
  if (c === null) return "none";
  return c.consistency === "always_pass"
    ? "pass"
    : c.consistency === "always_fail"
      ? "fail"
      : "flaky";
}

function cellTitle(
  scenario: string,
  agent: string,
  c: MatrixCell | null,
  excluded: number,
): string {
  const left = excluded > 0 ? `; ${excluded} left out (infrastructure error or cancelled)` : "";
  if (c === null) return `${agent} on ${scenario}: no attempt counted${left}`;
  return `${agent} on ${scenario}: ${c.passed} of ${plural(c.attempts, "attempt")} passed, mean score ${fixed3(c.meanScore)}${left}`;
}

/** Attempts left out (infrastructure errors, cancels) per scenario and agent, null cells included. */
function excludedOf(digests: readonly TrialDigest[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of digests) {
    if (d.status !== "cancelled" && d.status !== "infra_error") continue;
    const key = `${d.scenario_id}\u0000${agentLabel(d.agent)}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

function matrixTable(m: ScenarioMatrix, digests: readonly TrialDigest[]): string {
  if (m.scenarios.length === 0)
    return `<p class="empty" id="matrix">No trial has finished yet.</p>`;
  const excluded = excludedOf(digests);
  const head = m.agents
    .map((a) => `<th scope="col" data-agent="${esc(a)}">${esc(a)}</th>`)
    .join("");
  const rows = m.scenarios.map((scenario, s) => {
    const cells = m.agents.map((agent, a) => {
      const c = m.cells[s]![a]!;
      const left = excluded.get(`${scenario}\u0000${agent}`) ?? 0;
      const partial =
        c !== null && Math.abs(c.meanScore - c.passed / c.attempts) > 1e-9
          ? ` <small>${fixed3(c.meanScore)}</small>`
          : "";
      const text = c === null ? "—" : `${c.passed}/${c.attempts}${partial}`;
      const data = c === null ? "" : ` data-passed="${c.passed}" data-attempts="${c.attempts}"`;
      return `<td class="${cellClass(c)}" data-agent="${esc(agent)}"${data} title="${esc(cellTitle(scenario, agent, c, left))}">${text}</td>`;
    });
    return `<tr data-scenario="${esc(scenario)}"><th scope="row" class="mono">${esc(scenario)}</th>${cells.join("")}</tr>`;
  });
  return `<div class="legend"><span><i class="key pass"></i>passed every attempt</span><span><i class="key fail"></i>passed none</span><span><i class="key flaky"></i>flaky: passed some</span><span><i class="key none"></i>— no attempt counted</span><span>cells: passed/attempts (mean score when partly scored); infrastructure errors and cancelled trials are not counted</span></div>
<div class="scroll"><table id="matrix">
<thead><tr><th scope="col">Scenario</th>${head}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>`;
}

function nameList(id: string, names: readonly string[]): string {
  if (names.length === 0) return `<p id="${id}" class="muted">none</p>`;
  return `<ul id="${id}" class="names">${names.map((n) => `<li class="mono">${esc(n)}</li>`).join("")}</ul>`;
}

function flakySection(m: ScenarioMatrix): string {
  const f = flakyReport(m);
  const parts: string[] = [];
  if (!f.repeated && m.scenarios.length > 0) {
    parts.push(
      `<p class="muted">Each scenario was counted once per agent, so none can show as flaky; run with <code>--n-attempts 2</code> or more to see consistency.</p>`,
    );
  }
  const rows = f.perAgent.map(
    (a) => `<tr data-agent="${esc(a.agent)}"><th scope="row">${esc(a.agent)}</th>
<td class="num">${a.alwaysPass.length}</td><td class="num">${a.alwaysFail.length}</td><td class="num">${a.flaky.length}</td>
<td>${a.flaky.length === 0 ? `<span class="muted">none</span>` : a.flaky.map((s) => `<code>${esc(s)}</code>`).join("<br>")}</td></tr>`,
  );
  parts.push(`<div class="scroll"><table id="flaky-per-agent">
<thead><tr><th>Agent</th><th>Always pass</th><th>Always fail</th><th>Flaky</th><th>Flaky scenarios</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>`);
  parts.push(
    `<h3>Flaky for every agent <small>(likely a nondeterministic scenario)</small></h3>`,
    nameList("flaky-every-agent", f.flakyForEveryAgent),
  );
  if (m.agents.length > 1) {
    parts.push(
      `<h3>Failed by every agent <small>(broken, or just hard)</small></h3>`,
      nameList("failed-every-agent", f.failedByEveryAgent),
    );
  }
  return parts.join("\n");
}

/** The verdict of each pair of agents (Holm-adjusted beyond two); "" for one agent or a running job. */
function comparisons(job: JobDoc, digests: readonly TrialDigest[]): string {
  const cs = job.state === "running" ? [] : jobComparisons(job, digests);
  if (cs.length === 0) return "";
  const items = cs.map(
    (c) => `<li class="${c.decisive ? "decisive" : "undecided"}">${esc(verdict(c))}</li>`,
  );
  const note =
    cs.length > 1
      ? `Paired by scenario; p-values Holm-adjusted over ${cs.length} comparisons.`
      : "Paired by scenario.";
  return section(
    "comparisons",
    "Comparison",
    `<ul class="verdicts">\n${items.join("\n")}\n</ul>\n<p class="note">${note} Decisive: p &lt; 0.05.</p>`,
  );
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${title}</h2>\n${body}\n</section>`;
}

/**
 * The report page of a job: one HTML document with inline CSS and SVG charts, no scripts and no
 * references to anything outside it. The same job, trials and `generatedAt` give the same bytes.
 */
export function htmlReport(
  job: JobDoc,
  digests: readonly TrialDigest[],
  opts: HtmlReportOptions,
): string {
  const summaries = summarizeByAgent(job.spec.agents, digests);
  const matrix = scenarioMatrix(job.spec.agents, digests);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rli benchmark-job report">
<title>${esc(job.spec.name)} · ${esc(job.id)}</title>
<style>${CSS}</style>
</head>
<body>
${header(job, digests, opts.generatedAt)}
<main>
${section("agents", "Agents", `${agentTable(summaries)}\n${scoreChart(summaries)}`)}
${comparisons(job, digests)}
${section("scenarios", "Scenarios × agents", matrixTable(matrix, digests))}
${section("flaky", "Consistency across attempts", flakySection(matrix))}
${section("durations", "Trial durations", durationChart(summaries, digests))}
${section("costs", "Cost per trial", costChart(summaries, digests))}
</main>
<footer>rli benchmark-job report · ${esc(job.id)} · generated ${utc(opts.generatedAt)}</footer>
</body>
</html>
`;
}
