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

export const BenchmarkJobViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    create_time_ms: z.number(),
    state: BenchmarkJobStateSchema,
    failure_reason: z.string().nullish(),
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
  })
  .loose();
export type DevboxExecutionView = z.output<typeof DevboxExecutionViewSchema>;

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
export const ScenarioViewSchema = z.object({ id: z.string(), name: z.string() }).loose();
export type ScenarioView = z.output<typeof ScenarioViewSchema>;

/** BenchmarkRunView.state is spelled `canceled` (one l), unlike a job's `cancelled`. */
export const BenchmarkRunViewSchema = z
  .object({ id: z.string(), state: z.string().nullish() })
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

export const ScenarioRunViewSchema = z
  .object({
    id: z.string(),
    scenario_id: z.string(),
    // Any string: Runloop has more run states than it documents (pending, error, ...); callers compare
    // against ScenarioRunStateSchema's known values and treat the rest as in progress.
    state: z.string(),
    benchmark_run_id: z.string().nullish(),
    scoring_contract_result: z.object({ score: z.number() }).loose().nullish(),
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
