// Read-only commands on a big store: `rli bmj summary <id>` on a 10,000-trial job (text, with its paired
// comparison of the two agents, and -o json), `rli bmj compare` of two such jobs (two agents each: two
// paired bootstraps and sign-flip tests, Holm-adjusted), `summary --fail-if-worse-than` of one against the
// other, and `rli bmj list` over 1,000 finished jobs, each ≤ 3 × `node -e 0`.
//
// Generated in a scratch directory (tmpfs when there is one), with the store's own functions from dist/
// (jobStatus, jobCounts) and checked against its schemas before anything is timed:
//   (a) two finished jobs of 500 scenarios × 2 agents × 10 attempts (the same scenarios, other outcomes): job.json, status.json, results.jsonl
//       (10,000 TrialResult lines with every phase timed), digest.json and events.jsonl. No trials/ directories: with
//       results.jsonl present no reader opens them;
//   (b) a jobs dir of 1,000 finished jobs of the starter's size (14 scenarios, 1–2 agents), created over
//       the last 90 days with ids that match their created_at: job.json and status.json each.
// Each command is spawned N times, interleaved with the baseline (the order rotates every round) after
// warm-ups, and the medians are compared. A command that fails its first run (e.g. `summary` before it
// exists) is reported and skipped; the others are still measured.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  median,
  ms,
  mulberry32,
  ROOT,
  removeDir,
  requireBuild,
  scratchDir,
  verdict,
} from "./lib.js";

requireBuild();
const { JobDocSchema, JobStatusSchema, TrialResultSchema } = await import(
  "../dist/core/schemas.js"
);
const { jobCounts } = await import("../dist/core/counts.js");
const { jobStatus, readResults, writeDigest } = await import("../dist/store/store.js");
const { agentLabel, newJobId, trialId } = await import("../dist/core/ids.js");

const N = 10;
const WARMUPS = 2;
const TARGET = 3;
const SEED = 0x11571;
const RLI = join(ROOT, "bin", "rli.js");
const random = mulberry32(SEED);
const pick = (weighted) => {
  let x = random() * weighted.reduce((a, [, w]) => a + w, 0);
  for (const [value, w] of weighted) {
    x -= w;
    if (x < 0) return value;
  }
  return weighted.at(-1)[0];
};
const iso = (t) => new Date(t).toISOString();
const digest = (i) => `sha256:${i.toString(16).padStart(64, "0")}`;

function spec({ name, nScenarios, agents, nAttempts, prefix }) {
  return {
    name,
    benchmark: { kind: "path", source: `/srv/benchmarks/${prefix}` },
    scenarios: Array.from({ length: nScenarios }, (_, i) => ({
      id: `${prefix}/task-${String(i).padStart(4, "0")}`,
      name: `task-${String(i).padStart(4, "0")}`,
      path: `/srv/benchmarks/${prefix}/task-${String(i).padStart(4, "0")}`,
      digest: digest(i + 1),
    })),
    agents,
    n_attempts: nAttempts,
    n_concurrent_trials: 10,
    timeout_sec: null,
    timeout_multiplier: 1,
    env_vars: {},
    secrets: { ANTHROPIC_API_KEY: "ANTHROPIC_API_KEY" },
    metadata: { suite: "bench" },
    backend: "local",
    sandbox: "bubblewrap",
  };
}

const RUNNER = { pid: 4242, hostname: "bench-host", rli_version: "0.1.0" };

function jobDoc(id, createdMs, jobSpec, state, finishedMs) {
  return {
    schema_version: 1,
    id,
    created_at: iso(createdMs),
    spec: jobSpec,
    state,
    finished_at: iso(finishedMs),
    failure_reason: state === "failed" ? "infrastructure error: sandbox provisioning failed" : null,
    runner: RUNNER,
  };
}

const TRIAL_STATUSES = [
  ["passed", 55],
  ["failed", 28],
  ["agent_timeout", 5],
  ["agent_error", 6],
  ["verifier_error", 4],
  ["infra_error", 2],
];
const PHASES = ["provision", "agent_setup", "agent_run", "upload_tests", "verify", "collect"];
const FAILED_PHASE = {
  agent_timeout: ["agent_run", "AgentTimeoutError", "agent exceeded its 7200 s timeout"],
  agent_error: ["agent_run", "AgentError", "agent exited with code 1"],
  verifier_error: ["verify", "RewardFileNotFoundError", "no /logs/verifier/reward.txt"],
  infra_error: ["provision", "SandboxError", "bwrap: setting up uid map: Permission denied"],
};

/** One realistic TrialResult: every phase timed, usage known, an exception when it did not verify. */
function trialResult(jobId, scenario, agent, attempt, startMs) {
  const status = pick(TRIAL_STATUSES);
  const failed = FAILED_PHASE[status];
  let t = startMs;
  const phases = {};
  for (const phase of [...PHASES, "teardown"]) {
    const d =
      phase === "agent_run"
        ? 20_000 + Math.floor(random() * 200_000)
        : 50 + Math.floor(random() * 900);
    const outcome =
      failed && failed[0] === phase ? (status === "agent_timeout" ? "timeout" : "error") : "ok";
    phases[phase] = {
      started_at: iso(t),
      finished_at: iso(t + d),
      duration_ms: d,
      timeout_ms: phase === "agent_run" ? 7_200_000 : 600_000,
      outcome,
    };
    t += d;
  }
  const score =
    status === "passed"
      ? 1
      : status === "failed"
        ? pick([
            [0, 3],
            [0.5, 1],
          ])
        : null;
  return {
    schema_version: 1,
    trial_id: trialId(scenario.id, agent, attempt),
    job_id: jobId,
    scenario_id: scenario.id,
    scenario_digest: scenario.digest,
    agent,
    attempt,
    status,
    score,
    rewards: score === null ? null : { reward: score },
    started_at: iso(startMs),
    finished_at: iso(t),
    duration_ms: t - startMs,
    phases,
    agent_exit_code: status === "agent_error" ? 1 : status === "agent_timeout" ? null : 0,
    usage: {
      input_tokens: 20_000 + Math.floor(random() * 400_000),
      cache_read_tokens: Math.floor(random() * 300_000),
      cache_write_tokens: Math.floor(random() * 50_000),
      output_tokens: 1_000 + Math.floor(random() * 30_000),
      cost_usd: Math.round(random() * 300) / 100,
      cost_source: "reported",
    },
    exception: failed
      ? { type: failed[1], message: failed[2], phase: failed[0], occurred_at: iso(t - 100) }
      : null,
    errors: [],
    logs_dir: "logs",
  };
}

async function writeJob(jobsDir, doc, results, events) {
  const dir = join(jobsDir, doc.id);
  mkdirSync(join(dir, "trials"), { recursive: true });
  JobDocSchema.parse(doc);
  const status = jobStatus(doc, jobCounts(doc.spec.agents, results));
  JobStatusSchema.parse(status);
  writeFileSync(join(dir, "job.json"), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(dir, "status.json"), `${JSON.stringify(status)}\n`);
  if (results.length > 0) {
    writeFileSync(
      join(dir, "results.jsonl"),
      results.map((r) => `${JSON.stringify(r)}\n`).join(""),
    );
  }
  if (events) writeFileSync(join(dir, "events.jsonl"), events);
  // What the runner writes when a job ends: the per-trial digest `summary` reads.
  if (results.length > 0) await writeDigest(dir, results);
  return { dir, status };
}

/** (a) The 10,000-trial job; returns its id after checking that the store reads back every result. */
async function bigJob(jobsDir) {
  const createdMs = Date.now() - 3 * 86_400_000;
  const id = newJobId(new Date(createdMs));
  const agents = [
    { name: "claude-code", model: "claude-sonnet-4-5" },
    { name: "codex", model: "gpt-5" },
  ];
  const s = spec({
    name: "nightly: 500 tasks × 2 agents × 10",
    nScenarios: 500,
    agents,
    nAttempts: 10,
    prefix: "big",
  });
  const results = [];
  const events = [];
  let seq = 0;
  const event = (ts, e) =>
    events.push(JSON.stringify({ schema_version: 1, ts: iso(ts), seq: seq++, ...e }));
  event(createdMs, { type: "job_started", job_id: id, n_trials: 10_000 });
  let t = createdMs;
  for (let attempt = 1; attempt <= 10; attempt++) {
    for (const scenario of s.scenarios) {
      for (const agent of agents) {
        t += 100;
        const r = trialResult(id, scenario, agent, attempt, t);
        results.push(r);
        const common = { trial_id: r.trial_id, scenario_id: scenario.id, agent };
        event(t, { type: "trial_started", ...common, attempt });
        event(Date.parse(r.finished_at), {
          type: "trial_finished",
          ...common,
          status: r.status,
          score: r.score,
          duration_ms: r.duration_ms,
        });
      }
    }
  }
  const finishedMs = Math.max(...results.map((r) => Date.parse(r.finished_at)));
  event(finishedMs, { type: "job_finished", job_id: id, state: "completed" });
  TrialResultSchema.parse(results[0]);
  TrialResultSchema.parse(results.find((r) => r.exception !== null));
  const { dir, status } = await writeJob(
    jobsDir,
    jobDoc(id, createdMs, s, "completed", finishedMs),
    results,
    `${events.join("\n")}\n`,
  );
  const readBack = await readResults(dir);
  if (readBack.length !== 10_000) {
    throw new Error(`the store reads ${readBack.length} of 10000 generated results`);
  }
  return { id, status, agents: agents.map(agentLabel) };
}

/** (b) 1,000 finished starter-sized jobs over the last 90 days. */
function manyJobs(jobsDir) {
  const oracle = { name: "oracle", model: null };
  const nop = { name: "nop", model: null };
  const now = Date.now();
  for (let i = 0; i < 1000; i++) {
    const createdMs = now - Math.floor(random() * 90 * 86_400_000);
    const id = newJobId(new Date(createdMs));
    const agents = random() < 0.5 ? [oracle] : [oracle, nop];
    const state = pick([
      ["completed", 90],
      ["failed", 5],
      ["cancelled", 5],
    ]);
    const s = spec({
      name: `starter: ${agents.map(agentLabel).join(", ")}`,
      nScenarios: 14,
      agents,
      nAttempts: 1,
      prefix: "starter",
    });
    // Counts only: list reads status.json, so the results themselves are not written.
    const results = [];
    for (const scenario of s.scenarios) {
      for (const agent of agents) {
        if (state === "cancelled" && random() < 0.5) continue;
        results.push(trialResult(id, scenario, agent, 1, createdMs + 1000));
      }
    }
    const finishedMs = createdMs + 60_000 + Math.floor(random() * 600_000);
    const doc = jobDoc(id, createdMs, s, state, finishedMs);
    const dir = join(jobsDir, id);
    mkdirSync(join(dir, "trials"), { recursive: true });
    writeFileSync(join(dir, "job.json"), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(
      join(dir, "status.json"),
      `${JSON.stringify(jobStatus(doc, jobCounts(agents, results)))}\n`,
    );
    if (i === 0) {
      JobDocSchema.parse(doc);
      JobStatusSchema.parse(JSON.parse(JSON.stringify(jobStatus(doc, jobCounts(agents, results)))));
    }
  }
}

function spawnOnce(argv) {
  const started = performance.now();
  const r = spawnSync(process.execPath, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1 << 28,
  });
  return {
    ms: performance.now() - started,
    status: r.status,
    stdout: r.stdout.toString(),
    stderr: r.stderr.toString(),
  };
}

const scratch = scratchDir("summary-list");
try {
  const bigDir = join(scratch, "big");
  const manyDir = join(scratch, "many");
  const genStart = performance.now();
  const big = await bigJob(bigDir);
  const big2 = await bigJob(bigDir);
  manyJobs(manyDir);
  const genMs = performance.now() - genStart;

  const commands = [
    { label: "node -e 0", argv: ["-e", "0"] },
    {
      label: "summary <10k-trial job>",
      argv: [RLI, "bmj", "summary", big.id, "--jobs-dir", bigDir],
      check: (out) => big.agents.every((a) => out.includes(a.split(":")[0])),
    },
    {
      label: "summary <10k-trial job> -o json",
      argv: [RLI, "bmj", "summary", big.id, "--jobs-dir", bigDir, "-o", "json"],
      check: (out) => {
        const view = JSON.parse(out);
        const n = (view.benchmark_outcomes ?? []).reduce(
          (a, o) => a + o.scenario_outcomes.length,
          0,
        );
        return view.id === big.id && n === 10_000;
      },
    },
    {
      label: "compare <10k job> <10k job>",
      argv: [RLI, "bmj", "compare", big.id, big2.id, "--jobs-dir", bigDir],
      check: (out) => (out.match(/Verdict/g) ?? []).length === 2,
    },
    {
      label: "summary --fail-if-worse-than",
      argv: [RLI, "bmj", "summary", big.id, "--fail-if-worse-than", big2.id, "--jobs-dir", bigDir],
      check: (out) => out.includes("Score [95% CI]"),
      // 5 when the generated jobs happen to differ decisively (same distribution: about 1 run in 20).
      codes: [0, 5],
    },
    {
      label: "list --all (1,000 jobs)",
      argv: [RLI, "bmj", "list", "--all", "--jobs-dir", manyDir],
      check: (out) => out.trimEnd().endsWith("1000 jobs"),
    },
    {
      label: "list (default --days 1)",
      argv: [RLI, "bmj", "list", "--jobs-dir", manyDir],
      check: (out) => out.includes("jobs") || out.includes("No benchmark jobs found"),
    },
  ];

  console.log(`Summary and list benchmark (${process.execPath} ${process.version})`);
  console.log(
    `  generated in ${ms(genMs, 0)}: two jobs of 10,000 trials (${big.id}, ${big2.id}), 1,000 starter-sized jobs`,
  );
  const active = [];
  for (const cmd of commands) {
    const r = spawnOnce(cmd.argv);
    if (!(cmd.codes ?? [0]).includes(r.status)) {
      console.log(`  SKIPPED ${cmd.label}: exit ${r.status}: ${r.stderr.trim().split("\n")[0]}`);
    } else if (cmd.check && !cmd.check(r.stdout)) {
      console.log(`  SKIPPED ${cmd.label}: unexpected output: ${r.stdout.slice(0, 200)}`);
    } else {
      active.push(cmd);
    }
  }
  for (let i = 0; i < WARMUPS; i++) for (const cmd of active) spawnOnce(cmd.argv);
  const samples = active.map(() => []);
  for (let round = 0; round < N; round++) {
    for (let k = 0; k < active.length; k++) {
      const i = (round + k) % active.length;
      const r = spawnOnce(active[i].argv);
      if (!(active[i].codes ?? [0]).includes(r.status))
        throw new Error(`${active[i].label} exited with ${r.status}: ${r.stderr}`);
      samples[i].push(r.ms);
    }
  }
  const medians = samples.map(median);
  const base = medians[0];
  console.log(`  ${N} interleaved runs per command after ${WARMUPS} warm-ups; medians (min–max):`);
  for (const [i, cmd] of active.entries()) {
    const lo = Math.min(...samples[i]).toFixed(1);
    const hi = Math.max(...samples[i]).toFixed(1);
    console.log(`    ${cmd.label.padEnd(34)} ${ms(medians[i]).padStart(9)}  (${lo}–${hi})`);
  }
  console.log("");
  for (const [i, cmd] of active.entries()) {
    if (i === 0) continue;
    const ratio = medians[i] / base;
    console.log(
      `  ${cmd.label} / node -e 0 = ${ratio.toFixed(2)} (+${ms(medians[i] - base)})   ${verdict(ratio, TARGET)}`,
    );
  }
} finally {
  if (!process.env.BENCH_KEEP) removeDir(scratch);
}
