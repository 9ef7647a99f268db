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
import { requireBuild } from "./lib.js";

requireBuild();
const { clusteredInterval, mcnemarExact, seededRandom, tInterval } = await import(
  "../dist/report/stats.js"
);

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
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
