import type { Comparison } from "./compare.js";
import { verdict } from "./compare.js";
import type { AgentSummary } from "./summary.js";

/** One CI gate's outcome: whether it failed and the line that says why (or that it passed). */
export interface GateOutcome {
  failed: boolean;
  line: string;
}

/**
 * `--fail-under <score>`: every agent's mean score (unscored trials as 0, cancelled left out; the
 * headline score) must reach the threshold. An agent without a result fails it.
 */
export function scoreGate(summaries: readonly AgentSummary[], threshold: number): GateOutcome[] {
  return summaries.map((s) => {
    const score = s.scoreInterval?.mean ?? null;
    const shown = score === null ? "no result" : `score ${score.toFixed(3)}`;
    const failed = score === null || score < threshold;
    return {
      failed,
      line: `${failed ? "FAILED" : "passed"} --fail-under ${threshold}: ${s.label} has ${shown}`,
    };
  });
}

/**
 * `--fail-if-worse-than <job>`: each comparison is this job's agent (A) against the baseline's (B); the
 * gate fails only where B beats A decisively (Holm-adjusted across the agents compared).
 */
export function worseGate(comparisons: readonly Comparison[], baseline: string): GateOutcome[] {
  return comparisons.map((c) => {
    const failed = c.decisive && c.diff.mean < 0;
    const names = { a: `${c.a.agent} (this job)`, b: `${c.b.agent} (${baseline})` };
    return {
      failed,
      line: `${failed ? "FAILED" : "passed"} --fail-if-worse-than ${baseline}: ${verdict(c, names)}`,
    };
  });
}
