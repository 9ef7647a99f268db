import { EXIT, UsageError } from "../../core/errors.js";
import type { JobEvent, JobState } from "../../core/schemas.js";
import { formatDuration } from "../../report/format.js";
import { eventLine } from "../../report/live.js";
import { applyEvent, emptyProgress } from "../../report/progress.js";
import { resultsTable } from "../../report/text.js";
import { followEvents } from "../../store/follow.js";
import { resolveJobDir } from "../../store/jobs.js";
import { readDigests, readJob, readStatus } from "../../store/read.js";
import { runnerAlive } from "../../store/runner.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJobHead, readEvents } from "../job-context.js";
import { createProgressView, type ProgressView } from "../live-view.js";
import { paintFor } from "../output.js";
import { positiveNumber } from "../parse.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import type { WatchFlags } from "./watch.js";

/** How long to wait for job_finished once the job's state says it ended. */
const FINAL_EVENT_GRACE_MS = 2000;

export function watchExitCode(state: JobState): number {
  if (state === "completed") return EXIT.ok;
  if (state === "cancelled") return EXIT.cancelled;
  return EXIT.failure;
}

/** The job's events go to a live view, to lines on stderr, or (json) to stdout as NDJSON. */
async function eventSink(
  io: Io,
  json: boolean,
  header: { jobId: string; name: string },
  job: Awaited<ReturnType<typeof readJob>>,
  nTrials: number,
): Promise<ProgressView> {
  if (json) {
    return {
      onEvent: (e) => io.out(`${JSON.stringify(e)}\n`),
      stop() {},
    };
  }
  if (io.stderrIsTTY) return createProgressView(io, header, job.spec.agents, nTrials, true);
  const progress = emptyProgress(job.spec.agents, nTrials);
  return {
    onEvent(e: JobEvent) {
      applyEvent(progress, e);
      const line = eventLine(e, progress.finished, progress.totalTrials);
      if (line !== null) io.err(`${line}\n`);
    },
    stop() {},
  };
}

/** Follow a job to its end. A finished job is shown at once; Ctrl-C stops watching, not the job. */
export async function watchAction(id: string, flags: WatchFlags, io: Io): Promise<number> {
  if (flags.output !== "text" && flags.output !== "json") {
    throw new UsageError(`Unknown output format: ${flags.output}. Valid options: text, json`);
  }
  const json = flags.output === "json";
  if (isRemoteJobId(id)) {
    const interval =
      flags.interval === undefined ? 5 : positiveNumber("--interval", flags.interval);
    if (interval < 1) {
      throw new UsageError(`--interval must be at least 1 (seconds), got "${flags.interval}"`);
    }
    const timeout = flags.timeout === undefined ? null : positiveNumber("--timeout", flags.timeout);
    const { watchRemote } = await import("../../remote/watch-action.js");
    return watchRemote(
      id,
      { json, intervalMs: interval * 1000, timeoutMs: timeout === null ? null : timeout * 1000 },
      io,
      await remoteDeps(io),
    );
  }
  if (flags.interval !== undefined || flags.timeout !== undefined) {
    throw new UsageError(
      `--interval and --timeout apply to Runloop jobs (ids starting with bmj_); a local job is followed as it writes`,
    );
  }
  const jobsDir = jobsDirOf(flags.jobsDir, io);
  const dir = await resolveJobDir(jobsDir, id);
  const job = await readJob(dir);
  const status = await readStatus(dir);
  const header = { jobId: job.id, name: job.spec.name };

  if (status.state === "running") {
    io.claimInterrupt(null);
    const sink = await eventSink(io, json, header, job, status.n_trials);
    let ended = false;
    let endedAt: number | undefined;
    let reason: string;
    try {
      reason = await followEvents(dir, {
        signal: io.interrupt,
        onEvents(events) {
          for (const e of events) {
            sink.onEvent(e);
            if (e.type === "job_finished") ended = true;
          }
        },
        async check() {
          if (ended) return "ended";
          const now = await readStatus(dir);
          if (now.state !== "running") {
            // The runner records the final state, then appends job_finished: give it a moment.
            endedAt ??= Date.now();
            return Date.now() - endedAt > FINAL_EVENT_GRACE_MS ? "ended" : null;
          }
          return runnerAlive(now.runner) === false ? "runner-gone" : null;
        },
      });
    } finally {
      sink.stop();
    }
    if (reason === "interrupted") {
      io.err(
        `Stopped watching; job ${job.id} keeps running ("rli benchmark-job cancel ${job.id}" stops it)\n`,
      );
      return EXIT.interrupted;
    }
  } else if (json) {
    for (const e of await readEvents(dir)) io.out(`${JSON.stringify(e)}\n`);
  }

  const final = await loadJobHead(jobsDir, dir);
  if (!json) {
    const paintErr = await paintFor(io, "err");
    const state = final.job.state;
    const banner =
      state === "completed"
        ? paintErr.green("Benchmark job completed!")
        : state === "cancelled"
          ? paintErr.yellow("Benchmark job cancelled.")
          : state === "running"
            ? paintErr.yellow("Benchmark job is still running.")
            : paintErr.red(
                final.job.failure_reason
                  ? `Benchmark job failed: ${final.job.failure_reason}`
                  : "Benchmark job failed.",
              );
    const end = final.job.finished_at === null ? Date.now() : Date.parse(final.job.finished_at);
    io.err(`${banner}\nTotal time: ${formatDuration(end - Date.parse(final.job.created_at))}\n`);
    const digests = await readDigests(final.dir, final.job);
    io.out(resultsTable(final.job, digests, await paintFor(io, "out")));
    io.err(`\nTo see full results, run: rli benchmark-job summary -e ${final.job.id}\n`);
  }
  return watchExitCode(final.job.state);
}
