import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliEnv, runCli } from "../helpers/cli.js";
import { filesUnder } from "../helpers/files.js";
import { FIXTURES, REPO_ROOT, tempDir } from "../helpers/tasks.js";

/** Our per-trial record in the BenchmarkJobView (`rli_trial`), with its scenario id. */
interface TrialJson {
  trial_id: string;
  scenario_id: string;
  attempt: number;
  status: string;
  score: number | null;
  phases: Record<string, { duration_ms: number; outcome: string; timeout_ms: number | null }>;
  exception: { type: string; phase: string } | null;
}
interface ViewJson {
  id: string;
  state: string;
  benchmark_outcomes: {
    agent_name: string;
    scenario_outcomes: {
      scenario_definition_id: string;
      rli_trial: Omit<TrialJson, "scenario_id">;
    }[];
  }[];
}
interface JobJson extends ViewJson {
  trials: TrialJson[];
}

/** Parse `run -o json` and flatten its outcomes into trials. */
function parseJob(stdout: string): JobJson {
  const view = JSON.parse(stdout) as ViewJson;
  const trials = view.benchmark_outcomes.flatMap((o) =>
    o.scenario_outcomes.map((s) => ({ ...s.rli_trial, scenario_id: s.scenario_definition_id })),
  );
  return { ...view, trials };
}

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  home = await tempDir("rli-e2e-");
  env = cliEnv(home.dir);
});
afterEach(() => home.cleanup());

async function starterTaskCount(): Promise<number> {
  const dir = join(REPO_ROOT, "fixtures", "benchmarks", "starter");
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).length;
}

async function jobDirs(): Promise<string[]> {
  try {
    return await readdir(join(home.dir, "jobs"));
  } catch {
    return [];
  }
}

describe("rli benchmark-job run on the built-in starter benchmark", () => {
  it("oracle passes every scenario", async () => {
    const n = await starterTaskCount();
    expect(n).toBeGreaterThanOrEqual(12);
    const r = await runCli(
      ["benchmark-job", "run", "--agent", "oracle", "--benchmark", "starter", "-o", "json"],
      env,
    );
    expect(r.code).toBe(0);
    const job = parseJob(r.stdout);
    expect(job.state).toBe("completed");
    expect(job.trials).toHaveLength(n);
    const notPassed = job.trials
      .filter((t) => t.status !== "passed")
      .map((t) => `${t.scenario_id}: ${t.status}`);
    expect(notPassed).toEqual([]);
    expect(job.trials.every((t) => t.score === 1)).toBe(true);
  });

  it("nop scores 0 on every scenario", async () => {
    const n = await starterTaskCount();
    const r = await runCli(
      ["bmj", "run", "--agent", "nop", "--benchmark", "starter", "-o", "json"],
      env,
    );
    expect(r.code).toBe(0);
    const job = parseJob(r.stdout);
    expect(job.trials).toHaveLength(n);
    const nonZero = job.trials
      .filter((t) => t.score !== 0)
      .map((t) => `${t.scenario_id}: ${t.status} ${t.score}`);
    expect(nonZero).toEqual([]);
    expect(new Set(job.trials.map((t) => t.status))).toEqual(new Set(["failed"]));
  });

  it("two agents × two attempts make 4 × N trials and both agents appear in the results table", async () => {
    const n = await starterTaskCount();
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
        "24",
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Benchmark Job Results");
    // Runloop's layout: label padEnd(40), then padStart(10), (14), (16), (8).
    const total = String(2 * n).padStart(8);
    const lines = r.stdout.split("\n");
    expect(lines).toContain(
      `${"oracle".padEnd(40)}${"100.0%".padStart(10)}${"0.0%".padStart(14)}${"0.0%".padStart(16)}${total}`,
    );
    expect(lines).toContain(
      `${"nop".padEnd(40)}${"0.0%".padStart(10)}${"100.0%".padStart(14)}${"0.0%".padStart(16)}${total}`,
    );
    expect(r.stderr).not.toContain("Warning");
    // Not a terminal: one line per finished trial on stderr, nothing else on stdout.
    expect(r.stderr.split("\n").filter((l) => /^\[\d+\/\d+\] /.test(l))).toHaveLength(4 * n);
    const [jobId] = await jobDirs();
    const trials = await readdir(join(home.dir, "jobs", jobId!, "trials"));
    expect(trials).toHaveLength(4 * n);
  });
});

describe("rli benchmark-job run -o json", () => {
  it("holds each trial's status, score and phase timings, and classifies timeouts and broken verifiers", async () => {
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--benchmark",
        join(FIXTURES, "bench-mini"),
        "-o",
        "json",
      ],
      env,
    );
    expect(r.code).toBe(0);
    const job = parseJob(r.stdout);
    const by = Object.fromEntries(job.trials.map((t) => [t.scenario_id.split("/")[1], t]));
    expect(by.hello?.status).toBe("passed");
    expect(by.hello?.score).toBe(1);
    // The agent outlived its 1 s timeout: killed, then still verified (it had written the file).
    expect(by.sleeper?.status).toBe("agent_timeout");
    expect(by.sleeper?.score).toBe(1);
    expect(by.sleeper?.phases.agent_run?.outcome).toBe("timeout");
    expect(by.sleeper?.phases.agent_run?.timeout_ms).toBe(1000);
    expect(by.sleeper?.phases.verify?.outcome).toBe("ok");
    expect(by["broken-verifier"]?.status).toBe("verifier_error");
    expect(by["broken-verifier"]?.score).toBeNull();
    expect(by["broken-verifier"]?.exception?.type).toBe("RewardFileNotFoundError");
    // A reward the agent planted in /logs/verifier is discarded before the verifier runs.
    expect(by.cheater?.status).toBe("verifier_error");
    expect(by.cheater?.score).toBeNull();
    expect(by.partial?.status).toBe("failed");
    expect(by.partial?.score).toBe(0.5);
    for (const t of job.trials) {
      for (const phase of [
        "provision",
        "agent_setup",
        "agent_run",
        "upload_tests",
        "verify",
        "collect",
        "teardown",
      ]) {
        expect(t.phases[phase], `${t.trial_id} ${phase}`).toBeDefined();
        expect(t.phases[phase]!.duration_ms).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it("scales every phase's timeout with --timeout-multiplier and lets --timeout override the task", async () => {
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        join(FIXTURES, "bench-mini", "hello"),
        "--timeout",
        "50",
        "--timeout-multiplier",
        "2",
        "-o",
        "json",
      ],
      env,
    );
    expect(r.code).toBe(0);
    const [t] = parseJob(r.stdout).trials;
    expect(t?.phases.agent_run?.timeout_ms).toBe(100_000);
    expect(t?.phases.verify?.timeout_ms).toBe(60_000);
  });

  it("gives the agent --env-vars and --secrets but never records a secret's value", async () => {
    const secret = "sk-test-5ecret-Value-42";
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        join(FIXTURES, "secret-task"),
        "--secrets",
        "MY_KEY=HOST_SECRET",
        "--env-vars",
        "PLAIN=visible",
        "-o",
        "yaml",
      ],
      { ...env, HOST_SECRET: secret },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status: passed/);
    expect(r.stdout).toMatch(/state: COMPLETED/);
    expect(r.stdout).toContain("MY_KEY: HOST_SECRET");
    expect(r.stdout + r.stderr).not.toContain(secret);
    const [jobId] = await jobDirs();
    const dir = join(home.dir, "jobs", jobId!);
    const files = (await filesUnder(dir)).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(await readFile(f, "utf8"), f).not.toContain(secret);
  });
});

describe("rli benchmark-job run rejects bad input", () => {
  const mini = join(FIXTURES, "bench-mini");
  const cases: [string, string[], RegExp][] = [
    ["no agent", ["--benchmark", "starter"], /^Error: At least one --agent is required\./],
    [
      "unknown agent",
      ["--agent", "gpt-agent:x", "--benchmark", "starter"],
      /^Error: Unsupported agent: gpt-agent\. Supported agents: claude-code, codex, opencode, goose, gemini-cli, oracle, nop/,
    ],
    [
      "malformed agent spec",
      ["--agent", ":model", "--benchmark", "starter"],
      /^Error: Invalid agent format: ":model"\. Use format: agent:model/,
    ],
    [
      "empty model",
      ["--agent", "oracle:", "--benchmark", "starter"],
      /^Error: Invalid agent format: "oracle:"/,
    ],
    [
      "unknown benchmark",
      ["--agent", "oracle", "--benchmark", "nope"],
      /^Error: Unknown benchmark: "nope"\. Use a built-in benchmark \(starter\)/,
    ],
    [
      "neither benchmark nor scenarios",
      ["--agent", "oracle"],
      /^Error: Either --benchmark or --scenarios must be specified$/,
    ],
    [
      "both benchmark and scenarios",
      ["--agent", "oracle", "--benchmark", "starter", "--scenarios", "starter/x"],
      /^Error: Cannot specify both --benchmark and --scenarios$/,
    ],
    [
      "non-numeric attempts",
      ["--agent", "oracle", "--benchmark", "starter", "--n-attempts", "two"],
      /^Error: --n-attempts must be a positive integer, got "two"$/,
    ],
    [
      "negative concurrency",
      ["--agent", "oracle", "--benchmark", "starter", "--n-concurrent-trials", "-3"],
      /^Error: --n-concurrent-trials must be a positive integer, got "-3"$/,
    ],
    [
      "retries above the limit",
      ["--agent", "oracle", "--benchmark", "starter", "--max-retries", "11"],
      /^Error: --max-retries must be an integer from 0 to 10, got "11"$/,
    ],
    [
      "negative retries",
      ["--agent", "oracle", "--benchmark", "starter", "--max-retries=-1"],
      /^Error: --max-retries must be an integer from 0 to 10, got "-1"$/,
    ],
    [
      "zero timeout",
      ["--agent", "oracle", "--benchmark", "starter", "--timeout", "0"],
      /^Error: --timeout must be a positive number, got "0"$/,
    ],
    [
      "non-numeric multiplier",
      ["--agent", "oracle", "--benchmark", "starter", "--timeout-multiplier", "fast"],
      /^Error: --timeout-multiplier must be a positive number, got "fast"$/,
    ],
    [
      "malformed env var",
      ["--agent", "oracle", "--benchmark", "starter", "--env-vars", "NOEQUALS"],
      /^Error: Invalid environment variable format: NOEQUALS\. Expected KEY=value/,
    ],
    [
      "malformed secret",
      ["--agent", "oracle", "--benchmark", "starter", "--secrets", "KEY"],
      /^Error: Invalid secret format: KEY\. Expected ENV_VAR=SECRET_NAME/,
    ],
    [
      "unset secret",
      ["--agent", "oracle", "--benchmark", "starter", "--secrets", "KEY=RLI_SURELY_UNSET"],
      /^Error: Secret RLI_SURELY_UNSET \(for KEY\) is not set in this environment/,
    ],
    [
      "malformed metadata",
      ["--agent", "oracle", "--benchmark", "starter", "--metadata", "team"],
      /^Error: Invalid metadata format: "team"\. Expected key=value$/,
    ],
    [
      "unknown output format",
      ["--agent", "oracle", "--benchmark", "starter", "-o", "xml"],
      /^Error: Unknown output format: xml\. Valid options: text, json, yaml$/,
    ],
    [
      "unknown scenario",
      ["--agent", "oracle", "--scenarios", "starter/does-not-exist"],
      /^Error: Unknown scenario: "starter\/does-not-exist"; scenarios in "starter": /,
    ],
    [
      "task without instruction.md",
      ["--agent", "oracle", "--scenarios", join(FIXTURES, "no-instruction")],
      /^Error: .*no-instruction\/instruction\.md: \(file\): missing/,
    ],
    [
      "invalid task.toml",
      ["--agent", "oracle", "--scenarios", join(FIXTURES, "bad-toml")],
      /^Error: .*bad-toml\/task\.toml: agent\.timeout_sec: /,
    ],
    [
      "task that needs an image, on --backend docker with a host task",
      ["--agent", "oracle", "--benchmark", mini, "--backend", "docker"],
      /^Error: scenario bench-mini\/\S+ declares \[environment.rli\] sandbox = "host"; run it with --backend local \(and \d+ more\)$/,
    ],
    [
      "oracle on a mini task is fine but an unknown flag is not",
      ["--agent", "oracle", "--scenarios", join(mini, "hello"), "--frobnicate"],
      /^Error: unknown option '--frobnicate'$/,
    ],
  ];
  it.each(cases)(
    "%s: one line on stderr, exit 2, no job directory",
    async (_name, args, message) => {
      const r = await runCli(["bmj", "run", ...args], env);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
      expect(r.code).toBe(2);
      expect(await jobDirs()).toEqual([]);
    },
  );

  it("without bubblewrap: an install hint, exit 1, no job directory", async () => {
    const r = await runCli(["bmj", "run", "--agent", "oracle", "--benchmark", mini], {
      ...env,
      PATH: home.dir,
    });
    expect(r.stderr).toMatch(
      /^Error: bubblewrap \(bwrap\) is not installed: install it \(Debian\/Ubuntu: apt-get install bubblewrap/,
    );
    expect(r.stderr).toContain("--sandbox none");
    expect(r.code).toBe(1);
    expect(await jobDirs()).toEqual([]);
  });
});
