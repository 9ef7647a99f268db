import { byTrialId, retriesOf, type TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc } from "../core/schemas.js";
import { sanitize } from "./format.js";
import { summarizeByAgent } from "./summary.js";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * Text safe anywhere in an XML 1.0 document (attribute values included): terminal escapes and line
 * breaks go as in every text view, characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/U+FFFF)
 * are dropped, markup is escaped.
 */
export function xmlEscape(s: string): string {
  return sanitize(s)
    .replace(/\p{Cs}|[\uFFFE\uFFFF]/gu, "")
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function attrs(pairs: readonly [string, string | number][]): string {
  return pairs.map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`).join("");
}

function properties(indent: string, pairs: readonly [string, string | null][]): string[] {
  const known = pairs.filter((p): p is [string, string] => p[1] !== null);
  if (known.length === 0) return [];
  return [
    `${indent}<properties>`,
    ...known.map(
      ([name, value]) =>
        `${indent}  <property${attrs([
          ["name", name],
          ["value", value],
        ])}/>`,
    ),
    `${indent}</properties>`,
  ];
}

/** What the trial's outcome adds inside its testcase: nothing for a pass. */
function outcome(r: TrialDigest): string | null {
  switch (r.status) {
    case "passed":
      return null;
    case "failed":
      return `<failure${attrs([
        ["message", r.score === null ? "no score" : `score ${r.score.toFixed(3)}`],
        ["type", "failed"],
      ])}/>`;
    case "cancelled":
      return `<skipped${attrs([["message", "cancelled"]])}/>`;
    default:
      return `<error${attrs([
        ["message", r.exception?.type ?? r.status],
        ["type", r.status],
      ])}/>`;
  }
}

function testcase(r: TrialDigest): string[] {
  const retries = retriesOf(r);
  const inner = [
    ...properties("      ", [
      ["trial_id", r.trial_id],
      ["score", r.score === null ? null : String(r.score)],
      ["infra_retries", retries > 0 ? String(retries) : null],
    ]),
  ];
  const result = outcome(r);
  if (result !== null) inner.push(`      ${result}`);
  const open = `    <testcase${attrs([
    ["classname", r.scenario_id],
    ["name", `${r.scenario_id} [attempt ${r.attempt}]`],
    ["time", seconds(r.duration_ms)],
  ])}`;
  return inner.length === 0 ? [`${open}/>`] : [`${open}>`, ...inner, "    </testcase>"];
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function countsOf(trials: readonly TrialDigest[]): Counts {
  const c: Counts = { tests: trials.length, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const r of trials) {
    c.ms += r.duration_ms;
    if (r.status === "failed") c.failures++;
    else if (r.status === "cancelled") c.skipped++;
    else if (r.status !== "passed") c.errors++;
  }
  return c;
}

const countAttrs = (c: Counts): [string, number | string][] => [
  ["tests", c.tests],
  ["failures", c.failures],
  ["errors", c.errors],
  ["skipped", c.skipped],
  ["time", seconds(c.ms)],
];

/**
 * The job as JUnit XML (the dialect GitHub, GitLab and Jenkins read): a testsuite per agent in the
 * job's order, a testcase per trial in trial-id order. A failed score is a `failure`, a timeout or any
 * error an `error`, a cancelled trial `skipped`. Trials of agents the job does not list are left out,
 * as in every other summary, so the counts match `summary`. A running job gives the trials so far.
 */
export function junitXml(job: JobDoc, results: readonly TrialDigest[]): string {
  const summaries = summarizeByAgent(job.spec.agents, results);
  const created = Date.parse(job.created_at);
  const timestamp = Number.isNaN(created) ? null : new Date(created).toISOString().slice(0, 19);
  const suites: string[] = [];
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const s of summaries) {
    const trials = results.filter((r) => agentLabel(r.agent) === s.label).sort(byTrialId);
    const c = countsOf(trials);
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.skipped += c.skipped;
    total.ms += c.ms;
    const i = s.scoreInterval;
    suites.push(
      `  <testsuite${attrs([
        ["name", s.label],
        ...countAttrs(c),
        ...(timestamp === null ? [] : [["timestamp", timestamp] as [string, string]]),
      ])}>`,
      ...properties("    ", [
        ["job_id", job.id],
        ["job_state", job.state],
        ["job_failure_reason", job.failure_reason],
        ["score", i === null ? null : i.mean.toFixed(3)],
        ["score_ci95", i === null ? null : `[${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`],
      ]),
      ...trials.flatMap(testcase),
      "  </testsuite>",
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs([["name", job.spec.name], ...countAttrs(total)])}>`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}
