import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import {
  type JobDoc,
  JobDocSchema,
  type JobEvent,
  type JobEventInput,
  SCHEMA_VERSION,
  type TrialResult,
  TrialResultSchema,
} from "../core/schemas.js";

/**
 * Where jobs live: `--jobs-dir`, else $RLI_HOME/jobs, else $XDG_DATA_HOME/rli/jobs, else ~/.local/share/rli/jobs.
 */
export function defaultJobsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RLI_HOME) return join(env.RLI_HOME, "jobs");
  const data = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "rli", "jobs");
}

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

export function trialDir(jobDir: string, trialId: string): string {
  return join(jobDir, "trials", trialId);
}

/**
 * One job's directory: job.json (atomic rewrites), events.jsonl (append-only) and
 * trials/<trial_id>/{result.json, logs/}. Only the running job's process writes; any process may read.
 */
export class JobWriter {
  private eventsFd: number | null = null;
  private seq = 0;

  private constructor(
    readonly dir: string,
    private doc: JobDoc,
  ) {}

  /** Create the job directory and its job.json. Fails if the directory exists. */
  static async create(jobsDir: string, doc: JobDoc): Promise<JobWriter> {
    await mkdir(jobsDir, { recursive: true, mode: 0o700 });
    const dir = join(jobsDir, doc.id);
    await mkdir(dir, { mode: 0o700 });
    await mkdir(join(dir, "trials"), { mode: 0o700 });
    const writer = new JobWriter(dir, doc);
    await writer.writeDoc();
    writer.eventsFd = openSync(join(dir, "events.jsonl"), "a", 0o600);
    return writer;
  }

  get job(): JobDoc {
    return this.doc;
  }

  private async writeDoc(): Promise<void> {
    await writeFileAtomic(join(this.dir, "job.json"), `${JSON.stringify(this.doc, null, 2)}\n`);
  }

  async update(
    patch: Partial<Pick<JobDoc, "state" | "finished_at" | "failure_reason">>,
  ): Promise<void> {
    this.doc = { ...this.doc, ...patch };
    await this.writeDoc();
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

  async writeResult(result: TrialResult): Promise<void> {
    const dir = trialDir(this.dir, result.trial_id);
    const text = `${JSON.stringify(TrialResultSchema.parse(result), null, 2)}\n`;
    try {
      await writeFileAtomic(join(dir, "result.json"), text);
    } catch (err) {
      // A trial cancelled before it started has no directory yet.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(join(dir, "result.json"), text);
    }
  }

  close(): void {
    if (this.eventsFd !== null) {
      fsyncSync(this.eventsFd);
      closeSync(this.eventsFd);
      this.eventsFd = null;
    }
  }
}

/** A job as another process sees it: the doc, every finished trial's result, and the parsed events. */
export interface JobSnapshot {
  dir: string;
  job: JobDoc;
  results: TrialResult[];
}

export async function readJob(dir: string): Promise<JobDoc> {
  return JobDocSchema.parse(JSON.parse(await readFile(join(dir, "job.json"), "utf8")));
}

export async function readResults(dir: string): Promise<TrialResult[]> {
  let ids: string[];
  try {
    ids = await readdir(join(dir, "trials"));
  } catch {
    return [];
  }
  const results: TrialResult[] = [];
  for (const id of ids.sort()) {
    try {
      const raw = await readFile(join(trialDir(dir, id), "result.json"), "utf8");
      results.push(TrialResultSchema.parse(JSON.parse(raw)));
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

export async function readSnapshot(dir: string): Promise<JobSnapshot> {
  return { dir, job: await readJob(dir), results: await readResults(dir) };
}
