// Docker backend: per-trial overhead against the local backend on the same tasks, and the image cache
// hit rate over a job.
//
// Per-trial overhead: N trivial tasks (solve.sh writes out.txt, test.sh gives reward 1 when it is there)
// in two forms with identical solve and test scripts: host tasks (bubblewrap, the default backend) and
// image tasks (one shared environment/Dockerfile FROM rli-base:bookworm, so one image for all). The oracle
// runs both through the built CLI, interleaved over ROUNDS rounds at concurrency 1, then once each at
// concurrency 4; the numbers come from each job's results.jsonl (duration_ms and phases). A one-task
// docker job first builds the image, so the build stays out of the per-trial numbers; it is reported apart.
//
// Image cache: a job of CACHE_TASKS image tasks over CACHE_VARIANTS distinct Dockerfiles, n_attempts 2,
// run twice. Builds are the `tag` events docker reports for the expected tags while the job ran; every
// other trial was a cache hit.
//
// Every Dockerfile carries a LABEL with this run's nonce, so its tags are new (a real cold build) and only
// they are removed at the end.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, ROOT, removeDir, requireBuild, scratchDir, sum, verdict } from "./lib.js";

requireBuild();
const { contextDigest, imageTag, LABEL_JOB } = await import("../dist/backends/docker.js");

/** 10, not 20: a docker trial takes about 1.3 s here, and the script must stay under two minutes. */
const N_TASKS = 10;
const ROUNDS = 3;
const CONCURRENCY = 4;
const CACHE_TASKS = 12;
const CACHE_VARIANTS = 3;
const CACHE_ATTEMPTS = 2;
const BASE_IMAGE = "rli-base:bookworm";
const PHASES = [
  "provision",
  "agent_setup",
  "agent_run",
  "upload_tests",
  "verify",
  "collect",
  "teardown",
];
const NONCE = `${process.pid}-${randomBytes(4).toString("hex")}`;

function run(argv, env = process.env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => {
      stdout += b;
    });
    child.stderr.on("data", (b) => {
      stderr += b;
    });
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ code, stdout, stderr, ms: performance.now() - started }),
    );
  });
}

async function docker(...args) {
  const r = await run(["docker", ...args]);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr.trim().split("\n")[0]}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** One trivial task; `dockerfile` null gives the host form. solve.sh and test.sh are the same in both. */
function writeTask(dir, dockerfile) {
  mkdirSync(join(dir, "solution"), { recursive: true });
  mkdirSync(join(dir, "tests"), { recursive: true });
  writeFileSync(join(dir, "instruction.md"), "Write ok to out.txt in the working directory.\n");
  writeFileSync(join(dir, "solution", "solve.sh"), "#!/usr/bin/env bash\necho ok > out.txt\n");
  writeFileSync(
    join(dir, "tests", "test.sh"),
    '#!/usr/bin/env bash\nmkdir -p /logs/verifier\nif [ "$(cat out.txt 2>/dev/null)" = ok ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n',
  );
  if (dockerfile === null) {
    writeFileSync(join(dir, "task.toml"), '[environment.rli]\nsandbox = "host"\n');
  } else {
    writeFileSync(join(dir, "task.toml"), "[environment]\n");
    mkdirSync(join(dir, "environment"), { recursive: true });
    writeFileSync(join(dir, "environment", "Dockerfile"), dockerfile);
  }
}

function dockerfile(variant) {
  const env = variant === null ? "" : `ENV RLI_BENCH_VARIANT=${variant}\n`;
  return `FROM ${BASE_IMAGE}\nLABEL rli.bench=${NONCE}\n${env}WORKDIR /app\n`;
}

/**
 * A benchmark directory of `n` tasks; returns the distinct image tags its Dockerfiles build to and adds
 * them to `created` (what the clean-up removes) before anything is built.
 */
async function writeBenchmark(dir, n, dockerfileOf, created) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "benchmark.toml"), `name = "bench-docker"\n`);
  const tags = new Set();
  for (let i = 0; i < n; i++) {
    const task = join(dir, `t${String(i).padStart(2, "0")}`);
    const df = dockerfileOf(i);
    writeTask(task, df);
    if (df !== null) tags.add(imageTag(await contextDigest(join(task, "environment"))));
  }
  for (const t of tags) created.add(t);
  return tags;
}

/**
 * `rli bmj run --agent oracle` on the built CLI; the trials come from the job's results.jsonl. `outside`
 * splits the process's time outside trials with the job's wall-clock stamps (meaningful at concurrency 1).
 */
async function rliRun(source, { jobsDir, docker: inDocker, concurrency, attempts = 1, env }) {
  const argv = [
    process.execPath,
    join(ROOT, "bin", "rli.js"),
    ...["bmj", "run", "--agent", "oracle", ...source],
    ...["--n-concurrent-trials", String(concurrency), "--n-attempts", String(attempts)],
    ...(inDocker ? ["--backend", "docker"] : []),
    ...["--jobs-dir", jobsDir, "-o", "json"],
  ];
  const spawnedAt = Date.now();
  const r = await run(argv, env);
  const exitedAt = Date.now();
  if (r.code !== 0) {
    throw new Error(`rli exited with ${r.code}: ${r.stderr.trim().split("\n").at(-1) ?? ""}`);
  }
  const doc = JSON.parse(r.stdout);
  const trials = readFileSync(join(doc.rli_job.dir, "results.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
  const createdAt = Date.parse(doc.rli_job.created_at);
  const firstStart = Math.min(...trials.map((t) => Date.parse(t.started_at)));
  const lastFinish = Math.max(...trials.map((t) => Date.parse(t.finished_at)));
  const inTrials = sum(trials.map((t) => t.duration_ms));
  return {
    wall: r.ms,
    trials,
    outside: {
      total: r.ms - inTrials,
      startup: createdAt - spawnedAt,
      beforeFirst: firstStart - createdAt,
      gaps: lastFinish - firstStart - inTrials,
      end: exitedAt - lastFinish,
    },
  };
}

const phaseMs = (trial, name) => trial.phases[name]?.duration_ms ?? 0;
const outsidePhases = (t) => t.duration_ms - sum(PHASES.map((p) => phaseMs(t, p)));
const taskOf = (t) => t.scenario_id.split("/").at(-1);
const fmt = (v) => Math.round(v).toLocaleString("en-US");
const range = (values) =>
  values.length > 1 ? ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : "";
const signed = (v) => `${v >= 0 ? "+" : "−"}${fmt(Math.abs(v))}`;

/**
 * Runs `fn` while collecting docker's `tag` events; returns its value and the tags of `tags` built
 * meanwhile. The event stream is live: dockerd keeps only its last 256 events (an oracle trial makes
 * 36), so asking afterwards with --since/--until would miss the builds of a long job.
 */
async function countingBuilds(tags, fn) {
  const since = (Date.now() / 1000).toFixed(3);
  const filters = ["--filter", "type=image", "--filter", "event=tag"];
  const child = spawn(
    "docker",
    ["events", "--since", since, ...filters, "--format", "{{.Actor.Attributes.name}}"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let out = "";
  child.stdout.on("data", (b) => {
    out += b;
  });
  const closed = new Promise((resolve) => child.once("close", resolve));
  try {
    const value = await fn();
    // The event precedes the end of the build call, but may still be on its way through the stream.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { value, built: out.split("\n").filter((n) => tags.has(n)) };
  } finally {
    child.kill();
    await closed;
  }
}

async function overhead(root, env, created) {
  const hostDir = join(root, "host");
  const imageDir = join(root, "image");
  await writeBenchmark(hostDir, N_TASKS, () => null, created);
  const tags = await writeBenchmark(imageDir, N_TASKS, () => dockerfile(null), created);
  const jobs = (name) => join(root, `jobs-${name}`);

  // Warm-up: the one-task docker job builds the image (cold), the local one warms bwrap and caches.
  const { value: cold, built } = await countingBuilds(tags, () =>
    rliRun(["--scenarios", join(imageDir, "t00")], {
      jobsDir: jobs("warm"),
      docker: true,
      concurrency: 1,
      env,
    }),
  );
  await rliRun(["--scenarios", join(hostDir, "t00")], {
    jobsDir: jobs("warm"),
    docker: false,
    concurrency: 1,
    env,
  });

  console.log(
    `Docker backend overhead (oracle, ${N_TASKS} trivial tasks, image FROM ${BASE_IMAGE}, concurrency 1, ${ROUNDS} rounds)`,
  );
  const local = [];
  const dock = [];
  const outside = { local: [], docker: [] };
  const c1Walls = { local: [], docker: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    const got = {};
    for (const inDocker of order) {
      const job = await rliRun(["--benchmark", inDocker ? imageDir : hostDir], {
        jobsDir: jobs(`r${r}`),
        docker: inDocker,
        concurrency: 1,
        env,
      });
      for (const t of job.trials) t.round = r;
      got[inDocker ? "docker" : "local"] = job;
      (inDocker ? dock : local).push(...job.trials);
      outside[inDocker ? "docker" : "local"].push(job.outside);
      c1Walls[inDocker ? "docker" : "local"].push(job.wall);
    }
    const m = (job) => fmt(median(job.trials.map((t) => t.duration_ms)));
    console.log(
      `  round ${r + 1}: local ${m(got.local)} ms/trial · docker ${m(got.docker)} ms/trial (median duration_ms); CLI wall local ${(got.local.wall / 1000).toFixed(1)} s, docker ${(got.docker.wall / 1000).toFixed(1)} s`,
    );
  }

  const byRound = (trials, f) =>
    Array.from({ length: ROUNDS }, (_, r) => median(trials.filter((t) => t.round === r).map(f)));
  const key = (t) => `${t.round}/${taskOf(t)}`;
  const localBy = new Map(local.map((t) => [key(t), t]));
  const pairs = dock.filter((t) => localBy.has(key(t))).map((t) => [localBy.get(key(t)), t]);
  const dur = (t) => t.duration_ms;
  const lMed = median(local.map(dur));
  const dMed = median(dock.map(dur));
  console.log("");
  console.log(
    `  per trial, duration_ms, median over ${pairs.length} (task, round) pairs (min–max of the round medians):`,
  );
  console.log(
    `    local (bubblewrap)            ${fmt(lMed).padStart(6)} ms${range(byRound(local, dur))}`,
  );
  console.log(
    `    docker                        ${fmt(dMed).padStart(6)} ms${range(byRound(dock, dur))}`,
  );
  console.log(
    `    docker − local, per pair      ${signed(median(pairs.map(([l, d]) => dur(d) - dur(l)))).padStart(6)} ms`,
  );
  console.log(`    docker / local                ${(dMed / lMed).toFixed(1).padStart(6)} ×`);
  console.log("  by phase, median ms: local · docker · docker − local (per pair)");
  const phaseRow = (label, f) => {
    const l = median(local.map(f));
    const d = median(dock.map(f));
    const diff = median(pairs.map(([a, b]) => f(b) - f(a)));
    console.log(
      `    ${label.padEnd(28)} ${fmt(l).padStart(5)} · ${fmt(d).padStart(5)} · ${signed(diff).padStart(6)}`,
    );
  };
  for (const p of PHASES) phaseRow(p, (t) => phaseMs(t, p));
  phaseRow("outside phases (in trial)", outsidePhases);
  const out = (name, k) => median(outside[name].map((o) => o[k]));
  console.log(
    `  per job, outside trials (CLI wall − Σ duration_ms), median ms: local · docker · docker − local`,
  );
  for (const [k, label] of [
    ["total", "total"],
    ["startup", "start-up to job created"],
    ["beforeFirst", "job created to first trial"],
    ["gaps", "between trials"],
    ["end", "last trial to exit"],
  ]) {
    const l = out("local", k);
    const d = out("docker", k);
    console.log(
      `    ${label.padEnd(28)} ${fmt(l).padStart(5)} · ${fmt(d).padStart(5)} · ${signed(d - l).padStart(6)}`,
    );
  }

  const coldTrial = cold.trials[0];
  const warmProvision = median(dock.map((t) => phaseMs(t, "provision")));
  console.log(
    `  cold image build, outside the numbers above: first trial's provision ${fmt(phaseMs(coldTrial, "provision"))} ms − warm median ${fmt(warmProvision)} ms ≈ ${fmt(phaseMs(coldTrial, "provision") - warmProvision)} ms (${built.length} build${built.length === 1 ? "" : "s"}; first job ${(cold.wall / 1000).toFixed(1)} s)`,
  );

  // Under contention: one job each at CONCURRENCY, after the same warm-up.
  const c = {};
  for (const inDocker of [false, true]) {
    c[inDocker ? "docker" : "local"] = await rliRun(
      ["--benchmark", inDocker ? imageDir : hostDir],
      { jobsDir: jobs("c4"), docker: inDocker, concurrency: CONCURRENCY, env },
    );
  }
  const wallPer = (job) => job.wall / job.trials.length;
  const c1Wall = (name) => median(c1Walls[name]) / N_TASKS;
  console.log(`  concurrency ${CONCURRENCY}, one job each (${N_TASKS} trials):`);
  for (const name of ["local", "docker"]) {
    const job = c[name];
    console.log(
      `    ${name.padEnd(7)} CLI wall ${fmt(job.wall)} ms = ${fmt(wallPer(job))} ms per trial (throughput ${(c1Wall(name) / wallPer(job)).toFixed(1)}× concurrency 1) · trial median ${fmt(median(job.trials.map(dur)))} ms`,
    );
  }
  console.log(
    `    docker / local, wall per trial ${(wallPer(c.docker) / wallPer(c.local)).toFixed(1)} ×; docker − local ${signed(wallPer(c.docker) - wallPer(c.local))} ms per trial`,
  );
  const all = [...local, ...dock, ...c.local.trials, ...c.docker.trials, ...cold.trials];
  if (!all.every((t) => t.status === "passed")) {
    console.log("  WARNING: some trials did not pass; compare the numbers with care");
  }
}

async function cacheHits(root, env, created) {
  const dir = join(root, "cache");
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const tags = await writeBenchmark(
    dir,
    CACHE_TASKS,
    (i) => dockerfile(letters[i % CACHE_VARIANTS]),
    created,
  );
  const trials = CACHE_TASKS * CACHE_ATTEMPTS;
  console.log("");
  console.log(
    `Image cache over a job (${CACHE_TASKS} image tasks, ${tags.size} distinct Dockerfiles, --n-attempts ${CACHE_ATTEMPTS} = ${trials} trials, concurrency ${CONCURRENCY}, docker backend)`,
  );
  for (const n of [1, 2]) {
    const { value: job, built } = await countingBuilds(tags, () =>
      rliRun(["--benchmark", dir], {
        jobsDir: join(root, "jobs-cache"),
        docker: true,
        concurrency: CONCURRENCY,
        attempts: CACHE_ATTEMPTS,
        env,
      }),
    );
    const present = (
      await docker("images", "rli-task", "--format", "{{.Repository}}:{{.Tag}}")
    ).filter((t) => tags.has(t)).length;
    const hits = job.trials.length - built.length;
    const passed = job.trials.filter((t) => t.status === "passed").length;
    const expected = n === 1 ? tags.size : 0;
    const prov = job.trials.map((t) => phaseMs(t, "provision"));
    console.log(
      `  job ${n}: ${built.length} builds (${new Set(built).size} distinct tags; ${present}/${tags.size} tags present after) · hits ${hits}/${job.trials.length} = ${((100 * hits) / job.trials.length).toFixed(1)}% · ${passed}/${job.trials.length} passed · wall ${(job.wall / 1000).toFixed(1)} s · provision median ${fmt(median(prov))} ms, max ${fmt(Math.max(...prov))} ms · ${verdict(built.length, expected, ` build${expected === 1 ? "" : "s"}`)}`,
    );
  }
}

/** The ids of every job this run started: the job directories under the scratch `jobs-*` directories. */
function jobIdsUnder(root) {
  return readdirSync(root)
    .filter((d) => d.startsWith("jobs-"))
    .flatMap((d) => readdirSync(join(root, d)).filter((j) => j.startsWith("job_")));
}

/** Removes this run's tags and any container of its jobs; reports what it removed and what is left. */
async function cleanUp(root, tags) {
  const present = (
    await docker("images", "rli-task", "--format", "{{.Repository}}:{{.Tag}}")
  ).filter((t) => tags.has(t));
  if (present.length > 0) await docker("rmi", ...present);
  const jobIds = new Set(jobIdsUnder(root));
  const format = `{{.ID}} {{.Label "${LABEL_JOB}"}}`;
  const labelled = await docker("ps", "-a", "--filter", `label=${LABEL_JOB}`, "--format", format);
  const ours = labelled.filter((l) => jobIds.has(l.split(" ")[1]));
  if (ours.length > 0) await docker("rm", "-f", ...ours.map((l) => l.split(" ")[0]));
  const imagesLeft = await docker("images", "-a", "--filter", `label=rli.bench=${NONCE}`, "-q");
  return {
    removed: present.length,
    jobs: jobIds.size,
    containers: ours.length,
    others: labelled.length - ours.length,
    imagesLeft: imagesLeft.length,
  };
}

const started = performance.now();
const probe = await run(["docker", "image", "inspect", BASE_IMAGE]).catch((err) => ({
  code: -1,
  stderr: err.message,
}));
if (probe.code !== 0) {
  console.log(
    `Docker backend benchmark SKIPPED: no Docker engine or no ${BASE_IMAGE} (${probe.stderr.trim().split("\n")[0]}); run scripts/setup-docker.sh as root`,
  );
  process.exit(0);
}
const root = scratchDir("docker");
// Agent installs (none for the oracle) stay in the scratch directory too.
const env = { ...process.env, RLI_AGENT_CACHE: join(root, "agents") };
const tags = new Set();
// Ctrl-C reaches the rli child too: it cancels its job and exits 130, which ends the run here through
// the clean-up below instead of leaving this run's images behind.
let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
});
try {
  await overhead(root, env, tags);
  await cacheHits(root, env, tags);
} catch (err) {
  if (!interrupted) throw err;
  process.exitCode = 130;
} finally {
  const left = await cleanUp(root, tags);
  removeDir(root);
  console.log("");
  console.log(
    `  ${interrupted ? "interrupted; " : ""}clean-up: ${left.removed} rli-task tags removed, ${left.imagesLeft} images of this run left; containers of this run's ${left.jobs} jobs left: ${left.containers}${left.containers > 0 ? " (removed now)" : ""}${left.others > 0 ? ` (${left.others} of other jobs untouched)` : ""}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
  );
}
