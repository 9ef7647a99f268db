import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface ReportFlags {
  html: string;
  jobsDir?: string;
}

const EXAMPLES = `
Writes one self-contained HTML file (no network needed to view it): per-agent scores with their 95%
intervals, pass@k, the scenario × agent matrix, and duration and cost distributions. The file is
written atomically; an existing file is replaced.

Examples:
  $ rli benchmark-job report latest --html report.html
  $ rli bmj report job_20261126_101500_3fa2c1 --html /tmp/agents.html

Exit codes: 0 written · 1 the job store cannot be read or the file cannot be written · 2 bad input
(unknown id, missing --html)`;

/** `rli benchmark-job report <id> --html <file>`: a report page of a local job. */
export function registerReport(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("report")
    .description("Write a job's results as one self-contained HTML page")
    .argument("<id>", "job id, unique id prefix, latest, or a job directory")
    .requiredOption("--html <file>", "the HTML file to write")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: ReportFlags) => {
      const { reportAction } = await import("./report-action.js");
      exit.code = await reportAction(id, flags, io);
    });
}
