// Statistics check by simulation (issue 8): do the intervals cover, and does the paired test hold its
// level? All draws come from one seed, so every number below is reproducible.
//
// Coverage: 10,000 synthetic jobs of 50 scenarios × 3 attempts. Each scenario's pass probability is drawn
// from a population with a known mean (uniform on [0.1, 0.7], mean 0.4); the 95% scenario-clustered
// t-interval (src/report/stats.js) should contain 0.4 in 94–96% of jobs. The naive interval that treats
// the 150 attempts as independent is printed beside it: it covers less, which is why we cluster.
//
// Paired test: 10,000 synthetic comparisons of two agents with identical per-scenario probabilities (the
// null is true), one attempt each on 100 scenarios; the exact McNemar test at 0.05 should reject in about
// 5% of them (the exact test is conservative: at most 5%). Baseline: the same comparisons with agent B
// 10 points better, which it should reject far more often.
//
// Paired comparison as `compare` makes it (src/report/compare.js, compareTwo) when scenarios have several
// attempts: 2,000 synthetic comparisons of 30 scenarios × 3 attempts per agent. Under the null the
// sign-flip test at 0.05 should reject in about 5% and never more: it is exact (a randomization test), so
// on discrete scores, whose p-values jump, it holds its level from below, as exact McNemar does. With B
// 10 points better (the true difference is then exactly 0.1), the paired bootstrap interval should cover
// 0.1 in about 95% (the paired t-interval beside it as a baseline).
import { requireBuild } from "./lib.js";

requireBuild();
const { clusteredInterval, mcnemarExact, seededRandom, tInterval } = await import(
  "../dist/report/stats.js"
);
const { compareTwo } = await import("../dist/report/compare.js");
const { scenarioTallies } = await import("../dist/core/tally.js");

const SEED = 20261127;
const JOBS = 10_000;
const random = seededRandom(SEED);
const started = performance.now();

// Coverage.
const TRUE_MEAN = 0.4;
let clustered = 0;
let naive = 0;
for (let j = 0; j < JOBS; j++) {
  const scores = [];
  for (let s = 0; s < 50; s++) {
    const p = 0.1 + 0.6 * random();
    for (let a = 0; a < 3; a++) scores.push({ scenario: `s${s}`, score: random() < p ? 1 : 0 });
  }
  const c = clusteredInterval(scores);
  if (c.low <= TRUE_MEAN && TRUE_MEAN <= c.high) clustered++;
  const n = tInterval(scores.map((x) => x.score));
  if (n.low <= TRUE_MEAN && TRUE_MEAN <= n.high) naive++;
}
const coverage = clustered / JOBS;
console.log(
  `95% interval coverage over ${JOBS.toLocaleString("en-US")} synthetic jobs (seed ${SEED}):`,
);
console.log(
  `  clustered by scenario: ${(100 * coverage).toFixed(2)}% · target 94–96%: ${coverage >= 0.94 && coverage <= 0.96 ? "OK" : "MISSED"}`,
);
console.log(`  naive (attempts as independent), baseline: ${((100 * naive) / JOBS).toFixed(2)}%`);

// Paired test under the null, and with a real difference.
function rejections(delta) {
  let rejected = 0;
  for (let j = 0; j < JOBS; j++) {
    let onlyA = 0;
    let onlyB = 0;
    for (let s = 0; s < 100; s++) {
      const p = 0.1 + 0.6 * random();
      const a = random() < p;
      const b = random() < Math.min(1, p + delta);
      if (a && !b) onlyA++;
      else if (b && !a) onlyB++;
    }
    if (mcnemarExact(onlyA, onlyB) < 0.05) rejected++;
  }
  return rejected / JOBS;
}
const nullRate = rejections(0);
const powerRate = rejections(0.1);
console.log(
  `exact McNemar at 0.05, 100 scenarios × 1 attempt, ${JOBS.toLocaleString("en-US")} comparisons:`,
);
console.log(
  `  true null (same agent twice): rejects ${(100 * nullRate).toFixed(2)}% · target ≤ 5% and ≥ 3%: ${nullRate <= 0.05 && nullRate >= 0.03 ? "OK" : "MISSED"}`,
);
console.log(`  B 10 points better, baseline: rejects ${(100 * powerRate).toFixed(2)}%`);

// The paired comparison with several attempts, through compareTwo.
const COMPARISONS = 2000;
function side(agent, probabilities, delta) {
  const trials = [];
  probabilities.forEach((p, s) => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const passed = random() < Math.min(1, p + delta);
      trials.push({
        trial_id: `s${s}__${agent}__${attempt}`,
        scenario_id: `s${s}`,
        agent: { name: agent, model: null },
        attempt,
        status: passed ? "passed" : "failed",
        score: passed ? 1 : 0,
        duration_ms: 1000,
        usage: {},
        exception: null,
      });
    }
  });
  return { agent, job: "job_sim", scenarios: scenarioTallies(trials) };
}
function paired(delta) {
  let rejected = 0;
  let covered = 0;
  let coveredT = 0;
  for (let j = 0; j < COMPARISONS; j++) {
    const probabilities = Array.from({ length: 30 }, () => 0.1 + 0.6 * random());
    const c = compareTwo(side("b", probabilities, delta), side("a", probabilities, 0), {
      seed: j,
      iterations: 2000,
    });
    if (c.p < 0.05) rejected++;
    if (c.diff.low <= delta && delta <= c.diff.high) covered++;
    const t = tInterval(c.pairs.map((x) => x.a - x.b));
    if (t.low <= delta && delta <= t.high) coveredT++;
  }
  return {
    rejected: rejected / COMPARISONS,
    covered: covered / COMPARISONS,
    coveredT: coveredT / COMPARISONS,
  };
}
const pairedNull = paired(0);
const pairedEffect = paired(0.1);
console.log(
  `paired comparison, 30 scenarios × 3 attempts each, ${COMPARISONS.toLocaleString("en-US")} comparisons (sign-flip test, paired bootstrap interval):`,
);
console.log(
  `  true null: rejects ${(100 * pairedNull.rejected).toFixed(2)}% · target ≤ 5% and ≥ 3%: ${pairedNull.rejected <= 0.05 && pairedNull.rejected >= 0.03 ? "OK" : "MISSED"}`,
);
console.log(
  `  B 10 points better: rejects ${(100 * pairedEffect.rejected).toFixed(2)}%; the 95% interval covers the true 10 points in ${(100 * pairedEffect.covered).toFixed(2)}% (paired t-interval, baseline: ${(100 * pairedEffect.coveredT).toFixed(2)}%)`,
);
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
