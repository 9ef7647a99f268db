import type { Task } from "../benchmarks/task.js";
import type { Phase } from "../core/schemas.js";

/** Agent-phase timeout when neither --timeout nor the task says otherwise (Runloop's default). */
export const DEFAULT_AGENT_TIMEOUT_SEC = 7200;
export const AGENT_SETUP_TIMEOUT_SEC = 360;
const HOUSEKEEPING_TIMEOUT_SEC = 120;

export interface TimeoutOptions {
  /** --timeout: overrides the task's [agent].timeout_sec when given. */
  agentTimeoutSec: number | null;
  multiplier: number;
}

/**
 * Every phase's timeout in ms: base × multiplier. Agent: --timeout, else the task's [agent].timeout_sec,
 * else 7200 s. Verifier: the task's [verifier].timeout_sec. Provision: [environment].build_timeout_sec.
 */
export function phaseTimeouts(task: Task, opts: TimeoutOptions): Record<Phase, number> {
  const ms = (sec: number): number => Math.max(1, Math.round(sec * opts.multiplier * 1000));
  return {
    provision: ms(task.buildTimeoutSec),
    agent_setup: ms(AGENT_SETUP_TIMEOUT_SEC),
    agent_run: ms(opts.agentTimeoutSec ?? task.agent.timeoutSec ?? DEFAULT_AGENT_TIMEOUT_SEC),
    upload_tests: ms(HOUSEKEEPING_TIMEOUT_SEC),
    verify: ms(task.verifier.timeoutSec),
    collect: ms(HOUSEKEEPING_TIMEOUT_SEC),
    teardown: ms(HOUSEKEEPING_TIMEOUT_SEC),
  };
}

/** Time between SIGTERM and SIGKILL: 10% of the phase's timeout, within [0.5 s, 10 s]. */
export function killGraceMs(timeoutMs: number | null): number {
  if (timeoutMs === null) return 10_000;
  return Math.min(10_000, Math.max(500, Math.round(timeoutMs * 0.1)));
}
