import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { jobCounts } from "../core/counts.js";
import { digestOf } from "../core/digest.js";
import {
  type JobCounts,
  type JobDoc,
  type JobEvent,
  type JobEventInput,
  SCHEMA_VERSION,
  type TrialResult,
  TrialResultSchema,
} from "../core/schemas.js";
import {
  DIGEST_FILE,
  EVENTS_FILE,
  JOB_FILE,
  RESULTS_FILE,
  STATUS_FILE,
  trialDir,
} from "./paths.js";
import { jobStatus, parseEvents, readJob, readResults } from "./read.js";

/** Write a file so readers see the old or the new content, never a part (temp file, fsync, rename). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
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

/** digest.json: what summaries need of each trial, frozen when a job ends. */
export async function writeDigest(dir: string, results: readonly TrialResult[]): Promise<void> {
  const trials = [...results].sort((a, b) =>
    a.trial_id < b.trial_id ? -1 : a.trial_id > b.trial_id ? 1 : 0,
  );
  await writeFileAtomic(
    join(dir, DIGEST_FILE),
    `${JSON.stringify({ schema_version: SCHEMA_VERSION, trials: trials.map(digestOf) })}\n`,
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

  private constructor(
    readonly dir: string,
    private doc: JobDoc,
  ) {}

  /**
   * Create the job directory and its job.json. Fails if the job exists; an empty directory made for it
   * beforehand (by `run --detach`, to hold the runner's log) is taken over.
   */
  static async create(jobsDir: string, doc: JobDoc): Promise<JobWriter> {
    await mkdir(jobsDir, { recursive: true, mode: 0o700 });
    const dir = join(jobsDir, doc.id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const existing = await readdir(dir);
      if (existing.some((f) => f !== "runner.log")) throw err;
    }
    await mkdir(join(dir, "trials"), { mode: 0o700 });
    const writer = new JobWriter(dir, doc);
    await writer.writeDoc(null);
    writer.eventsFd = openSync(join(dir, EVENTS_FILE), "a", 0o600);
    writer.resultsFd = openSync(join(dir, RESULTS_FILE), "a", 0o600);
    return writer;
  }

  get job(): JobDoc {
    return this.doc;
  }

  private async writeDoc(counts: JobCounts | null): Promise<void> {
    await writeFileAtomic(join(this.dir, JOB_FILE), `${JSON.stringify(this.doc, null, 2)}\n`);
    await writeFileAtomic(
      join(this.dir, STATUS_FILE),
      `${JSON.stringify(jobStatus(this.doc, counts))}\n`,
    );
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
      ...event,
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
   * Before try `tryNumber + 1` of a trial: its logs so far move to tries/<n>/logs, so the next try starts
   * from an empty logs directory and nothing of the failed try is lost. Returns the path relative to the
   * trial directory.
   */
  async archiveTry(trialId: string, tryNumber: number): Promise<string> {
    const dir = trialDir(this.dir, trialId);
    const relative = join("tries", String(tryNumber), "logs");
    await mkdir(dirname(join(dir, relative)), { recursive: true, mode: 0o700 });
    await rename(join(dir, "logs"), join(dir, relative)).catch((err: NodeJS.ErrnoException) => {
      // A try that failed before it had a logs directory leaves nothing to keep.
      if (err.code !== "ENOENT") throw err;
    });
    return relative;
  }

  /** result.json (the trial's own record), then one line in results.jsonl (what readers load). */
  async writeResult(result: TrialResult): Promise<void> {
    const dir = trialDir(this.dir, result.trial_id);
    const parsed = TrialResultSchema.parse(result);
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
