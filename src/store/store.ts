import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { jobCounts } from "../core/counts.js";
import { digestOf } from "../core/digest.js";
import { type Redactor, redactor, scrubTree } from "../core/redact.js";
import {
  type EarlierTry,
  EarlierTrySchema,
  type JobCounts,
  type JobDoc,
  type JobEvent,
  type JobEventInput,
  SCHEMA_VERSION,
  type TrialResult,
  TrialResultSchema,
  type TryRecord,
} from "../core/schemas.js";
import { talliesOf, tallyRow } from "../core/tally.js";
import {
  DIGEST_FILE,
  EVENTS_FILE,
  JOB_FILE,
  RESULTS_FILE,
  STATUS_FILE,
  TALLIES_FILE,
  TRY_FILE,
  trialDir,
} from "./paths.js";
import { jobStatus, parseEvents, readJob, readResults } from "./read.js";

/**
 * Write a file so readers see the old or the new content, never a part (temp file, fsync, rename); the
 * temp file is removed when anything fails. Store files are owner-only (0600); `mode` for others.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

export {
  defaultJobsDir,
  EVENTS_FILE,
  JOB_FILE,
  RESULTS_FILE,
  STATUS_FILE,
  trialDir,
} from "./paths.js";
export {
  jobStatus,
  parseEvents,
  readDigests,
  readJob,
  readResults,
  readStatus,
} from "./read.js";

/** job.json and status.json of `doc` in `dir`, each replaced atomically. */
async function writeDocIn(
  dir: string,
  doc: JobDoc,
  counts: JobCounts | null = null,
): Promise<void> {
  await writeFileAtomic(join(dir, JOB_FILE), `${JSON.stringify(doc, null, 2)}\n`);
  await writeFileAtomic(join(dir, STATUS_FILE), `${JSON.stringify(jobStatus(doc, counts))}\n`);
}

/** Open a JSON-lines file for appending, first ending a torn last line (a killed writer's). */
function openForAppend(path: string): number {
  const fd = openSync(path, "a+", 0o600);
  const size = fstatSync(fd).size;
  if (size > 0) {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, "\n");
  }
  return fd;
}

/** digest.json: what summaries need of each trial, frozen when a job ends. */
export async function writeDigest(dir: string, results: readonly TrialResult[]): Promise<void> {
  const trials = [...results].sort((a, b) =>
    a.trial_id < b.trial_id ? -1 : a.trial_id > b.trial_id ? 1 : 0,
  );
  await writeFileAtomic(
    join(dir, DIGEST_FILE),
    `${JSON.stringify({ schema_version: SCHEMA_VERSION, trials: trials.map(digestOf) })}\n`,
  );
  // What comparisons read: per agent and scenario, a row of counts.
  const agents = Object.fromEntries(
    [...talliesOf(trials)].map(([label, scenarios]) => [
      label,
      Object.fromEntries([...scenarios].map(([s, t]) => [s, tallyRow(t)])),
    ]),
  );
  await writeFileAtomic(
    join(dir, TALLIES_FILE),
    `${JSON.stringify({ schema_version: SCHEMA_VERSION, agents })}\n`,
  );
}

/**
 * One job's directory: job.json and status.json (atomic rewrites), events.jsonl and results.jsonl
 * (append-only) and trials/<trial_id>/{result.json, logs/}. Only the running job's process writes; any
 * process may read.
 */
export class JobWriter {
  private eventsFd: number | null = null;
  private resultsFd: number | null = null;
  private seq = 0;

  /** `redact` masks the job's secrets (and key-shaped strings) in everything written from here. */
  private constructor(
    readonly dir: string,
    private doc: JobDoc,
    private readonly redact: Redactor,
  ) {}

  /** An error record with its message masked (ids, names and numbers are never touched). */
  private cleanError<T extends { message: string }>(e: T): T {
    return { ...e, message: this.redact.text(e.message) };
  }

  /** A try's record with its messages masked. */
  private cleanTry<T extends Pick<TrialResult, "exception" | "errors">>(t: T): T {
    return {
      ...t,
      exception: t.exception === null ? null : this.cleanError(t.exception),
      errors: t.errors.map((e) => this.cleanError(e)),
    };
  }

  /**
   * Create the job directory and its job.json. Fails if the job exists; an empty directory made for it
   * beforehand (by `run --detach`, to hold the runner's log) is taken over.
   */
  static async create(
    jobsDir: string,
    doc: JobDoc,
    redact: Redactor = redactor([]),
  ): Promise<JobWriter> {
    await mkdir(jobsDir, { recursive: true, mode: 0o700 });
    const dir = join(jobsDir, doc.id);
    const writer = new JobWriter(dir, doc, redact);
    // Made aside and renamed into place: a runner killed meanwhile leaves no job without its job.json.
    const staging = join(jobsDir, `.${doc.id}.${randomBytes(4).toString("hex")}`);
    await mkdir(join(staging, "trials"), { recursive: true, mode: 0o700 });
    await writeDocIn(staging, doc);
    try {
      await rename(staging, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
      await rm(staging, { recursive: true, force: true });
      // An empty directory made beforehand (by `run --detach`, for the runner's log) is taken over.
      const existing = await readdir(dir);
      if (existing.some((f) => f !== "runner.log")) {
        throw Object.assign(new Error(`EEXIST: job directory already exists, ${dir}`), {
          code: "EEXIST",
        });
      }
      await mkdir(join(dir, "trials"), { mode: 0o700 });
      await writer.writeDoc(null);
    }
    writer.eventsFd = openSync(join(dir, EVENTS_FILE), "a", 0o600);
    writer.resultsFd = openSync(join(dir, RESULTS_FILE), "a", 0o600);
    return writer;
  }

  /**
   * Take up an existing job directory again (resume): job.json and status.json get `doc`; a torn last
   * line left by a killed writer is closed off so the next append starts a line of its own; event
   * numbers continue after the last one.
   */
  static async reopen(
    dir: string,
    doc: JobDoc,
    redact: Redactor = redactor([]),
  ): Promise<JobWriter> {
    const writer = new JobWriter(dir, doc, redact);
    const events = await readFile(join(dir, EVENTS_FILE), "utf8").catch(() => "");
    writer.seq = (parseEvents(events).at(-1)?.seq ?? -1) + 1;
    await mkdir(join(dir, "trials"), { recursive: true, mode: 0o700 });
    await writer.writeDoc(null);
    writer.eventsFd = openForAppend(join(dir, EVENTS_FILE));
    writer.resultsFd = openForAppend(join(dir, RESULTS_FILE));
    return writer;
  }

  get job(): JobDoc {
    return this.doc;
  }

  private async writeDoc(counts: JobCounts | null): Promise<void> {
    await writeDocIn(this.dir, this.doc, counts);
  }

  /**
   * Record a state change. `results` (when the job has ended) freeze the counts `list` shows and the
   * digest `summary` reads; the digest is written first, so a reader that sees the final state finds it.
   */
  async update(
    patch: Partial<Pick<JobDoc, "state" | "finished_at" | "failure_reason">>,
    results?: readonly TrialResult[],
  ): Promise<void> {
    if (results) await writeDigest(this.dir, results);
    this.doc = { ...this.doc, ...patch };
    await this.writeDoc(results ? jobCounts(this.doc.spec.agents, results) : null);
  }

  /** Append one event as a single write (O_APPEND), so concurrent readers see whole lines or a torn tail. */
  appendEvent(event: JobEventInput): JobEvent {
    const full = {
      schema_version: SCHEMA_VERSION,
      ts: new Date().toISOString(),
      seq: this.seq++,
      ...(event.type === "trial_retrying"
        ? { ...event, reason: this.redact.text(event.reason) }
        : event),
    } as JobEvent;
    if (this.eventsFd !== null) writeSync(this.eventsFd, `${JSON.stringify(full)}\n`);
    return full;
  }

  async prepareTrial(
    trialId: string,
  ): Promise<{ dir: string; logsDir: string; scratchDir: string }> {
    const dir = trialDir(this.dir, trialId);
    const logsDir = join(dir, "logs");
    await mkdir(logsDir, { recursive: true, mode: 0o700 });
    return { dir, logsDir, scratchDir: join(dir, ".sandbox") };
  }

  /**
   * File a trial's last try before it runs again: its logs move to tries/<n>/logs (n one past the tries
   * already filed) and its record to tries/<n>/try.json, so the next try starts from an empty logs
   * directory, nothing of the last one is lost, and a runner killed at any point leaves the tries
   * readable (`filedTries`).
   */
  async archiveTry(trialId: string, record: TryRecord): Promise<EarlierTry> {
    const dir = trialDir(this.dir, trialId);
    await mkdir(join(dir, "tries"), { recursive: true, mode: 0o700 });
    const used = (await readdir(join(dir, "tries"))).filter((n) => /^\d+$/.test(n)).map(Number);
    const n = Math.max(0, ...used) + 1;
    const relative = join("tries", String(n), "logs");
    // Claimed before anything moves: a number is never used twice, even by a runner killed here.
    await mkdir(join(dir, "tries", String(n)), { mode: 0o700 });
    await rename(join(dir, "logs"), join(dir, relative)).catch((err: NodeJS.ErrnoException) => {
      // A try that failed before it had a logs directory leaves nothing to keep.
      if (err.code !== "ENOENT") throw err;
    });
    const filed: EarlierTry = this.cleanTry({ ...record, try: n, logs_dir: relative });
    await writeFileAtomic(
      join(dir, "tries", String(n), TRY_FILE),
      `${JSON.stringify(EarlierTrySchema.parse(filed), null, 2)}\n`,
    );
    return filed;
  }

  /** The tries of a trial filed so far, oldest first (a number whose record is missing is skipped). */
  async filedTries(trialId: string): Promise<EarlierTry[]> {
    const dir = join(trialDir(this.dir, trialId), "tries");
    const names = await readdir(dir).catch(() => [] as string[]);
    const tries: EarlierTry[] = [];
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const raw: unknown = JSON.parse(await readFile(join(dir, name, TRY_FILE), "utf8"));
        tries.push(EarlierTrySchema.parse(raw));
      } catch {
        // claimed, then the runner was killed before the record was written: no try to report
      }
    }
    return tries.sort((a, b) => a.try - b.try);
  }

  /**
   * The trial's files are scrubbed (secrets masked in every log, group and other permissions off), then
   * result.json (the trial's own record) and one line in results.jsonl (what readers load) are written.
   * Returns the result as stored (secrets masked in its messages too).
   */
  async writeResult(result: TrialResult): Promise<TrialResult> {
    const dir = trialDir(this.dir, result.trial_id);
    await scrubTree(dir, this.redact);
    const checked = TrialResultSchema.parse(result);
    const parsed: TrialResult = {
      ...this.cleanTry(checked),
      ...(checked.earlier_tries !== undefined
        ? { earlier_tries: checked.earlier_tries.map((t) => this.cleanTry(t)) }
        : {}),
    };
    const text = `${JSON.stringify(parsed, null, 2)}\n`;
    try {
      await writeFileAtomic(join(dir, "result.json"), text);
    } catch (err) {
      // A trial cancelled before it started has no directory yet.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(join(dir, "result.json"), text);
    }
    if (this.resultsFd !== null) writeSync(this.resultsFd, `${JSON.stringify(parsed)}\n`);
    return parsed;
  }

  close(): void {
    for (const fd of [this.eventsFd, this.resultsFd]) {
      if (fd === null) continue;
      fsyncSync(fd);
      closeSync(fd);
    }
    this.eventsFd = null;
    this.resultsFd = null;
  }
}

/**
 * End a job whose runner is gone (killed, or its machine rebooted) from another process: job.json and
 * status.json get the final state, events.jsonl its job_finished. Only for jobs no process is writing.
 */
export async function closeAbandonedJob(
  dir: string,
  state: "cancelled" | "failed",
  reason: string | null,
): Promise<JobDoc> {
  const job: JobDoc = {
    ...(await readJob(dir)),
    state,
    finished_at: new Date().toISOString(),
    failure_reason: reason,
  };
  const results = await readResults(dir);
  await writeDigest(dir, results);
  await writeFileAtomic(join(dir, JOB_FILE), `${JSON.stringify(job, null, 2)}\n`);
  await writeFileAtomic(
    join(dir, STATUS_FILE),
    `${JSON.stringify(jobStatus(job, jobCounts(job.spec.agents, results)))}\n`,
  );
  const events = parseEvents(await readFile(join(dir, EVENTS_FILE), "utf8").catch(() => ""));
  const event = {
    schema_version: SCHEMA_VERSION,
    ts: new Date().toISOString(),
    seq: (events.at(-1)?.seq ?? -1) + 1,
    type: "job_finished",
    job_id: job.id,
    state,
  } satisfies JobEvent;
  const fd = openSync(join(dir, EVENTS_FILE), "a", 0o600);
  try {
    // A torn last line from the dead writer must not swallow this event.
    const text = await readFile(join(dir, EVENTS_FILE), "utf8");
    writeSync(
      fd,
      `${text.length > 0 && !text.endsWith("\n") ? "\n" : ""}${JSON.stringify(event)}\n`,
    );
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return job;
}
