// Cancel: time from SIGINT to the runner's exit with every sandbox gone, at 10 and at 100 concurrent
// trials (local backend, bubblewrap), against a baseline measured in the same run: the time the OS
// takes to end the same number of bare `sleep` processes sent SIGTERM.
//
// Each job runs N host tasks whose solution touches /logs/agent/sleeping and sleeps 600 s, at
// --n-concurrent-trials N. Once all N solutions sleep, the runner gets SIGINT; the clock stops when the
// runner has exited AND no process of the job is left: bwrap (it names the trial's paths on its command
// line) and the solutions' sleeps (a duration only this bench uses). Three rounds per size; medians.
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { median, ROOT, removeDir, requireBuild, scratchDir, verdict } from "./lib.js";

requireBuild();
const SIZES = [10, 100];
const ROUNDS = 3;
const LIMIT_MS = 10_000;

const scratch = scratchDir("cancel");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The argument of the solutions' sleep for size n: 600 s, written uniquely. */
const sleepToken = (n) => `600.${String(n).padStart(4, "0")}1`;

/** N host tasks that sleep in their solution. */
function writeTasks(n) {
  const bench = join(scratch, `sleepers-${n}`);
  for (let i = 0; i < n; i++) {
    const dir = join(bench, `s${String(i).padStart(3, "0")}`);
    mkdirSync(join(dir, "solution"), { recursive: true });
    mkdirSync(join(dir, "tests"), { recursive: true });
    writeFileSync(
      join(dir, "task.toml"),
      '[agent]\ntimeout_sec = 900\n[environment.rli]\nsandbox = "host"\n',
    );
    writeFileSync(join(dir, "instruction.md"), "Sleep.\n");
    // A sleep this bench alone runs, so the processes inside the sandboxes can be counted too.
    writeFileSync(
      join(dir, "solution", "solve.sh"),
      `touch /logs/agent/sleeping\nsleep ${sleepToken(n)}\n`,
    );
    writeFileSync(join(dir, "tests", "test.sh"), "echo 0 > /logs/verifier/reward.txt\n");
    chmodSync(join(dir, "solution", "solve.sh"), 0o755);
  }
  return bench;
}

/** Pids whose command line mentions `needle` (this script's own children included). */
function pidsMentioning(needle) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function sleepingTrials(jobsDir) {
  const [job] = existsSync(jobsDir) ? readdirSync(jobsDir).filter((n) => n.startsWith("job_")) : [];
  if (job === undefined) return { job: null, sleeping: 0 };
  const trials = join(jobsDir, job, "trials");
  let sleeping = 0;
  for (const t of existsSync(trials) ? readdirSync(trials) : []) {
    if (existsSync(join(trials, t, "logs", "agent", "sleeping"))) sleeping++;
  }
  return { job, sleeping };
}

async function cancelRound(n, bench, round) {
  const home = join(scratch, `home-${n}-${round}`);
  const jobsDir = join(home, "jobs");
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bin", "rli.js"),
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--benchmark",
      bench,
      "--n-concurrent-trials",
      String(n),
      "-o",
      "json",
    ],
    { env: { PATH: process.env.PATH, HOME: home, RLI_HOME: home }, stdio: "ignore" },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const startWait = performance.now();
  let job = null;
  for (;;) {
    const s = sleepingTrials(jobsDir);
    job = s.job;
    if (s.sleeping === n) break;
    if (performance.now() - startWait > 300_000) throw new Error(`${n} trials never all slept`);
    await sleep(50);
  }
  const jobDir = join(jobsDir, job);
  // The sandboxes (bwrap names the trial's paths) and the sleeps inside them.
  const mine = () => [...pidsMentioning(jobDir), ...pidsMentioning(`sleep\0${sleepToken(n)}`)];
  const before = mine().length;
  const t0 = performance.now();
  child.kill("SIGINT");
  await exited;
  const exitMs = performance.now() - t0;
  while (mine().length > 0) {
    if (performance.now() - t0 > 60_000) break;
    await sleep(10);
  }
  return { exitMs, goneMs: performance.now() - t0, before, left: mine().length };
}

/** The baseline: N bare `sleep 600` processes, SIGTERM to each, until all are gone. */
async function baseline(n) {
  const kids = Array.from({ length: n }, () => spawn("sleep", ["600"], { stdio: "ignore" }));
  await sleep(200);
  const gone = kids.map((k) => new Promise((r) => k.on("exit", r)));
  const t0 = performance.now();
  for (const k of kids) k.kill("SIGTERM");
  await Promise.all(gone);
  return performance.now() - t0;
}

process.on("SIGINT", () => {
  removeDir(scratch);
  process.exit(130);
});

try {
  console.log(
    `SIGINT to every sandbox gone (local backend, bubblewrap), ${ROUNDS} rounds per size`,
  );
  for (const n of SIZES) {
    const bench = writeTasks(n);
    const rounds = [];
    const bases = [];
    for (let r = 0; r < ROUNDS; r++) {
      bases.push(await baseline(n));
      rounds.push(await cancelRound(n, bench, r));
    }
    const gone = median(rounds.map((r) => r.goneMs));
    const exit = median(rounds.map((r) => r.exitMs));
    const base = median(bases);
    console.log(`  ${n} concurrent trials:`);
    console.log(
      `    SIGINT → runner exit ${exit.toFixed(0)} ms · → last sandbox process gone ${gone.toFixed(0)} ms (rounds: ${rounds.map((r) => r.goneMs.toFixed(0)).join(", ")}) · ${verdict(gone, LIMIT_MS, " ms")}`,
    );
    console.log(
      `    processes under the job before: ${rounds.map((r) => r.before).join(", ")}; left after: ${rounds.map((r) => r.left).join(", ")}`,
    );
    console.log(
      `    baseline, ${n} bare sleeps SIGTERMed: ${base.toFixed(1)} ms · rli / baseline ${(gone / base).toFixed(1)}×`,
    );
  }
} finally {
  removeDir(scratch);
}
