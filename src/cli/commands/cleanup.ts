import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface CleanupFlags {
  job?: string;
  dryRun?: boolean;
  force?: boolean;
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
Finds the Docker containers (label rli.job_id) and Runloop devboxes (metadata rli_job_id) that rli made
and removes those whose job is over: it finished, or its runner died (kill -9, a reboot). Resources of
a job whose runner is alive on this machine are never touched (use cancel). Those of jobs this store
does not know, or that run on another machine, are listed and kept unless --force. Docker is checked
when a daemon answers, Runloop when RUNLOOP_API_KEY is set. Local bubblewrap sandboxes need no cleanup:
they die with their runner.

Examples:
  $ rli benchmark-job cleanup --dry-run
  $ rli bmj cleanup --job job_20261126_101500_3fa2c1
  $ rli bmj cleanup --force -o json | jq '.[] | select(.action == "removed")'

Exit codes: 0 every leftover removed (or none found) · 1 some could not be removed · 2 bad input`;

/** `rli benchmark-job cleanup`: remove the containers and devboxes of jobs that are over. */
export function registerCleanup(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("cleanup")
    .description("Remove leftover containers and devboxes of jobs that ended or whose runner died")
    .option("--job <id>", "only this job's resources (a job id)")
    .option("--dry-run", "list what would be removed, remove nothing")
    .option(
      "--force",
      "also remove resources of jobs this store does not know or that run elsewhere",
    )
    .option("-o, --output <format>", "output format: text|json|yaml", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (flags: CleanupFlags) => {
      const { cleanupAction } = await import("./cleanup-action.js");
      exit.code = await cleanupAction(flags, io);
    });
}
