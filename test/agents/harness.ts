import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import type { ModelServer } from "../fakes/model-server.js";
import { registryEnv, runCli } from "../helpers/cli.js";
import { pgrep } from "../helpers/processes.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";

/** The one-file task every agent test runs: write /app/hello.txt containing "hello". */
export const AGENT_TASK = join(FIXTURES, "agent-task");

/** Our per-trial record from `run -o json`, plus the outcome state Runloop would show. */
export interface AgentTrial {
  trial_id: string;
  status: string;
  score: number | null;
  state: string;
  exception: { type: string; message: string } | null;
  usage: {
    input_tokens: number | null;
    cache_read_tokens: number | null;
    cache_write_tokens: number | null;
    output_tokens: number | null;
    cost_usd: number | null;
    cost_source: string;
  };
  logs_dir: string;
}

export interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
  trial: AgentTrial | null;
  /** Reads a file of the trial's collected logs (relative to its logs dir), or null. */
  log(path: string): Promise<string | null>;
  cleanup(): Promise<void>;
}

/**
 * Run one trial of `agent` (agent:model) on the agent task through the built CLI, as a user would,
 * with `env` added (keys, base URLs). Agents are installed into the machine's agent cache (shared
 * between runs; RLI_AGENT_CACHE when set).
 */
export async function runAgentTrial(
  agent: string,
  env: Record<string, string>,
  extraArgs: string[] = [],
  task: string = AGENT_TASK,
): Promise<AgentRun> {
  const home = await tempDir("rli-agent-");
  const r = await runCli(
    ["bmj", "run", "--agent", agent, "--scenarios", task, "-o", "json", ...extraArgs],
    {
      PATH: process.env.PATH,
      HOME: home.dir,
      RLI_HOME: home.dir,
      // Keep the agent cache between runs even though HOME is fresh.
      RLI_AGENT_CACHE:
        process.env.RLI_AGENT_CACHE ??
        join(
          process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/root", ".cache"),
          "rli",
          "agents",
        ),
      NO_COLOR: "1",
      // npm must reach its registry to install the agent (this machine's CA, proxies).
      ...registryEnv(),
      ...env,
    },
    { timeoutMs: 600_000 },
  );
  let trial: AgentTrial | null = null;
  try {
    const view = JSON.parse(r.stdout) as {
      benchmark_outcomes: {
        scenario_outcomes: { state: string; rli_trial: Omit<AgentTrial, "state"> }[];
      }[];
    };
    const outcome = view.benchmark_outcomes[0]?.scenario_outcomes[0];
    if (outcome) trial = { ...outcome.rli_trial, state: outcome.state };
  } catch {
    trial = null;
  }
  return {
    ...r,
    trial,
    async log(path) {
      if (trial === null) return null;
      return readFile(join(trial.logs_dir, path), "utf8").catch(() => null);
    },
    cleanup: home.cleanup,
  };
}

/** Every regular file under `dir` (recursively), as absolute paths. */
export async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** The files under `dir` whose bytes contain `secret` (a key must be in none of a job's files). */
export async function filesContaining(dir: string, secret: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await files(dir)) {
    if ((await readFile(f)).includes(secret)) hits.push(f);
  }
  return hits;
}

/** The job directory of a trial: its logs_dir is <job>/trials/<trial>/<logs>. */
export function jobDir(logsDir: string): string {
  const at = logsDir.lastIndexOf("/trials/");
  if (at <= 0) throw new Error(`not a trial's logs dir: ${logsDir}`);
  return logsDir.slice(0, at);
}

/** Host pids whose environment holds `entry` (sandboxed processes included): this test's agent runs. */
export async function processesWithEnv(entry: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const environ = await readFile(`/proc/${name}/environ`).catch(() => null);
    if (environ?.toString("utf8").split("\0").includes(entry)) pids.push(Number(name));
  }
  return pids;
}

/** The POST requests the fake model server got on `path`. */
export const MODEL_POSTS = (s: ModelServer, path: string) =>
  s.requests.filter((r) => r.method === "POST" && r.path === path);

/** The run's trial; fails the test (showing the CLI's stderr) when the run recorded none. */
export function trialOf(run: AgentRun): AgentTrial {
  expect(run.trial, run.stderr).not.toBeNull();
  return run.trial as AgentTrial;
}

/**
 * Runs `fn` while polling (every 200 ms) for a process whose command line matches `pattern`; `seen`
 * says whether one ever ran, so a test can tell "killed" from "never started".
 */
export async function watchingProcess<T>(
  pattern: string,
  fn: () => Promise<T>,
): Promise<{ result: T; seen: boolean }> {
  let seen = false;
  const poll = setInterval(() => {
    if (pgrep(pattern).length > 0) seen = true;
  }, 200);
  try {
    return { result: await fn(), seen };
  } finally {
    clearInterval(poll);
  }
}
