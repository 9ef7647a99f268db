import { TRIAL_STATUSES } from "../core/constants.js";
import { retriesOf, type TrialDigest } from "../core/digest.js";
import { agentLabel } from "../core/ids.js";
import type { AgentRef, TrialStatus } from "../core/schemas.js";
import { type ScenarioTally, scenarioTallies, trialsByAgent } from "../core/tally.js";
import { bootstrapMean, type Interval, passAtK, passHatK, tInterval } from "./stats.js";

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

/** The median of sorted values; null when there are none. */
export function median(sorted: ArrayLike<number>): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The nearest-rank percentile q (0 < q ≤ 1) of sorted values; null when there are none. */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

/**
 * The mean score over scenarios (each scenario's attempts averaged first, unscored as 0, cancelled left
 * out; with `excludingInfra` infrastructure errors left out too) with its interval, cut to [0, 1].
 */
function intervalOf(
  tallies: Map<string, ScenarioTally>,
  excludingInfra: boolean,
  method: IntervalMethod,
): Interval | null {
  const means: number[] = [];
  for (const t of tallies.values()) {
    const n = excludingInfra ? t.n - t.infra : t.n;
    if (n > 0) means.push((excludingInfra ? t.sum - t.infraSum : t.sum) / n);
  }
  return withinUnit(
    method.bootstrap === undefined ? tInterval(means) : bootstrapMean(means, method.bootstrap),
  );
}

/**
 * Summaries already made of a results array (views make them more than once per command; a 10,000-trial
 * job's take tens of milliseconds). Remembered by the array and its length, as in tally.ts.
 */
const made = new WeakMap<readonly TrialDigest[], Map<string, AgentSummary[]>>();

/** Summaries per agent, in the job's agent order (agents with no results yet included). */
export function summarizeByAgent(
  agents: readonly AgentRef[],
  results: readonly TrialDigest[],
  method: IntervalMethod = {},
): AgentSummary[] {
  const key = JSON.stringify([agents, method, results.length]);
  const cached = made.get(results)?.get(key);
  if (cached !== undefined) return cached;
  const grouped = trialsByAgent(results);
  const summaries = agents.map((agent): AgentSummary => {
    const label = agentLabel(agent);
    const mine = grouped.get(label) ?? [];
    const tallies = scenarioTallies(mine);
    const scenarios = [...tallies.values()].filter((t) => t.n > 0);
    const byStatus = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<
      TrialStatus,
      number
    >;
    // One pass: this runs over every trial of a 10,000-trial job on each summary.
    let sum = 0;
    let scored = 0;
    let unknownCost = 0;
    let retried = 0;
    let retriedPassed = 0;
    const durations = new Float64Array(mine.length);
    const input: (number | null)[] = [];
    const cacheRead: (number | null)[] = [];
    const cacheWrite: (number | null)[] = [];
    const output: (number | null)[] = [];
    const cost: (number | null)[] = [];
    mine.forEach((r, i) => {
      byStatus[r.status]++;
      if (r.score !== null) {
        sum += r.score;
        scored++;
      }
      durations[i] = r.duration_ms;
      input.push(r.usage.input_tokens);
      cacheRead.push(r.usage.cache_read_tokens);
      cacheWrite.push(r.usage.cache_write_tokens);
      output.push(r.usage.output_tokens);
      cost.push(r.usage.cost_usd);
      if (r.usage.cost_usd === null) unknownCost++;
      if (retriesOf(r) > 0) {
        retried++;
        if (r.status === "passed") retriedPassed++;
      }
    });
    durations.sort();
    return {
      agent,
      label,
      total: mine.length,
      passed: byStatus.passed,
      failedScore: byStatus.failed,
      failedError: mine.length - byStatus.passed - byStatus.failed,
      byStatus,
      meanScore: scored === 0 ? null : sum / scored,
      meanScoreErrorsAsZero: mine.length === 0 ? null : sum / mine.length,
      medianDurationMs: median(durations),
      p90DurationMs: percentile(durations, 0.9),
      inputTokens: sumKnown(input),
      cacheReadTokens: sumKnown(cacheRead),
      cacheWriteTokens: sumKnown(cacheWrite),
      outputTokens: sumKnown(output),
      costUsd: sumKnown(cost),
      unknownCost,
      retried,
      retriedPassed,
      scoreInterval: intervalOf(tallies, false, method),
      scoreIntervalExcludingInfra: intervalOf(tallies, true, method),
      passAtK: atK(scenarios, passAtK),
      passHatK: atK(scenarios, passHatK),
    };
  });
  if (!made.has(results)) made.set(results, new Map());
  made.get(results)!.set(key, summaries);
  return summaries;
}
