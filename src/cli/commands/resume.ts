import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface ResumeFlags {
  rerun?: string;
  force?: boolean;
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
Continues a job that was interrupted (Ctrl-C, cancel, a killed runner, a reboot, a full disk since
freed) or that ended with trials you want to run again. Trials whose result stands are kept; trials
without a result and trials whose status is in --rerun (default: cancelled,infra_error) run again in
the same job directory, with the same spec. What a rerun trial's earlier tries left (result, logs) is
kept in its new result (earlier_tries) and under trials/<id>/tries/<n>/. Containers and devboxes the
stopped runner left behind are removed first.

Refused when a scenario's files or an agent's version changed since the job started (the numbers would
mix two things), unless --force. Secrets and keys are read from this environment again.

Examples:
  $ rli benchmark-job resume latest
  $ rli bmj resume job_20261126_101500_3fa2c1 --rerun cancelled,infra_error,agent_timeout
  $ rli bmj run --resume latest
  $ rli bmj resume latest --force -o json | jq '.benchmark_outcomes[].average_score'

Exit codes: 0 the job completed · 1 failure, or the job is still running · 2 bad input (unknown id or
status, changed scenarios or agents without --force) · 130 cancelled`;

/** `rli benchmark-job resume <id>`: run an interrupted job's missing trials. */
export function registerResume(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("resume")
    .description("Continue an interrupted job: keep finished trials, run the missing ones")
    .argument("<id>", "job id, unique id prefix, latest, or a job directory")
    .option(
      "--rerun <statuses>",
      "comma-separated trial statuses to run again besides missing trials (passed, failed, agent_timeout, agent_error, infra_error, verifier_error, cancelled)",
      "cancelled,infra_error",
    )
    .option("--force", "resume even though scenarios or agent versions changed")
    .option("-o, --output <format>", "output format: text|json|yaml", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: ResumeFlags) => {
      const { resumeAction } = await import("./resume-action.js");
      exit.code = await resumeAction(id, flags, io);
    });
}
