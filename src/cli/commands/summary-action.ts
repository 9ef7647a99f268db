import type { TrialDigest } from "../../core/digest.js";
import { EXIT, UsageError } from "../../core/errors.js";
import { agentLabel } from "../../core/ids.js";
import type { JobDoc } from "../../core/schemas.js";
import { talliesOf } from "../../core/tally.js";
import { toBenchmarkJobView } from "../../report/runloop-view.js";
import { type IntervalMethod, summarizeByAgent } from "../../report/summary.js";
import { DEFAULT_BOOTSTRAP, summaryText } from "../../report/summary-text.js";
import { readDigests } from "../../store/read.js";
import { checkGates, gatesOf } from "../gates.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJob, loadJobHead } from "../job-context.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat, positiveInt, SUMMARY_FORMATS, seedOf, unitScore } from "../parse.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import type { SummaryFlags } from "./summary.js";

export async function summaryAction(id: string, flags: SummaryFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output, SUMMARY_FORMATS);
  if (isRemoteJobId(id)) {
    if (
      flags.failUnder !== undefined ||
      flags.failIfWorseThan !== undefined ||
      flags.bootstrap === true
    ) {
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
  // Checked, and the baseline read, before any output: a bad gate is an error, not a late surprise.
  const gates = await gatesOf(flags, jobsDir, DEFAULT_BOOTSTRAP);
  const bootstrap = gates.random;
  const intervals: IntervalMethod = flags.bootstrap === true ? { bootstrap } : {};
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
  return checkGates(job, digests, gates, io);
}
