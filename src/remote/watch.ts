import { setTimeout as sleepFor } from "node:timers/promises";
import type { RunloopClient } from "../runloop/client.js";
import { RunloopApiError } from "../runloop/errors.js";
import { type RawJob, retrieveJob, scenarioRuns } from "./fetch.js";
import { activeRuns, type JobProgress, jobProgress } from "./progress.js";
import { isJobFinal } from "./states.js";

/** rl-cli polls every 5 s. */
export const DEFAULT_INTERVAL_MS = 5000;
/** Failed polls in a row are tolerated this long (and at least MIN_FAILURES of them) before giving up. */
export const DEFAULT_GIVE_UP_AFTER_MS = 10 * 60_000;
const MIN_FAILURES = 3;

/** A poll: the job, and (while it runs) the scenario runs of its in-progress runs. */
export interface Poll {
  job: RawJob;
  progress: JobProgress;
}

/** GET the job; unless it has ended, list the scenario runs of its in-progress runs too. */
export async function pollJob(
  client: RunloopClient,
  id: string,
  signal?: AbortSignal,
): Promise<Poll> {
  const job = await retrieveJob(client, id, { signal });
  const runs = isJobFinal(job.view.state)
    ? new Map()
    : await scenarioRuns(
        client,
        activeRuns(job.view).map((r) => r.benchmark_run_id),
        { signal },
      );
  return { job, progress: jobProgress(job.view, runs) };
}

/**
 * Whether a failed poll ends watching at once: a 4xx other than 408, 409 and 429 (the key is wrong, the
 * job does not exist, ...) and anything that is not a Runloop error (a bug). Connection errors, 5xx after
 * the client's retries and malformed answers are worth another poll.
 */
export function isFatalPollError(err: unknown): boolean {
  if (err instanceof RunloopApiError) {
    return err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status);
  }
  const name = err instanceof Error ? err.name : "";
  return name !== "RunloopConnectionError" && name !== "RunloopResponseError";
}

export interface WatchLoopOptions {
  id: string;
  intervalMs?: number;
  /** Stop watching after this long (from when watching started); null: never. */
  timeoutMs?: number | null;
  giveUpAfterMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchSink {
  /** After every successful poll. */
  onPoll(poll: Poll, nowMs: number): void;
  /** After a failed poll that watching survives; `failures` counts those in a row. */
  onPollFailed(err: unknown, failures: number): void;
}

export type WatchResult =
  | {
      kind: "ended";
      poll: Poll;
      /** When the watcher first saw the job ended; null when it had ended before watching began. */
      endedAtMs: number | null;
    }
  | { kind: "timeout"; last: Poll | null }
  | { kind: "interrupted"; last: Poll | null }
  | { kind: "gave-up"; error: unknown; failures: number; sinceMs: number };

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  sleepFor(ms, undefined, { signal }).then(() => undefined);

/**
 * Poll a job every `intervalMs` until it ends, `timeoutMs` passes, the signal aborts, or polls have
 * failed for `giveUpAfterMs`. A fatal poll error (see isFatalPollError) is thrown. When the job is seen
 * ended it is fetched once more (rl-cli PR #174), so the result holds its final outcomes.
 */
export async function watchLoop(
  client: RunloopClient,
  opts: WatchLoopOptions,
  sink: WatchSink,
): Promise<WatchResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const giveUpAfterMs = opts.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
  const started = now();
  const deadline = opts.timeoutMs == null ? Infinity : started + opts.timeoutMs;
  let last: Poll | null = null;
  let sawRunning = false;
  let failures = 0;
  let firstFailureMs = 0;
  // After the sleep that reaches the deadline one more poll runs: it may find the job ended.
  for (;;) {
    if (opts.signal?.aborted) return { kind: "interrupted", last };
    try {
      const poll = await pollJob(client, opts.id, opts.signal);
      failures = 0;
      last = poll;
      if (poll.progress.final) {
        if (!sawRunning) {
          sink.onPoll(poll, now());
          return { kind: "ended", poll, endedAtMs: null };
        }
        const endedAtMs = now();
        let final = poll;
        try {
          final = await pollJob(client, opts.id, opts.signal);
        } catch {
          // The poll that saw the end is good enough.
        }
        sink.onPoll(final, now());
        return { kind: "ended", poll: final, endedAtMs };
      }
      sawRunning = true;
      sink.onPoll(poll, now());
    } catch (err) {
      if (opts.signal?.aborted) return { kind: "interrupted", last };
      if (isFatalPollError(err)) throw err;
      if (failures === 0) firstFailureMs = now();
      failures++;
      if (failures >= MIN_FAILURES && now() - firstFailureMs >= giveUpAfterMs) {
        return { kind: "gave-up", error: err, failures, sinceMs: firstFailureMs };
      }
      sink.onPollFailed(err, failures);
    }
    const wait = Math.min(intervalMs, deadline - now());
    if (wait <= 0) return { kind: "timeout", last };
    try {
      await sleep(wait, opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) return { kind: "interrupted", last };
      throw err;
    }
  }
}
