// Run every benchmark in sequence, each in its own Node process so none inherits another's heap, JIT
// state or event-loop backlog. `node bench/run-all.js [name…]` runs only the named ones.
// Exit status: 1 when a benchmark crashed (or is unknown); a missed target alone never fails the run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireBuild } from "./lib.js";

const BENCHMARKS = [
  "cold-start",
  "summary-list",
  "scheduler",
  "local-overhead",
  "cancel",
  "stats",
  "docker",
  "agents",
  "runloop",
];

requireBuild();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHMARKS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (known: ${BENCHMARKS.join(", ")})`);
  process.exit(1);
}

let crashed = 0;
for (const name of wanted.length > 0 ? wanted : BENCHMARKS) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  console.log(`\n=== ${name} ===`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [script], { stdio: "inherit" });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status === 0) {
    console.log(`--- ${name}: done in ${seconds} s`);
  } else {
    crashed++;
    console.log(`--- ${name}: FAILED (exit ${r.status ?? r.signal}) after ${seconds} s`);
  }
}
process.exit(crashed > 0 ? 1 : 0);
