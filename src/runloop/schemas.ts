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
