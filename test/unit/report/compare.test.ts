import { describe, expect, it } from "vitest";
import type { TrialDigest } from "../../../src/core/digest.js";
import type { TrialStatus } from "../../../src/core/schemas.js";
import { scenarioTallies } from "../../../src/core/tally.js";
import {
  allPairs,
  compareMany,
  compareTwo,
  type Side,
  verdict,
} from "../../../src/report/compare.js";
import { makeResult, NOP, ORACLE } from "../../helpers/factories.js";

const OPTS = { seed: 7, iterations: 2000 };

/** A trial of scenario `s<i>` (attempt `attempt`) with this score; status from the score. */
function trial(
  agent: typeof ORACLE,
  i: number,
  score: number | null,
  attempt = 1,
  status?: TrialStatus,
): TrialDigest {
  return makeResult(agent, status ?? (score === 1 ? "passed" : "failed"), score, {
    scenario_id: `b/s${String(i).padStart(2, "0")}`,
    trial_id: `b_s${i}__${agent.name}__${attempt}`,
    attempt,
  });
}

/** One side: single attempts with these scores, scenario i gets scores[i]. */
function side(agent: typeof ORACLE, scores: readonly (number | null)[], job = "job_a"): Side {
  return {
    agent: agent.name,
    job,
    scenarios: scenarioTallies(scores.map((s, i) => trial(agent, i, s))),
  };
}

describe("compareTwo on single binary attempts: the exact McNemar test", () => {
  // 10 scenarios: A passes 8, B passes 2, and every scenario B passes A passes too (6 discordant).
  const a = side(ORACLE, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  const b = side(NOP, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);

  it("counts the discordant pairs, takes the paired t-interval, and calls it decisive", () => {
    const c = compareTwo(a, b, OPTS);
    expect(c.test).toEqual({ method: "mcnemar_exact", onlyA: 6, onlyB: 0 });
    expect(c.p).toBeCloseTo(2 * 0.5 ** 6, 12);
    expect(c.a.mean).toBeCloseTo(0.8, 12);
    expect(c.b.mean).toBeCloseTo(0.2, 12);
    expect(c.diff.mean).toBeCloseTo(0.6, 12);
    // sd of six 1s and four 0s = 0.5164; se 0.1633; t(0.975, 9) = 2.262157.
    expect(c.diff.low).toBeCloseTo(0.6 - 2.262157 * Math.sqrt(0.26666667 / 10), 5);
    expect(c.diff.high).toBeCloseTo(0.6 + 2.262157 * Math.sqrt(0.26666667 / 10), 5);
    expect(c.decisive).toBe(true);
    expect(c.moreScenarios).toBeNull();
    expect(verdict(c)).toBe(
      "oracle beats nop by 60.0 points, 95% CI [23.1, 96.9], decisive (p = 0.031)",
    );
  });

  it("names the winner first when B is the better one, with the interval turned round", () => {
    expect(verdict(compareTwo(b, a, OPTS))).toBe(
      "oracle beats nop by 60.0 points, 95% CI [23.1, 96.9], decisive (p = 0.031)",
    );
  });

  it("not decisive: says how many more scenarios the same proportions would need", () => {
    const c = compareTwo(
      side(ORACLE, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
      side(NOP, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      OPTS,
    );
    expect(c.p).toBeCloseTo(0.25, 12);
    expect(c.decisive).toBe(false);
    // 3 of 10 discordant, all one way; the exact test first decides at 6 of 19 (1.05^13 × 10 = 18.9).
    expect(c.moreScenarios).toBe(9);
    expect(verdict(c)).toMatch(
      /^oracle ahead of nop by 30\.0 points, 95% CI \[-?\d+\.\d, \d+\.\d\]: not decisive \(p = 0\.250\); about 9 more scenarios would be needed$/,
    );
  });

  it("the same scores on every scenario: no number of scenarios would decide it", () => {
    const c = compareTwo(side(ORACLE, [1, 0, 1]), side(NOP, [1, 0, 1]), OPTS);
    expect(c.p).toBe(1);
    expect(c.moreScenarios).toBeNull();
    expect(verdict(c)).toBe(
      "oracle and nop score the same on these 3 scenarios: not decisive (p = 1.000)",
    );
  });

  it("an unscored trial (an error) counts as 0; a cancelled one does not count", () => {
    const withError = side(ORACLE, [1, null]);
    const c = compareTwo(withError, side(NOP, [0, 0]), OPTS);
    expect(c.pairs.map((p) => p.a)).toEqual([1, 0]);
    const cancelled: Side = {
      agent: "oracle",
      job: "job_a",
      scenarios: scenarioTallies([trial(ORACLE, 0, 1), trial(ORACLE, 1, null, 1, "cancelled")]),
    };
    expect(() => compareTwo(cancelled, side(NOP, [0, 0]), OPTS)).toThrow(
      "the scenario sets differ: 1 only in nop (b/s01)",
    );
  });
});

describe("compareTwo with several attempts or partial scores: sign flips and the paired bootstrap", () => {
  /** `n` scenarios × 3 attempts; `passes(i)` of scenario i's attempts pass. */
  const attempts = (agent: typeof ORACLE, n: number, passes: (i: number) => number): Side => ({
    agent: agent.name,
    job: "job_a",
    scenarios: scenarioTallies(
      Array.from({ length: n }, (_, i) =>
        [1, 2, 3].map((k) => trial(agent, i, k <= passes(i) ? 1 : 0, k)),
      ).flat(),
    ),
  });

  it("few scenarios: the exact sign-flip test and the paired t-interval, nothing random", () => {
    // 12 scenarios; A passes 2 of 3 everywhere, B 1 of 3 on the first 9 and 2 of 3 after.
    const c = compareTwo(
      attempts(ORACLE, 12, () => 2),
      attempts(NOP, 12, (i) => (i < 9 ? 1 : 2)),
      OPTS,
    );
    expect(c.test).toEqual({ method: "sign_flip", exact: true });
    expect(c.intervalMethod).toBe("t");
    expect(c.random).toBeNull();
    expect(c.diff.mean).toBeCloseTo(0.25, 12);
    // Nine differences of +1/3, three of 0: exact sign-flip p = 2 / 2^9.
    expect(c.p).toBeCloseTo(2 / 512, 12);
    expect(c.decisive).toBe(true);
    expect(c.pairs[0]).toEqual({
      scenario: "b/s00",
      a: 2 / 3,
      b: 1 / 3,
      attemptsA: 3,
      attemptsB: 3,
    });
  });

  it("20 scenarios or more: the paired bootstrap, its seed recorded and reproducing every number", () => {
    const a = attempts(ORACLE, 24, () => 2);
    const b = attempts(NOP, 24, (i) => (i < 18 ? 1 : 2));
    const c = compareTwo(a, b, OPTS);
    expect(c.intervalMethod).toBe("paired_bootstrap");
    // 18 differing scenarios: more than the exact enumeration takes, so the flips are sampled too.
    expect(c.test).toEqual({ method: "sign_flip", exact: false });
    expect(c.random).toEqual({ seed: 7, bootstrapDraws: 2000, signFlipSamples: 10_000 });
    expect(c.diff.mean).toBeCloseTo(0.25, 12);
    expect(c.diff.low).toBeGreaterThan(0);
    expect(c.diff.high).toBeLessThanOrEqual(1 / 3 + 1e-12);
    // Of 10,000 sampled patterns of 18 equal differences, all-plus or all-minus (2 in 2^18) is about
    // the only way to reach the observed sum: p is (1 + hits) / 10,001.
    expect(c.p).toBeLessThan(0.001);
    expect(compareTwo(a, b, OPTS)).toEqual(c);
    const other = compareTwo(a, b, { ...OPTS, seed: 8 });
    expect(other.random).toEqual({ seed: 8, bootstrapDraws: 2000, signFlipSamples: 10_000 });
    expect(other.diff.mean).toBe(c.diff.mean);
  });

  it("few scenarios all in one direction are still not decisive (2 / 2^n ≥ 0.05 below 6)", () => {
    const c = compareTwo(side(ORACLE, [0.5, 0.5, 0.5]), side(NOP, [0, 0, 0]), OPTS);
    expect(c.test.method).toBe("sign_flip");
    expect(c.p).toBe(0.25);
    expect(c.decisive).toBe(false);
    expect(c.moreScenarios).toBe(3);
  });
});

describe("scenario sets", () => {
  it("refuses when they differ, naming what is only on each side and the jobs when they differ", () => {
    const a = side(ORACLE, [1, 1, 1, 1, 1], "job_a");
    const b: Side = { ...side(NOP, [0, 0]), job: "job_b" };
    expect(() => compareTwo(a, b, OPTS)).toThrow(
      "the scenario sets differ: 3 only in oracle (job_a) (b/s02, b/s03, b/s04); compare needs the same scenarios on both sides (--common-only compares the 2 they share)",
    );
    const many = side(ORACLE, [1, 1, 1, 1, 1, 1, 1]);
    expect(() => compareTwo(many, b, OPTS)).toThrow(
      "5 only in oracle (job_a) (b/s02, b/s03, b/s04 and 2 more)",
    );
  });

  it("--common-only compares the shared ones and lists what it left out", () => {
    const c = compareTwo(side(ORACLE, [1, 1, 1]), side(NOP, [0, 0]), { ...OPTS, commonOnly: true });
    expect(c.pairs.map((p) => p.scenario)).toEqual(["b/s00", "b/s01"]);
    expect(c.excluded).toEqual({ onlyA: ["b/s02"], onlyB: [] });
  });

  it("nothing in common is one error even with --common-only", () => {
    const b: Side = { agent: "nop", job: "job_b", scenarios: scenarioTallies([trial(NOP, 5, 0)]) };
    expect(() => compareTwo(side(ORACLE, [1]), b, { ...OPTS, commonOnly: true })).toThrow(
      "oracle (job_a) and nop (job_b) have no scenario in common with a result",
    );
  });
});

describe("compareMany", () => {
  it("adjusts the p-values with Holm: a difference decisive alone may not be among three", () => {
    const x = side(ORACLE, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    const y = side(NOP, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const z = { ...side(NOP, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), agent: "third" };
    const pairs = allPairs([x, y, z]);
    expect(pairs.map(([a, b]) => `${a.agent}-${b.agent}`)).toEqual([
      "oracle-nop",
      "oracle-third",
      "nop-third",
    ]);
    const cs = compareMany(pairs, OPTS);
    // Raw p: 0.03125, 1, 0.03125 → Holm: 3 × 0.03125, then max(that, 2 × 0.03125), 1.
    const [p, adjusted] = [
      [0.03125, 1, 0.03125],
      [0.09375, 1, 0.09375],
    ];
    cs.forEach((c, i) => {
      expect(c.p).toBeCloseTo(p[i]!, 12);
      expect(c.pAdjusted).toBeCloseTo(adjusted[i]!, 12);
    });
    expect(cs.map((c) => c.decisive)).toEqual([false, false, false]);
    expect(cs[0]!.moreScenarios).toBeGreaterThan(0);
    expect(verdict(cs[0]!)).toContain("not decisive (p = 0.031, Holm-adjusted p = 0.094)");
    expect(compareMany([[x, y]], OPTS)[0]!.decisive).toBe(true);
  });
});
