// Scheduler: 2,000 synthetic trials with random durations at concurrency 100 on an in-memory backend.
// Target: makespan / ideal ≤ 1.02, where ideal is the makespan a zero-overhead scheduler reaches on the
// same trials in the same (planned, first-in-first-out) order: a greedy list schedule, computed exactly.
// The absolute lower bound max(sum / concurrency, max) is printed too; no FIFO scheduler can reach it
// on random durations (the idle tail of the last wave alone costs a few percent), so it is context only.
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
  jobSpec,
  median,
  mib,
  ms,
  mulberry32,
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
const RUNS = 5;
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

/** Peak RSS and heap while `fn` runs, sampled every 25 ms, plus event-loop delay percentiles. */
async function observed(fn) {
  let rss = process.memoryUsage.rss();
  let heap = process.memoryUsage().heapUsed;
  const sample = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss());
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 25);
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
    const { value, ...rest } = run;
    const passed = value.results.filter((r) => r.status === "passed").length;
    return { ...rest, results: value.results, passed, state: value.job.state };
  } finally {
    removeDir(jobsDir);
  }
}

/**
 * Where a run's time went, per trial, from the trials' own timings (ms resolution): `inTrial` is
 * duration_ms minus the sleep; `inPhases` the part inside timed phases (mostly timer lateness); the
 * rest of `inTrial` is prepareTrial and glue. `outside` is slot time not covered by any trial
 * (result.json writes, p-limit hand-off, and the unavoidable idle tail of the last wave).
 */
function breakdown(results, wallMs, assigned) {
  let inTrial = 0;
  let inPhases = 0;
  let covered = 0;
  for (const r of results) {
    const d = assigned.get(r.scenario_id);
    covered += r.duration_ms;
    inTrial += r.duration_ms - d;
    for (const p of Object.values(r.phases)) inPhases += p.duration_ms;
    inPhases -= d;
  }
  const n = results.length;
  return {
    inTrial: inTrial / n,
    inPhases: inPhases / n,
    outside: (wallMs * CONCURRENCY - covered) / n,
  };
}

// Node's own warning printer is replaced by a count and one message in the summary.
const warnings = new Map();
process.removeAllListeners("warning");
process.on("warning", (w) => {
  const seen = warnings.get(w.name) ?? { count: 0, message: w.message };
  seen.count++;
  warnings.set(w.name, seen);
});

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
const longestFirst = greedyMakespan(
  [...durations].sort((a, b) => b - a),
  CONCURRENCY,
);
const rssBefore = process.memoryUsage().rss;

const row = (label, value) => console.log(`  ${label.padEnd(36)} ${value}`);
console.log("Scheduler benchmark");
console.log(
  `  ${TRIALS} trials, concurrency ${CONCURRENCY}, durations ${MIN_MS}–${MAX_MS} ms (seed ${SEED}), ${RUNS} runs`,
);
row("lower bound max(sum/c, max)", ms(ideal));
row("ideal: FIFO, zero overhead", `${ms(greedy)}  (${(greedy / ideal).toFixed(4)} × lower bound)`);
row(
  "longest-first schedule (simulated)",
  `${ms(longestFirst)}  (${(longestFirst / ideal).toFixed(4)} × lower bound; needs durations up front)`,
);
console.log("");

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const bare = await bareMakespan(durations, CONCURRENCY);
  const { results, ...run } = await measuredRun(tasks, byTask);
  // Keep only the summary so heap growth across runs would point at the orchestrator, not at us.
  runs.push({ ...run, bare, parts: breakdown(results, run.wallMs, byTask) });
  const p99 = run.loop.percentile(99) / 1e6;
  console.log(
    `  run ${i + 1}: runJob ${ms(run.wallMs)} · bare p-limit ${ms(bare)} · ${run.passed}/${TRIALS} passed (${run.state}) · peak RSS ${mib(run.rss)} · peak heap ${mib(run.heap)} · loop delay p99 ${ms(p99)}`,
  );
}
removeDir(testsDir);

const measured = median(runs.map((r) => r.wallMs));
const bare = median(runs.map((r) => r.bare));
const perTrial = (makespan, baseline) => ((makespan - baseline) / TRIALS) * CONCURRENCY;
const ratio = measured / greedy;

console.log("");
row("measured makespan (median)", ms(measured));
row("measured / ideal (FIFO, zero overhead)", `${ratio.toFixed(4)}   ${verdict(ratio, TARGET)}`);
row(
  "measured / lower bound",
  `${(measured / ideal).toFixed(4)}   (context: unreachable in FIFO order)`,
);
row("measured / bare p-limit sleeps", (measured / bare).toFixed(4));
row(
  "overhead per trial vs simulation",
  `${ms(perTrial(measured, greedy), 2)}  (timers alone: ${ms(perTrial(bare, greedy), 2)})`,
);
row("overhead per trial vs bare p-limit", ms(perTrial(measured, bare), 2));
row(
  "memory",
  `RSS before ${mib(rssBefore)} · peak RSS ${mib(Math.max(...runs.map((r) => r.rss)))} · peak heap ${mib(Math.max(...runs.map((r) => r.heap)))} · process max RSS ${mib(process.resourceUsage().maxRSS * 1024)}`,
);
const parts = runs.map((r) => r.parts);
const tailIdle = ((greedy * CONCURRENCY - total) / TRIALS).toFixed(2);
row(
  "per-trial breakdown (median)",
  `inside trial ${ms(median(parts.map((p) => p.inTrial)), 2)} (in phases ${ms(median(parts.map((p) => p.inPhases)), 2)}) · between trials ${ms(median(parts.map((p) => p.outside)), 2)} (~${tailIdle} ms of it is the schedule's idle tail)`,
);
for (const [name, { count, message }] of warnings) {
  console.log(`  WARNING: ${name} ×${count} during the runs: ${message}`);
}
if (runs.some((r) => r.passed !== TRIALS)) {
  console.log("  WARNING: not every trial passed; the numbers above do not measure a clean run");
}
