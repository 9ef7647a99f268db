import type { Io } from "../cli/io.js";
import { createLiveScreen } from "../cli/live-view.js";
import { paintFor } from "../cli/output.js";
import { EXIT } from "../core/errors.js";
import { formatDuration, type Paint, sanitize } from "../report/format.js";
import { renderResultsTable } from "../report/text.js";
import type { BenchmarkJobView } from "../runloop/schemas.js";
import type { RemoteDeps } from "./deps.js";
import { errorLine } from "./messages.js";
import {
  type EndRecord,
  type JobProgress,
  type ProgressRecord,
  progressRecord,
  sameProgress,
} from "./progress.js";
import { changeLines, watchScreen } from "./progress-text.js";
import { outcomeCounts, resultsTableInput } from "./results.js";
import { type JobEnd, jobEnd } from "./states.js";
import { type Poll, type WatchSink, watchLoop } from "./watch.js";

export interface RemoteWatchOptions {
  json: boolean;
  intervalMs: number;
  /** Stop watching after this long; null: never. */
  timeoutMs: number | null;
}

const EXIT_OF: Record<JobEnd, number> = {
  completed: EXIT.ok,
  failed: EXIT.failure,
  timeout: EXIT.failure,
  cancelled: EXIT.cancelled,
};

function banner(end: JobEnd, paint: Paint): string {
  switch (end) {
    case "completed":
      return paint.green("Benchmark job completed!");
    case "cancelled":
      return paint.yellow("Benchmark job cancelled.");
    case "timeout":
      return paint.red("Benchmark job timed out.");
    case "failed":
      return paint.red("Benchmark job failed.");
  }
}

/** The job's end from its outcomes when it ended before watching began: the longest run. */
function longestRunMs(view: BenchmarkJobView): number | null {
  const ds = (view.benchmark_outcomes ?? []).flatMap((o) =>
    o.duration_ms != null ? [o.duration_ms] : [],
  );
  return ds.length === 0 ? null : Math.max(...ds);
}

function endRecord(
  poll: Poll,
  end: EndRecord["end"],
  totalMs: number | null,
  nowMs: number,
): EndRecord {
  return {
    type: "end",
    time: new Date(nowMs).toISOString(),
    job_id: poll.job.view.id,
    state: poll.job.view.state,
    end,
    total_time_ms: totalMs,
    results: (poll.job.view.benchmark_outcomes ?? []).map((o) => {
      const c = outcomeCounts(o);
      return {
        benchmark_run_id: o.benchmark_run_id,
        agent: o.agent_name,
        model: o.model_name ?? null,
        passed: c.passed,
        failed_score: c.failedScore,
        failed_error: c.failedError,
        total: c.total,
      };
    }),
  };
}

interface Display {
  sink: WatchSink;
  stop(): void;
}

/** NDJSON on stdout: a progress record per poll that changed something; warnings on stderr. */
function jsonDisplay(io: Io, intervalMs: number): Display {
  let last: ProgressRecord | null = null;
  return {
    sink: {
      onPoll(poll, nowMs) {
        const record = progressRecord(poll.progress, nowMs);
        if (!sameProgress(last, record)) io.out(`${JSON.stringify(record)}\n`);
        last = record;
      },
      onPollFailed: (err, n) => io.err(`${failedPollLine(err, n, intervalMs)}\n`),
    },
    stop() {},
  };
}

function failedPollLine(err: unknown, failures: number, intervalMs: number): string {
  const again = failures > 1 ? ` (${failures} in a row)` : "";
  return `Warning: polling the job failed${again}: ${errorLine(err)}; trying again in ${formatDuration(intervalMs)}`;
}

/** Runloop's watch screen redrawn in place on a terminal; otherwise a line per change on stderr. */
async function textDisplay(io: Io, id: string, intervalMs: number, paint: Paint): Promise<Display> {
  let current: JobProgress | null = null;
  let note: string | null = null;
  const screen = io.stderrIsTTY
    ? await createLiveScreen(io, (rows) =>
        current === null
          ? [paint.dim(`Fetching benchmark job ${id}...`)]
          : watchScreen(current, { nowMs: Date.now(), rows, paint, note }),
      )
    : null;
  return {
    sink: {
      onPoll(poll) {
        const prev = current;
        current = poll.progress;
        note = null;
        if (screen !== null) screen.redraw();
        else for (const line of changeLines(prev, poll.progress)) io.err(`${line}\n`);
      },
      onPollFailed(err, n) {
        const line = failedPollLine(err, n, intervalMs);
        if (screen === null) {
          io.err(`${line}\n`);
          return;
        }
        note = line;
        screen.redraw();
      },
    },
    stop() {
      screen?.stop();
    },
  };
}

/**
 * `rli benchmark-job watch bmj_...`: poll a Runloop job until it ends, with Runloop's watch screen on a
 * terminal, a line per change otherwise, or NDJSON; then its results table. Exit codes as the local
 * watch: 0 completed, 1 failed or timed out (also --timeout), 3 cancelled, 130 interrupted.
 */
export async function watchRemote(
  id: string,
  opts: RemoteWatchOptions,
  io: Io,
  deps: RemoteDeps,
): Promise<number> {
  const client = deps.client();
  io.claimInterrupt(null);
  const paintErr = await paintFor(io, "err");
  const display = opts.json
    ? jsonDisplay(io, opts.intervalMs)
    : await textDisplay(io, id, opts.intervalMs, paintErr);
  const startedMs = (deps.loop?.now ?? Date.now)();
  let result: Awaited<ReturnType<typeof watchLoop>>;
  try {
    result = await watchLoop(
      client,
      {
        id,
        intervalMs: opts.intervalMs,
        timeoutMs: opts.timeoutMs,
        signal: io.interrupt,
        ...deps.loop,
      },
      display.sink,
    );
  } finally {
    display.stop();
  }
  const nowMs = (deps.loop?.now ?? Date.now)();

  switch (result.kind) {
    case "interrupted":
      io.err(
        `Stopped watching; benchmark job ${id} keeps running ("rli benchmark-job cancel ${id}" stops it)\n`,
      );
      return EXIT.interrupted;
    case "gave-up":
      throw new Error(
        `gave up watching benchmark job ${id}: ${result.failures} polls in a row failed over ${formatDuration(nowMs - result.sinceMs)}; the last: ${errorLine(result.error)}`,
      );
    case "timeout": {
      const state = result.last?.job.view.state ?? "unknown";
      if (opts.json && result.last !== null) {
        io.out(`${JSON.stringify(endRecord(result.last, "watch_timeout", null, nowMs))}\n`);
      }
      io.err(
        `${paintErr.red(`Stopped watching after ${formatDuration(nowMs - startedMs)} (--timeout): benchmark job ${id} is still ${state}`)}\n`,
      );
      return EXIT.failure;
    }
    case "ended": {
      const view = result.poll.job.view;
      const end = jobEnd(view.state);
      const totalMs =
        result.endedAtMs === null ? longestRunMs(view) : result.endedAtMs - view.create_time_ms;
      if (opts.json) {
        io.out(
          `${JSON.stringify(endRecord(result.poll, end, result.endedAtMs === null ? null : totalMs, nowMs))}\n`,
        );
        return EXIT_OF[end];
      }
      io.err(`${banner(end, paintErr)}\n`);
      if (totalMs !== null) io.err(`Total time: ${formatDuration(totalMs)}\n`);
      io.out(renderResultsTable(resultsTableInput(view), await paintFor(io, "out")));
      if (end === "failed" && view.failure_reason && (view.benchmark_outcomes ?? []).length > 0) {
        io.err(`${paintErr.red(`Job failed: ${sanitize(view.failure_reason)}`)}\n`);
      }
      io.err(`\nTo see full results, run: rli benchmark-job summary -e ${view.id}\n`);
      return EXIT_OF[end];
    }
  }
}
