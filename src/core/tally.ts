import type { TrialDigest } from "./digest.js";
import { agentLabel } from "./ids.js";

/**
 * One scenario's attempts by one agent, counted once for every view that needs them (intervals, pass@k,
 * the scenario matrix, comparisons): on a 10,000-trial job each pass over the trials costs milliseconds
 * in a CLI that runs once, so the passes are shared. Results arrays are remembered by identity and
 * length: views never change an array they were given, and one that grew (a running job's) is counted
 * again.
 */
export interface ScenarioTally {
  /** Attempts that were not cancelled (infrastructure errors included). */
  n: number;
  /** Of those, how many passed. */
  c: number;
  /** Their scores summed, unscored as 0. */
  sum: number;
  /** Of the n, infrastructure errors, and their scores summed (normally 0). */
  infra: number;
  infraSum: number;
  /** Cancelled attempts (not in n). */
  cancelled: number;
}

const grouped = new WeakMap<
  readonly TrialDigest[],
  { length: number; by: Map<string, TrialDigest[]> }
>();
const tallied = new WeakMap<
  readonly TrialDigest[],
  { length: number; by: Map<string, ScenarioTally> }
>();

/** Each agent label's trials, in result order; the same arrays for the same results. */
export function trialsByAgent(results: readonly TrialDigest[]): Map<string, TrialDigest[]> {
  const known = grouped.get(results);
  if (known !== undefined && known.length === results.length) return known.by;
  const by = new Map<string, TrialDigest[]>();
  for (const r of results) {
    const label = agentLabel(r.agent);
    const list = by.get(label);
    if (list === undefined) by.set(label, [r]);
    else list.push(r);
  }
  grouped.set(results, { length: results.length, by });
  return by;
}

/** Per scenario (in first-seen order), the tally of these trials (normally one agent's). */
export function scenarioTallies(trials: readonly TrialDigest[]): Map<string, ScenarioTally> {
  const known = tallied.get(trials);
  if (known !== undefined && known.length === trials.length) return known.by;
  const by = new Map<string, ScenarioTally>();
  for (const r of trials) {
    let t = by.get(r.scenario_id);
    if (t === undefined) {
      t = { n: 0, c: 0, sum: 0, infra: 0, infraSum: 0, cancelled: 0 };
      by.set(r.scenario_id, t);
    }
    if (r.status === "cancelled") {
      t.cancelled++;
      continue;
    }
    const score = r.score ?? 0;
    t.n++;
    t.sum += score;
    if (r.status === "passed") t.c++;
    else if (r.status === "infra_error") {
      t.infra++;
      t.infraSum += score;
    }
  }
  tallied.set(trials, { length: trials.length, by });
  return by;
}

/** Per agent label, per scenario: what comparisons need of a job (a few kB where its trials are MBs). */
export type Tallies = Map<string, Map<string, ScenarioTally>>;

/** The tallies of a job's results, per agent label. */
export function talliesOf(results: readonly TrialDigest[]): Tallies {
  const out: Tallies = new Map();
  for (const [label, trials] of trialsByAgent(results)) out.set(label, scenarioTallies(trials));
  return out;
}

/** One tally as tallies.json keeps it: [n, c, sum, infra, infraSum, cancelled]. */
export type TallyRow = [number, number, number, number, number, number];

export function tallyRow(t: ScenarioTally): TallyRow {
  return [t.n, t.c, t.sum, t.infra, t.infraSum, t.cancelled];
}

/** A row back as a tally; null when it is not six non-negative numbers. */
export function tallyFromRow(row: unknown): ScenarioTally | null {
  if (!Array.isArray(row) || row.length !== 6) return null;
  if (!row.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0)) return null;
  const [n, c, sum, infra, infraSum, cancelled] = row as TallyRow;
  return { n, c, sum, infra, infraSum, cancelled };
}
