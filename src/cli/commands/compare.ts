import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface CompareFlags {
  agent?: string[];
  commonOnly?: boolean;
  seed: string;
  iterations: string;
  extended?: boolean;
  output: string;
  jobsDir?: string;
}

const EXAMPLES = `
With one job, its agents are compared pairwise (p-values Holm-adjusted when there are more than two);
with two jobs, their one agent each, or their agents of the same name. Scores are paired by scenario:
each scenario's attempts are averaged (unscored trials count as 0, cancelled ones are left out), and
the test is on the per-scenario differences: the exact McNemar test when both sides ran one binary
attempt per scenario, else the paired sign-flip test (every sign pattern up to 16 differing scenarios,
10,000 sampled ones above). The 95% interval of the difference is a paired t-interval, or a paired
bootstrap from 20 scenarios on. Whatever is random comes from --seed and is recorded in -o json
(schema/compare.schema.json), so every number can be reproduced.

A difference is decisive when p < 0.05 (after Holm). When it is not, the verdict says about how many
more scenarios like these would be needed to tell a difference that size.

Examples:
  $ rli benchmark-job compare latest
  $ rli bmj compare job_20261126_101500_3fa2c1 --agent claude-code --agent codex
  $ rli bmj compare job_20261126_101500_3fa2c1 job_20261127_090000_7bd2e0 -e
  $ rli bmj compare latest job_20261126_101500_3fa2c1 -o json | jq '.comparisons[].verdict'
  $ rli bmj compare latest -o markdown >> "$GITHUB_STEP_SUMMARY"

Exit codes: 0 compared (decisive or not) · 1 the job store cannot be read · 2 bad input (unknown id,
scenario sets that differ, an agent that is not in the jobs, a job with one agent)`;

/** `rli benchmark-job compare <a> [b]`: paired comparison of agents. */
export function registerCompare(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("compare")
    .description("Compare agents scenario by scenario: paired difference, interval, test, verdict")
    .argument("<job>", "job id, unique id prefix, latest, or a job directory")
    .argument("[other-job]", "a second job to compare the first against")
    .option("--agent <agents...>", "compare only these agents, agent[:model]; repeatable")
    .option("--common-only", "compare on the scenarios both sides ran instead of refusing")
    .option("--seed <n>", "seed of the bootstrap and of sampled sign flips", "1")
    .option("--iterations <n>", "bootstrap draws", "2000")
    .option("-e, --extended", "add every scenario's paired scores")
    .option("-o, --output <format>", "output format: text|json|yaml|markdown", "text")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (job: string, other: string | undefined, flags: CompareFlags) => {
      const { compareAction } = await import("./compare-action.js");
      exit.code = await compareAction(job, other, flags, io);
    });
}
