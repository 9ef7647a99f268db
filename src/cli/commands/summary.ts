import type { Command } from "commander";
import { GATES_HELP, type GateFlags } from "../gate-flags.js";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";
import { JOBS_DIR_HELP } from "../output.js";

export interface SummaryFlags extends GateFlags {
  extended?: boolean;
  output: string;
  jobsDir?: string;
  bootstrap?: boolean;
  seed: string;
  iterations: string;
  failUnder?: string;
  failIfWorseThan?: string;
  commonOnly?: boolean;
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
  $ rli bmj summary latest --bootstrap --seed 7
  $ rli bmj summary latest -o markdown >> "$GITHUB_STEP_SUMMARY"
  $ rli bmj summary latest -o junit > results.xml
  $ rli bmj summary latest --fail-under 0.6 --fail-if-worse-than job_20261126_101500_3fa2c1

A Runloop job (an id starting with bmj_) is read from the Runloop API (RUNLOOP_API_KEY): text is
Runloop's results table (with -e a line per scenario: ✓ passed, ✗ scored below 1, ! errored), or for a
running job its progress per agent; -o json|yaml prints the server's BenchmarkJobView as received.

Per agent, text shows the mean score (unscored trials as 0) with its 95% interval clustered by
scenario (a t-interval over scenario means; --bootstrap: a cluster bootstrap from --seed), the score
with infrastructure errors left out, median and p90 time, tokens, cost and errors by kind; pass@k and
pass^k when scenarios had several attempts; always-pass, always-fail and flaky scenarios; and for two or
more agents the paired comparison of each pair (see rli bmj compare --help).

-o junit writes one testcase per trial (a testsuite per agent); -o markdown a table for a CI step
summary or a PR comment.

${GATES_HELP}

JSON and YAML follow Runloop's BenchmarkJobView (schema/benchmark-job-view.schema.json), with rli's
own fields under rli_* keys. Unlike Runloop's summary, text is the default here; pass -o json for the
document.

Exit codes: 0 shown · 1 the job store (or the Runloop API) cannot be read · 2 bad input (unknown id,
bad -o, scenario sets that differ from the baseline's) · 4 below --fail-under · 5 decisively worse than
--fail-if-worse-than`;

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
    .option("-o, --output <format>", "output format: text|json|yaml|junit|markdown", "text")
    .option("--bootstrap", "make the 95% intervals with a seeded cluster bootstrap")
    .option("--seed <n>", "seed of every bootstrap (recorded in the output)", "1")
    .option("--iterations <n>", "bootstrap draws", "2000")
    .option("--fail-under <score>", "exit 4 when an agent's mean score is below this (0 to 1)")
    .option("--fail-if-worse-than <job>", "exit 5 when decisively worse than this baseline job")
    .option("--common-only", "with --fail-if-worse-than: compare on the scenarios both jobs ran")
    .option("--jobs-dir <dir>", JOBS_DIR_HELP)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (id: string, flags: SummaryFlags) => {
      const { summaryAction } = await import("./summary-action.js");
      exit.code = await summaryAction(id, flags, io);
    });
}
