import { UNKNOWN_USAGE } from "../core/constants.js";
import { type AgentAdapter, AgentSetupError } from "./types.js";

/** Where a Runloop scenario's reference_output is written for the oracle. */
const REFERENCE_DIR = "/tmp/rli-oracle";

/** A unified diff (a gold patch) rather than commands. */
export function isPatch(reference: string): boolean {
  return /^(diff --git |--- \S)/m.test(reference) && /^\+\+\+ \S/m.test(reference);
}

/** The oracle's command for a reference_output: a patch is applied in the workdir, commands are run. */
export function referenceArgv(reference: string): string[] {
  return isPatch(reference)
    ? [
        "bash",
        "-c",
        `git apply --whitespace=nowarn ${REFERENCE_DIR}/reference.patch || patch -p1 --forward < ${REFERENCE_DIR}/reference.patch`,
      ]
    : ["bash", `${REFERENCE_DIR}/reference.sh`];
}

/**
 * Runs the task's reference solution: solution/solve.sh uploaded to /solution for this agent only, or a
 * Runloop scenario's reference_output (commands, or a gold patch applied in the workdir).
 */
export const oracle: AgentAdapter = {
  name: "oracle",
  requiresModel: false,
  async setup(ctx) {
    const { dir, reference } = ctx.task.solution;
    if (dir === null && reference !== undefined) {
      const file = isPatch(reference) ? "reference.patch" : "reference.sh";
      await ctx.sandbox.writeFile(`${REFERENCE_DIR}/${file}`, reference, 0o700);
      return;
    }
    if (dir === null) {
      throw new AgentSetupError(`scenario ${ctx.task.id} has no solution/solve.sh for the oracle`);
    }
    await ctx.sandbox.upload(dir, "/solution");
  },
  async run(ctx) {
    const { dir, reference } = ctx.task.solution;
    const result = await ctx.sandbox.exec({
      argv:
        dir === null && reference !== undefined
          ? referenceArgv(reference)
          : ["bash", "/solution/solve.sh"],
      env: { ...ctx.env, DEBIAN_FRONTEND: "noninteractive", ...ctx.task.solution.env },
      timeoutMs: ctx.timeoutMs,
      graceMs: ctx.graceMs,
      network: ctx.task.agent.network !== "no-network",
      stdoutPath: "/logs/agent/oracle.txt",
      stderrPath: "/logs/agent/oracle.txt",
      signal: ctx.signal,
    });
    return { exitCode: result.exitCode, timedOut: result.timedOut, cancelled: result.cancelled };
  },
  async usage() {
    return UNKNOWN_USAGE;
  },
};
