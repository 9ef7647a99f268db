import { describe, expect, it } from "vitest";
import {
  bootstrapMean,
  clusteredInterval,
  holm,
  logGamma,
  mcnemarExact,
  passAtK,
  passHatK,
  seededRandom,
  signFlipTest,
  studentTCdf,
  tInterval,
  tQuantile,
} from "../../../src/report/stats.js";

/** C(n, k) exactly, for small n. */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe("passAtK and passHatK", () => {
  it("equal the closed forms 1 − C(n−c,k)/C(n,k) and C(c,k)/C(n,k) for every n ≤ 12", () => {
    for (let n = 1; n <= 12; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          expect(passAtK(n, c, k)).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 12);
          expect(passHatK(n, c, k)).toBeCloseTo(choose(c, k) / choose(n, k), 12);
        }
      }
    }
  });

  it("pass@1 and pass^1 are the pass rate; pass@n is 1 with any pass, pass^n only with all", () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passHatK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(10, 1, 10)).toBe(1);
    expect(passHatK(10, 9, 10)).toBe(0);
    expect(passHatK(10, 10, 10)).toBe(1);
  });

  it("stays finite for large n", () => {
    expect(passAtK(200, 20, 100)).toBeGreaterThan(0.999999);
    expect(passAtK(200, 20, 100)).toBeLessThanOrEqual(1);
  });

  it("rejects impossible counts", () => {
    expect(() => passAtK(5, 6, 1)).toThrow(RangeError);
    expect(() => passAtK(5, 2, 6)).toThrow(RangeError);
    expect(() => passHatK(5, 2, 0)).toThrow(RangeError);
  });
});

describe("Student's t", () => {
  it("logGamma matches known values", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it("quantiles match the tables to 6 decimals", () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706205],
      [0.975, 2, 4.302653],
      [0.975, 5, 2.570582],
      [0.975, 10, 2.228139],
      [0.975, 30, 2.042272],
      [0.975, 1000, 1.962339],
      [0.95, 4, 2.131847],
      [0.995, 20, 2.84534],
      [0.025, 10, -2.228139],
    ];
    for (const [p, df, t] of table) expect(tQuantile(p, df), `${p} ${df}`).toBeCloseTo(t, 6);
  });

  it("the CDF inverts the quantile", () => {
    for (const df of [1, 3, 17, 250]) {
      for (const p of [0.01, 0.2, 0.5, 0.9, 0.999]) {
        expect(studentTCdf(tQuantile(p, df), df)).toBeCloseTo(p, 10);
      }
    }
  });
});

describe("intervals", () => {
  it("a t-interval of known data", () => {
    // mean 5, sd 2 (sample), n 4: half-width 3.182446 × 2 / 2.
    const i = tInterval([3, 5, 7, 5]);
    expect(i?.mean).toBe(5);
    expect(i?.high).toBeCloseTo(5 + 3.182446 * (Math.sqrt(8 / 3) / 2), 5);
    expect(tInterval([])).toBeNull();
    expect(tInterval([0.5])).toEqual({ mean: 0.5, low: 0.5, high: 0.5, n: 1 });
  });

  it("clusters attempts by scenario before the interval", () => {
    const scores = [
      { scenario: "a", score: 1 },
      { scenario: "a", score: 0 },
      { scenario: "b", score: 1 },
      { scenario: "b", score: 1 },
      { scenario: "c", score: 0 },
      { scenario: "c", score: 0 },
    ];
    const i = clusteredInterval(scores);
    expect(i?.n).toBe(3);
    expect(i?.mean).toBeCloseTo(0.5, 12);
    expect(i).toEqual(tInterval([0.5, 1, 0]));
  });
});

describe("mcnemarExact", () => {
  it("matches the exact binomial p-values", () => {
    // 2 × P(X ≤ 1), X ~ Bin(10, ½) = 2 × 11/1024.
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarExact(9, 1)).toBeCloseTo(22 / 1024, 12);
    // 2 × P(X ≤ 0), X ~ Bin(6, ½) = 2/64.
    expect(mcnemarExact(0, 6)).toBeCloseTo(2 / 64, 12);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    // 2 × P(X ≤ 10), X ~ Bin(30, ½) = 0.0987371...
    expect(mcnemarExact(10, 20)).toBeCloseTo(0.09873715, 7);
  });
});

describe("holm", () => {
  it("adjusts step-down and keeps the input order", () => {
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted[3]).toBeCloseTo(0.02, 12);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
    expect(holm([])).toEqual([]);
    expect(holm([0.6, 0.9])).toEqual([1, 1]);
  });
});

describe("signFlipTest", () => {
  it("is exact for few differences: 2 / 2^n when all n agree, 1 when they cancel out", () => {
    expect(signFlipTest([1, 1, 1, 1, 1, 1], { seed: 1 })).toBe(2 / 64);
    expect(signFlipTest([0.5, 0.5, 0.5], { seed: 1 })).toBe(2 / 8);
    expect(signFlipTest([1, -1], { seed: 1 })).toBe(1);
    // Sums of ±0.5 ± 0.25: 0.75, 0.25, −0.25, −0.75; two reach |0.75|.
    expect(signFlipTest([0.5, 0.25], { seed: 1 })).toBe(0.5);
    expect(signFlipTest([0, 0, 0], { seed: 1 })).toBe(1);
    expect(signFlipTest([], { seed: 1 })).toBe(1);
  });

  it("zeros do not count, and sampling agrees with exact enumeration and its seed", () => {
    expect(signFlipTest([1, 1, 1, 0, 0], { seed: 1 })).toBe(2 / 8);
    const random = seededRandom(3);
    const diffs = Array.from({ length: 14 }, () => random() - 0.3);
    const exact = signFlipTest(diffs, { seed: 1 });
    const sampled = signFlipTest(diffs, { seed: 9, iterations: 20_000, exactUpTo: 0 });
    expect(Math.abs(sampled - exact)).toBeLessThan(0.01);
    expect(signFlipTest(diffs, { seed: 9, iterations: 20_000, exactUpTo: 0 })).toBe(sampled);
  });
});

describe("bootstrapMean", () => {
  it("is the mean with a percentile interval that its seed reproduces", () => {
    const values = [0, 0.5, 1, 1, 0.25, 0.75, 1, 0];
    const a = bootstrapMean(values, { seed: 42, iterations: 5000 })!;
    expect(a.mean).toBeCloseTo(0.5625, 12);
    expect(a.n).toBe(8);
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    expect(bootstrapMean(values, { seed: 42, iterations: 5000 })).toEqual(a);
    // Another seed, other draws: with 20 distinct values the percentiles move.
    const many = Array.from({ length: 20 }, (_, i) => ((i * 7) % 11) / 10 + i / 1000);
    const m7 = bootstrapMean(many, { seed: 7, iterations: 2000 });
    expect(bootstrapMean(many, { seed: 7, iterations: 2000 })).toEqual(m7);
    expect(bootstrapMean(many, { seed: 8, iterations: 2000 })).not.toEqual(m7);
    expect(bootstrapMean([0.3, 0.3], { seed: 1 })).toEqual({
      mean: 0.3,
      low: 0.3,
      high: 0.3,
      n: 2,
    });
    expect(bootstrapMean([], { seed: 1 })).toBeNull();
  });
});
