import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface ListFlags {
  days: string;
  all?: boolean;
  status?: string;
  name?: string;
  remote?: boolean;
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
Examples:
  $ rli benchmark-job list
  $ rli bmj list --days 7 --status failed,cancelled
  $ rli bmj list --all -o json | jq -r '.[] | select(.state == "running") | .id'
  $ rli bmj list --remote
  $ rli bmj list --remote --days 7 --status running --name nightly
  $ rli bmj list --remote -o json | jq -r '.[] | select(.state == "running") | .id'

Jobs are listed oldest first, the newest last. A job marked running whose runner process is gone is
listed as failed. Valid --status values: initializing, queued, running, completed, failed, cancelled (or
canceled), timeout; local jobs are only ever running, completed, failed or cancelled.

Columns: DONE is finished/total trials, ERRORS the trials that ended in a timeout or an error, SCORE
the mean over agents of each agent's mean score over verified trials (N/A when none has one).

-o json|yaml prints an array with one record per job:
  {id, name, state, create_time_ms, created_at, finished_at, failure_reason,
   n_trials, n_finished, n_errors, n_passed, score (0-1 or null), dir}
Runloop's list prints full BenchmarkJobViews; a local listing stays light (it would have to read every
trial's result), so use "rli bmj summary <id> -o json" for a job's full view.

--remote lists your Runloop jobs instead (RUNLOOP_API_KEY): pages of 100, newest first, stopping at the
first job older than --days; the same table, where DONE counts finished scenarios over scenarios ×
agents, ERRORS the failed and timed-out ones (cancels are not errors), SCORE the mean of the runs'
average scores. -o json|yaml prints the server's BenchmarkJobViews as received.

Exit codes: 0 listed (also when no job matches) · 1 the jobs directory (or the Runloop API) cannot be
read · 2 bad input`;

/** `rli benchmark-job list`: the jobs in the local store, Runloop's list table or a JSON/YAML array. */
export function registerList(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("list")
    .description("List benchmark jobs in the local job store (or on Runloop), newest last")
    .option("--days <n>", "show jobs created in the last n days", "1")
    .option("--all", "show every job, however old (ignores --days)")
    .option(
      "--status <states>",
      "show only jobs in these states, comma-separated (e.g. running,failed)",
    )
    .option("--name <text>", "show only jobs whose name contains this (case-insensitive)")
    .option("--remote", "list your server-side Runloop jobs instead of the local store")
    .option("-o, --output <format>", "output format: text|json|yaml", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (flags: ListFlags) => {
      const { listAction } = await import("./list-action.js");
      exit.code = await listAction(flags, io);
    });
}
