import { z } from "zod";

import { JOB_STATES, PHASES, SCHEMA_VERSION, TRIAL_STATUSES } from "./constants.js";

export { JOB_STATES, PHASES, SCHEMA_VERSION, TRIAL_STATUSES, UNKNOWN_USAGE } from "./constants.js";

const isoTime = z.string().datetime({ offset: true });

/** `agent[:model]`, split at the first colon. `model` is null for agents that need none. */
export const AgentRefSchema = z.object({
  name: z.string().min(1),
  model: z.string().min(1).nullable(),
});
export type AgentRef = z.infer<typeof AgentRefSchema>;

export const TrialStatusSchema = z.enum(TRIAL_STATUSES);
export type TrialStatus = z.infer<typeof TrialStatusSchema>;

export const PhaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof PhaseSchema>;

export const PhaseTimingSchema = z.object({
  started_at: isoTime,
  finished_at: isoTime,
  duration_ms: z.number().int().nonnegative(),
  /** The resolved timeout for the phase (after the multiplier), or null when unbounded. */
  timeout_ms: z.number().int().positive().nullable(),
  outcome: z.enum(["ok", "timeout", "error", "cancelled"]),
});
export type PhaseTiming = z.infer<typeof PhaseTimingSchema>;

/**
 * Token usage and cost. Every field is null when unknown; an unknown is never reported as 0.
 * `input_tokens` counts prompt tokens neither read from nor written to a cache (Anthropic's split): the
 * whole prompt is input + cache_read + cache_write, whatever the agent's own convention was.
 */
export const UsageSchema = z.object({
  input_tokens: z.number().int().nonnegative().nullable(),
  cache_read_tokens: z.number().int().nonnegative().nullable(),
  cache_write_tokens: z.number().int().nonnegative().nullable(),
  output_tokens: z.number().int().nonnegative().nullable(),
  cost_usd: z.number().nonnegative().nullable(),
  cost_source: z.enum(["reported", "estimated", "unknown"]),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ExceptionInfoSchema = z.object({
  /** A stable error class name, e.g. AgentTimeoutError, RewardFileNotFoundError, SandboxError. */
  type: z.string(),
  message: z.string(),
  phase: PhaseSchema,
  occurred_at: isoTime,
});
export type ExceptionInfo = z.infer<typeof ExceptionInfoSchema>;

/** The scenario as resolved for a job: enough to re-run it and to detect that it changed. */
export const ScenarioRefSchema = z.object({
  /** Unique within the job; `<benchmark>/<task-dir-name>`. */
  id: z.string().min(1),
  name: z.string().min(1),
  path: z.string().min(1),
  /** sha256 over the task directory's files (names and contents). */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
export type ScenarioRef = z.infer<typeof ScenarioRefSchema>;

export const BackendNameSchema = z.enum(["local", "docker", "runloop"]);
export const SandboxModeSchema = z.enum(["bubblewrap", "none"]);

export const JobSpecSchema = z.object({
  name: z.string().min(1),
  benchmark: z.object({
    kind: z.enum(["builtin", "path", "scenarios", "runloop"]),
    /** The built-in name, the directory path, or the scenario ids as given (Runloop: name or ids). */
    source: z.union([z.string(), z.array(z.string())]),
  }),
  scenarios: z.array(ScenarioRefSchema).min(1),
  agents: z.array(AgentRefSchema).min(1),
  n_attempts: z.number().int().positive(),
  n_concurrent_trials: z.number().int().positive(),
  /** Agent-phase timeout in seconds; null means "use each task's own [agent].timeout_sec". */
  timeout_sec: z.number().positive().nullable(),
  timeout_multiplier: z.number().positive(),
  env_vars: z.record(z.string(), z.string()),
  /** ENV_VAR -> secret name. Values are never stored. */
  secrets: z.record(z.string(), z.string()),
  /**
   * Per agent name: the variables (its keys, base URLs) it was given from the runner's environment.
   * Names only; values are never stored.
   */
  agent_env: z.record(z.string(), z.array(z.string())).optional(),
  /**
   * Per agent name: what ran (`<npm package>@<version>`, or `builtin` for oracle and nop), so `resume`
   * can refuse to mix versions. Absent in jobs recorded before resume existed.
   */
  agent_versions: z.record(z.string(), z.string()).optional(),
  /** The --agent-config file the job's custom agents came from (absolute path). */
  agent_config: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
  /**
   * How many times a trial that ended in a retryable infrastructure error is run again (absent in jobs
   * recorded before retries existed: none).
   */
  max_retries: z.number().int().nonnegative().optional(),
  backend: BackendNameSchema,
  sandbox: SandboxModeSchema,
  /** --runloop-blueprint, as given. */
  runloop_blueprint: z.string().optional(),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** The process running a job. boot_id and start_ticks tell a live runner from a reused pid. */
export const RunnerSchema = z.object({
  pid: z.number().int(),
  hostname: z.string(),
  rli_version: z.string(),
  /** /proc/sys/kernel/random/boot_id of the runner's machine, when known. */
  boot_id: z.string().optional(),
  /** The runner's start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  start_ticks: z.number().int().nonnegative().optional(),
});
export type Runner = z.infer<typeof RunnerSchema>;

export const JobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobStateSchema>;

/** job.json: the spec plus the job's lifecycle state. Rewritten atomically on each transition. */
export const JobDocSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  id: z.string().min(1),
  created_at: isoTime,
  spec: JobSpecSchema,
  state: JobStateSchema,
  finished_at: isoTime.nullable(),
  failure_reason: z.string().nullable(),
  runner: RunnerSchema,
  /** When `resume` took the job up again, oldest first (absent: never resumed). */
  resumed_at: z.array(isoTime).optional(),
});
export type JobDoc = z.infer<typeof JobDocSchema>;

/** The counts `list` shows, frozen into status.json when a job ends. */
export const JobCountsSchema = z.object({
  finished: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  /** Trials that ended in a timeout or an error (cancelled trials are not errors). */
  errors: z.number().int().nonnegative(),
  /** Mean over agents of each agent's mean score over verified trials (Runloop's list SCORE). */
  score: z.number().nullable(),
});
export type JobCounts = z.infer<typeof JobCountsSchema>;

/**
 * status.json: the small record `list` reads (job.json holds the full spec and can be large).
 * Rewritten with job.json on every state change; `counts` is null until the job ends.
 */
export const JobStatusSchema = JobDocSchema.omit({ spec: true }).extend({
  name: z.string(),
  n_trials: z.number().int().nonnegative(),
  counts: JobCountsSchema.nullable(),
});
export type JobStatus = z.infer<typeof JobStatusSchema>;

/** A try of a trial that ended in an infrastructure error and was run again; kept with the trial. */
export const EarlierTrySchema = z.object({
  /** 1-based. */
  try: z.number().int().positive(),
  status: TrialStatusSchema,
  started_at: isoTime,
  finished_at: isoTime,
  duration_ms: z.number().int().nonnegative(),
  phases: z.partialRecord(PhaseSchema, PhaseTimingSchema),
  exception: ExceptionInfoSchema.nullable(),
  errors: z.array(ExceptionInfoSchema),
  /** The try's logs, relative to the trial directory (tries/<n>/logs). */
  logs_dir: z.string(),
  /** How long the runner waited before the next try. */
  backoff_ms: z.number().int().nonnegative(),
});
export type EarlierTry = z.infer<typeof EarlierTrySchema>;
/** An earlier try before it is filed: the store gives it its number and logs directory. */
export type TryRecord = Omit<EarlierTry, "try" | "logs_dir">;

/** trials/<trial_id>/result.json, written atomically once the trial ends. */
export const TrialResultSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  trial_id: z.string().min(1),
  job_id: z.string().min(1),
  scenario_id: z.string().min(1),
  scenario_digest: z.string(),
  agent: AgentRefSchema,
  /** 1-based attempt number. */
  attempt: z.number().int().positive(),
  status: TrialStatusSchema,
  /** The verifier's reward in [0, 1], or null when the verifier produced none. */
  score: z.number().min(0).max(1).nullable(),
  /** Every value the reward file held (reward.json keys, or {reward} from reward.txt). */
  rewards: z.record(z.string(), z.number()).nullable(),
  started_at: isoTime,
  finished_at: isoTime,
  duration_ms: z.number().int().nonnegative(),
  phases: z.partialRecord(PhaseSchema, PhaseTimingSchema),
  agent_exit_code: z.number().int().nullable(),
  usage: UsageSchema,
  /** The first failure that decided the status; later failures (e.g. teardown) go to `errors`. */
  exception: ExceptionInfoSchema.nullable(),
  errors: z.array(ExceptionInfoSchema),
  /** Relative to the trial directory. */
  logs_dir: z.string(),
  /**
   * The tries before this one that ended in an infrastructure error and were retried, oldest first;
   * absent when the first try was the last. The trial's own fields describe its last try.
   */
  earlier_tries: z.array(EarlierTrySchema).optional(),
});
export type TrialResult = z.infer<typeof TrialResultSchema>;

const eventBase = { schema_version: z.literal(SCHEMA_VERSION), ts: isoTime, seq: z.number().int() };

/** One line of events.jsonl. Readers must tolerate unknown types and a torn last line. */
export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...eventBase,
    type: z.literal("job_started"),
    job_id: z.string(),
    n_trials: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("job_resumed"),
    job_id: z.string(),
    n_trials: z.number(),
    /** Trials whose result is kept. */
    n_kept: z.number(),
    /** Trials that had a result and run again (their earlier trial_finished no longer counts). */
    rerun: z.array(z.string()),
  }),
  z.object({
    ...eventBase,
    type: z.literal("trial_started"),
    trial_id: z.string(),
    scenario_id: z.string(),
    agent: AgentRefSchema,
    attempt: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("phase_started"),
    trial_id: z.string(),
    phase: PhaseSchema,
  }),
  z.object({
    ...eventBase,
    type: z.literal("phase_finished"),
    trial_id: z.string(),
    phase: PhaseSchema,
    outcome: PhaseTimingSchema.shape.outcome,
    duration_ms: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("trial_finished"),
    trial_id: z.string(),
    scenario_id: z.string(),
    agent: AgentRefSchema,
    status: TrialStatusSchema,
    score: z.number().nullable(),
    duration_ms: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("trial_retrying"),
    trial_id: z.string(),
    /** The try that failed (1-based); try + 1 starts after `delay_ms`. */
    try: z.number(),
    delay_ms: z.number(),
    reason: z.string(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("job_finished"),
    job_id: z.string(),
    state: JobStateSchema,
  }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the store stamps it with version, time and sequence number. */
export type JobEventInput = DistributiveOmit<JobEvent, "schema_version" | "ts" | "seq">;
