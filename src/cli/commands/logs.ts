import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface LogsFlags {
  outputDir?: string;
  run?: string;
  scenario?: string;
  archive?: string;
  force?: boolean;
  jobsDir?: string;
}

const EXAMPLES = `
Layout (as Runloop's): <dir>/<agent>[_<model>]/<scenario name>[-<n>]/ holding results.json and the
trial's logs (agent/, verifier/, artifacts/). Repeated names (--n-attempts > 1) are numbered -1, -2, ...
Trials that never started (e.g. cancelled first) still get a results.json. On a running job, finished
trials and the partial logs of running ones are copied. Progress goes to stderr; stdout stays empty.

A Runloop job (an id starting with bmj_) is downloaded from the Runloop API (RUNLOOP_API_KEY), 50
scenario runs at a time: --run takes a benchmark_run_id or agent[:model], --scenario a scenario run id
or a scenario id. Each scenario's logs ZIP is streamed to a temporary file and extracted (unsafe entries
such as ../x, absolute paths or symlinks are skipped with a warning). The output directory may already
hold an earlier download: scenario directories completed then are kept unless --force.

Examples:
  $ rli benchmark-job logs latest
  $ rli bmj logs job_20250101_120000_abc123 -o ./job-logs
  $ rli bmj logs job_20250101_120000_abc123 --run claude-code:claude-sonnet-4-5
  $ rli bmj logs job_20250101_120000_abc123 --scenario starter/fix-csv-quoting
  $ rli bmj logs latest --archive logs.tar.gz
  $ rli bmj logs bmj_31dYgHn3cCnyRMrGrqpEG
  $ rli bmj logs bmj_31dYgHn3cCnyRMrGrqpEG --run claude-code:claude-sonnet-4 -o ./job-logs

Exit codes: 0 every scenario run copied · 1 some could not be copied or downloaded (Runloop exits 0) ·
2 bad input · 130 interrupted`;

/** `rli benchmark-job logs`: Runloop's flags plus --archive, --force and --jobs-dir. */
export function registerLogs(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("logs")
    .description("Copy a job's logs and per-scenario results.json into a directory (or a .tar.gz)")
    .argument(
      "<id>",
      "job id, a unique prefix of one, `latest`, a job directory, or a Runloop job id (bmj_...)",
    )
    .option(
      "-o, --output-dir <dir>",
      "where to write; must be empty or new unless --force (default: ./logs/<job-id>)",
    )
    .option(
      "--run <agent>",
      "only this agent's scenario runs: agent[:model] or the benchmark_run_id <job-id>/<agent[:model]>",
    )
    .option(
      "--scenario <id>",
      "only this scenario run (a trial id such as starter_hello__oracle__1) or every attempt of a scenario id",
    )
    .option(
      "--archive <file>",
      "write one .tar.gz (entries under <job-id>/) instead of a directory; replaced atomically",
    )
    .option(
      "--force",
      "write into a non-empty output directory, replacing the scenario directories written; replace an existing archive",
    )
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: LogsFlags) => {
      const { logsAction } = await import("./logs-action.js");
      exit.code = await logsAction(id, flags, io);
    });
}
