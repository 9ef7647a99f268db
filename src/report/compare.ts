import { UsageError } from "../core/errors.js";
import type { ScenarioTally, Tallies } from "../core/tally.js";
import {
  bootstrapMean,
  holm,
  type Interval,
  mcnemarExact,
  signFlipTest,
  tInterval,
  tQuantile,
} from "./stats.js";

/** One side of a comparison: an agent's per-scenario tallies in a job. */
export interface Side {
  /** The agent's label (`claude-code:claude-sonnet-4-5`). */
  agent: string;
  job: string;
  scenarios: ReadonlyMap<string, ScenarioTally>;
}

export interface CompareOptions {
  /** The bootstrap's seed: the same seed gives the same interval and p-value. */
  seed: number;
  iterations: number;
  /** Compare on the scenarios both sides ran instead of refusing when they differ. */
  commonOnly?: boolean;
}

/** One scenario's paired outcome: each side's mean score over its attempts (unscored as 0). */
export interface ScenarioPair {
  scenario: string;
  a: number;
  b: number;
  attemptsA: number;
  attemptsB: number;
}

/**
 * The test behind p: the exact McNemar test for single binary attempts on both sides, else the paired
 * sign-flip test (exact, every sign pattern, up to SIGN_FLIP_EXACT differing scenarios; sampled above).
 */
export type PairedTest =
  | { method: "mcnemar_exact"; onlyA: number; onlyB: number }
  | { method: "sign_flip"; exact: boolean };

/** Sign patterns sampled when there are too many differing scenarios to enumerate them all. */
export const SIGN_FLIP_SAMPLES = 10_000;
/** Differing scenarios up to which the sign-flip test enumerates every sign pattern. */
export const SIGN_FLIP_EXACT = 16;
/**
 * Scenarios from which the interval of a non-binary comparison is a paired bootstrap; below, a
 * percentile bootstrap covers too little, so the paired t-interval is used.
 */
export const BOOTSTRAP_MIN_SCENARIOS = 20;

export interface Comparison {
  a: { agent: string; job: string; mean: number };
  b: { agent: string; job: string; mean: number };
  /** Mean of the per-scenario differences a − b with its 95% paired interval; n = scenarios. */
  diff: Interval;
  /** How `diff`'s interval was made. */
  intervalMethod: "t" | "paired_bootstrap";
  test: PairedTest;
  /**
   * What was random, from which seed: the bootstrap's draws and the sampled sign patterns (null where
   * not used); null when nothing was.
   */
  random: { seed: number; bootstrapDraws: number | null; signFlipSamples: number | null } | null;
  p: number;
  /** p after Holm's adjustment over every comparison made together (p itself when alone). */
  pAdjusted: number;
  decisive: boolean;
  /**
   * When not decisive: about how many more scenarios like these would make a difference this size
   * decisive (80% power at α 0.05); null when the sides did not differ at all.
   */
  moreScenarios: number | null;
  /** Scenarios one side ran and the other did not, left out (only with commonOnly). */
  excluded: { onlyA: string[]; onlyB: string[] };
  pairs: ScenarioPair[];
}

export const ALPHA = 0.05;
/** A standard normal quantile (Student's t with effectively infinite degrees of freedom). */
const z = (p: number): number => tQuantile(p, 1e9);
const POWER = 0.8;

/** Per scenario: the mean score over the attempts that were not cancelled (unscored as 0). */
/** The scenarios a side has a counted (not cancelled) attempt of. */
function perScenario(side: Side): Map<string, ScenarioTally> {
  const by = new Map<string, ScenarioTally>();
  for (const [scenario, t] of side.scenarios) if (t.n > 0) by.set(scenario, t);
  return by;
}

const listed = (ids: readonly string[]): string =>
  ids.length <= 3 ? ids.join(", ") : `${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more`;

function sideName(s: Side, other: Side): string {
  return s.job === other.job ? s.agent : `${s.agent} (${s.job})`;
}

/** Pairs the two sides by scenario; refuses (UsageError) when their scenarios differ, naming how. */
export function pairScenarios(
  a: Side,
  b: Side,
  commonOnly = false,
): { pairs: ScenarioPair[]; onlyA: string[]; onlyB: string[] } {
  const sa = perScenario(a);
  const sb = perScenario(b);
  const onlyA = [...sa.keys()].filter((s) => !sb.has(s)).sort();
  const onlyB = [...sb.keys()].filter((s) => !sa.has(s)).sort();
  if (!commonOnly && (onlyA.length > 0 || onlyB.length > 0)) {
    const parts = [
      onlyA.length > 0 ? `${onlyA.length} only in ${sideName(a, b)} (${listed(onlyA)})` : "",
      onlyB.length > 0 ? `${onlyB.length} only in ${sideName(b, a)} (${listed(onlyB)})` : "",
    ].filter((p) => p !== "");
    throw new UsageError(
      `the scenario sets differ: ${parts.join("; ")}; compare needs the same scenarios on both sides (--common-only compares the ${[...sa.keys()].filter((s) => sb.has(s)).length} they share)`,
    );
  }
  const pairs = [...sa.keys()]
    .filter((s) => sb.has(s))
    .sort()
    .map((scenario) => {
      const x = sa.get(scenario)!;
      const y = sb.get(scenario)!;
      return { scenario, a: x.sum / x.n, b: y.sum / y.n, attemptsA: x.n, attemptsB: y.n };
    });
  if (pairs.length === 0) {
    throw new UsageError(
      `${sideName(a, b)} and ${sideName(b, a)} have no scenario in common with a result`,
    );
  }
  return { pairs, onlyA, onlyB };
}

/** Single binary attempts on both sides: the exact McNemar test applies. */
const binary = (pairs: readonly ScenarioPair[]): boolean =>
  pairs.every(
    (p) =>
      p.attemptsA === 1 &&
      p.attemptsB === 1 &&
      (p.a === 0 || p.a === 1) &&
      (p.b === 0 || p.b === 1),
  );

/**
 * About how many more scenarios like these would make the observed difference decisive at `alpha`
 * (with 80% power for the bootstrap's normal approximation); null when the sides did not differ.
 */
function moreNeeded(diffs: readonly number[], test: PairedTest, alpha: number): number | null {
  const n = diffs.length;
  const mean = diffs.reduce((a, b) => a + b, 0) / n;
  if (Math.abs(mean) < 1e-12) return null;
  if (test.method === "mcnemar_exact") {
    // The same proportions of discordant pairs on a larger set: the smallest that the exact test decides.
    for (let m = 1.05; m <= 1000; m *= 1.05) {
      if (mcnemarExact(Math.round(test.onlyA * m), Math.round(test.onlyB * m)) < alpha) {
        return Math.max(1, Math.ceil(n * m) - n);
      }
    }
    return null;
  }
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / Math.max(1, n - 1));
  // Every difference the same: the sign-flip test's smallest p with n of them is 2 / 2^n.
  if (sd === 0) return Math.max(1, Math.ceil(Math.log2(2 / alpha)) - n);
  const needed = ((z(1 - alpha / 2) + z(POWER)) * sd) / Math.abs(mean);
  // The normal approximation knows nothing of small samples: the sign-flip test cannot decide below
  // log2(2 / α) differing scenarios whatever they are.
  return Math.max(1, Math.ceil(needed * needed) - n, Math.ceil(Math.log2(2 / alpha)) - n);
}

/** One paired comparison of A against B (before any multiple-comparison adjustment). */
export function compareTwo(a: Side, b: Side, opts: CompareOptions): Comparison {
  const { pairs, onlyA, onlyB } = pairScenarios(a, b, opts.commonOnly);
  const diffs = pairs.map((p) => p.a - p.b);
  const { seed, iterations } = opts;
  let test: PairedTest;
  let p: number;
  let diff = tInterval(diffs)!;
  let intervalMethod: Comparison["intervalMethod"] = "t";
  let random: Comparison["random"] = null;
  if (binary(pairs)) {
    const onlyAPassed = pairs.filter((x) => x.a === 1 && x.b === 0).length;
    const onlyBPassed = pairs.filter((x) => x.a === 0 && x.b === 1).length;
    test = { method: "mcnemar_exact", onlyA: onlyAPassed, onlyB: onlyBPassed };
    p = mcnemarExact(onlyAPassed, onlyBPassed);
  } else {
    const exact = diffs.filter((d) => d !== 0).length <= SIGN_FLIP_EXACT;
    test = { method: "sign_flip", exact };
    p = signFlipTest(diffs, { seed, iterations: SIGN_FLIP_SAMPLES, exactUpTo: SIGN_FLIP_EXACT });
    if (pairs.length >= BOOTSTRAP_MIN_SCENARIOS) {
      diff = bootstrapMean(diffs, { seed, iterations })!;
      intervalMethod = "paired_bootstrap";
    }
    if (!exact || intervalMethod === "paired_bootstrap") {
      random = {
        seed,
        bootstrapDraws: intervalMethod === "paired_bootstrap" ? iterations : null,
        signFlipSamples: exact ? null : SIGN_FLIP_SAMPLES,
      };
    }
  }
  // Scores lie in [0, 1], so differences in [−1, 1]: an interval reaching past either end is cut there.
  diff = { ...diff, low: Math.max(-1, diff.low), high: Math.min(1, diff.high) };
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    a: { agent: a.agent, job: a.job, mean: mean(pairs.map((x) => x.a)) },
    b: { agent: b.agent, job: b.job, mean: mean(pairs.map((x) => x.b)) },
    diff,
    intervalMethod,
    test,
    random,
    p,
    pAdjusted: p,
    decisive: p < ALPHA,
    moreScenarios: p < ALPHA ? null : moreNeeded(diffs, test, ALPHA),
    excluded: { onlyA, onlyB },
    pairs,
  };
}

/**
 * Several comparisons made together (every pair of a job's agents, say): each as compareTwo, then the
 * p-values adjusted with Holm's method so the chance of any false "decisive" stays at α.
 */
export function compareMany(
  pairs: readonly (readonly [Side, Side])[],
  opts: CompareOptions,
): Comparison[] {
  return holmAdjusted(pairs.map(([a, b]) => compareTwo(a, b, opts)));
}

/** Comparisons made together, their p-values adjusted with Holm's method (and decided again). */
export function holmAdjusted(each: readonly Comparison[]): Comparison[] {
  const adjusted = holm(each.map((c) => c.p));
  return each.map((c, i) => {
    const pAdjusted = adjusted[i]!;
    const decisive = pAdjusted < ALPHA;
    return {
      ...c,
      pAdjusted,
      decisive,
      // Holm at worst divides α by the number of comparisons; the estimate takes that worst case.
      moreScenarios: decisive
        ? null
        : moreNeeded(
            c.pairs.map((x) => x.a - x.b),
            c.test,
            ALPHA / each.length,
          ),
    };
  });
}

/** Every pair of the given sides, in order: (1,2), (1,3), … (2,3), … */
export function allPairs<T>(items: readonly T[]): (readonly [T, T])[] {
  return items.flatMap((a, i) => items.slice(i + 1).map((b) => [a, b] as const));
}

const points = (x: number): string => (100 * x).toFixed(1);
const pValue = (p: number): string => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/**
 * The plain verdict: `A beats B by 6.0 points, 95% CI [2.1, 9.9], decisive (p = 0.003)`, or why it is
 * not decisive. Points are score differences × 100.
 */
export function verdict(c: Comparison, names = { a: c.a.agent, b: c.b.agent }): string {
  const d = c.diff.mean;
  const adjusted = c.pAdjusted !== c.p ? `, Holm-adjusted ${pValue(c.pAdjusted)}` : "";
  const stat = `${pValue(c.p)}${adjusted}`;
  if (Math.abs(d) < 1e-12) {
    return `${names.a} and ${names.b} score the same on these ${c.diff.n} scenarios: not decisive (${stat})`;
  }
  const [winner, loser, sign] = d > 0 ? [names.a, names.b, 1] : [names.b, names.a, -1];
  const lo = sign === 1 ? c.diff.low : -c.diff.high;
  const hi = sign === 1 ? c.diff.high : -c.diff.low;
  const ci = `95% CI [${points(lo)}, ${points(hi)}]`;
  if (c.decisive)
    return `${winner} beats ${loser} by ${points(Math.abs(d))} points, ${ci}, decisive (${stat})`;
  const more =
    c.moreScenarios === null
      ? ""
      : `; about ${c.moreScenarios} more scenario${c.moreScenarios === 1 ? "" : "s"} would be needed`;
  return `${winner} ahead of ${loser} by ${points(Math.abs(d))} points, ${ci}: not decisive (${stat})${more}`;
}

/** A job's id, its agents' labels in order, and their tallies: what comparing jobs needs. */
export interface JobResults {
  id: string;
  agents: readonly string[];
  tallies: Tallies;
}

/** The sides of a job's agents (in the job's order), each with its own tallies. */
export function sidesOfJob(job: JobResults): Side[] {
  return job.agents.map((agent) => ({
    agent,
    job: job.id,
    scenarios: job.tallies.get(agent) ?? new Map(),
  }));
}

/** The job's agents, kept to `only` when given (each of which must be one of them). */
function chosen(job: JobResults, only: readonly string[] | undefined, all: readonly JobResults[]) {
  if (only === undefined || only.length === 0) return sidesOfJob(job);
  for (const o of only) {
    if (!all.some((j) => j.agents.includes(o))) {
      const known = [...new Set(all.flatMap((j) => j.agents))].join(", ");
      throw new UsageError(
        `--agent ${o} is not an agent of ${all.map((j) => j.id).join(" or ")}; its agents: ${known}`,
      );
    }
  }
  return sidesOfJob(job).filter((s) => only.includes(s.agent));
}

/**
 * What to compare. One job: every pair of its agents (at least two). Two jobs: their one agent each,
 * or agents of the same label paired; anything else is refused with the agents named.
 */
export function sidesToCompare(
  jobs: readonly [JobResults] | readonly [JobResults, JobResults],
  only?: readonly string[],
): (readonly [Side, Side])[] {
  const [a, b] = jobs;
  const sa = chosen(a, only, jobs);
  if (b === undefined) {
    if (sa.length < 2) {
      throw new UsageError(
        `${a.id} has ${sa.length === 1 ? `one agent (${sa[0]!.agent})` : "no agent"} to compare; compare needs two agents of a job, or two jobs`,
      );
    }
    return allPairs(sa);
  }
  const sb = chosen(b, only, jobs);
  if (sa.length === 1 && sb.length === 1) return [[sa[0]!, sb[0]!]];
  const onlyA = sa.filter((x) => !sb.some((y) => y.agent === x.agent)).map((x) => x.agent);
  const onlyB = sb.filter((y) => !sa.some((x) => x.agent === y.agent)).map((y) => y.agent);
  if (onlyA.length > 0 || onlyB.length > 0 || sa.length === 0) {
    throw new UsageError(
      `the jobs' agents do not pair up: ${a.id} has ${sa.map((x) => x.agent).join(", ") || "none"}, ${b.id} has ${sb.map((y) => y.agent).join(", ") || "none"}; pick one of each with --agent`,
    );
  }
  return sa.map((x) => [x, sb.find((y) => y.agent === x.agent)!] as const);
}
