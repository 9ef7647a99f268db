import { EXIT, UsageError } from "../../core/errors.js";
import { agentLabel } from "../../core/ids.js";
import { talliesOf } from "../../core/tally.js";
import { compareMany, type JobResults, sidesToCompare } from "../../report/compare.js";
import { compareDocument, compareText } from "../../report/compare-view.js";
import { compareMarkdown } from "../../report/markdown.js";
import { readDigests, readTallies } from "../../store/read.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJobHead } from "../job-context.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat, positiveInt, seedOf } from "../parse.js";
import { isRemoteJobId } from "../remote.js";
import type { CompareFlags } from "./compare.js";

const FORMATS = ["text", "json", "yaml", "markdown"] as const;

/** A local job's agents and trial digests (a running job's finished trials so far). */
export async function jobResults(jobsDir: string, ref: string): Promise<JobResults> {
  if (isRemoteJobId(ref)) {
    throw new UsageError(`${ref} is a Runloop job; compare and the CI gates work on local jobs`);
  }
  const head = await loadJobHead(jobsDir, ref);
  return {
    id: head.job.id,
    agents: head.job.spec.agents.map(agentLabel),
    // An ended job's tallies.json (kB); a running job's, or one from before the file, from its trials.
    tallies:
      (await readTallies(head.dir, head.job)) ?? talliesOf(await readDigests(head.dir, head.job)),
  };
}

export async function compareAction(
  job: string,
  other: string | undefined,
  flags: CompareFlags,
  io: Io,
): Promise<number> {
  const output = outputFormat(flags.output, FORMATS);
  const seed = seedOf("--seed", flags.seed);
  const iterations = positiveInt("--iterations", flags.iterations);
  const jobsDir = jobsDirOf(flags.jobsDir, io);
  // Two jobs are read side by side: one's file comes in while the other's is parsed.
  const jobs: readonly [JobResults] | readonly [JobResults, JobResults] =
    other === undefined
      ? [await jobResults(jobsDir, job)]
      : await Promise.all([jobResults(jobsDir, job), jobResults(jobsDir, other)]);
  const comparisons = compareMany(sidesToCompare(jobs, flags.agent), {
    seed,
    iterations,
    commonOnly: flags.commonOnly === true,
  });
  if (output === "json" || output === "yaml") {
    await printDocument(io, output, compareDocument(comparisons));
  } else if (output === "markdown") {
    io.out(compareMarkdown(comparisons));
  } else {
    io.out(
      compareText(comparisons, {
        extended: flags.extended === true,
        paint: await paintFor(io, "out"),
      }),
    );
  }
  return EXIT.ok;
}
