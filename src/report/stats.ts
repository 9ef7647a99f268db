// Statistics for benchmark results: pure functions, no I/O, every random draw from a given seed.

/**
 * pass@k, the unbiased estimator (Chen et al. 2021): the chance that at least one of k attempts drawn
 * without replacement from n, of which c passed, passes: 1 − C(n−c, k) / C(n, k). Computed as a product
 * so large n does not overflow.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * pass^k (Yao et al. 2024, τ-bench): the chance that all k attempts drawn without replacement from n,
 * of which c passed, pass: C(c, k) / C(n, k).
 */
export function passHatK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  if (c < k) return 0;
  let all = 1;
  for (let i = 0; i < k; i++) all *= (c - i) / (n - i);
  return all;
}

function checkCounts(n: number, c: number, k: number): void {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k))) {
    throw new RangeError(`counts must be integers: n=${n} c=${c} k=${k}`);
  }
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`need 0 ≤ c ≤ n and 1 ≤ k ≤ n: n=${n} c=${c} k=${k}`);
  }
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): about 15 significant digits. */
export function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    let numerator: number;
    if (i === 0) numerator = 1;
    else if (i % 2 === 0) numerator = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + numerator / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return (front * (f - 1)) / a;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1), by bisection on the CDF. */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1): ${p}`);
  if (!(df > 0)) throw new RangeError(`df must be positive: ${df}`);
  if (p === 0.5) return 0;
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Interval {
  mean: number;
  low: number;
  high: number;
  /** How many values (clusters) the interval is over. */
  n: number;
}

/**
 * The mean of `values` with its two-sided t-interval at `level`; the interval is the mean itself for a
 * single value or no spread. Null for no values.
 */
export function tInterval(values: readonly number[], level = 0.95): Interval | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, low: mean, high: mean, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half, n };
}

/**
 * The score clustered by scenario: the attempts of each scenario are averaged first, then the
 * t-interval is taken over scenarios, so n attempts of one scenario do not pose as n scenarios.
 */
export function clusteredInterval(
  scores: readonly { scenario: string; score: number }[],
  level = 0.95,
): Interval | null {
  return tInterval(clusterMeans(scores), level);
}

function clusterMeans(scores: readonly { scenario: string; score: number }[]): number[] {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const { scenario, score } of scores) {
    const s = sums.get(scenario) ?? { sum: 0, n: 0 };
    s.sum += score;
    s.n++;
    sums.set(scenario, s);
  }
  return [...sums.values()].map((s) => s.sum / s.n);
}

/** mulberry32: a seeded PRNG, so a bootstrap is reproducible from the seed it reports. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The exact two-sided McNemar test for paired binary outcomes: `b` pairs where only A passed, `c` where
 * only B passed. p = P(X ≤ min(b, c)) × 2 under Binomial(b + c, ½), capped at 1; 1 when no pair differs.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    tail += Math.exp(logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/**
 * Holm's step-down adjustment of p-values for multiple comparisons (family-wise error), in the order
 * given: each adjusted p is max over earlier-ranked of min(1, (m − rank) × p).
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * The state of the mulberry32 generator the two resampling loops below share (seededRandom's steps,
 * inlined). Each draw is a small function rather than a loop body: V8 optimises a function called
 * thousands of times long before it would a long loop, which halved these loops' cost in a CLI that
 * runs them once.
 */
const rngState = new Uint32Array(1);

/** One bootstrap resample of `v` (n draws with replacement) and its mean. */
function resampledMean(v: Float64Array): number {
  const n = v.length;
  let a = rngState[0]!;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    sum += v[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)]!;
  }
  rngState[0] = a;
  return sum / n;
}

/** Block b's signed sums for its 256 sign patterns, doubling up: pattern p + 2^k flips difference k. */
function blockSums(v: Float64Array, b: number, table: Float64Array): void {
  const base = b * 256;
  let sum = 0;
  for (let k = 0; k < 8 && b * 8 + k < v.length; k++) sum += v[b * 8 + k]!;
  table[base] = sum;
  for (let k = 0; k < 8; k++) {
    const x = b * 8 + k < v.length ? 2 * v[b * 8 + k]! : 0;
    const half = 1 << k;
    for (let p = 0; p < half; p++) table[base + half + p] = table[base + p]! - x;
  }
}

/** One random sign pattern's sum: each 32-bit draw picks the patterns of four 8-difference blocks. */
function flippedSum(table: Float64Array, blocks: number): number {
  let a = rngState[0]!;
  let sum = 0;
  for (let b = 0; b < blocks; b += 4) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const bits = (t ^ (t >>> 14)) >>> 0;
    sum += table[b * 256 + (bits & 255)]!;
    if (b + 1 < blocks) sum += table[(b + 1) * 256 + ((bits >>> 8) & 255)]!;
    if (b + 2 < blocks) sum += table[(b + 2) * 256 + ((bits >>> 16) & 255)]!;
    if (b + 3 < blocks) sum += table[(b + 3) * 256 + (bits >>> 24)]!;
  }
  rngState[0] = a;
  return sum;
}

/**
 * A percentile bootstrap of the mean of `values` (one per scenario: a score, or a paired difference),
 * resampled with replacement from `seed`: the same seed gives the same interval. Null without values.
 */
export function bootstrapMean(
  values: readonly number[],
  opts: { seed: number; iterations?: number; level?: number },
): Interval | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const iterations = opts.iterations ?? 10_000;
  const level = opts.level ?? 0.95;
  const v = Float64Array.from(values);
  const draws = new Float64Array(iterations);
  rngState[0] = opts.seed >>> 0;
  for (let i = 0; i < iterations; i++) draws[i] = resampledMean(v);
  draws.sort();
  const at = (q: number) =>
    draws[Math.min(iterations - 1, Math.max(0, Math.floor(q * iterations)))] as number;
  return { mean, low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), n };
}

/**
 * The paired sign-flip (randomization) test of "no difference": under the null each difference is as
 * likely negative as positive, so p = share of sign patterns whose |sum| reaches the observed |sum|.
 * Exact (every pattern) up to `exactUpTo` non-zero differences, else `iterations` random patterns from
 * `seed`, counted as (1 + hits) / (iterations + 1). 1 when every difference is 0.
 */
export function signFlipTest(
  diffs: readonly number[],
  opts: { seed: number; iterations?: number; exactUpTo?: number },
): number {
  const d = diffs.filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return 1;
  const observed = Math.abs(d.reduce((a, b) => a + b, 0)) - 1e-9;
  if (n <= (opts.exactUpTo ?? 16)) {
    let hits = 0;
    const patterns = 2 ** n;
    for (let mask = 0; mask < patterns; mask++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += mask & (1 << j) ? -(d[j] as number) : (d[j] as number);
      if (Math.abs(sum) >= observed) hits++;
    }
    return hits / patterns;
  }
  const iterations = opts.iterations ?? 10_000;
  // The differences in blocks of 8: each block's signed sum for every one of its 256 sign patterns is
  // tabled once, so a sampled pattern costs one look-up per 8 differences (bit k of a byte flips
  // difference k of its block).
  const blocks = Math.ceil(n / 8);
  const table = new Float64Array(blocks * 256);
  const v = Float64Array.from(d);
  for (let b = 0; b < blocks; b++) blockSums(v, b, table);
  let hits = 0;
  rngState[0] = opts.seed >>> 0;
  for (let i = 0; i < iterations; i++) {
    if (Math.abs(flippedSum(table, blocks)) >= observed) hits++;
  }
  return Math.min(1, (1 + hits) / (iterations + 1));
}
