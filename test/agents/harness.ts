import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { registryEnv, runCli } from "../helpers/cli.js";
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
): Promise<AgentRun> {
  const home = await tempDir("rli-agent-");
  const r = await runCli(
    ["bmj", "run", "--agent", agent, "--scenarios", AGENT_TASK, "-o", "json", ...extraArgs],
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
