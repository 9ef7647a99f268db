import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import { agentCacheDir, ensureInstalled, type NpmPackage } from "./install.js";
import type { AgentAdapter, AgentContext, AgentRunOutcome } from "./types.js";

/** Where an installed agent's package (its node_modules) is mounted read-only in the sandbox. */
export const AGENT_ROOT = "/rli/agent";
/** The sandbox user's home: writable, private to the trial, kept for the whole trial. */
export const SANDBOX_HOME = "/root";

/** What the run needs to know to build its command line. */
export interface PrepareInput {
  /** The model as the user typed it after `agent:` (provider prefixes included), or null. */
  model: string | null;
  instruction: string;
  /** The agent's environment: base variables, its keys, base URLs, --env-vars and --secrets. */
  env: Readonly<Record<string, string>>;
  /** AGENT_ROOT: `${root}/node_modules/...` holds the installed package. */
  root: string;
  workdir: string;
  /** A Node.js binary in the sandbox (for agents that are JavaScript, not a native binary). */
  node: string;
  /** The agent phase's timeout in seconds (null: none); also in env as RLI_AGENT_TIMEOUT_SEC. */
  timeoutSec: number | null;
}

/** How to run the agent once. Nothing here is ever passed through a shell. */
export interface AgentRunPlan {
  /** argv[0] is an absolute sandbox path (under `root`, or a system binary such as /usr/bin/node). */
  argv: string[];
  /** Added to the agent's environment (configuration, not secrets: secrets are already in env). */
  env?: Record<string, string>;
  /** Given on stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
  /** Configuration files written before the run, under /root, the workdir or /logs. */
  files?: { path: string; content: string }[];
}

/** Reads a file of the trial's sandbox (null when absent), and lists a directory under /logs. */
export interface SandboxReader {
  read(path: string): Promise<string | null>;
}

/**
 * An agent CLI installed from npm: its package, the keys it takes (Runloop's table), how to run it,
 * and how to read its token usage from its own logs.
 */
export interface AgentDefinition {
  name: string;
  /** The npm package to install (cached, mounted at AGENT_ROOT); absent for an agent already present. */
  package?: NpmPackage;
  requiresModel: boolean;
  /**
   * Environment variables the agent reads its credentials from. With `requiresAny`, at least one must
   * be set (in this environment or with --secrets) or the job does not start.
   */
  keys: { names: readonly string[]; requiresAny: boolean };
  /** Other host variables handed to this agent when set (base URLs for gateways, provider options). */
  passEnv?: readonly string[];
  /**
   * Checks the model as the user typed it when the job is created, before anything starts; throws
   * with the reason (e.g. "must be provider/model"). The same rule prepare() applies at run time.
   */
  checkModel?(model: string): void;
  prepare(input: PrepareInput): AgentRunPlan;
  /** The native transcript (the CLI's stdout and stderr), under /logs/agent. */
  transcript: string;
  /**
   * The error an agent reported in its transcript although it exited 0 (goose prints a model API error
   * as a message and exits 0), or null. Without it, an exit 0 is a success.
   */
  reportedFailure?(transcript: string): AgentFailure | null;
  /**
   * Why a non-zero exit happened, read from the agent's own structured output (the transcript's tail),
   * or null to fall back to the generic patterns of classify.ts.
   */
  classifyFailure?(transcript: string): AgentFailure | null;
  parseUsage(reader: SandboxReader): Promise<Usage>;
}

/** Last `max` characters of a text, for error classification. */
function tail(text: string, max = 16_384): string {
  return text.length > max ? text.slice(-max) : text;
}

/**
 * The adapter for an installed agent: `setup` installs the package once per machine and version
 * (cached, shared by every trial) and mounts it read-only; `run` writes its configuration and runs it
 * with a deadline (SIGTERM, grace, SIGKILL, so transcripts flush); `usage` parses its logs.
 */
export function installedAgent(def: AgentDefinition): AgentAdapter {
  return {
    name: def.name,
    requiresModel: def.requiresModel,
    async setup(ctx: AgentContext) {
      if (def.package === undefined) return;
      if (ctx.sandbox.installPackage !== undefined) {
        await ctx.sandbox.installPackage(def.package, AGENT_ROOT, ctx.signal);
        return;
      }
      const { dir } = await ensureInstalled(def.package, {
        cacheDir: ctx.agentCacheDir ?? agentCacheDir(),
        signal: ctx.signal,
      });
      await ctx.sandbox.upload(dir, AGENT_ROOT);
    },
    async run(ctx: AgentContext): Promise<AgentRunOutcome> {
      const plan = def.prepare({
        model: ctx.agent.model,
        instruction: ctx.task.instruction,
        env: ctx.env,
        root: AGENT_ROOT,
        workdir: ctx.sandbox.workdir,
        node: ctx.sandbox.nodePath ?? "/usr/bin/node",
        timeoutSec: ctx.timeoutMs === null ? null : Math.round(ctx.timeoutMs / 1000),
      });
      for (const f of plan.files ?? []) await ctx.sandbox.writeFile(f.path, f.content);
      const result = await ctx.sandbox.exec({
        argv: plan.argv,
        env: { HOME: SANDBOX_HOME, ...ctx.env, ...plan.env },
        timeoutMs: ctx.timeoutMs,
        graceMs: ctx.graceMs,
        network: ctx.task.agent.network !== "no-network",
        ...(plan.stdin !== undefined ? { stdin: plan.stdin } : {}),
        stdoutPath: def.transcript,
        stderrPath: def.transcript,
        signal: ctx.signal,
      });
      const outcome: AgentRunOutcome = {
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        cancelled: result.cancelled,
      };
      if (result.exitCode !== 0 && !result.timedOut && !result.cancelled) {
        const text = (await ctx.sandbox.readFile(def.transcript)) ?? "";
        const failure = def.classifyFailure?.(tail(text)) ?? classifyAgentFailure(tail(text));
        if (failure !== null) outcome.failure = failure;
      } else if (result.exitCode === 0 && def.reportedFailure !== undefined) {
        const failure = def.reportedFailure((await ctx.sandbox.readFile(def.transcript)) ?? "");
        if (failure !== null) outcome.failure = failure;
      }
      return outcome;
    },
    async usage(ctx: AgentContext) {
      return def.parseUsage({ read: (path) => ctx.sandbox.readFile(path) });
    },
  };
}
