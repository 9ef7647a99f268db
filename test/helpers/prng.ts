/** mulberry32, the seeded PRNG the bootstrap uses: a test's "random" sequence is the same on every run. */
export { seededRandom as mulberry32 } from "../../src/report/stats.js";
