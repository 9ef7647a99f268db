import type { TrialDigest } from "../core/digest.js";
import { EXIT } from "../core/errors.js";
import { agentLabel } from "../core/ids.js";
import type { JobDoc } from "../core/schemas.js";
import { talliesOf } from "../core/tally.js";
import { compareMany, type JobResults, sidesToCompare } from "../report/compare.js";
import { type GateOutcome, scoreGate, worseGate } from "../report/gates.js";
import { summarizeByAgent } from "../report/summary.js";
import { jobResults } from "./commands/compare-action.js";
import type { GateFlags } from "./gate-flags.js";
import type { Io } from "./io.js";
import { positiveInt, seedOf, unitScore } from "./parse.js";

/** The gates asked for, checked and with the baseline job already read (so a bad one fails first). */
export interface Gates {
  failUnder?: number;
  baseline?: JobResults;
  commonOnly: boolean;
  random: { seed: number; iterations: number };
}

/** Reads and checks the gate flags: a bad threshold or an unknown baseline job is an error now. */
export async function gatesOf(
  flags: GateFlags,
  jobsDir: string,
  defaults: { seed: number; iterations: number },
): Promise<Gates> {
  return {
    ...(flags.failUnder !== undefined
      ? { failUnder: unitScore("--fail-under", flags.failUnder) }
      : {}),
    ...(flags.failIfWorseThan !== undefined
      ? { baseline: await jobResults(jobsDir, flags.failIfWorseThan) }
      : {}),
    commonOnly: flags.commonOnly === true,
    random: {
      seed: flags.seed === undefined ? defaults.seed : seedOf("--seed", flags.seed),
      iterations:
        flags.iterations === undefined
          ? defaults.iterations
          : positiveInt("--iterations", flags.iterations),
    },
  };
}

export const anyGate = (g: Gates): boolean => g.failUnder !== undefined || g.baseline !== undefined;

/**
 * The CI gates over a job's results: one line each on stderr, and the exit code of the first that
 * failed (--fail-under before --fail-if-worse-than); EXIT.ok when none failed or none was asked for.
 */
export function checkGates(
  job: JobDoc,
  digests: readonly TrialDigest[],
  gates: Gates,
  io: Io,
): number {
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
  const baseline = gates.baseline;
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
      ...gates.random,
      commonOnly: gates.commonOnly,
    });
    report(worseGate(comparisons, baseline.id), EXIT.worseThanBaseline);
  }
  return code;
}
