import type { Sandbox } from "../backends/types.js";
import type { Task } from "../benchmarks/task.js";
import type { AgentRef, Usage } from "../core/schemas.js";

/** What an agent adapter gets for one trial. */
export interface AgentContext {
  agent: AgentRef;
  task: Task;
  sandbox: Sandbox;
  /** The agent's complete environment: base variables, --env-vars and resolved --secrets. */
  env: Record<string, string>;
  timeoutMs: number | null;
  graceMs: number;
  signal: AbortSignal;
  /** Where installed agents are cached on this machine (agentCacheDir() when absent). */
  agentCacheDir?: string;
}

export interface AgentRunOutcome {
  exitCode: number | null;
  timedOut: boolean;
  cancelled: boolean;
  /**
   * Why the run failed, when the agent's output says (rate limit, auth, network...): after a non-zero
   * exit, or an error the agent reported before exiting 0 (an agent_error too).
   */
  failure?: { type: string; message: string };
}

/**
 * An agent adapter. `setup` runs in the agent_setup phase (install, configuration, uploads),
 * `run` in the agent_run phase and must honour `ctx.timeoutMs` and `ctx.signal` (SIGTERM, grace, SIGKILL),
 * `usage` after the run, from the agent's own logs; unknown values are null, never 0.
 */
export interface AgentAdapter {
  readonly name: string;
  readonly requiresModel: boolean;
  setup(ctx: AgentContext): Promise<void>;
  run(ctx: AgentContext): Promise<AgentRunOutcome>;
  usage(ctx: AgentContext): Promise<Usage>;
}

/** The agent could not be set up (bad configuration, failed install): an agent error. */
export class AgentSetupError extends Error {
  override readonly name = "AgentSetupError";
}
