import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface WatchFlags {
  output: string;
  interval?: string;
  timeout?: string;
  jobsDir?: string;
}

const EXAMPLES = `
Follows the job from any process on this machine (the one that runs it, a detached runner, or a
run in another terminal). On a terminal it draws the live view of "run"; otherwise it prints a line
per trial event; with -o json it streams the job's events as NDJSON (one JSON object per line,
schema/job-event.schema.json), from the job's first event to its last. When the job ends, text mode
prints the results table. Ctrl-C stops watching; the job keeps running.

A Runloop job (an id starting with bmj_) is polled every --interval seconds (default 5) with its
in-progress scenario runs, drawn as Runloop's watch screen on a terminal, a line per change otherwise,
and with -o json as NDJSON: {"type":"progress", time, job_id, name, state, final, elapsed_ms,
runs:[{benchmark_run_id, agent, model, source, total, finished, running, scoring, starting, pending,
score}]} whenever something changed, then {"type":"end", time, job_id, state, end, total_time_ms,
results:[{benchmark_run_id, agent, model, passed, failed_score, failed_error, total}]}. A failed poll
is a warning on stderr and watching goes on; after 10 minutes of failed polls it gives up (exit 1). A
rejected key or an unknown job ends at once. Needs RUNLOOP_API_KEY (and RUNLOOP_BASE_URL if not
api.runloop.ai).

Examples:
  $ rli benchmark-job watch latest
  $ rli bmj watch job_20261126_101500_3fa2c1
  $ rli bmj watch latest -o json | jq -c 'select(.type == "trial_finished") | {trial_id, status, score}'
  $ rli bmj watch bmj_31dYgHn3cCnyRMrGrqpEG
  $ rli bmj watch bmj_31dYgHn3cCnyRMrGrqpEG --interval 30 --timeout 14400
  $ rli bmj watch bmj_31dYgHn3cCnyRMrGrqpEG -o json | jq -c 'select(.type == "progress") | .runs'

Exit codes: 0 the job completed · 1 it failed or timed out (or its runner died, or --timeout passed) ·
2 bad input · 3 it was cancelled · 130 you stopped watching (Ctrl-C)`;

/** `rli benchmark-job watch <id>`: follow a job until it ends. */
export function registerWatch(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("watch")
    .description("Follow a running job until it ends, then show its results")
    .argument(
      "<id>",
      "job id, unique id prefix, latest, a job directory, or a Runloop job id (bmj_...)",
    )
    .option("-o, --output <format>", "output format: text|json (json: NDJSON event stream)", "text")
    .option("--interval <seconds>", "Runloop jobs: seconds between polls (default: 5)")
    .option("--timeout <seconds>", "Runloop jobs: stop watching after this long (default: never)")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: WatchFlags) => {
      const { watchAction } = await import("./watch-action.js");
      exit.code = await watchAction(id, flags, io);
    });
}
