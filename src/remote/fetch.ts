import pLimit from "p-limit";
import { z } from "zod";
import type { RunloopClient } from "../runloop/client.js";
import {
  type BenchmarkJobView,
  BenchmarkJobViewSchema,
  type ScenarioRunView,
} from "../runloop/schemas.js";

/** A job as the server sent it (`raw`, printed by `-o json|yaml`) and as rli reads it (`view`). */
export interface RawJob {
  id: string;
  view: BenchmarkJobView;
  raw: unknown;
}

/**
 * Parses a BenchmarkJobView but keeps the server's document too: the parsed view reorders keys and fills
 * defaults, and `summary -o json` must print what the server said.
 */
export const RawJobSchema = z.unknown().transform((raw, ctx): RawJob => {
  const parsed = BenchmarkJobViewSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    }
    return z.NEVER;
  }
  return { id: parsed.data.id, view: parsed.data, raw };
});

export interface FetchOptions {
  signal?: AbortSignal;
}

/** GET /v1/benchmark_jobs/{id}, keeping the server's document. */
export function retrieveJob(
  client: RunloopClient,
  id: string,
  options: FetchOptions = {},
): Promise<RawJob> {
  return client.http.request("GET", `/v1/benchmark_jobs/${encodeURIComponent(id)}`, {
    schema: RawJobSchema,
    signal: options.signal,
  });
}

/** GET /v1/benchmark_jobs page by page (100 a page, newest first), keeping each server document. */
export function listJobs(
  client: RunloopClient,
  options: FetchOptions & { search?: string } = {},
): AsyncGenerator<RawJob, void, undefined> {
  return client.http.paginate("/v1/benchmark_jobs", "jobs", RawJobSchema, {
    limit: 100,
    signal: options.signal,
    query: { include_total_count: false, search: options.search },
  });
}

/** Benchmark runs whose scenario runs are listed at once. */
const RUNS_CONCURRENCY = 16;

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Every scenario run of each benchmark run (100 a page); one failure does not stop the others. */
export async function scenarioRunsSettled(
  client: RunloopClient,
  runIds: readonly string[],
  options: FetchOptions = {},
): Promise<Map<string, Settled<ScenarioRunView[]>>> {
  const limit = pLimit(RUNS_CONCURRENCY);
  const unique = [...new Set(runIds)];
  const settled = await Promise.all(
    unique.map((id) =>
      limit(async (): Promise<Settled<ScenarioRunView[]>> => {
        try {
          const runs: ScenarioRunView[] = [];
          for await (const sr of client.benchmarkRuns.scenarioRuns(id, {
            limit: 100,
            signal: options.signal,
          })) {
            runs.push(sr);
          }
          return { ok: true, value: runs };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    ),
  );
  return new Map(unique.map((id, i) => [id, settled[i] as Settled<ScenarioRunView[]>]));
}

/** Every scenario run of each benchmark run; the first failure rejects. */
export async function scenarioRuns(
  client: RunloopClient,
  runIds: readonly string[],
  options: FetchOptions = {},
): Promise<Map<string, ScenarioRunView[]>> {
  const out = new Map<string, ScenarioRunView[]>();
  for (const [id, s] of await scenarioRunsSettled(client, runIds, options)) {
    if (!s.ok) throw s.error;
    out.set(id, s.value);
  }
  return out;
}
