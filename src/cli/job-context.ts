import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { JobDoc, JobEvent, TrialResult } from "../core/schemas.js";
import { applyEvent, emptyProgress } from "../report/progress.js";
import { toBenchmarkJobView } from "../report/runloop-view.js";
import { effectiveJob, resolveJobDir } from "../store/jobs.js";
import { defaultJobsDir, EVENTS_FILE } from "../store/paths.js";
import { parseEvents, readJob, readResults } from "../store/read.js";
import { runnerAlive } from "../store/runner.js";
import type { Io } from "./io.js";

/** A job as the read-only commands see it: a dead runner's "running" job reads as failed. */
export interface JobHead {
  dir: string;
  job: JobDoc;
  runnerAlive: boolean | null;
  /** Trials running now per agent label (only for a running job; from the event log). */
  running: Map<string, number>;
}

export interface LoadedJob extends JobHead {
  results: TrialResult[];
}

export function jobsDirOf(flag: string | undefined, io: Io): string {
  return flag ?? defaultJobsDir(io.env);
}

export async function readEvents(dir: string): Promise<JobEvent[]> {
  try {
    return parseEvents(await readFile(join(dir, EVENTS_FILE), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** The job without its trials: what summaries combine with digests, and views with results. */
export async function loadJobHead(jobsDir: string, ref: string): Promise<JobHead> {
  const dir = await resolveJobDir(jobsDir, ref);
  const stored = await readJob(dir);
  const alive = stored.state === "running" ? runnerAlive(stored.runner) : false;
  const job = effectiveJob(stored, alive);
  const running = new Map<string, number>();
  if (job.state === "running") {
    const progress = emptyProgress(job.spec.agents, 0);
    for (const e of await readEvents(dir)) applyEvent(progress, e);
    for (const t of progress.running.values()) {
      running.set(t.agent, (running.get(t.agent) ?? 0) + 1);
    }
  }
  return { dir, job, runnerAlive: alive, running };
}

export async function loadJob(jobsDir: string, ref: string): Promise<LoadedJob> {
  const head = await loadJobHead(jobsDir, ref);
  return { ...head, results: await readResults(head.dir) };
}

export function viewOf(loaded: LoadedJob) {
  return toBenchmarkJobView(loaded);
}
