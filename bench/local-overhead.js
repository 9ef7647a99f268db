// Local overhead: the oracle on the starter benchmark vs running the same solve and test commands
// directly. Target: ≤ 30 ms added per trial.
//
// Baselines, measured in the same run:
//   (a) `bash -c true`: the bare process-spawn cost (a trial spawns two commands);
//   (b) per task: copy environment/workspace, then solve.sh and test.sh each under one raw bwrap that
//       binds only /usr, /etc, /app, /logs and /solution or /tests (the brief's command line).
// Measured:
//   in-process  a one-task runJob (dist/orchestrator/job.js) with the real LocalBackend, run right next
//               to the same task's baseline (b), in alternating order, so each pair shares the machine's
//               momentary load; added = job wall − baseline, median over every (task, repetition) pair;
//   CLI         `node bin/rli.js bmj run --agent oracle --benchmark <snapshot> --n-concurrent-trials 1
//               -o json` once per repetition; each outcome's duration_ms and phases are paired with the same
//               repetition's baselines, and wall − Σ duration_ms is what the process spends outside trials.
import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { cp, mkdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  jobSpec,
  median,
  ms,
  ROOT,
  removeDir,
  requireBuild,
  scratchDir,
  sum,
  verdict,
} from "./lib.js";

requireBuild();
const { runJob } = await import("../dist/orchestrator/job.js");
const { LocalBackend } = await import("../dist/backends/local.js");
const { loadTask } = await import("../dist/benchmarks/task.js");

const REPS = 3;
const SPAWNS = 20;
const TARGET_MS = 30;
/** Tasks are dropped from the end of the list when one raw pass would take longer than this. */
const RAW_PASS_BUDGET_MS = 9000;
const STARTER = join(ROOT, "fixtures", "benchmarks", "starter");
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function run(argv, { stdio = "ignore" } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio });
    let stdout = "";
    child.stdout?.on("data", (b) => {
      stdout += b;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, ms: performance.now() - started }));
  });
}

/**
 * Copy the starter tasks that are complete (task.toml, instruction.md, tests/test.sh, solution/solve.sh,
 * loadable, host sandbox) into a private benchmark directory, so tasks being edited meanwhile can
 * neither change nor break the run.
 */
async function snapshotStarter(dest) {
  mkdirSync(dest, { recursive: true });
  cpSync(join(STARTER, "benchmark.toml"), join(dest, "benchmark.toml"));
  const tasks = [];
  const skipped = [];
  for (const entry of readdirSync(STARTER, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const src = join(STARTER, entry.name);
    const needed = ["task.toml", "instruction.md", "tests/test.sh", "solution/solve.sh"];
    const missing = needed.filter((f) => !existsSync(join(src, f)));
    if (missing.length > 0) {
      skipped.push(`${entry.name} (no ${missing.join(", ")})`);
      continue;
    }
    const dir = join(dest, entry.name);
    cpSync(src, dir, { recursive: true, verbatimSymlinks: true });
    try {
      const task = await loadTask(dir, `starter/${entry.name}`);
      if (task.environment.kind !== "host") throw new Error("not a host-sandbox task");
      tasks.push(task);
    } catch (err) {
      removeDir(dir);
      skipped.push(`${entry.name} (${err.message.split("\n")[0]})`);
    }
  }
  tasks.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { tasks, skipped };
}

/** The raw bwrap line for one command: only the paths the task scripts use. */
function bwrapArgv(w, l, mount, script) {
  return [
    "bwrap",
    ...["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"],
    ...["--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"],
    ...["--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin"],
    ...["--bind", w, "/app", "--bind", l, "/logs", "--ro-bind", ...mount],
    ...["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/root"],
    ...["--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--clearenv"],
    ...["--setenv", "PATH", PATH, "--setenv", "HOME", "/root", "--chdir", "/app"],
    ...["bash", script],
  ];
}

/** Baseline (b) for one task: the work of a trial without rli, output to log files as rli does. */
async function rawTrial(task, scratch) {
  const started = performance.now();
  const w = join(scratch, "workspace");
  const l = join(scratch, "logs");
  await mkdir(w, { recursive: true });
  for (const sub of ["agent", "verifier", "artifacts"]) {
    await mkdir(join(l, sub), { recursive: true });
  }
  const seed = join(task.dir, "environment", "workspace");
  if (existsSync(seed)) await cp(seed, w, { recursive: true, preserveTimestamps: true });
  const prepared = performance.now();
  const logged = async (file, argv) => {
    const fd = openSync(join(l, file), "a");
    try {
      return await run(argv, { stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
  };
  const solution = [join(task.dir, "solution"), "/solution"];
  const solve = await logged("agent/oracle.txt", bwrapArgv(w, l, solution, "/solution/solve.sh"));
  const tests = [task.testsDir, "/tests"];
  const test = await logged("verifier/test-stdout.txt", bwrapArgv(w, l, tests, "/tests/test.sh"));
  const reward = await readFile(join(l, "verifier", "reward.txt"), "utf8").catch(() => "");
  removeDir(scratch);
  return {
    total: performance.now() - started,
    copy: prepared - started,
    solve: solve.ms,
    test: test.ms,
    passed: solve.code === 0 && reward.trim() === "1",
  };
}

async function spawnCost() {
  const times = [];
  for (let i = 0; i < SPAWNS; i++) times.push((await run(["bash", "-c", "true"])).ms);
  return median(times);
}

let jobCounter = 0;
async function inProcess(tasks, source, jobsDir) {
  const spec = jobSpec({
    name: "bench: local overhead",
    tasks,
    agents: [{ name: "oracle", model: null }],
    concurrency: 1,
    benchmark: { kind: "path", source },
  });
  const started = performance.now();
  const outcome = await runJob({
    jobId: `job_bench_local_${process.pid}_${jobCounter++}`,
    jobsDir,
    spec,
    tasks,
    backend: new LocalBackend("bubblewrap"),
    secretValues: {},
    signal: new AbortController().signal,
    rliVersion: "bench",
  });
  return { wall: performance.now() - started, trials: outcome.results };
}

/**
 * One CLI run. Besides the trials it splits the process's time outside trials, using the job document's
 * wall-clock stamps: start-up (spawn → job created: Node, modules, resolving the benchmark), the gaps
 * between trials (result.json writes), and the end (last trial → process exit: job.json, output, exit).
 */
async function viaCli(benchDir, jobsDir) {
  const argv = [
    process.execPath,
    join(ROOT, "bin", "rli.js"),
    ...["bmj", "run", "--agent", "oracle", "--benchmark", benchDir],
    ...["--n-concurrent-trials", "1", "--jobs-dir", jobsDir, "-o", "json"],
  ];
  const spawnedAt = Date.now();
  const r = await run(argv, { stdio: ["ignore", "pipe", "ignore"] });
  const exitedAt = Date.now();
  if (r.code !== 0) throw new Error(`rli exited with ${r.code}`);
  // `run -o json` prints Runloop's BenchmarkJobView; our per-trial record is each outcome's rli_trial.
  const doc = JSON.parse(r.stdout);
  const createdAt = doc.rli_job.created_at;
  const trials = doc.benchmark_outcomes.flatMap((o) =>
    o.scenario_outcomes.map((s) => ({
      ...s.rli_trial,
      scenario_id: s.scenario_definition_id,
      duration_ms: s.duration_ms,
    })),
  );
  const firstStart = Math.min(...trials.map((t) => Date.parse(t.started_at)));
  const lastFinish = Math.max(...trials.map((t) => Date.parse(t.finished_at)));
  const inTrials = sum(trials.map((t) => t.duration_ms));
  return {
    wall: r.ms,
    trials,
    outside: {
      total: r.ms - inTrials,
      startup: Date.parse(createdAt) - spawnedAt,
      beforeFirst: firstStart - Date.parse(createdAt),
      gaps: lastFinish - firstStart - inTrials,
      end: exitedAt - lastFinish,
    },
  };
}

const phase = (trial, ...names) => sum(names.map((n) => trial.phases[n]?.duration_ms ?? 0));
const OTHER_PHASES = ["provision", "agent_setup", "upload_tests", "collect", "teardown"];

/** One rli trial next to its baseline: what rli added overall and in each step. */
function paired(trial, raw, wall) {
  return {
    job: wall - raw.total,
    trial: trial.duration_ms - raw.total,
    solve: phase(trial, "agent_run") - raw.solve,
    test: phase(trial, "verify") - raw.test,
    other: phase(trial, ...OTHER_PHASES) - raw.copy,
    passed: trial.status === "passed" && raw.passed,
  };
}

async function main(root) {
  const benchDir = join(root, "starter");
  const { tasks: all, skipped } = await snapshotStarter(benchDir);
  console.log("Local overhead benchmark (oracle, starter, concurrency 1, bubblewrap)");
  if (skipped.length > 0) console.log(`  skipped incomplete tasks: ${skipped.join("; ")}`);
  if (all.length === 0) {
    console.log("  no complete tasks in fixtures/benchmarks/starter: nothing to measure");
    return;
  }

  // Warm-up pass (page cache, interpreters' byte code, bwrap, V8); it also sizes the run.
  const tasks = [];
  let budget = RAW_PASS_BUDGET_MS;
  for (const task of all) {
    const raw = await rawTrial(task, join(root, "warm", basename(task.dir)));
    if (raw.total > budget && tasks.length > 0) break;
    budget -= raw.total;
    tasks.push(task);
  }
  for (const task of all.slice(tasks.length)) removeDir(task.dir);
  await inProcess(tasks.slice(0, 1), benchDir, join(root, "warm-jobs"));
  const n = tasks.length;
  const capped = n < all.length ? ` (the first ${n} of ${all.length}: time budget)` : "";
  console.log(`  ${n} tasks${capped}, ${REPS} repetitions`);

  const pairs = [];
  const cliPairs = [];
  const spawns = [];
  const cliOutside = [];
  const perTask = new Map(tasks.map((t) => [t.id, { raw: [], rli: [] }]));
  for (let r = 0; r < REPS; r++) {
    spawns.push(await spawnCost());
    const raws = new Map();
    for (const [i, task] of tasks.entries()) {
      const scratch = join(root, `raw-${r}`, basename(task.dir));
      const jobs = join(root, `jobs-${r}`);
      let raw;
      let job;
      if ((i + r) % 2 === 0) {
        raw = await rawTrial(task, scratch);
        job = await inProcess([task], benchDir, jobs);
      } else {
        job = await inProcess([task], benchDir, jobs);
        raw = await rawTrial(task, scratch);
      }
      raws.set(task.id, raw);
      pairs.push(paired(job.trials[0], raw, job.wall));
      perTask.get(task.id).raw.push(raw.total);
      perTask.get(task.id).rli.push(job.wall);
    }
    const cli = await viaCli(benchDir, join(root, `cli-${r}`));
    for (const t of cli.trials) cliPairs.push(paired(t, raws.get(t.scenario_id), Number.NaN));
    cliOutside.push(cli.outside);
    const rep = pairs.slice(-n);
    console.log(
      `  rep ${r + 1}: raw bwrap ${ms(sum([...raws.values()].map((x) => x.total)) / n)}/trial · one-task runJob ${ms(median(rep.map((p) => p.job)))} added (median) · CLI ${ms(cli.wall)} for ${cli.trials.length} trials`,
    );
  }

  const med = (list, key) => median(list.map((p) => p[key]));
  const rawMed = median(tasks.flatMap((t) => perTask.get(t.id).raw));
  const addedJob = med(pairs, "job");
  console.log("");
  console.log("  baselines, medians:");
  console.log(
    `    (a) bash -c true spawn                   ${ms(median(spawns), 2)}  (a trial spawns 2 commands)`,
  );
  console.log(`    (b) raw bwrap trial (copy+solve+test)    ${ms(rawMed)}`);
  console.log("");
  console.log(
    `  added per trial by rli, median over ${pairs.length} (task, repetition) pairs, vs baseline (b):`,
  );
  console.log(
    `    in-process, one-task job wall            ${ms(addedJob)}   ${verdict(addedJob, TARGET_MS, " ms")}`,
  );
  console.log(`    in-process, inside the trial (duration)  ${ms(med(pairs, "trial"))}`);
  console.log(
    `      by step: solve ${ms(med(pairs, "solve"))} · test ${ms(med(pairs, "test"))} · other phases vs copy ${ms(med(pairs, "other"))}`,
  );
  console.log(`    CLI, inside the trial (duration_ms)      ${ms(med(cliPairs, "trial"))}`);
  console.log(
    `      by step: solve ${ms(med(cliPairs, "solve"))} · test ${ms(med(cliPairs, "test"))} · other phases vs copy ${ms(med(cliPairs, "other"))}`,
  );
  const outside = (key) => ms(median(cliOutside.map((o) => o[key])));
  const outsideTotal = median(cliOutside.map((o) => o.total));
  console.log(
    `    CLI, outside trials, per job             ${ms(outsideTotal)} = ${ms(outsideTotal / n)} per trial over ${n} trials`,
  );
  console.log(
    `      start-up to job created ${outside("startup")} · job created to first trial ${outside("beforeFirst")} · between trials ${outside("gaps")} · last trial to exit ${outside("end")}`,
  );
  console.log("");
  console.log("  per task, median ms: raw bwrap · one-task runJob · added");
  for (const task of tasks) {
    const { raw, rli } = perTask.get(task.id);
    const a = median(raw);
    const b = median(rli);
    console.log(
      `    ${task.id.padEnd(42)} ${a.toFixed(0).padStart(6)} · ${b.toFixed(0).padStart(6)} · ${(b - a).toFixed(0).padStart(5)}`,
    );
  }
  if (![...pairs, ...cliPairs].every((p) => p.passed)) {
    console.log("  WARNING: some trials did not pass; compare the numbers with care");
  }
}

const root = scratchDir("local");
try {
  await main(root);
} finally {
  removeDir(root);
}
