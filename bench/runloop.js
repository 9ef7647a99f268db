// Runloop backend: API calls per trial and runner memory, against the fake Runloop server of test/fakes.
// The fake serves from this process (its devboxes run every command in bubblewrap); the built CLI runs
// as a child process, always spawned asynchronously so this event loop keeps answering it.
//
//   calls   `rli bmj run --agent oracle --agent nop --benchmark starter --backend runloop`. Every request
//           the fake recorded is attributed to its trial by the devbox id in its path; the job's own
//           calls (the start-up ping, creates, which carry no id) are shared out per trial. "Excluding log
//           download" leaves out teardown's `tar -czf … -C /logs .` execute and its download_file
//           (collectLogs in src/backends/runloop.ts). Target: ≤ 12 for the costliest trial.
//   memory  250 one-line host tasks × oracle and nop = 500 trials at --n-concurrent-trials 500; the fake
//           holds provisioning 5 s, so all 500 devboxes exist before any runs and then go through their
//           uploads and executes together. Baselines from the same run: the same job at
//           --n-concurrent-trials 10 and `node -e 0`. Peak RSS of the runner process from GNU time's %M
//           (or, without it, polls of /proc/<pid>/status VmHWM); the fake's live devboxes and running
//           commands are sampled every 100 ms to show how many trials were really in flight.
//
// `node bench/runloop.js` loads the TypeScript fake itself through tsx's register API (a dev dependency).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, mib, ROOT, removeDir, requireBuild, scratchDir, verdict } from "./lib.js";

requireBuild();
const { register } = await import("tsx/esm/api");
register();
const { startFakeRunloop } = await import("../test/fakes/runloop-server.ts");

const TARGET_CALLS = 12;
const CONCURRENCY = 500;
const BASELINE_CONCURRENCY = 10;
/** Sizes tried, largest first, when a 500-trial job cannot run here. */
const FALLBACK_TRIALS = [500, 250, 100];
/** Provisioning hold of the fake in the concurrent run: longer than creating every devbox takes. */
const HOLD_MS = 5000;
/** A CLI run that takes longer than this is killed and reported. */
const RUN_LIMIT_MS = 240_000;
const NODE_RUNS = 5;
const API_KEY = "rl-bench-key";
const RLI = join(ROOT, "bin", "rli.js");
const GNU_TIME = "/usr/bin/time";
/** The command collectLogs runs at teardown (src/backends/runloop.ts). */
const LOG_TAR = /^tar -czf '\/tmp\/rli\/logs-[^']+\.tgz' -C \/logs \.$/;
const DEVBOX_PATH = /^\/v1\/devboxes\/([^/]+)\//;

let leftLive = 0;
const mibOf = (kib) => mib(kib * 1024);
const sec = (msValue) => `${(msValue / 1000).toFixed(1)} s`;
const fixed = (v, digits = 2) => v.toFixed(digits);

/** Env for the CLI: this machine's, without any real Runloop settings, pointed at the fake. */
function cliEnv(fake) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("RUNLOOP_")) delete env[key];
  return { ...env, RUNLOOP_API_KEY: API_KEY, RUNLOOP_BASE_URL: fake.baseUrl, NO_COLOR: "1" };
}

function vmHwmKiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Runs `node argv` with its peak RSS measured: GNU time's %M when `useTime`, else the highest VmHWM seen
 * in 20 ms polls (which can miss the last moments). Asynchronous; killed after RUN_LIMIT_MS.
 */
function measured(argv, { env = process.env, useTime, rssFile }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cmd = useTime ? GNU_TIME : process.execPath;
    const args = useTime ? ["-f", "%M", "-o", rssFile, process.execPath, ...argv] : argv;
    const child = spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    let err = "";
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => {
      err = (err + b).slice(-20_000);
    });
    let polled = 0;
    const poll = useTime
      ? null
      : setInterval(() => {
          polled = Math.max(polled, vmHwmKiB(child.pid));
        }, 20);
    let killed = false;
    const limit = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, RUN_LIMIT_MS);
    child.once("error", (err) => {
      clearTimeout(limit);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(limit);
      if (poll !== null) clearInterval(poll);
      let peakKiB = polled;
      if (useTime) {
        let last = "";
        try {
          // GNU time may print "Command exited with non-zero status N" first.
          last = readFileSync(rssFile, "utf8").trim().split("\n").at(-1) ?? "";
        } catch {
          // killed with time itself: no report
        }
        peakKiB = /^\d+$/.test(last) ? Number(last) : Number.NaN;
      }
      resolve({
        code,
        signal,
        killed,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: err,
        wallMs: performance.now() - started,
        peakKiB,
      });
    });
  });
}

/** Whether GNU time with -f/-o works here; its `node -e 0` doubles as the first baseline run. */
async function probeTime(rssFile) {
  if (!existsSync(GNU_TIME)) return null;
  try {
    const r = await measured(["-e", "0"], { useTime: true, rssFile });
    return r.code === 0 && Number.isFinite(r.peakKiB) && r.peakKiB > 0 ? r.peakKiB : null;
  } catch {
    return null;
  }
}

/** Live devboxes and running commands of the fake, every 100 ms. */
function sampleFake(fake, target) {
  let maxLive = 0;
  let maxRunning = 0;
  let highSince = null;
  let highMs = 0;
  const high = Math.ceil(target * 0.95);
  const timer = setInterval(() => {
    const live = fake.liveDevboxes();
    maxLive = Math.max(maxLive, live);
    maxRunning = Math.max(maxRunning, fake.processIds().length);
    const now = performance.now();
    if (live >= high) highSince ??= now;
    else if (highSince !== null) {
      highMs += now - highSince;
      highSince = null;
    }
  }, 100);
  return () => {
    clearInterval(timer);
    if (highSince !== null) highMs += performance.now() - highSince;
    return { maxLive, maxRunning, high, highMs };
  };
}

function starterTasks() {
  const dir = join(ROOT, "fixtures", "benchmarks", "starter");
  return readdirSync(dir).filter((e) => existsSync(join(dir, e, "task.toml"))).length;
}

/** A benchmark of trivial host tasks: oracle's solve.sh creates /app/done, test.sh rewards it. */
function writeTinyBenchmark(dir, nTasks) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "benchmark.toml"), 'name = "tiny"\ndescription = "one-line tasks"\n');
  for (let i = 0; i < nTasks; i++) {
    const task = join(dir, `t${String(i).padStart(4, "0")}`);
    mkdirSync(join(task, "solution"), { recursive: true });
    mkdirSync(join(task, "tests"), { recursive: true });
    writeFileSync(
      join(task, "task.toml"),
      `schema_version = "1.1"\n\n[task]\nname = "tiny/t${i}"\n\n[agent]\ntimeout_sec = 600.0\n\n[verifier]\ntimeout_sec = 120.0\n\n[environment]\nnetwork_mode = "no-network"\n\n[environment.rli]\nsandbox = "host"\nworkdir = "/app"\n`,
    );
    writeFileSync(join(task, "instruction.md"), "Create the file /app/done.\n");
    writeFileSync(join(task, "solution", "solve.sh"), "#!/bin/bash\ntouch /app/done\n", {
      mode: 0o755,
    });
    writeFileSync(
      join(task, "tests", "test.sh"),
      "#!/bin/bash\nif [ -e /app/done ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n",
      { mode: 0o755 },
    );
  }
}

/** The trials of a `run -o json` document, or null with the reason when there is none. */
function trialsOf(run) {
  let doc;
  try {
    doc = JSON.parse(run.stdout);
  } catch {
    const why = run.killed
      ? `killed after ${sec(RUN_LIMIT_MS)}`
      : `exit ${run.code ?? run.signal}: ${lastLine(run.stderr)}`;
    return { trials: null, reason: why };
  }
  const trials = (doc.benchmark_outcomes ?? []).flatMap((b) =>
    (b.scenario_outcomes ?? []).map((s) => ({
      agent: b.agent_name,
      id: s.rli_trial?.trial_id ?? s.scenario_run_id,
      status: s.rli_trial?.status ?? s.state,
      score: s.rli_trial?.score ?? s.score ?? null,
      why: s.failure_reason?.exception_message ?? null,
    })),
  );
  return { trials, reason: null };
}

function lastLine(text) {
  return (
    text
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .at(-1) ?? "(no output)"
  );
}

/** oracle must pass with 1, nop must fail with 0: anything else is a broken run, not a measurement. */
function checkOutcomes(trials, expected) {
  const lines = [];
  const unexpected = [];
  for (const agent of ["oracle", "nop"]) {
    const mine = trials.filter((t) => t.agent === agent);
    const want =
      agent === "oracle" ? { status: "passed", score: 1 } : { status: "failed", score: 0 };
    const ok = mine.filter((t) => t.status === want.status && t.score === want.score);
    lines.push(`${agent} ${ok.length}/${mine.length} ${want.status} (score ${want.score})`);
    unexpected.push(...mine.filter((t) => !ok.includes(t)));
  }
  const complete = trials.length === expected;
  return {
    ok: unexpected.length === 0 && complete,
    text:
      lines.join(" · ") + (complete ? "" : ` · ${trials.length} of ${expected} trials reported`),
    first: unexpected[0],
  };
}

/** A request's row in the breakdown. */
function routeLabel(r) {
  const route = r.route ?? r.path;
  return `${r.method} ${route.replace(/^\/v1\/devboxes\/\{id\}/, "…")}`;
}

const EXECUTE = "POST …/execute";
const TAR_EXECUTE = "POST …/execute (tar of /logs)";
const DOWNLOAD = "POST …/download_file";
const EXEC_POLL = "POST …/executions/{eid}/wait_for_status";

/**
 * Calls per trial from the fake's request log: per devbox by the id in the path, the rest (ping,
 * creates) shared out evenly. The teardown tar is told apart from other executes by its command.
 */
function callsPerTrial(fake, trials) {
  const agentOfTrial = new Map(trials.map((t) => [t.id, t.agent]));
  const boxes = new Map();
  for (const d of fake.devboxes()) {
    const agent = agentOfTrial.get(d.metadata?.rli_trial_id);
    if (agent !== undefined) boxes.set(d.id, { agent, rows: new Map() });
  }
  const shared = new Map();
  let retried = 0;
  const retriedBy = new Map();
  for (const r of fake.requests) {
    // A retry reuses its x-request-id, so the fake answers it from its idempotency store.
    if (r.replayed || r.status === 0 || r.status === 429 || r.status >= 500) {
      retried++;
      retriedBy.set(routeLabel(r), (retriedBy.get(routeLabel(r)) ?? 0) + 1);
    }
    const box = boxes.get(DEVBOX_PATH.exec(r.path)?.[1]);
    const rows = box?.rows ?? shared;
    const label = routeLabel(r);
    rows.set(label, (rows.get(label) ?? 0) + 1);
  }
  for (const [id, box] of boxes) {
    const tars = fake.executions(id).filter((e) => LOG_TAR.test(e.command)).length;
    if (tars > 0) {
      box.rows.set(EXECUTE, (box.rows.get(EXECUTE) ?? 0) - tars);
      box.rows.set(TAR_EXECUTE, tars);
    }
  }
  const n = boxes.size;
  const sharedTotal = [...shared.values()].reduce((a, b) => a + b, 0);
  const perTrial = [...boxes.values()].map((box) => {
    const all = [...box.rows.values()].reduce((a, b) => a + b, 0) + sharedTotal / n;
    const logs = (box.rows.get(TAR_EXECUTE) ?? 0) + (box.rows.get(DOWNLOAD) ?? 0);
    return { agent: box.agent, all, noLogs: all - logs };
  });
  const labels = new Set([...shared.keys()]);
  for (const box of boxes.values()) for (const l of box.rows.keys()) labels.add(l);
  const rowMean = (label, agent) => {
    const mine = [...boxes.values()].filter((b) => agent === undefined || b.agent === agent);
    const own = mine.reduce((a, b) => a + (b.rows.get(label) ?? 0), 0) / mine.length;
    return own + (shared.get(label) ?? 0) / n;
  };
  return { n, perTrial, labels: [...labels], rowMean, shared, retried, retriedBy };
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

function printCalls(calls, indent) {
  const { perTrial } = calls;
  const agents = ["oracle", "nop"];
  const summary = (key) => {
    const parts = agents.map(
      (a) => `${a} ${fixed(mean(perTrial.filter((t) => t.agent === a).map((t) => t[key])), 1)}`,
    );
    const values = perTrial.map((t) => t[key]);
    return `${parts.join(" · ")} · mean ${fixed(mean(values), 1)} · max ${fixed(Math.max(...values), 1)}`;
  };
  const worst = Math.max(...perTrial.map((t) => t.noLogs));
  console.log(
    `${indent}excluding log download   ${summary("noLogs")}   ${verdict(Number(fixed(worst, 2)), TARGET_CALLS)}`,
  );
  console.log(`${indent}all calls                ${summary("all")}`);
  return worst;
}

function printRoutes(calls, indent) {
  const order = [
    "GET /v1/devboxes",
    "POST /v1/devboxes",
    "POST …/wait_for_status",
    "POST …/upload_file",
    EXECUTE,
    EXEC_POLL,
    "POST …/read_file_contents",
    TAR_EXECUTE,
    DOWNLOAD,
    "POST …/shutdown",
  ];
  const labels = [
    ...order.filter((l) => calls.labels.includes(l)),
    ...calls.labels.filter((l) => !order.includes(l)).sort(),
  ];
  const note = {
    "GET /v1/devboxes": "ping, once per job",
    "POST /v1/devboxes": "create",
    "POST …/wait_for_status": "until running",
    "POST …/upload_file": "one bundle per exec",
    [EXECUTE]: "one per exec",
    [EXEC_POLL]: "exec outlasted the optimistic wait",
    "POST …/read_file_contents": "reward.json, reward.txt",
    [TAR_EXECUTE]: "log download: excluded",
    [DOWNLOAD]: "log download: excluded",
  };
  console.log(`${indent}${"by route, per trial".padEnd(44)} oracle     nop     all`);
  for (const label of labels) {
    const cells = [
      calls.rowMean(label, "oracle"),
      calls.rowMean(label, "nop"),
      calls.rowMean(label),
    ];
    const text = `${indent}  ${label.padEnd(42)} ${cells.map((c) => fixed(c).padStart(6)).join("  ")}`;
    console.log(note[label] ? `${text}   ${note[label]}` : text);
  }
}

/** One `bmj run --backend runloop` against a fresh fake; the fake is closed (every devbox shut down). */
async function runOnFake({ benchmark, concurrency, holdMs, jobsDir, fakeDir, expected, rss }) {
  mkdirSync(fakeDir, { recursive: true });
  const fake = await startFakeRunloop({
    apiKey: API_KEY,
    provisionDelayMs: holdMs,
    tmpDir: fakeDir,
  });
  try {
    const stop = sampleFake(fake, expected);
    const argv = [
      RLI,
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--agent",
      "nop",
      "--benchmark",
      benchmark,
      "--backend",
      "runloop",
      "--n-concurrent-trials",
      String(concurrency),
      "--jobs-dir",
      jobsDir,
      "-o",
      "json",
    ];
    const run = await measured(argv, { env: cliEnv(fake), ...rss });
    const sampled = stop();
    const { trials, reason } = trialsOf(run);
    const outcome = trials === null ? null : checkOutcomes(trials, expected);
    const calls = trials === null || trials.length === 0 ? null : callsPerTrial(fake, trials);
    return { run, sampled, trials, reason, outcome, calls };
  } finally {
    await fake.close();
    leftLive += fake.liveDevboxes();
  }
}

async function main(root) {
  const started = performance.now();
  const rssFile = join(root, "rss.txt");
  console.log(
    "Runloop backend: API calls per trial and runner memory (fake Runloop server, bwrap devboxes)",
  );
  if (!(process.env.PATH ?? "").split(":").some((d) => d !== "" && existsSync(join(d, "bwrap")))) {
    console.log(
      "  bwrap not found: the fake Runloop server runs devbox commands in bubblewrap; nothing measured",
    );
    return;
  }
  const firstNode = await probeTime(rssFile);
  const useTime = firstNode !== null;
  const rss = { useTime, rssFile };
  const nodeRuns = useTime ? [firstNode] : [];
  while (nodeRuns.length < NODE_RUNS) nodeRuns.push((await measured(["-e", "0"], rss)).peakKiB);
  const nodeKiB = median(nodeRuns);
  const how = useTime
    ? "GNU time %M"
    : "max VmHWM of 20 ms polls of /proc/<pid>/status (no GNU time)";

  // 1. API calls per trial on the starter benchmark.
  const starter = await runOnFake({
    benchmark: "starter",
    concurrency: BASELINE_CONCURRENCY,
    holdMs: 20,
    jobsDir: join(root, "jobs-starter"),
    fakeDir: join(root, "fake-starter"),
    expected: 2 * starterTasks(),
    rss,
  });
  console.log("");
  console.log(
    `API calls per trial: oracle + nop on starter, --n-concurrent-trials ${BASELINE_CONCURRENCY} (${sec(starter.run.wallMs)}, peak RSS ${mibOf(starter.run.peakKiB)})`,
  );
  if (starter.trials === null || starter.calls === null) {
    console.log(`  the job did not run: ${starter.reason ?? "no trials"}; nothing measured`);
  } else {
    console.log(
      `  outcomes: ${starter.outcome.text}: ${starter.outcome.ok ? "as expected" : "NOT as expected"}`,
    );
    if (!starter.outcome.ok && starter.outcome.first) {
      const t = starter.outcome.first;
      console.log(
        `  WARNING: e.g. ${t.id}: ${t.status}, score ${t.score}${t.why ? `: ${t.why}` : ""}`,
      );
    }
    console.log(`  ${starter.calls.n} trials; per trial:`);
    printCalls(starter.calls, "    ");
    const shared = [...starter.calls.shared].map(([l, c]) => `${c} × ${l}`).join(", ");
    console.log(
      `    job-level calls shared out per trial: ${shared || "none"} · retried requests: ${starter.calls.retried}`,
    );
    printRoutes(starter.calls, "  ");
  }

  // 2. Runner memory at 500 concurrent trials, and the same job at 10.
  console.log("");
  let big = null;
  let trialsRun = 0;
  const failures = [];
  for (const nTrials of FALLBACK_TRIALS) {
    const benchDir = join(root, `tiny-${nTrials}`);
    writeTinyBenchmark(benchDir, nTrials / 2);
    const attempt = await runOnFake({
      benchmark: benchDir,
      concurrency: nTrials,
      holdMs: HOLD_MS,
      jobsDir: join(root, `jobs-${nTrials}`),
      fakeDir: join(root, `fake-${nTrials}`),
      expected: nTrials,
      rss,
    });
    if (attempt.outcome?.ok && attempt.run.code === 0) {
      big = attempt;
      trialsRun = nTrials;
      break;
    }
    const t = attempt.outcome?.first;
    const why =
      attempt.reason ??
      (t ? `${t.id}: ${t.status}${t.why ? `: ${t.why}` : ""}` : (attempt.outcome?.text ?? "?"));
    failures.push(`${nTrials} concurrent trials failed after ${sec(attempt.run.wallMs)} (${why})`);
    removeDir(benchDir);
  }
  for (const f of failures) console.log(`  ${f}`);
  if (big === null) {
    console.log("  no concurrent run completed: runner memory not measured");
    return;
  }
  if (trialsRun < CONCURRENCY) {
    console.log(
      `  500 concurrent trials cannot run here; measured the largest that could: ${trialsRun}`,
    );
  }
  const base = await runOnFake({
    benchmark: join(root, `tiny-${trialsRun}`),
    concurrency: BASELINE_CONCURRENCY,
    holdMs: 20,
    jobsDir: join(root, `jobs-${trialsRun}-base`),
    fakeDir: join(root, `fake-${trialsRun}-base`),
    expected: trialsRun,
    rss,
  });

  const n = trialsRun;
  const row = (label, value, note = "") =>
    console.log(`  ${label.padEnd(40)} ${value.padStart(10)}${note ? `   ${note}` : ""}`);
  console.log(
    `Runner memory: ${n} trials (${n / 2} one-line host tasks × oracle, nop); peak RSS of the \`rli bmj run\` process (${how})`,
  );
  const minMax = `${fixed(Math.min(...nodeRuns) / 1024, 1)}–${fixed(Math.max(...nodeRuns) / 1024, 1)}`;
  row(`node -e 0 (median of ${nodeRuns.length})`, mibOf(nodeKiB), `(${minMax})`);
  for (const [r, concurrency, hold] of [
    [base, BASELINE_CONCURRENCY, "provisioning 20 ms"],
    [big, n, `provisioning held ${sec(HOLD_MS)}`],
  ]) {
    row(
      `--n-concurrent-trials ${concurrency}`,
      mibOf(r.run.peakKiB),
      `${n} trials in ${sec(r.run.wallMs)}`,
    );
    const span = concurrency === n ? `, ≥ ${r.sampled.high} for ${sec(r.sampled.highMs)}` : "";
    console.log(
      `    live devboxes at once max ${r.sampled.maxLive}${span} · commands running at once max ${r.sampled.maxRunning} · ${hold}`,
    );
    const clean = r.outcome?.ok && r.run.code === 0;
    if (!clean) console.log(`    WARNING: not a clean run: ${r.reason ?? r.outcome?.text}`);
    if (r.calls !== null) {
      const noLogs = r.calls.perTrial.map((t) => t.noLogs);
      const retried = [...r.calls.retriedBy].map(([l, c]) => `${c} × ${l}`).join(", ");
      console.log(
        `    API calls per trial excluding log download ${fixed(mean(noLogs), 1)} (max ${fixed(Math.max(...noLogs), 1)}) · exec polls ${fixed(r.calls.rowMean(EXEC_POLL))} · retried requests ${r.calls.retried}${retried ? ` (${retried})` : ""}`,
      );
    }
  }
  if (big.sampled.maxLive < n) {
    console.log(`  WARNING: only ${big.sampled.maxLive} of ${n} devboxes were live at once`);
  }
  const ratio = big.run.peakKiB / base.run.peakKiB;
  const aboveNode = (big.run.peakKiB - nodeKiB) / 1024 / n;
  const aboveBase = (big.run.peakKiB - base.run.peakKiB) / 1024 / (n - BASELINE_CONCURRENCY);
  row(`ratio ${n} / ${BASELINE_CONCURRENCY}`, fixed(ratio));
  row(
    "per concurrent trial above node -e 0",
    `${fixed(aboveNode)} MiB`,
    `(peak − node -e 0) / ${n}`,
  );
  row(
    `per added concurrent trial vs ${BASELINE_CONCURRENCY}`,
    `${fixed(aboveBase)} MiB`,
    `(peak at ${n} − peak at ${BASELINE_CONCURRENCY}) / ${n - BASELINE_CONCURRENCY}`,
  );
  console.log("");
  console.log(
    `  total ${sec(performance.now() - started)}; every fake closed, devboxes left live: ${leftLive}`,
  );
}

const root = scratchDir("runloop");
try {
  await main(root);
} finally {
  removeDir(root);
}
