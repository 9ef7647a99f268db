import type { TrialDigest } from "../../core/digest.js";
import { EXIT, UsageError } from "../../core/errors.js";
import { agentLabel } from "../../core/ids.js";
import type { JobDoc } from "../../core/schemas.js";
import { talliesOf } from "../../core/tally.js";
import { compareMany, type JobResults, sidesToCompare } from "../../report/compare.js";
import { type GateOutcome, scoreGate, worseGate } from "../../report/gates.js";
import { toBenchmarkJobView } from "../../report/runloop-view.js";
import { type IntervalMethod, summarizeByAgent } from "../../report/summary.js";
import { DEFAULT_BOOTSTRAP, summaryText } from "../../report/summary-text.js";
import { readDigests } from "../../store/read.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJob, loadJobHead } from "../job-context.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat, positiveInt, SUMMARY_FORMATS, seedOf, unitScore } from "../parse.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import { jobResults } from "./compare-action.js";
import type { SummaryFlags } from "./summary.js";

interface Gates {
  failUnder?: number;
  baseline?: string;
}

function gatesOf(flags: SummaryFlags): Gates {
  return {
    ...(flags.failUnder !== undefined
      ? { failUnder: unitScore("--fail-under", flags.failUnder) }
      : {}),
    ...(flags.failIfWorseThan !== undefined ? { baseline: flags.failIfWorseThan } : {}),
  };
}

/**
 * The CI gates over a job's results: one line each on stderr, and the exit code of the first that
 * failed (--fail-under before --fail-if-worse-than).
 */
async function checkGates(
  job: JobDoc,
  digests: readonly TrialDigest[],
  gates: Gates,
  baseline: JobResults | undefined,
  bootstrap: { seed: number; iterations: number },
  flags: SummaryFlags,
  io: Io,
): Promise<number> {
  let code: number = EXIT.ok;
  const report = (outcomes: GateOutcome[], failCode: number) => {
    for (const o of outcomes) io.err(`${o.line}\n`);
    if (code === EXIT.ok && outcomes.some((o) => o.failed)) code = failCode;
  };
  if (gates.failUnder !== undefined) {
    report(
      scoreGate(summarizeByAgent(job.spec.agents, digests), gates.failUnder),
      EXIT.belowThreshold,
    );
  }
  if (baseline !== undefined) {
    const mine = {
      id: job.id,
      agents: job.spec.agents.map(agentLabel),
      tallies: talliesOf(digests),
    };
    // Each of this job's agents against the baseline's agent of the same name (the baseline may have
    // more); one agent each are compared whatever their names.
    const only = mine.agents.every((a) => baseline.agents.includes(a)) ? mine.agents : undefined;
    const comparisons = compareMany(sidesToCompare([mine, baseline], only), {
      ...bootstrap,
      commonOnly: flags.commonOnly === true,
    });
    report(worseGate(comparisons, baseline.id), EXIT.worseThanBaseline);
  }
  return code;
}

export async function summaryAction(id: string, flags: SummaryFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output, SUMMARY_FORMATS);
  const bootstrap = {
    seed: flags.seed === undefined ? DEFAULT_BOOTSTRAP.seed : seedOf("--seed", flags.seed),
    iterations:
      flags.iterations === undefined
        ? DEFAULT_BOOTSTRAP.iterations
        : positiveInt("--iterations", flags.iterations),
  };
  const intervals: IntervalMethod = flags.bootstrap === true ? { bootstrap } : {};
  const gates = gatesOf(flags);
  if (isRemoteJobId(id)) {
    if (gates.failUnder !== undefined || gates.baseline !== undefined || flags.bootstrap) {
      throw new UsageError(
        `${id} is a Runloop job; --fail-under, --fail-if-worse-than and --bootstrap work on local jobs`,
      );
    }
    if (output === "junit" || output === "markdown") {
      throw new UsageError(`-o ${output} works on local jobs; ${id} is a Runloop job`);
    }
    const { summaryRemote } = await import("../../remote/summary-action.js");
    return summaryRemote(
      id,
      { output, extended: flags.extended === true },
      io,
      await remoteDeps(io),
    );
  }
  const jobsDir = jobsDirOf(flags.jobsDir, io);
  // The baseline is read first, so a bad one is an error before any output.
  const baseline =
    gates.baseline === undefined ? undefined : await jobResults(jobsDir, gates.baseline);
  let job: JobDoc;
  let digests: readonly TrialDigest[];
  if (output === "json" || output === "yaml") {
    const loaded = await loadJob(jobsDir, id);
    job = loaded.job;
    digests = loaded.results;
    await printDocument(
      io,
      output,
      toBenchmarkJobView({ ...loaded, intervals, random: bootstrap }),
    );
  } else {
    const head = await loadJobHead(jobsDir, id);
    job = head.job;
    digests = await readDigests(head.dir, head.job);
    if (output === "junit") {
      const { junitXml } = await import("../../report/junit.js");
      io.out(junitXml(job, digests));
    } else if (output === "markdown") {
      const { markdownSummary } = await import("../../report/markdown.js");
      io.out(markdownSummary(job, digests, bootstrap));
    } else {
      io.out(
        summaryText(job, digests, {
          extended: flags.extended === true,
          paint: await paintFor(io, "out"),
          running: head.running,
          intervals,
          random: bootstrap,
        }),
      );
    }
  }
  return checkGates(job, digests, gates, baseline, bootstrap, flags, io);
}
