import { TRIAL_STATUSES } from "../core/constants.js";
import { retriesOf, type TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { AgentRef, TrialStatus } from "../core/schemas.js";
import { clusterBootstrap, clusteredInterval, type Interval, passAtK, passHatK } from "./stats.js";

/** How the per-agent intervals are made: a t-interval over scenarios (default) or a seeded cluster bootstrap. */
export interface IntervalMethod {
  bootstrap?: { seed: number; iterations: number };
}

/** Per-agent counts behind Runloop's results table and our own columns. */
export interface AgentSummary {
  agent: AgentRef;
  label: string;
  total: number;
  /** Verified with score exactly 1 and no agent or infrastructure failure. */
  passed: number;
  /** Verified with a score below 1 and no failure: Runloop's "Failed (0.0)". */
  failedScore: number;
  /** Every other outcome (timeouts, errors, cancels): Runloop's "Failed (error)". */
  failedError: number;
  byStatus: Record<TrialStatus, number>;
  /** Mean over trials that have a score; null when none has. */
  meanScore: number | null;
  /** Mean with unscored trials counted as 0 (Harbor's and Runloop's server-side convention). */
  meanScoreErrorsAsZero: number | null;
  medianDurationMs: number | null;
  /** 90th percentile of the trials' durations (nearest rank). */
  p90DurationMs: number | null;
  /** Token sums over trials that reported them; null when none did (never 0 for unknown). */
  inputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  outputTokens: number | null;
  /** Sum over trials with a known cost; null when none is known. */
  costUsd: number | null;
  /** Trials whose cost is unknown. */
  unknownCost: number;
  /** Trials that hit an infrastructure error and were run again, and how many of those passed. */
  retried: number;
  retriedPassed: number;
  /**
   * The mean score (unscored trials as 0, cancelled trials left out) with its 95% interval clustered by
   * scenario; null without trials.
   */
  scoreInterval: Interval | null;
  /**
   * The same with infrastructure errors left out as well (they say nothing about the agent); null when
   * no trial is left.
   */
  scoreIntervalExcludingInfra: Interval | null;
  /** pass@k for k = 1..K (index k − 1), K the fewest attempts any scenario had; averaged over scenarios. */
  passAtK: number[];
  /** pass^k likewise: the chance that k attempts all pass. */
  passHatK: number[];
}

/** Scores lie in [0, 1], so an interval that reaches past either end is cut there. */
function withinUnit(i: Interval | null): Interval | null {
  return i === null ? null : { ...i, low: Math.max(0, i.low), high: Math.min(1, i.high) };
}

/** Per scenario: attempts (cancelled ones left out) and how many passed. */
function perScenario(mine: readonly TrialDigest[]): { n: number; c: number }[] {
  const by = new Map<string, { n: number; c: number }>();
  for (const r of mine) {
    if (r.status === "cancelled") continue;
    const s = by.get(r.scenario_id) ?? { n: 0, c: 0 };
    s.n++;
    if (r.status === "passed") s.c++;
    by.set(r.scenario_id, s);
  }
  return [...by.values()];
}

/** pass@k (or pass^k) for k = 1..K averaged over scenarios; empty without scenarios. */
function atK(
  scenarios: readonly { n: number; c: number }[],
  estimator: (n: number, c: number, k: number) => number,
): number[] {
  if (scenarios.length === 0) return [];
  const most = Math.min(...scenarios.map((s) => s.n));
  return Array.from(
    { length: most },
    (_, i) => scenarios.reduce((a, s) => a + estimator(s.n, s.c, i + 1), 0) / scenarios.length,
  );
}

/** Sum of the non-null values, or null when every value is null. */
function sumKnown(values: readonly (number | null)[]): number | null {
  let sum: number | null = null;
  for (const v of values) if (v !== null) sum = (sum ?? 0) + v;
  return sum;
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The nearest-rank percentile q (0 < q ≤ 1) of sorted values; null when there are none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

/** The mean score of these trials (unscored as 0) with its scenario-clustered interval, cut to [0, 1]. */
function intervalOf(trials: readonly TrialDigest[], method: IntervalMethod): Interval | null {
  const scores = trials.map((r) => ({ scenario: r.scenario_id, score: r.score ?? 0 }));
  return withinUnit(
    method.bootstrap === undefined
      ? clusteredInterval(scores)
      : clusterBootstrap(scores, method.bootstrap),
  );
}

/** Summaries per agent, in the job's agent order (agents with no results yet included). */
export function summarizeByAgent(
  agents: readonly AgentRef[],
  results: readonly TrialDigest[],
  method: IntervalMethod = {},
): AgentSummary[] {
  return agents.map((agent) => {
    const label = agentLabel(agent);
    const mine = results.filter((r) => agentLabel(r.agent) === label);
    const byStatus = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<
      TrialStatus,
      number
    >;
    for (const r of mine) byStatus[r.status]++;
    const scores = mine.flatMap((r) => (r.score === null ? [] : [r.score]));
    const sum = scores.reduce((a, b) => a + b, 0);
    const durations = mine.map((r) => r.duration_ms).sort((a, b) => a - b);
    const counted = mine.filter((r) => r.status !== "cancelled");
    return {
      agent,
      label,
      total: mine.length,
      passed: byStatus.passed,
      failedScore: byStatus.failed,
      failedError: mine.length - byStatus.passed - byStatus.failed,
      byStatus,
      meanScore: scores.length === 0 ? null : sum / scores.length,
      meanScoreErrorsAsZero: mine.length === 0 ? null : sum / mine.length,
      medianDurationMs: median(durations),
      p90DurationMs: percentile(durations, 0.9),
      inputTokens: sumKnown(mine.map((r) => r.usage.input_tokens)),
      cacheReadTokens: sumKnown(mine.map((r) => r.usage.cache_read_tokens)),
      cacheWriteTokens: sumKnown(mine.map((r) => r.usage.cache_write_tokens)),
      outputTokens: sumKnown(mine.map((r) => r.usage.output_tokens)),
      costUsd: sumKnown(mine.map((r) => r.usage.cost_usd)),
      unknownCost: mine.filter((r) => r.usage.cost_usd === null).length,
      retried: mine.filter((r) => retriesOf(r) > 0).length,
      retriedPassed: mine.filter((r) => retriesOf(r) > 0 && r.status === "passed").length,
      scoreInterval: intervalOf(counted, method),
      scoreIntervalExcludingInfra: intervalOf(
        counted.filter((r) => r.status !== "infra_error"),
        method,
      ),
      passAtK: atK(perScenario(mine), passAtK),
      passHatK: atK(perScenario(mine), passHatK),
    };
  });
}
