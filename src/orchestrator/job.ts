import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { Backend } from "../backends/types.js";
import type { Task } from "../benchmarks/task.js";
import {
  type JobDoc,
  type JobEvent,
  type JobSpec,
  SCHEMA_VERSION,
  type TrialResult,
} from "../core/schemas.js";
import { currentRunner } from "../store/runner.js";
import { JobWriter } from "../store/store.js";
import { planTrials } from "./plan.js";
import { runTrial } from "./trial.js";

export interface RunJobOptions {
  jobId: string;
  jobsDir: string;
  spec: JobSpec;
  /** Every scenario of the spec, loaded. */
  tasks: readonly Task[];
  backend: Backend;
  secretValues: Readonly<Record<string, string>>;
  /** Per agent name: its keys and base URLs from the host environment (never stored). */
  agentEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Where installed agents are cached on this machine. */
  agentCacheDir?: string;
  /** Abort to cancel: no new trials start, running ones are stopped and torn down. */
  signal: AbortSignal;
  rliVersion: string;
  /** Called for every event after it is in events.jsonl. */
  onEvent?: (event: JobEvent) => void;
  /** The mean backoff before a trial's first retry (default: RETRY_BASE_MS). */
  retryBaseMs?: number;
  /** Called once the job directory exists. */
  onCreated?: (dir: string) => void;
}

export interface JobOutcome {
  dir: string;
  job: JobDoc;
  results: TrialResult[];
}

/** Run every trial of a job under the concurrency limit and record it in a new job directory. */
export async function runJob(opts: RunJobOptions): Promise<JobOutcome> {
  const { spec } = opts;
  const doc: JobDoc = {
    schema_version: SCHEMA_VERSION,
    id: opts.jobId,
    created_at: new Date().toISOString(),
    spec,
    state: "running",
    finished_at: null,
    failure_reason: null,
    runner: currentRunner(opts.rliVersion),
  };
  const writer = await JobWriter.create(opts.jobsDir, doc);
  opts.onCreated?.(writer.dir);
  const emit = (event: Parameters<JobWriter["appendEvent"]>[0]): void => {
    const full = writer.appendEvent(event);
    opts.onEvent?.(full);
  };
  const trials = planTrials(opts.tasks, spec.agents, spec.n_attempts);
  emit({ type: "job_started", job_id: doc.id, n_trials: trials.length });

  // Every running trial listens on the job's signal; that is expected, not a leak.
  setMaxListeners(0, opts.signal);
  const limit = pLimit(spec.n_concurrent_trials);
  // allSettled: a trial whose result cannot be written must not orphan the trials still running.
  const settled = await Promise.allSettled(
    trials.map((planned) =>
      limit(() =>
        runTrial(planned, {
          jobId: doc.id,
          backend: opts.backend,
          emit,
          prepareTrial: (id) => writer.prepareTrial(id),
          writeResult: (r) => writer.writeResult(r),
          agentTimeoutSec: spec.timeout_sec,
          timeoutMultiplier: spec.timeout_multiplier,
          envVars: spec.env_vars,
          secretValues: opts.secretValues,
          ...(opts.agentEnv !== undefined ? { agentEnv: opts.agentEnv } : {}),
          ...(opts.agentCacheDir !== undefined ? { agentCacheDir: opts.agentCacheDir } : {}),
          signal: opts.signal,
          maxRetries: spec.max_retries ?? 0,
          ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
          archiveTry: (id, n) => writer.archiveTry(id, n),
        }),
      ),
    ),
  );
  const results = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const lost = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  const failureReason =
    lost.length === 0
      ? null
      : `${lost.length} trial(s) could not be recorded: ${lost[0] instanceof Error ? lost[0].message : String(lost[0])}`;
  const state = failureReason !== null ? "failed" : opts.signal.aborted ? "cancelled" : "completed";
  await writer.update(
    { state, finished_at: new Date().toISOString(), failure_reason: failureReason },
    results,
  );
  emit({ type: "job_finished", job_id: doc.id, state });
  writer.close();
  return { dir: writer.dir, job: writer.job, results };
}
