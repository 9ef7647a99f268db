import { z } from "zod";

/**
 * Runloop API response shapes (reference/runloop.md §2), loose: unknown fields pass through so a server
 * that adds fields never breaks the client. Only the fields rli reads are declared.
 */

/** BenchmarkJobView.state; lowercase on the wire. */
export const BenchmarkJobStateSchema = z.enum([
  "initializing",
  "queued",
  "running",
  "completed",
  "failed",
  "cancelled",
  "timeout",
]);

/** AgentConfig as the server echoes it: a job agent, or `external_api` for runs made outside a job. */
export const AgentConfigViewSchema = z
  .object({
    type: z.string(),
    name: z.string().nullish(),
    model_name: z.string().nullish(),
    timeout_seconds: z.number().nullish(),
  })
  .loose();

/** ScenarioOutcome.state is uppercase: COMPLETED, FAILED, TIMEOUT, CANCELED (any string is kept). */
export const ScenarioOutcomeSchema = z
  .object({
    scenario_definition_id: z.string(),
    scenario_name: z.string().nullish(),
    scenario_run_id: z.string().nullish(),
    state: z.string(),
    score: z.number().nullish(),
    duration_ms: z.number().nullish(),
    failure_reason: z
      .object({ exception_type: z.string().nullish(), exception_message: z.string().nullish() })
      .loose()
      .nullish(),
  })
  .loose();
export type ScenarioOutcome = z.output<typeof ScenarioOutcomeSchema>;

export const BenchmarkOutcomeSchema = z
  .object({
    agent_name: z.string(),
    model_name: z.string().nullish(),
    benchmark_run_id: z.string(),
    n_completed: z.number().nullish(),
    n_failed: z.number().nullish(),
    n_timeout: z.number().nullish(),
    average_score: z.number().nullish(),
    duration_ms: z.number().nullish(),
    scenario_outcomes: z.array(ScenarioOutcomeSchema).default([]),
  })
  .loose();
export type BenchmarkOutcome = z.output<typeof BenchmarkOutcomeSchema>;

export const InProgressRunSchema = z
  .object({
    benchmark_run_id: z.string(),
    start_time_ms: z.number().nullish(),
    state: z.string().nullish(),
    agent_config: AgentConfigViewSchema.nullish(),
    duration_ms: z.number().nullish(),
  })
  .loose();
export type InProgressRun = z.output<typeof InProgressRunSchema>;

export const BenchmarkJobViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    create_time_ms: z.number(),
    // Any string: a server with a new state must not break watch/list; callers compare case-insensitively.
    state: z.string(),
    failure_reason: z.string().nullish(),
    job_source: z.object({ type: z.string() }).loose().nullish(),
    job_spec: z
      .object({
        scenario_ids: z.array(z.string()).nullish(),
        agent_configs: z.array(AgentConfigViewSchema).nullish(),
        orchestrator_config: z.record(z.string(), z.unknown()).nullish(),
      })
      .loose()
      .nullish(),
    benchmark_outcomes: z.array(BenchmarkOutcomeSchema).nullish(),
    in_progress_runs: z.array(InProgressRunSchema).nullish(),
  })
  .loose();
export type BenchmarkJobView = z.output<typeof BenchmarkJobViewSchema>;

/** A list page: `{ <itemsKey>: [...], has_more, total_count? }`. */
export function pageSchema<K extends string, S extends z.ZodType>(itemsKey: K, item: S) {
  return z
    .object({
      has_more: z.boolean().nullish(),
      total_count: z.number().nullish(),
    })
    .extend({ [itemsKey]: z.array(item) } as { [P in K]: z.ZodArray<S> })
    .loose();
}

export const BenchmarkJobListViewSchema = pageSchema("jobs", BenchmarkJobViewSchema);
export type BenchmarkJobListView = z.output<typeof BenchmarkJobListViewSchema>;

/** DevboxAsyncExecutionDetailView: what execute and executions/{id}/wait_for_status return. */
export const DevboxExecutionViewSchema = z
  .object({
    devbox_id: z.string(),
    execution_id: z.string(),
    status: z.enum(["queued", "running", "completed"]),
    exit_status: z.number().int().nullish(),
    stdout: z.string().nullish(),
    stderr: z.string().nullish(),
    stdout_truncated: z.boolean().nullish(),
    stderr_truncated: z.boolean().nullish(),
  })
  .loose();
export type DevboxExecutionView = z.output<typeof DevboxExecutionViewSchema>;

/** DevboxView.status; any string is kept (callers treat unknown ones as not running). */
export const DevboxViewSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    create_time_ms: z.number().nullish(),
    end_time_ms: z.number().nullish(),
    name: z.string().nullish(),
    blueprint_id: z.string().nullish(),
    snapshot_id: z.string().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    failure_reason: z.string().nullish(),
    shutdown_reason: z.string().nullish(),
  })
  .loose();
export type DevboxView = z.output<typeof DevboxViewSchema>;

export const DevboxLogsSchema = z
  .object({
    logs: z.array(
      z
        .object({
          level: z.string().nullish(),
          source: z.string().nullish(),
          timestamp_ms: z.number().nullish(),
          cmd: z.string().nullish(),
          cmd_id: z.string().nullish(),
          exit_code: z.number().nullish(),
          message: z.string().nullish(),
          shell_name: z.string().nullish(),
        })
        .loose(),
    ),
  })
  .loose();
export type DevboxLogs = z.output<typeof DevboxLogsSchema>;

/** BlueprintView.status: queued, provisioning, building, failed, build_complete (any string is kept). */
export const BlueprintViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.string(),
    failure_reason: z.string().nullish(),
    create_time_ms: z.number().nullish(),
  })
  .loose();
export type BlueprintView = z.output<typeof BlueprintViewSchema>;

/** BenchmarkView: `scenarioIds` is camelCase on the wire. */
export const BenchmarkViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scenarioIds: z.array(z.string()).nullish(),
  })
  .loose();
export type BenchmarkView = z.output<typeof BenchmarkViewSchema>;

/** ScenarioView; what GET /v1/scenarios/{id} and a benchmark's definitions return. */
export const ScenarioViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    is_public: z.boolean().nullish(),
    environment: z
      .object({
        blueprint_id: z.string().nullish(),
        snapshot_id: z.string().nullish(),
        working_directory: z.string().nullish(),
      })
      .loose()
      .nullish(),
    input_context: z.object({ problem_statement: z.string().nullish() }).loose().nullish(),
  })
  .loose();
export type ScenarioView = z.output<typeof ScenarioViewSchema>;

/** BenchmarkRunView.state is spelled `canceled` (one l), unlike a job's `cancelled`. */
export const BenchmarkRunViewSchema = z
  .object({
    id: z.string(),
    state: z.string().nullish(),
    benchmark_id: z.string().nullish(),
    score: z.number().nullish(),
    start_time_ms: z.number().nullish(),
    duration_ms: z.number().nullish(),
  })
  .loose();
export type BenchmarkRunView = z.output<typeof BenchmarkRunViewSchema>;

export const ScenarioRunStateSchema = z.enum([
  "running",
  "scoring",
  "scored",
  "completed",
  "canceled",
  "timeout",
  "failed",
]);

export const ScoringContractResultSchema = z
  .object({
    score: z.number(),
    scoring_function_results: z
      .array(
        z
          .object({
            scoring_function_name: z.string().nullish(),
            score: z.number().nullish(),
            output: z.string().nullish(),
            state: z.string().nullish(),
          })
          .loose(),
      )
      .nullish(),
  })
  .loose();

export const ScenarioRunViewSchema = z
  .object({
    id: z.string(),
    scenario_id: z.string(),
    // Any string: Runloop has more run states than it documents (pending, error, ...); callers compare
    // against ScenarioRunStateSchema's known values and treat the rest as in progress.
    state: z.string(),
    benchmark_run_id: z.string().nullish(),
    devbox_id: z.string().nullish(),
    name: z.string().nullish(),
    start_time_ms: z.number().nullish(),
    duration_ms: z.number().nullish(),
    scoring_contract_result: ScoringContractResultSchema.nullish(),
  })
  .loose();
export type ScenarioRunView = z.output<typeof ScenarioRunViewSchema>;

/**
 * SecretView. Not loose on purpose: unknown keys are stripped, so a `value` the server might one day
 * echo never reaches a caller, a log or an error.
 */
export const SecretViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  create_time_ms: z.number().nullish(),
  update_time_ms: z.number().nullish(),
});
export type SecretView = z.output<typeof SecretViewSchema>;
