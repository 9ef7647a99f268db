import { UNKNOWN_USAGE } from "../../src/core/constants.js";
import type {
  AgentRef,
  EarlierTry,
  JobDoc,
  TrialResult,
  TrialStatus,
} from "../../src/core/schemas.js";
import type { Paint } from "../../src/report/format.js";

export const ORACLE: AgentRef = { name: "oracle", model: null };
export const NOP: AgentRef = { name: "nop", model: null };
export const NOP_M: AgentRef = { name: "nop", model: "m" };
export const CLAUDE: AgentRef = { name: "claude-code", model: "claude-sonnet-4-5" };

/** The id of the job `makeJob` builds. */
export const JOB_ID = "job_20240501_120000_abcdef";
/** A well-formed scenario digest (all zeros). */
export const DIGEST = `sha256:${"0".repeat(64)}`;

/**
 * A finished job doc named "nightly" over one scenario, for report tests; `over` replaces top-level
 * fields, `spec` fields of the spec.
 */
export function makeJob(
  agents: AgentRef[],
  over: Partial<JobDoc> = {},
  spec: Partial<JobDoc["spec"]> = {},
): JobDoc {
  return {
    schema_version: 1,
    id: JOB_ID,
    created_at: "2024-05-01T12:00:00.000Z",
    spec: {
      name: "nightly",
      benchmark: { kind: "builtin", source: "starter" },
      scenarios: [{ id: "b/s", name: "s", path: "/p", digest: DIGEST }],
      agents,
      n_attempts: 1,
      n_concurrent_trials: 2,
      timeout_sec: null,
      timeout_multiplier: 1,
      env_vars: {},
      secrets: {},
      metadata: {},
      backend: "local",
      sandbox: "none",
      ...spec,
    },
    state: "completed",
    finished_at: "2024-05-01T12:10:00.000Z",
    failure_reason: null,
    runner: { pid: 1, hostname: "h", rli_version: "0.1.0" },
    ...over,
  };
}

let resultSeq = 0;

/**
 * A finished trial of `agent` on its own scenario (`b/s<n>`, n counting up per test file): one
 * second long, rewarded with its score, no usage known, no exception. `over` replaces any field.
 */
export function makeResult(
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
  over: Partial<TrialResult> = {},
): TrialResult {
  resultSeq++;
  return {
    schema_version: 1,
    trial_id: `b_s${resultSeq}__${agent.name}__1`,
    job_id: "job_1",
    scenario_id: `b/s${resultSeq}`,
    scenario_digest: DIGEST,
    agent,
    attempt: 1,
    status,
    score,
    rewards: score === null ? null : { reward: score },
    started_at: "2024-05-01T12:00:00.000Z",
    finished_at: "2024-05-01T12:00:01.000Z",
    duration_ms: 1000,
    phases: {},
    agent_exit_code: 0,
    usage: UNKNOWN_USAGE,
    exception: null,
    errors: [],
    logs_dir: "logs",
    ...over,
  };
}

/** A trial of `agent` on scenario `b/<s>`, attempt `attempt`, with the trial id the runner would give. */
export function makeTrial(
  agent: AgentRef,
  s: string,
  attempt: number,
  status: TrialStatus,
  score: number | null,
  over: Partial<TrialResult> = {},
): TrialResult {
  return makeResult(agent, status, score, {
    trial_id: `b_${s}__${agent.name}__${attempt}`,
    scenario_id: `b/${s}`,
    attempt,
    ...over,
  });
}

/** Try n of a trial that ended in an infrastructure error and was run again. */
export function earlierTry(n: number): EarlierTry {
  return {
    try: n,
    status: "infra_error",
    started_at: "2024-05-01T12:00:00.000Z",
    finished_at: "2024-05-01T12:00:01.000Z",
    duration_ms: 1000,
    phases: {},
    exception: null,
    errors: [],
    logs_dir: `tries/${n}/logs`,
    backoff_ms: 2000,
  };
}

/** A Paint that marks each colour as <name>…</name>, so tests see exactly what was painted how. */
export const TAGS: Paint = {
  green: (s) => `<green>${s}</green>`,
  yellow: (s) => `<yellow>${s}</yellow>`,
  red: (s) => `<red>${s}</red>`,
  dim: (s) => `<dim>${s}</dim>`,
  bold: (s) => `<bold>${s}</bold>`,
  cyan: (s) => `<cyan>${s}</cyan>`,
};

/** `n` spaces. */
export const sp = (n: number): string => " ".repeat(n);
