import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { JOB_STATES, SCHEMA_VERSION, TRIAL_STATUSES } from "../core/constants.js";
import { jobCounts } from "../core/counts.js";
import { byTrialId, digestOf, type TrialDigest } from "../core/digest.js";
import { StoreError } from "../core/errors.js";
import type { JobCounts, JobDoc, JobEvent, JobStatus, TrialResult } from "../core/schemas.js";
import { type ScenarioTally, type Tallies, tallyFromRow } from "../core/tally.js";
import { DIGEST_FILE, JOB_FILE, RESULTS_FILE, STATUS_FILE, TALLIES_FILE } from "./paths.js";

// Readers of a job directory for the commands that only look (summary, watch, list, logs). They load
// no zod: the runner validated every document against the schemas before writing it, so reading
// checks the version and the shape of what it uses, and reports a damaged file by name.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkVersion(raw: Obj, file: string): void {
  if (raw.schema_version !== SCHEMA_VERSION) {
    throw new StoreError(
      `${file}: schema_version ${JSON.stringify(raw.schema_version)} is not ${SCHEMA_VERSION} (written by another rli version?)`,
    );
  }
}

function need(ok: boolean, file: string, field: string): void {
  if (!ok) throw new StoreError(`${file}: ${field}: missing or malformed`);
}

const JOB_STATE_SET: ReadonlySet<unknown> = new Set(JOB_STATES);
const STATUS_SET: ReadonlySet<unknown> = new Set(TRIAL_STATUSES);

function isAgent(v: unknown): boolean {
  return (
    isObj(v) && typeof v.name === "string" && (v.model === null || typeof v.model === "string")
  );
}

/** The parts of job.json and status.json every reader relies on. */
function checkJobHead(raw: Obj, file: string): void {
  checkVersion(raw, file);
  need(typeof raw.id === "string", file, "id");
  need(typeof raw.created_at === "string", file, "created_at");
  need(JOB_STATE_SET.has(raw.state), file, "state");
  need(raw.finished_at === null || typeof raw.finished_at === "string", file, "finished_at");
  need(
    raw.failure_reason === null || typeof raw.failure_reason === "string",
    file,
    "failure_reason",
  );
  const runner = raw.runner;
  need(
    isObj(runner) && typeof runner.pid === "number" && typeof runner.hostname === "string",
    file,
    "runner",
  );
}

export function asJobDoc(raw: unknown, file: string): JobDoc {
  need(isObj(raw), file, "document");
  const doc = raw as Obj;
  checkJobHead(doc, file);
  const spec = doc.spec;
  need(isObj(spec), file, "spec");
  const s = spec as Obj;
  need(typeof s.name === "string", file, "spec.name");
  need(
    Array.isArray(s.scenarios) &&
      s.scenarios.every((x) => isObj(x) && typeof x.id === "string" && typeof x.name === "string"),
    file,
    "spec.scenarios",
  );
  need(
    Array.isArray(s.agents) && s.agents.length > 0 && s.agents.every(isAgent),
    file,
    "spec.agents",
  );
  need(Number.isInteger(s.n_attempts) && (s.n_attempts as number) > 0, file, "spec.n_attempts");
  return raw as JobDoc;
}

export function asJobStatus(raw: unknown, file: string): JobStatus {
  need(isObj(raw), file, "document");
  const doc = raw as Obj;
  checkJobHead(doc, file);
  need(typeof doc.name === "string", file, "name");
  need(Number.isInteger(doc.n_trials), file, "n_trials");
  const c = doc.counts;
  need(
    c === null ||
      (isObj(c) &&
        typeof c.finished === "number" &&
        typeof c.passed === "number" &&
        typeof c.errors === "number" &&
        (c.score === null || typeof c.score === "number")),
    file,
    "counts",
  );
  return raw as JobStatus;
}

/** A trial record (result or digest) is usable: null when it is not (a damaged line is skipped). */
function isTrialLike(v: unknown): boolean {
  if (!isObj(v) || (v.schema_version !== undefined && v.schema_version !== SCHEMA_VERSION)) {
    return false;
  }
  return (
    typeof v.trial_id === "string" &&
    typeof v.scenario_id === "string" &&
    isAgent(v.agent) &&
    Number.isInteger(v.attempt) &&
    STATUS_SET.has(v.status) &&
    (v.score === null || typeof v.score === "number") &&
    typeof v.duration_ms === "number" &&
    isObj(v.usage) &&
    (v.exception === null || (isObj(v.exception) && typeof v.exception.type === "string"))
  );
}

function isResultLike(v: unknown): boolean {
  return (
    isTrialLike(v) &&
    isObj(v) &&
    v.schema_version === SCHEMA_VERSION &&
    typeof v.started_at === "string" &&
    typeof v.finished_at === "string" &&
    isObj(v.phases) &&
    Array.isArray(v.errors)
  );
}

async function readJsonFile(dir: string, file: string): Promise<unknown> {
  const text = await readFile(join(dir, file), "utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreError(`${join(dir, file)}: not valid JSON (${(err as Error).message})`);
  }
}

export async function readJob(dir: string): Promise<JobDoc> {
  return asJobDoc(await readJsonFile(dir, JOB_FILE), join(dir, JOB_FILE));
}

/** status.json's content for a job and (when it has ended) its counts. */
export function jobStatus(doc: JobDoc, counts: JobCounts | null): JobStatus {
  const { spec, ...rest } = doc;
  return {
    ...rest,
    name: spec.name,
    n_trials: spec.scenarios.length * spec.agents.length * spec.n_attempts,
    counts,
  };
}

/**
 * Every finished trial's result, in trial-id order. Reads results.jsonl (one file, however many
 * trials); a torn last line and damaged lines are skipped, and a trial recorded twice keeps its last
 * record. Job directories without results.jsonl are read trial by trial.
 */
export async function readResults(dir: string): Promise<TrialResult[]> {
  let text: string;
  try {
    text = await readFile(join(dir, RESULTS_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return readTrialDirs(dir);
  }
  const byId = new Map<string, TrialResult>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue; // a torn tail from a writer mid-append
    }
    if (isResultLike(raw)) byId.set((raw as TrialResult).trial_id, raw as TrialResult);
  }
  return [...byId.values()].sort(byTrialId);
}

/**
 * What summaries need of every finished trial: digest.json for a job that has ended (written with its
 * final state), else derived from the full results.
 */
export async function readDigests(dir: string, job: JobDoc): Promise<TrialDigest[]> {
  if (job.state !== "running") {
    let raw: unknown;
    try {
      raw = await readJsonFile(dir, DIGEST_FILE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (raw !== undefined) {
      const file = join(dir, DIGEST_FILE);
      need(isObj(raw), file, "document");
      checkVersion(raw as Obj, file);
      const trials = (raw as Obj).trials;
      need(Array.isArray(trials) && trials.every(isTrialLike), file, "trials");
      return trials as TrialDigest[];
    }
  }
  return (await readResults(dir)).map(digestOf);
}

/**
 * tallies.json of an ended job (per agent and scenario, what comparisons need); null for a running job
 * or one ended before the file existed, whose tallies come from its digests instead.
 */
export async function readTallies(dir: string, job: JobDoc): Promise<Tallies | null> {
  if (job.state === "running") return null;
  let raw: unknown;
  try {
    raw = await readJsonFile(dir, TALLIES_FILE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const file = join(dir, TALLIES_FILE);
  need(isObj(raw), file, "document");
  checkVersion(raw as Obj, file);
  const agents = (raw as Obj).agents;
  need(isObj(agents), file, "agents");
  const out: Tallies = new Map();
  for (const [label, scenarios] of Object.entries(agents as Obj)) {
    need(isObj(scenarios), file, `agents.${label}`);
    const rows = new Map<string, ScenarioTally>();
    for (const [scenario, row] of Object.entries(scenarios as Obj)) {
      const t = tallyFromRow(row);
      need(t !== null, file, `agents.${label}.${scenario}`);
      rows.set(scenario, t as ScenarioTally);
    }
    out.set(label, rows);
  }
  return out;
}

/** status.json, or (for a job directory without one) the same record computed from job.json. */
export async function readStatus(dir: string): Promise<JobStatus> {
  try {
    return asJobStatus(await readJsonFile(dir, STATUS_FILE), join(dir, STATUS_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const job = await readJob(dir);
  return jobStatus(
    job,
    job.state === "running" ? null : jobCounts(job.spec.agents, await readResults(dir)),
  );
}

async function readTrialDirs(dir: string): Promise<TrialResult[]> {
  let ids: string[];
  try {
    ids = await readdir(join(dir, "trials"));
  } catch {
    return [];
  }
  const results: TrialResult[] = [];
  for (const id of ids.sort()) {
    try {
      const raw: unknown = JSON.parse(
        await readFile(join(dir, "trials", id, "result.json"), "utf8"),
      );
      if (isResultLike(raw)) results.push(raw as TrialResult);
    } catch {
      // not finished yet
    }
  }
  return results;
}

/** Parse events.jsonl, skipping a torn last line and lines this version does not know. */
export function parseEvents(text: string): JobEvent[] {
  const events: JobEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as JobEvent);
    } catch {
      // a torn tail from a writer mid-append
    }
  }
  return events;
}
