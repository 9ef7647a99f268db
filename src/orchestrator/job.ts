import { setMaxListeners } from "node:events";
import { readFile, statfs } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import type { Backend } from "../backends/types.js";
import type { Task } from "../benchmarks/task.js";
import { byTrialId } from "../core/digest.js";
import { errorMessage, JobStoreError } from "../core/errors.js";
import { redactor, secretValuesIn } from "../core/redact.js";
import {
  type EarlierTry,
  type JobDoc,
  type JobEvent,
  type JobEventInput,
  type JobSpec,
  SCHEMA_VERSION,
  type TrialResult,
  type TrialStatus,
  type TryRecord,
} from "../core/schemas.js";
import { EVENTS_FILE } from "../store/paths.js";
import { currentRunner } from "../store/runner.js";
import { JobWriter, parseEvents, readResults } from "../store/store.js";
import { type PlannedTrial, planTrials } from "./plan.js";
import { interruptedTries, planResume, tryToFile } from "./resume.js";
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
  const writer = await JobWriter.create(opts.jobsDir, doc, redactor(secretsOf(opts)));
  opts.onCreated?.(writer.dir);
  const trials = planTrials(opts.tasks, spec.agents, spec.n_attempts);
  const emit = emitter(writer, opts);
  emit({ type: "job_started", job_id: doc.id, n_trials: trials.length });
  return execute(
    writer,
    trials.map((planned) => ({ planned, previous: [] })),
    [],
    opts,
  );
}

export interface ResumeJobOptions extends Omit<RunJobOptions, "jobId" | "jobsDir" | "spec"> {
  /** The job's directory; its job.json holds the spec. */
  dir: string;
  job: JobDoc;
  /** Trial statuses to run again (trials without a result always run). */
  rerun: ReadonlySet<TrialStatus>;
}

/**
 * Continue a job whose runner stopped (or that ended): results that stand are kept, the other trials
 * run again in the same directory, with what their earlier tries left moved to tries/<n>/ and listed in
 * their new result. Trials a killed runner left mid-run come back as cancelled tries.
 */
export async function resumeJob(opts: ResumeJobOptions): Promise<JobOutcome> {
  const { job, dir } = opts;
  const trials = planTrials(opts.tasks, job.spec.agents, job.spec.n_attempts);
  const plan = planResume(trials, await readResults(dir), opts.rerun);
  const events = parseEvents(await readFile(join(dir, EVENTS_FILE), "utf8").catch(() => ""));
  const interrupted = interruptedTries(events);
  const now = new Date().toISOString();
  const doc: JobDoc = {
    ...job,
    state: "running",
    finished_at: null,
    failure_reason: null,
    runner: currentRunner(opts.rliVersion),
    resumed_at: [...(job.resumed_at ?? []), now],
  };
  const writer = await JobWriter.reopen(dir, doc, redactor(secretsOf(opts)));
  opts.onCreated?.(dir);
  const runs: { planned: PlannedTrial<Task>; previous: EarlierTry[] }[] = [];
  for (const { planned, previous } of plan.run) {
    const id = planned.trialId;
    const filed = new Set((await writer.filedTries(id)).map((t) => t.started_at));
    const record = tryToFile(previous, interrupted.get(id) ?? null, filed, now);
    if (record !== null) await writer.archiveTry(id, record);
    runs.push({ planned, previous: await writer.filedTries(id) });
  }
  const emit = emitter(writer, opts);
  emit({
    type: "job_resumed",
    job_id: doc.id,
    n_trials: trials.length,
    n_kept: plan.keep.length,
    rerun: plan.run.flatMap((r) => (r.previous !== null ? [r.planned.trialId] : [])),
  });
  return execute(writer, runs, plan.keep, { ...opts, spec: job.spec });
}

/** Below this much free space on the job store's disk, a failing trial is put down to the disk. */
const DISK_FULL_BYTES = 64 * 1024;

async function diskNearlyFull(dir: string): Promise<boolean> {
  const st = await statfs(dir);
  return st.bavail * st.bsize < DISK_FULL_BYTES;
}

/** Every value the store must never write: --secrets values and the agents' keys from this environment. */
function secretsOf(opts: Pick<RunJobOptions, "secretValues" | "agentEnv">): string[] {
  const keys = Object.values(opts.agentEnv ?? {}).flatMap(secretValuesIn);
  return [...Object.values(opts.secretValues), ...keys];
}

function emitter(
  writer: JobWriter,
  opts: Pick<RunJobOptions, "onEvent">,
): (event: JobEventInput) => void {
  return (event) => {
    const full = writer.appendEvent(event);
    opts.onEvent?.(full);
  };
}

/** Run `runs` under the job's concurrency limit, then record the job's end over `kept` + their results. */
async function execute(
  writer: JobWriter,
  runs: readonly { planned: PlannedTrial<Task>; previous: readonly EarlierTry[] }[],
  kept: readonly TrialResult[],
  opts: Omit<RunJobOptions, "jobId" | "jobsDir" | "tasks">,
): Promise<JobOutcome> {
  const { spec } = opts;
  const doc = writer.job;
  // The store cannot be written (its disk is full, say): the job stops as a cancel would, every sandbox
  // torn down, and is left for `resume` once there is room.
  const stop = new AbortController();
  let storeError: unknown = null;
  const halt = (err: unknown): void => {
    storeError ??= err;
    stop.abort();
  };
  if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener("abort", () => stop.abort(), { once: true });
  const record = emitter(writer, opts);
  const emit = (event: JobEventInput): void => {
    try {
      record(event);
    } catch (err) {
      halt(err);
    }
  };
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      fn(...args).catch((err: unknown) => {
        halt(err);
        throw err;
      });
  // Every running trial listens on the job's signal; that is expected, not a leak.
  setMaxListeners(0, stop.signal);
  const limit = pLimit(spec.n_concurrent_trials);
  // allSettled: a trial whose result cannot be written must not orphan the trials still running.
  const settled = await Promise.allSettled(
    runs.map(({ planned, previous }) =>
      limit(() =>
        runTrial(
          planned,
          {
            jobId: doc.id,
            backend: opts.backend,
            emit,
            prepareTrial: guarded((id: string) => writer.prepareTrial(id)),
            writeResult: guarded((r: TrialResult) => writer.writeResult(r)),
            agentTimeoutSec: spec.timeout_sec,
            timeoutMultiplier: spec.timeout_multiplier,
            envVars: spec.env_vars,
            secretValues: opts.secretValues,
            ...(opts.agentEnv !== undefined ? { agentEnv: opts.agentEnv } : {}),
            ...(opts.agentCacheDir !== undefined ? { agentCacheDir: opts.agentCacheDir } : {}),
            signal: stop.signal,
            maxRetries: spec.max_retries ?? 0,
            ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
            archiveTry: guarded((id: string, filed: TryRecord) => writer.archiveTry(id, filed)),
            diskFull: () => diskNearlyFull(writer.dir),
          },
          previous,
        ),
      ),
    ),
  );
  const results = [
    ...kept,
    ...settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : [])),
  ].sort(byTrialId);
  const lost = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  const failureReason =
    storeError !== null
      ? `the job store could not be written (${errorMessage(storeError)}); the job stopped`
      : lost.length === 0
        ? null
        : `${lost.length} trial(s) could not be recorded: ${errorMessage(lost[0])}`;
  const state = failureReason !== null ? "failed" : opts.signal.aborted ? "cancelled" : "completed";
  try {
    await writer.update(
      { state, finished_at: new Date().toISOString(), failure_reason: failureReason },
      results,
    );
    emit({ type: "job_finished", job_id: doc.id, state });
  } catch (err) {
    storeError ??= err;
  }
  try {
    writer.close();
  } catch (err) {
    storeError ??= err;
  }
  if (storeError !== null) throw new JobStoreError(doc.id, writer.dir, storeError);
  return { dir: writer.dir, job: writer.job, results };
}
