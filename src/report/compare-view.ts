import type { z } from "zod";
import type { CompareDocumentSchema, ComparisonSchema } from "../core/compare-schema.js";
import type { Comparison } from "./compare.js";
import { verdict } from "./compare.js";
import { NO_COLOR, type Paint, sanitize } from "./format.js";

type ComparisonJson = z.infer<typeof ComparisonSchema>;
type CompareDocument = z.infer<typeof CompareDocumentSchema>;

/** Differences in points (score differences × 100), signed. */
export const signed = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
export const points = (x: number): string => (100 * x).toFixed(1);
export const pText = (p: number): string => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/** Names for the two sides: agent labels, with the job where the sides come from different jobs. */
export function sideNames(c: Comparison): { a: string; b: string } {
  if (c.a.job === c.b.job) return { a: sanitize(c.a.agent), b: sanitize(c.b.agent) };
  return { a: `${sanitize(c.a.agent)} (${c.a.job})`, b: `${sanitize(c.b.agent)} (${c.b.job})` };
}

function testLine(c: Comparison, names: { a: string; b: string }): string {
  const adjusted = c.pAdjusted !== c.p ? `, Holm-adjusted ${pText(c.pAdjusted)}` : "";
  if (c.test.method === "mcnemar_exact") {
    return `exact McNemar: only ${names.a} passed ${c.test.onlyA}, only ${names.b} passed ${c.test.onlyB}; ${pText(c.p)}${adjusted}`;
  }
  const how = c.test.exact
    ? "every sign pattern"
    : `${c.random?.signFlipSamples} sampled patterns, seed ${c.random?.seed}`;
  return `paired sign-flip test (${how}); ${pText(c.p)}${adjusted}`;
}

function intervalLine(c: Comparison): string {
  const how =
    c.intervalMethod === "t"
      ? "paired t-interval"
      : `paired bootstrap, ${c.random?.bootstrapDraws} draws, seed ${c.random?.seed}`;
  return `${signed(c.diff.mean)} points, 95% CI [${points(c.diff.low)}, ${points(c.diff.high)}] (${how})`;
}

/**
 * `compare` as text: per comparison the means, the paired difference with its interval, the test and
 * the verdict; with `extended`, every scenario's paired scores.
 */
export function compareText(
  comparisons: readonly Comparison[],
  opts: { extended?: boolean; paint?: Paint } = {},
): string {
  const paint = opts.paint ?? NO_COLOR;
  const out: string[] = [];
  if (comparisons.length > 1) {
    out.push(
      paint.dim(`${comparisons.length} comparisons; p-values Holm-adjusted over all of them.`),
      "",
    );
  }
  for (const c of comparisons) {
    const names = sideNames(c);
    out.push(paint.bold(`${names.a} vs ${names.b}: ${c.diff.n} scenarios paired`));
    const skipped = [...c.excluded.onlyA, ...c.excluded.onlyB].length;
    if (skipped > 0) {
      out.push(
        `  ${"Left out".padEnd(12)}${c.excluded.onlyA.length} only in ${names.a}, ${c.excluded.onlyB.length} only in ${names.b} (--common-only)`,
      );
    }
    out.push(
      `  ${"Mean score".padEnd(12)}${names.a} ${c.a.mean.toFixed(3)}, ${names.b} ${c.b.mean.toFixed(3)}`,
      `  ${"Difference".padEnd(12)}${intervalLine(c)}`,
      `  ${"Test".padEnd(12)}${testLine(c, names)}`,
    );
    const v = verdict(c, names);
    out.push(`  ${"Verdict".padEnd(12)}${c.decisive ? paint.bold(v) : v}`);
    if (opts.extended) {
      const width = Math.max(8, ...c.pairs.map((p) => sanitize(p.scenario).length)) + 2;
      out.push(
        "",
        `  ${"Scenario".padEnd(width)}${"A".padStart(7)}${"B".padStart(7)}${"A − B".padStart(9)}`,
      );
      for (const p of c.pairs) {
        const d = p.a - p.b;
        const line = `  ${sanitize(p.scenario).padEnd(width)}${p.a.toFixed(3).padStart(7)}${p.b.toFixed(3).padStart(7)}${signed(d).padStart(9)}`;
        out.push(d > 0 ? paint.green(line) : d < 0 ? paint.red(line) : line);
      }
    }
    out.push("");
  }
  return `${out.join("\n")}`;
}

/** One comparison as the JSON document's entry (snake_case, every number as computed). */
export function comparisonJson(c: Comparison): ComparisonJson {
  const names = sideNames(c);
  return {
    a: { agent: c.a.agent, job_id: c.a.job, mean_score: c.a.mean },
    b: { agent: c.b.agent, job_id: c.b.job, mean_score: c.b.mean },
    n_scenarios: c.diff.n,
    difference: {
      mean: c.diff.mean,
      low: c.diff.low,
      high: c.diff.high,
      level: 0.95 as const,
      method: c.intervalMethod,
    },
    test:
      c.test.method === "mcnemar_exact"
        ? { method: c.test.method, only_a_passed: c.test.onlyA, only_b_passed: c.test.onlyB }
        : { method: c.test.method, exact: c.test.exact },
    p: c.p,
    p_adjusted: c.pAdjusted,
    random:
      c.random === null
        ? null
        : {
            seed: c.random.seed,
            bootstrap_draws: c.random.bootstrapDraws,
            sign_flip_samples: c.random.signFlipSamples,
          },
    decisive: c.decisive,
    more_scenarios: c.moreScenarios,
    verdict: verdict(c, names),
    excluded: { only_a: c.excluded.onlyA, only_b: c.excluded.onlyB },
    scenarios: c.pairs.map((p) => ({
      scenario_id: p.scenario,
      a: p.a,
      b: p.b,
      difference: p.a - p.b,
      attempts_a: p.attemptsA,
      attempts_b: p.attemptsB,
    })),
  };
}

/** The whole `compare -o json|yaml` document. */
export function compareDocument(comparisons: readonly Comparison[]): CompareDocument {
  return {
    schema_version: 1,
    alpha: 0.05,
    holm_adjusted: comparisons.length > 1,
    comparisons: comparisons.map(comparisonJson),
  };
}
