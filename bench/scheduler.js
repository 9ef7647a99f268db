// Scheduler: 2,000 synthetic trials with random durations at concurrency 100 on an in-memory backend.
// Target: makespan / ideal ≤ 1.02, where ideal = max(sum(durations) / concurrency, max(duration)).
//
// The real runJob (dist/orchestrator/job.js) runs with the `nop` agent against an in-memory backend whose
// verifier exec sleeps for the trial's duration, so everything except the sleep is orchestration: the
// job store (mkdir, events.jsonl, result.json with fsync), phase bookkeeping and p-limit. Baselines from
// the same run: a pure-arithmetic greedy list schedule of the same durations in the same order, and the
// same sleeps under bare p-limit (the timer / event-loop floor on this machine).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pLimit from "p-limit";
import {
  median,
  mib,
  ms,
  mulberry32,
  jobSpec,
  removeDir,
  requireBuild,
  scratchDir,
  verdict,
} from "./lib.js";

requireBuild();
const { runJob } = await import("../dist/orchestrator/job.js");

const TRIALS = 2000;
const CONCURRENCY = 100;
const MIN_MS = 20;
const MAX_MS = 400;
const SEED = 0x5eed;
const RUNS = 3;
const TARGET = 1.02;

const sleep = (duration, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, duration);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Backend contract (src/backends/types.ts) without processes: exec sleeps for the duration assigned to
 * the trial's task (bounded by the exec's timeout, cut short by its signal); /logs/verifier/reward.txt
 * reads "1"; uploads and clearDir are no-ops.
 */
class MemoryBackend {
  name = "memory";
  constructor(durations) {
    this.durations = durations;
  }
  unsupportedReason() {
    return null;
  }
  async provision(req) {
    const duration = this.durations.get(req.task.id);
    let tornDown = false;
    return {
      workdir: req.task.environment.workdir,
      async exec(exec) {
        if (tornDown) throw new Error("sandbox already torn down");
        const started = performance.now();
        const limit = exec.timeoutMs ?? Number.POSITIVE_INFINITY;
        const finished = await sleep(Math.min(duration, limit), exec.signal);
        const timedOut = finished && duration > limit;
        return {
          exitCode: finished && !timedOut ? 0 : null,
          signal: finished && !timedOut ? null : "SIGTERM",
          timedOut,
          cancelled: !finished,
          durationMs: Math.round(performance.now() - started),
        };
      },
      async upload() {},
      async clearDir() {},
      async readFile(path) {
        return path === "/logs/verifier/reward.txt" ? "1\n" : null;
      },
      async teardown() {
        tornDown = true;
      },
    };
  }
}

function syntheticTasks(testsDir, durations) {
  const tasks = [];
  for (let i = 0; i < durations.length; i++) {
    const id = `synthetic/t${String(i).padStart(4, "0")}`;
    tasks.push({
      id,
      name: id,
      dir: testsDir,
      instruction: "do nothing",
      environment: { kind: "host", workdir: "/app" },
      agent: { timeoutSec: null, network: "no-network" },
      verifier: { timeoutSec: 600, network: "no-network", env: {} },
      solution: { dir: null, env: {} },
      buildTimeoutSec: 600,
      testsDir,
      metadata: {},
      digest: `sha256:${"0".repeat(64)}`,
    });
  }
  return tasks;
}

/** Makespan of greedy list scheduling (each job, in order, to the machine that frees up first). */
function greedyMakespan(durations, machines) {
  const free = new Array(Math.min(machines, durations.length)).fill(0);
  for (const d of durations) {
    let k = 0;
    for (let i = 1; i < free.length; i++) if (free[i] < free[k]) k = i;
    free[k] += d;
  }
  return Math.max(...free);
}

/** Wall time of the same sleeps under bare p-limit: what timers and the event loop cost on their own. */
async function bareMakespan(durations, concurrency) {
  const limit = pLimit(concurrency);
  const start = performance.now();
  await Promise.all(durations.map((d) => limit(() => sleep(d))));
  return performance.now() - start;
}

/** Peak RSS and heap while `fn` runs, sampled every 10 ms, plus event-loop delay percentiles. */
async function observed(fn) {
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 10);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const start = performance.now();
  try {
    const value = await fn();
    return { value, wallMs: performance.now() - start, rss, heap, loop };
  } finally {
    loop.disable();
    clearInterval(sample);
  }
}

async function measuredRun(tasks, durations) {
  const jobsDir = scratchDir("scheduler");
  try {
    const spec = jobSpec({
      name: "bench: scheduler",
      tasks,
      agents: [{ name: "nop", model: null }],
      concurrency: CONCURRENCY,
      benchmark: { kind: "path", source: "synthetic" },
    });
    const run = await observed(() =>
      runJob({
        jobId: `job_bench_scheduler_${process.pid}_${Date.now()}`,
        jobsDir,
        spec,
        tasks,
        backend: new MemoryBackend(durations),
        secretValues: {},
        signal: new AbortController().signal,
        rliVersion: "bench",
      }),
    );
    const passed = run.value.results.filter((r) => r.status === "passed").length;
    return { ...run, passed, state: run.value.job.state };
  } finally {
    removeDir(jobsDir);
  }
}

const random = mulberry32(SEED);
const durations = Array.from({ length: TRIALS }, () =>
  Math.round(MIN_MS + random() * (MAX_MS - MIN_MS)),
);
const testsDir = scratchDir("scheduler-tests");
writeFileSync(join(testsDir, "test.sh"), "echo 1 > /logs/verifier/reward.txt\n");
const tasks = syntheticTasks(testsDir, durations);
const byTask = new Map(tasks.map((t, i) => [t.id, durations[i]]));

const total = durations.reduce((a, b) => a + b, 0);
const ideal = Math.max(total / CONCURRENCY, Math.max(...durations));
const greedy = greedyMakespan(durations, CONCURRENCY);
const rssBefore = process.memoryUsage().rss;

console.log("Scheduler benchmark");
console.log(
  `  ${TRIALS} trials, concurrency ${CONCURRENCY}, durations ${MIN_MS}–${MAX_MS} ms (seed ${SEED}), ${RUNS} runs`,
);
console.log(`  ideal makespan (lower bound)    ${ms(ideal)}`);
console.log(`  greedy list schedule (simulated) ${ms(greedy)}  (${(greedy / ideal).toFixed(4)} × ideal)`);
console.log("");

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const bare = await bareMakespan(durations, CONCURRENCY);
  const run = await measuredRun(tasks, byTask);
  runs.push({ ...run, bare });
  const p99 = run.loop.percentile(99) / 1e6;
  console.log(
    `  run ${i + 1}: runJob ${ms(run.wallMs)} · bare p-limit ${ms(bare)} · ${run.passed}/${TRIALS} passed (${run.state}) · peak RSS ${mib(run.rss)} · peak heap ${mib(run.heap)} · loop delay p99 ${ms(p99)}`,
  );
}
removeDir(testsDir);

const measured = median(runs.map((r) => r.wallMs));
const bare = median(runs.map((r) => r.bare));
const perTrial = (makespan, baseline) => ((makespan - baseline) / TRIALS) * CONCURRENCY;
const ratio = measured / ideal;

console.log("");
console.log(`  measured makespan (median)       ${ms(measured)}`);
console.log(`  measured / ideal                 ${ratio.toFixed(4)}   ${verdict(ratio, TARGET)}`);
console.log(`  measured / greedy simulation     ${(measured / greedy).toFixed(4)}`);
console.log(`  measured / bare p-limit sleeps   ${(measured / bare).toFixed(4)}`);
console.log(
  `  overhead per trial vs simulation ${ms(perTrial(measured, greedy), 2)}  (timers alone: ${ms(perTrial(bare, greedy), 2)})`,
);
console.log(`  overhead per trial vs bare       ${ms(perTrial(measured, bare), 2)}`);
console.log(
  `  memory: RSS before ${mib(rssBefore)}, peak RSS ${mib(Math.max(...runs.map((r) => r.rss)))}, peak heap ${mib(Math.max(...runs.map((r) => r.heap)))}, process max RSS ${mib(process.resourceUsage().maxRSS * 1024)}`,
);
if (runs.some((r) => r.passed !== TRIALS)) {
  console.log("  WARNING: not every trial passed; the numbers above do not measure a clean run");
}
