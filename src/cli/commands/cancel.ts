import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface CancelFlags {
  wait: string;
  jobsDir?: string;
}

const EXAMPLES = `
Sends the job's runner SIGTERM, as Ctrl-C in its terminal would: no new trials start, running trials
are stopped (SIGTERM, a grace period, then SIGKILL) and their sandboxes torn down, and the job is
marked cancelled. If the runner does not finish within --wait seconds it is killed, which takes its
sandboxes with it. A job whose runner is already gone is marked cancelled directly.

A Runloop job (an id starting with bmj_) has no cancel endpoint of its own: each of its benchmark runs
in progress is cancelled (its scenarios stop and their devboxes shut down), with a line per run on
stdout. --wait does not apply.

Examples:
  $ rli benchmark-job cancel latest
  $ rli bmj cancel job_20261126_101500_3fa2c1 --wait 60
  $ rli bmj cancel bmj_31dYgHn3cCnyRMrGrqpEG

Exit codes: 0 cancelled (or already ended) · 1 the job runs on another machine, or could not be
stopped (for a Runloop job: some run could not be cancelled, or none has started yet) · 2 bad input
(unknown id)`;

/** `rli benchmark-job cancel <id>`: stop a running job. */
export function registerCancel(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("cancel")
    .description("Stop a running job: its trials end, its sandboxes are torn down")
    .argument(
      "<id>",
      "job id, unique id prefix, latest, a job directory, or a Runloop job id (bmj_...)",
    )
    .option("--wait <seconds>", "how long the runner gets to wind down before it is killed", "30")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: CancelFlags) => {
      const { cancelAction } = await import("./cancel-action.js");
      exit.code = await cancelAction(id, flags, io);
    });
}
