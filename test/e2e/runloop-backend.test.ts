import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeRunloop, startFakeRunloop } from "../fakes/runloop-server.js";
import { type CliResult, cliEnv, runCli } from "../helpers/cli.js";
import { exists, isJobName, readJson } from "../helpers/files.js";
import { processAlive } from "../helpers/processes.js";
import { tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "rl_test_key_0123456789";
const STARTER_TASKS = 14;

/** Our per-trial record in the BenchmarkJobView (`rli_trial`), with its agent and scenario. */
interface TrialJson {
  trial_id: string;
  agent: string;
  scenario_id: string;
  status: string;
  score: number | null;
}
interface ViewJson {
  id: string;
  state: string;
  benchmark_outcomes: {
    agent_name: string;
    scenario_outcomes: {
      scenario_definition_id: string;
      rli_trial: Omit<TrialJson, "agent" | "scenario_id">;
    }[];
  }[];
}

/** `run -o json`: the job view and its trials, flattened. */
function parseRun(stdout: string): { view: ViewJson; trials: TrialJson[] } {
  const view = JSON.parse(stdout) as ViewJson;
  const trials = view.benchmark_outcomes.flatMap((o) =>
    o.scenario_outcomes.map((s) => ({
      ...s.rli_trial,
      agent: o.agent_name,
      scenario_id: s.scenario_definition_id,
    })),
  );
  return { view, trials };
}

/** Trial id (scenario, agent, attempt) → score, for comparing two runs of the same job. */
const scoresByTrial = (trials: TrialJson[]): Record<string, number | null> =>
  Object.fromEntries(trials.map((t) => [t.trial_id, t.score]));

/** The verifier's output of the given trials (to say why a trial that should pass did not). */
async function verifierOutput(jobDir: string, trials: TrialJson[]): Promise<string> {
  const parts = await Promise.all(
    trials.map(async (t) => {
      const dir = join(jobDir, "trials", t.trial_id, "logs");
      const read = (rel: string) => readFile(join(dir, rel), "utf8").catch(() => "(none)");
      return `${t.trial_id}: ${t.status}\n--- verifier stdout\n${await read("verifier/test-stdout.txt")}\n--- verifier stderr\n${await read("verifier/test-stderr.txt")}`;
    }),
  );
  return parts.join("\n");
}

/** The single line a bad input must leave on stderr (and nothing on stdout). */
function expectOneErrorLine(r: CliResult, code: number, re: RegExp): void {
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^Error: [^\n]+\n$/);
  expect(lines[0]).toMatch(re);
  expect(r.code).toBe(code);
}

/** Harbor tasks whose oracle sleeps `seconds` in its agent phase (a marker file first). */
async function sleepyBenchmark(dir: string, n: number, seconds: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const task = join(dir, `sleepy-${i}`);
    await mkdir(join(task, "solution"), { recursive: true });
    await mkdir(join(task, "tests"), { recursive: true });
    await writeFile(
      join(task, "task.toml"),
      `schema_version = "1.1"\n\n[task]\nname = "sleepy/sleepy-${i}"\n\n[agent]\ntimeout_sec = 600\n\n[verifier]\ntimeout_sec = 30\n\n[environment.rli]\nsandbox = "host"\nworkdir = "/app"\n`,
    );
    await writeFile(join(task, "instruction.md"), "Write done into /app/done.txt, slowly.\n");
    await writeFile(
      join(task, "solution", "solve.sh"),
      `#!/bin/bash\necho started > /app/started.txt\nsleep ${seconds}\necho done > /app/done.txt\n`,
    );
    await writeFile(
      join(task, "tests", "test.sh"),
      "#!/bin/bash\necho 0 > /logs/verifier/reward.txt\n[ -f /app/done.txt ] && echo 1 > /logs/verifier/reward.txt\n",
    );
    await chmod(join(task, "solution", "solve.sh"), 0o755);
    await chmod(join(task, "tests", "test.sh"), 0o755);
  }
}

interface Recorded {
  method: string;
  path: string;
  body: string;
}

/** A pass-through HTTP proxy in front of `target` that keeps every request body (the fake keeps none). */
async function recordingProxy(
  target: string,
): Promise<{ baseUrl: string; recorded: Recorded[]; close: () => Promise<void> }> {
  const recorded: Recorded[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      recorded.push({
        method: req.method ?? "GET",
        path: req.url ?? "/",
        body: body.toString("utf8"),
      });
      const upstream = httpRequest(
        `${target}${req.url ?? "/"}`,
        { method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    recorded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let home: { dir: string; cleanup: () => Promise<void> };
let fakes: FakeRunloop[] = [];

beforeEach(async () => {
  home = await tempDir("rli-runloop-e2e-");
});
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
  await home.cleanup();
});

async function fake(options: Partial<Parameters<typeof startFakeRunloop>[0]> = {}) {
  const f = await startFakeRunloop({ apiKey: KEY, ...options });
  fakes.push(f);
  return f;
}

const runloopEnv = (f: FakeRunloop): NodeJS.ProcessEnv => ({
  ...cliEnv(home.dir),
  RUNLOOP_API_KEY: KEY,
  RUNLOOP_BASE_URL: f.baseUrl,
});

describe("run --backend runloop", () => {
  it("starter: oracle passes all 14 and nop scores 0 on all 14, as in a local run; devboxes are tagged and shut down, logs come back, ≤ 12 API calls a trial", async () => {
    const f = await fake();
    const jobsDir = join(home.dir, "runloop-jobs");
    const localJobsDir = join(home.dir, "local-jobs");
    const args = ["bmj", "run", "--agent", "oracle", "--agent", "nop", "--benchmark", "starter"];
    const [remote, local] = await Promise.all([
      runCli(
        [...args, "--backend", "runloop", "--jobs-dir", jobsDir, "-o", "json"],
        runloopEnv(f),
        {
          timeoutMs: 600_000,
        },
      ),
      runCli([...args, "--jobs-dir", localJobsDir, "-o", "json"], cliEnv(home.dir), {
        timeoutMs: 600_000,
      }),
    ]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(local.code, local.stderr).toBe(0);
    const { view, trials } = parseRun(remote.stdout);
    const localRun = parseRun(local.stdout);
    expect(view.state).toBe("completed");
    expect(trials).toHaveLength(2 * STARTER_TASKS);

    const oracle = trials.filter((t) => t.agent === "oracle");
    const nop = trials.filter((t) => t.agent === "nop");
    const oracleMissed = oracle.filter((t) => t.status !== "passed" || t.score !== 1);
    expect(oracleMissed, await verifierOutput(join(jobsDir, view.id), oracleMissed)).toEqual([]);
    expect(oracle).toHaveLength(STARTER_TASKS);
    expect(nop.filter((t) => t.status !== "failed" || t.score !== 0)).toEqual([]);
    expect(nop).toHaveLength(STARTER_TASKS);
    // Scores like the local run of the same job, scenario by scenario.
    expect(scoresByTrial(trials)).toEqual(scoresByTrial(localRun.trials));

    // Every devbox was shut down and carries the job and its trial.
    expect(f.liveDevboxes()).toBe(0);
    const devboxes = f.devboxes();
    expect(devboxes).toHaveLength(trials.length);
    for (const d of devboxes) {
      expect(d.status).toBe("shutdown");
      expect(d.metadata.rli_job_id).toBe(view.id);
    }
    expect(devboxes.map((d) => d.metadata.rli_trial_id).sort()).toEqual(
      trials.map((t) => t.trial_id).sort(),
    );

    // /logs of every trial came back into the job directory.
    const trialsDir = join(jobsDir, view.id, "trials");
    for (const t of trials) {
      const logs = join(trialsDir, t.trial_id, "logs");
      const reward = await readFile(join(logs, "verifier", "reward.txt"), "utf8");
      expect(Number(reward.trim()), t.trial_id).toBe(t.score);
      if (t.agent === "oracle") {
        expect(await exists(join(logs, "agent", "oracle.txt")), t.trial_id).toBe(true);
      }
    }

    // API calls per trial: its create plus every call on its devbox, without the log download (the
    // execute that tars /logs and download_file).
    const calls = new Map<string, number>();
    for (const d of devboxes) {
      const own = f.requests.filter(
        (r) => r.path === `/v1/devboxes/${d.id}` || r.path.startsWith(`/v1/devboxes/${d.id}/`),
      );
      const downloads = own.filter((r) => r.route === "/v1/devboxes/{id}/download_file").length;
      const tars = f.executions(d.id).filter((e) => e.command.includes("/tmp/rli/logs-")).length;
      expect(downloads, d.id).toBe(1);
      expect(tars, d.id).toBe(1);
      calls.set(d.metadata.rli_trial_id!, 1 + own.length - downloads - tars);
    }
    expect(f.count("/v1/devboxes", "POST")).toBe(trials.length);
    const counts = [...calls.values()];
    const max = Math.max(...counts);
    console.log(
      `--backend runloop: API calls per trial without the log download: max ${max}, mean ${(
        counts.reduce((a, b) => a + b, 0) / counts.length
      ).toFixed(1)} (by agent: ${["oracle", "nop"]
        .map(
          (a) =>
            `${a} ${Math.max(...trials.filter((t) => t.agent === a).map((t) => calls.get(t.trial_id)!))}`,
        )
        .join(", ")}); ${f.requests.length} requests in all for ${trials.length} trials`,
    );
    expect(max).toBeLessThanOrEqual(12);
  }, 600_000);

  it("under injected 5xx, 429 and connection resets, 56 trials all end with a result (the fault-free scores) and no devbox is left", async () => {
    const f = await fake();
    f.setFaults({ rate5xx: 0.1, rate429: 0.05, retryAfterSeconds: 1, resetRate: 0.02, seed: 4242 });
    const jobsDir = join(home.dir, "jobs");
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--agent",
        "nop",
        "--benchmark",
        "starter",
        "--n-attempts",
        "2",
        "--n-concurrent-trials",
        "20",
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
        "-o",
        "json",
      ],
      { ...runloopEnv(f), RLI_RETRY_BASE_MS: "200" },
      { timeoutMs: 900_000 },
    );
    console.log(
      `faults injected: ${JSON.stringify(f.faultCounts)} over ${f.requests.length} requests`,
    );
    expect(r.code, r.stderr).toBe(0);
    const { view, trials } = parseRun(r.stdout);
    expect(view.state).toBe("completed");
    expect(trials).toHaveLength(4 * STARTER_TASKS);
    // About 17% of attempts are faulted; one API call fails only when all six of its attempts are
    // (p ≈ 0.17^6 ≈ 2.4e-5, so about 1.6% of runs of ~680 calls see one). Such a try ends as an
    // infra_error and the trial runs again (--max-retries defaults to 2): no trial may end in one.
    const infra = trials.filter((t) => t.status === "infra_error");
    expect(infra.map((t) => t.trial_id)).toEqual([]);
    const wrong = trials
      .filter((t) =>
        t.agent === "oracle"
          ? t.status !== "passed" || t.score !== 1
          : t.status !== "failed" || t.score !== 0,
      )
      .map((t) => `${t.trial_id}: ${t.status} ${t.score}`);
    expect(wrong).toEqual([]);

    // results.jsonl holds one result per trial, the same as the view.
    const lines = (await readFile(join(jobsDir, view.id, "results.jsonl"), "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map(
        (l) =>
          JSON.parse(l) as {
            trial_id: string;
            status: string;
            score: number | null;
            earlier_tries?: unknown[];
          },
      );
    expect(lines.map((l) => l.trial_id).sort()).toEqual(trials.map((t) => t.trial_id).sort());

    // Retried creates were not doubled (idempotency keys): one devbox per try that got as far as
    // creating one (a retried trial's failed try may have failed before that), and every one is gone.
    const earlierTries = lines.flatMap((l) => l.earlier_tries ?? []);
    expect(f.devboxes().length).toBeGreaterThanOrEqual(trials.length);
    expect(f.devboxes().length).toBeLessThanOrEqual(trials.length + earlierTries.length);
    expect(f.liveDevboxes()).toBe(0);
    expect(f.faultCounts.status5xx).toBeGreaterThan(0);
    expect(f.faultCounts.status429).toBeGreaterThan(0);
    expect(f.faultCounts.reset).toBeGreaterThan(0);
  }, 900_000);

  it("Ctrl-C mid-run: exit 130, the job is cancelled, every devbox is shut down and no sandbox process remains", async () => {
    const f = await fake();
    const bench = join(home.dir, "sleepy");
    await sleepyBenchmark(bench, 3, 60);
    const jobsDir = join(home.dir, "jobs");
    const seen = new Set<number>();
    let signalled = false;
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--benchmark",
        bench,
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
      ],
      runloopEnv(f),
      {
        timeoutMs: 300_000,
        onSpawn: (child) => {
          void (async () => {
            // Every trial is in its agent phase and the devboxes run the sleeping oracle.
            await waitFor(async () => {
              const jobs = (await readdir(jobsDir).catch(() => [] as string[])).filter(isJobName);
              if (jobs.length === 0) return false;
              const events = await readFile(join(jobsDir, jobs[0]!, "events.jsonl"), "utf8").catch(
                () => "",
              );
              const agentRuns = events
                .split("\n")
                .filter((l) => l.includes('"phase_started"') && l.includes('"agent_run"')).length;
              const running = f.executions().filter((e) => e.status === "running");
              return agentRuns === 3 && running.length >= 3;
            }, 120_000);
            for (const pid of f.processIds()) seen.add(pid);
            signalled = true;
            child.kill("SIGINT");
          })().catch(() => child.kill("SIGKILL"));
        },
      },
    );
    expect(signalled).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("Cancelling");
    const [jobId] = await readdir(jobsDir);
    const job = await readJson<{ state: string }>(join(jobsDir, jobId!, "job.json"));
    expect(job.state).toBe("cancelled");
    const trials = await readdir(join(jobsDir, jobId!, "trials"));
    expect(trials).toHaveLength(3);
    for (const t of trials) {
      const result = await readJson<{ status: string }>(
        join(jobsDir, jobId!, "trials", t, "result.json"),
      );
      expect(result.status, t).toBe("cancelled");
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await waitFor(async () => f.liveDevboxes() === 0, 60_000, "every devbox shut down");
    await waitFor(async () => f.processIds().length === 0, 60_000, "no sandbox process");
    await waitFor(
      async () => [...seen].every((pid) => !processAlive(pid)),
      60_000,
      "the sandboxes' processes to be gone",
    );
    expect(f.devboxes().every((d) => d.status === "shutdown")).toBe(true);
  }, 300_000);
});

describe("--backend runloop: resume after kill -9", () => {
  it("the dead runner's devboxes are shut down by resume, which then runs the cut-off trials", async () => {
    const f = await fake();
    const bench = join(home.dir, "kill9");
    await sleepyBenchmark(bench, 2, 4);
    const jobsDir = join(home.dir, "jobs-kill9");
    const env = { ...runloopEnv(f), RLI_RETRY_BASE_MS: "100" };
    let killed = false;
    const first = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--benchmark",
        bench,
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
      ],
      env,
      {
        timeoutMs: 300_000,
        onSpawn: (child) => {
          void (async () => {
            await waitFor(
              async () => f.executions().filter((e) => e.status === "running").length >= 2,
              120_000,
              "both oracles running on their devboxes",
            );
            killed = true;
            child.kill("SIGKILL");
          })().catch(() => child.kill("SIGKILL"));
        },
      },
    );
    expect(killed).toBe(true);
    expect(first.code).toBeNull();
    // Nobody shut the devboxes down: the runner died.
    expect(f.liveDevboxes()).toBe(2);

    const [jobId] = (await readdir(jobsDir)).filter(isJobName);
    const resumed = await runCli(["bmj", "resume", jobId!, "--jobs-dir", jobsDir], env, {
      timeoutMs: 300_000,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /^Resuming job_\S+: 0 of 2 trial\(s\) kept, 2 to run; removed 2 leftover sandbox\(es\) of the stopped runner$/m,
    );
    for (const t of await readdir(join(jobsDir, jobId!, "trials"))) {
      const result = await readJson<{
        status: string;
        earlier_tries?: { exception: { type: string } | null }[];
      }>(join(jobsDir, jobId!, "trials", t, "result.json"));
      expect(result.status, t).toBe("passed");
      expect(result.earlier_tries?.map((e) => e.exception?.type)).toEqual(["RunnerLostError"]);
    }
    // Two devboxes of the dead runner, two of the resume: all shut down, none live.
    expect(f.devboxes()).toHaveLength(4);
    expect(f.liveDevboxes()).toBe(0);
  }, 300_000);
});

describe("bad input: one line on stderr, nothing on stdout, no job directory", () => {
  let shared: FakeRunloop;
  beforeAll(async () => {
    shared = await startFakeRunloop({ apiKey: KEY });
  });
  afterAll(async () => {
    await shared.close();
  });

  const jobsDir = () => join(home.dir, "jobs");
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    runCli(["bmj", "run", ...args, "--jobs-dir", jobsDir()], { ...cliEnv(home.dir), ...env });
  const local = ["--agent", "oracle", "--benchmark", "starter", "--backend", "runloop"];
  afterEach(async () => {
    expect(await exists(jobsDir())).toBe(false);
  });

  it("--backend runloop without RUNLOOP_API_KEY says how to set it", async () => {
    const r = await run(local, { RUNLOOP_BASE_URL: shared.baseUrl });
    expectOneErrorLine(r, 1, /RUNLOOP_API_KEY is not set: export RUNLOOP_API_KEY=/);
  });

  it("a wrong key: the key was rejected (401)", async () => {
    const r = await run(local, {
      RUNLOOP_API_KEY: "rl_wrong_key_987654",
      RUNLOOP_BASE_URL: shared.baseUrl,
    });
    expectOneErrorLine(r, 1, /the Runloop API rejected RUNLOOP_API_KEY \(401 /);
    expect(r.stderr).not.toContain("rl_wrong_key_987654");
  });

  it("RUNLOOP_BASE_URL on a closed port: one line naming the URL after the ping's 2 retries", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await run(local, { RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: url });
    expectOneErrorLine(r, 1, /cannot reach the Runloop API/);
    expect(r.stderr).toContain(url);
    expect(r.stderr).toContain("(3 attempts)");
  });

  it("a non-loopback http:// RUNLOOP_BASE_URL must use https", async () => {
    const r = await run(local, {
      RUNLOOP_API_KEY: KEY,
      RUNLOOP_BASE_URL: "http://api.runloop.example.com",
    });
    expectOneErrorLine(
      r,
      1,
      /RUNLOOP_BASE_URL "http:\/\/api\.runloop\.example\.com" must use https/,
    );
  });

  it("--remote with a misspelt Runloop benchmark name suggests the right one", async () => {
    const r = await run(
      ["--remote", "--agent", "claude-code:claude-sonnet-4", "--benchmark", "SWE-bench Verifed"],
      { RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: shared.baseUrl },
    );
    expectOneErrorLine(
      r,
      2,
      /^Error: No exact match for benchmark "SWE-bench Verifed"\. Did you mean: "SWE-bench Verified" \(bmd_/,
    );
  });

  it("an unknown bmd_ id is the server's 404, before any secret is made", async () => {
    const before = shared.requests.length;
    const r = await run(
      ["--agent", "claude-code:claude-sonnet-4", "--benchmark", "bmd_nonexistent"],
      {
        RUNLOOP_API_KEY: KEY,
        RUNLOOP_BASE_URL: shared.baseUrl,
        ANTHROPIC_API_KEY: "sk-ant-never-stored-0001",
      },
    );
    expectOneErrorLine(
      r,
      1,
      /not found on Runloop \(404 on [A-Z]+ \/v1\/[^)]*\): .*bmd_nonexistent/,
    );
    expect(r.stderr).not.toContain("sk-ant-never-stored-0001");
    expect(shared.secretValue("BMJ_ANTHROPIC_API_KEY")).toBeUndefined();
    const created = shared.requests
      .slice(before)
      .filter((q) => q.route === "/v1/benchmark_jobs" && q.method === "POST");
    expect(created).toEqual([]);
  });

  it("--remote with oracle: unsupported agent for a server-side job (exit 2)", async () => {
    const r = await run(["--remote", "--agent", "oracle", "--benchmark", "SWE-bench Verified"], {
      RUNLOOP_API_KEY: KEY,
      RUNLOOP_BASE_URL: shared.baseUrl,
    });
    expectOneErrorLine(
      r,
      2,
      /Unsupported agent for a server-side Runloop job: oracle\. Supported agents: claude-code/,
    );
  });
});

describe("run --remote through the CLI", () => {
  it("creates the job with the documented body and a BMJ_ secret; watch, summary, list --remote and logs follow it", async () => {
    // Jobs move only when stepped, so watch sees the job run.
    const f = await fake({ jobStepMs: 0 });
    const proxy = await recordingProxy(f.baseUrl);
    try {
      const secret = "sk-ant-fake-value-5c1e8d2b";
      const env = {
        ...cliEnv(home.dir),
        RUNLOOP_API_KEY: KEY,
        RUNLOOP_BASE_URL: proxy.baseUrl,
        ANTHROPIC_API_KEY: secret,
      };
      const cli = (args: string[]) => runCli(["bmj", ...args], env);
      const outputs: CliResult[] = [];
      const args = [
        "run",
        "--agent",
        "claude-code:claude-sonnet-4",
        "--benchmark",
        "SWE-bench Verified",
      ];

      const created = await cli(args);
      outputs.push(created);
      expect(created.code, created.stderr).toBe(0);
      const id = /^Benchmark job created: (bmj_\S+) /.exec(created.stdout)?.[1];
      expect(id).toBeDefined();
      expect(created.stdout).toBe(
        `Benchmark job created: ${id} (agent timeout = 7200s)\nFollow the run with "rli benchmark-job watch ${id}"\n`,
      );
      expect(created.stderr).toContain(
        "Creating secret BMJ_ANTHROPIC_API_KEY from ANTHROPIC_API_KEY env var\n",
      );
      expect(f.secretValue("BMJ_ANTHROPIC_API_KEY")).toBe(secret);

      const benchmark = f.benchmarks().find((b) => b.name === "SWE-bench Verified");
      const posts = proxy.recorded.filter(
        (q) => q.method === "POST" && q.path === "/v1/benchmark_jobs",
      );
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0]!.body)).toStrictEqual({
        spec: {
          type: "benchmark",
          benchmark_id: benchmark?.id,
          agent_configs: [
            {
              name: "claude-code",
              type: "job_agent",
              model_name: "claude-sonnet-4",
              timeout_seconds: 7200,
              agent_environment: { secrets: { ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY" } },
            },
          ],
          orchestrator_config: {
            n_attempts: 1,
            n_concurrent_trials: 10,
            timeout_multiplier: 1,
            quiet: false,
          },
        },
      });

      // The job moves on only once watch has seen it (a loaded machine may start the CLI slowly).
      const before = f.requests.length;
      const seen = () =>
        f.requests
          .slice(before)
          .some((q) => q.method === "GET" && q.path === `/v1/benchmark_jobs/${id}`);
      const timer = setInterval(() => {
        if (seen()) f.step(id);
      }, 300);
      let watched: CliResult;
      try {
        watched = await cli(["watch", id!, "--interval", "1"]);
      } finally {
        clearInterval(timer);
      }
      outputs.push(watched);
      const end = f.job(id!) as {
        state: string;
        benchmark_outcomes: { average_score: number }[];
      };
      expect(end.state).toBe("completed");
      // A completed job exits 0 whatever its scores.
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stderr).toMatch(/^Watching benchmark job bmj_\S+ .*\nState: running\n/s);
      const score = Math.round(end.benchmark_outcomes[0]!.average_score * 100);
      expect(watched.stderr).toContain(
        `claude-code:claude-sonnet-4: 3/3 complete, score: ${score}%\n`,
      );
      expect(watched.stderr).toContain("Benchmark job completed!\n");
      expect(watched.stdout).toContain("Benchmark Job Results");

      const summary = await cli(["summary", id!]);
      outputs.push(summary);
      expect(summary.code).toBe(0);
      expect(summary.stdout).toContain(`Job ID: ${id}\n`);
      expect(summary.stdout).toContain("State: completed\n");
      expect(summary.stdout).toMatch(
        /\nclaude-code \(claude-sonnet-4\) +\d+\.\d% +\d+\.\d% +\d+\.\d% +3\n/,
      );

      const list = await cli(["list", "--remote"]);
      outputs.push(list);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`\\n${id} +\\S.* +completed +3/3 `));

      const out = join(home.dir, "remote-logs");
      const logs = await cli(["logs", id!, "-o", out]);
      outputs.push(logs);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stderr).toContain(`Downloaded logs for 3/3 scenario run(s) to ${out}\n`);
      const agentDirs = await readdir(out);
      expect(agentDirs).toHaveLength(1);
      // The fake's agent printed its key into its logs; what was downloaded has it masked.
      const leaked: string[] = [];
      let envFiles = 0;
      for (const e of await readdir(out, { recursive: true, withFileTypes: true })) {
        if (!e.isFile()) continue;
        const text = await readFile(join(e.parentPath, e.name), "utf8");
        if (e.name === "env.txt") {
          envFiles++;
          expect(text).toMatch(/^ANTHROPIC_API_KEY=\[REDACTED\]\**\n$/);
        }
        if (text.includes(secret)) leaked.push(join(e.parentPath, e.name));
      }
      expect(envFiles).toBe(3);
      expect(leaked).toEqual([]);
      const scenarios = await readdir(join(out, agentDirs[0]!));
      expect(scenarios).toHaveLength(3);
      for (const s of scenarios) {
        const results = await readJson<{ state: string }>(
          join(out, agentDirs[0]!, s, "results.json"),
        );
        expect(typeof results.state).toBe("string");
      }

      const json = await cli([...args, "-o", "json"]);
      outputs.push(json);
      expect(json.code, json.stderr).toBe(0);
      // Exactly one document: the created job's BenchmarkJobView (it has not moved since).
      const doc = JSON.parse(json.stdout) as { id: string };
      expect(doc.id).toMatch(/^bmj_/);
      expect(doc.id).not.toBe(id);
      expect(doc).toEqual(f.job(doc.id));
      expect(json.stderr).toContain(
        "Updating secret BMJ_ANTHROPIC_API_KEY from ANTHROPIC_API_KEY env var\n",
      );

      for (const o of outputs) {
        expect(o.stdout).not.toContain(secret);
        expect(o.stderr).not.toContain(secret);
      }
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
