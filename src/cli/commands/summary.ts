import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface SummaryFlags {
  extended?: boolean;
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
The id may be a full job id, a unique prefix of one, "latest", or a job directory.

Examples:
  $ rli benchmark-job summary latest
  $ rli bmj summary job_20261126_101500_3fa2c1 -e
  $ rli bmj summary latest -o json | jq '.benchmark_outcomes[].scenario_outcomes[].state'
  $ rli bmj summary latest -o json | jq '.benchmark_outcomes[] | {agent_name, average_score}'
  $ rli bmj summary bmj_31dYgHn3cCnyRMrGrqpEG -e
  $ rli bmj summary bmj_31dYgHn3cCnyRMrGrqpEG -o json > job.json

A Runloop job (an id starting with bmj_) is read from the Runloop API (RUNLOOP_API_KEY): text is
Runloop's results table (with -e a line per scenario: ✓ passed, ✗ scored below 1, ! errored), or for a
running job its progress per agent; -o json|yaml prints the server's BenchmarkJobView as received.

JSON and YAML follow Runloop's BenchmarkJobView (schema/benchmark-job-view.schema.json), with rli's
own fields under rli_* keys. Unlike Runloop's summary, text is the default here; pass -o json for the
document.

Exit codes: 0 shown · 1 the job store (or the Runloop API) cannot be read · 2 bad input (unknown id,
bad -o)`;

/** `rli benchmark-job summary <id>`: the results of a job, finished or running. */
export function registerSummary(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("summary")
    .description("Show a job's results: Runloop's results table, or its BenchmarkJobView")
    .argument(
      "<id>",
      "job id, unique id prefix, latest, a job directory, or a Runloop job id (bmj_...)",
    )
    .option("-e, --extended", "add a line per trial under each agent")
    .option("-o, --output <format>", "output format: text|json|yaml", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: SummaryFlags) => {
      const { summaryAction } = await import("./summary-action.js");
      exit.code = await summaryAction(id, flags, io);
    });
}
