import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface WatchFlags {
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
Follows the job from any process on this machine (the one that runs it, a detached runner, or a
run in another terminal). On a terminal it draws the live view of "run"; otherwise it prints a line
per trial event; with -o json it streams the job's events as NDJSON (one JSON object per line,
schema/job-event.schema.json), from the job's first event to its last. When the job ends, text mode
prints the results table. Ctrl-C stops watching; the job keeps running.

Examples:
  $ rli benchmark-job watch latest
  $ rli bmj watch job_20261126_101500_3fa2c1
  $ rli bmj watch latest -o json | jq -c 'select(.type == "trial_finished") | {trial_id, status, score}'

Exit codes: 0 the job completed · 1 it failed (or its runner died) · 2 bad input · 3 it was cancelled ·
130 you stopped watching (Ctrl-C)`;

/** `rli benchmark-job watch <id>`: follow a job until it ends. */
export function registerWatch(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("watch")
    .description("Follow a running job until it ends, then show its results")
    .argument("<id>", "job id, unique id prefix, latest, or a job directory")
    .option("-o, --output <format>", "output format: text|json (json: NDJSON event stream)", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: WatchFlags) => {
      const { watchAction } = await import("./watch-action.js");
      exit.code = await watchAction(id, flags, io);
    });
}
