// Cold start: `rli --help` ≤ 1.6 × `node -e 0`, and the same ratio for `rli benchmark-job run --help`.
// Each command is spawned N times, interleaved (the order rotates every round) after warm-ups, so a
// burst of load on the machine hits every command alike; the medians are compared.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { median, ms, ROOT, requireBuild, verdict } from "./lib.js";

requireBuild();

const N = 20;
const WARMUPS = 3;
const TARGET = 1.6;
const RLI = join(ROOT, "bin", "rli.js");

const commands = [
  { label: "node -e 0", argv: ["-e", "0"] },
  { label: "rli --help", argv: [RLI, "--help"] },
  { label: "rli benchmark-job run --help", argv: [RLI, "benchmark-job", "run", "--help"] },
];

/** Wall time of one spawn of the current node binary, in ms. Fails loudly if the command fails. */
function time(cmd) {
  const started = performance.now();
  const r = spawnSync(process.execPath, cmd.argv, { stdio: ["ignore", "pipe", "pipe"] });
  const elapsed = performance.now() - started;
  if (r.status !== 0) {
    throw new Error(`${cmd.label} exited with ${r.status}: ${r.stderr.toString().trim()}`);
  }
  return elapsed;
}

for (let i = 0; i < WARMUPS; i++) for (const cmd of commands) time(cmd);

const samples = commands.map(() => []);
for (let round = 0; round < N; round++) {
  for (let k = 0; k < commands.length; k++) {
    const i = (round + k) % commands.length;
    samples[i].push(time(commands[i]));
  }
}

const medians = samples.map(median);
const base = medians[0];
console.log(`Cold start benchmark (${process.execPath} ${process.version})`);
console.log(`  ${N} interleaved runs per command after ${WARMUPS} warm-ups; medians (min–max):`);
for (const [i, cmd] of commands.entries()) {
  const lo = Math.min(...samples[i]);
  const hi = Math.max(...samples[i]);
  console.log(
    `    ${cmd.label.padEnd(30)} ${ms(medians[i]).padStart(9)}  (${lo.toFixed(1)}–${hi.toFixed(1)})`,
  );
}
console.log("");
for (const [i, cmd] of commands.entries()) {
  if (i === 0) continue;
  const ratio = medians[i] / base;
  console.log(
    `  ${cmd.label} / node -e 0 = ${ratio.toFixed(2)} (+${ms(medians[i] - base)})   ${verdict(ratio, TARGET)}`,
  );
}
