// The CI gates' flags and help, imported by the command declarations at start-up; the gates themselves
// (src/cli/gates.ts) load with the actions that use them.

/** The CI gate flags `summary` and `run` share. */
export interface GateFlags {
  failUnder?: string;
  failIfWorseThan?: string;
  commonOnly?: boolean;
  seed?: string;
  iterations?: string;
}

export const GATES_HELP = `CI gates (local jobs; the lines go to stderr, stdout keeps the chosen output):
  --fail-under <score>          exit 4 when an agent's mean score is below <score>
  --fail-if-worse-than <job>    exit 5 when an agent is decisively worse than in <job> (paired test,
                                Holm-adjusted over the agents); 4 wins when both gates fail`;
