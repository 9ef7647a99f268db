import { UNKNOWN_USAGE } from "../core/constants.js";
import { type AgentAdapter, AgentSetupError } from "./types.js";

/** Runs the task's reference solution (solution/solve.sh), uploaded to /solution for this agent only. */
export const oracle: AgentAdapter = {
  name: "oracle",
  requiresModel: false,
  async setup(ctx) {
    if (ctx.task.solution.dir === null) {
      throw new AgentSetupError(`scenario ${ctx.task.id} has no solution/solve.sh for the oracle`);
    }
    await ctx.sandbox.upload(ctx.task.solution.dir, "/solution");
  },
  async run(ctx) {
    const result = await ctx.sandbox.exec({
      argv: ["bash", "/solution/solve.sh"],
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
