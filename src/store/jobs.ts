import { stat } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { UsageError } from "../core/errors.js";
import type { JobDoc, JobStatus, Runner } from "../core/schemas.js";
import { JOB_FILE, jobIds } from "./paths.js";
import { readStatus } from "./read.js";
import { runnerAlive } from "./runner.js";

export { isJobId, jobIds } from "./paths.js";

async function hasJobFile(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, JOB_FILE))).isFile();
  } catch {
    return false;
  }
}

/**
 * The directory of the job a user named: a job id, a unique prefix of one, `latest`, or a path to a job
 * directory. Unknown or ambiguous names are usage errors that say what exists.
 */
export async function resolveJobDir(jobsDir: string, ref: string): Promise<string> {
  if (ref.includes(sep) || ref.startsWith(".")) {
    const dir = isAbsolute(ref) ? ref : resolve(ref);
    if (await hasJobFile(dir)) return dir;
    throw new UsageError(`${ref} is not a job directory (it has no ${JOB_FILE})`);
  }
  const ids = jobIds(jobsDir);
  const hint = `(list them with "rli benchmark-job list --all")`;
  if (ref === "latest") {
    // The newest job that exists: a detached runner's directory has no job.json for a moment.
    for (const id of [...ids].reverse()) {
      if (await hasJobFile(join(jobsDir, id))) return join(jobsDir, id);
    }
    throw new UsageError(`No benchmark jobs in ${jobsDir}`);
  }
  if (ids.includes(ref)) return join(jobsDir, ref);
  const matches = ref.length >= 4 ? ids.filter((id) => id.startsWith(ref)) : [];
  if (matches.length === 1) return join(jobsDir, matches[0] as string);
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).join(", ");
    throw new UsageError(
      `Job id ${ref} is ambiguous: it matches ${matches.length} jobs (${shown}${matches.length > 5 ? ", ..." : ""})`,
    );
  }
  throw new UsageError(`Benchmark job ${ref} not found in ${jobsDir} ${hint}`);
}

/** Why a job recorded as running is not: its runner is gone. */
export function staleReason(runner: Runner): string {
  return `the runner (pid ${runner.pid} on ${runner.hostname}) stopped without finishing the job`;
}

/**
 * The job as it really stands: a job still marked running whose runner process is gone (killed, or the
 * machine rebooted) has failed. Pure given `alive` (from `runnerAlive`).
 */
export function effectiveJob<T extends JobDoc | JobStatus>(job: T, alive: boolean | null): T {
  if (job.state !== "running" || alive !== false) return job;
  return { ...job, state: "failed", failure_reason: staleReason(job.runner) };
}

/** A job's status with a dead runner taken into account. */
export async function readEffectiveStatus(dir: string): Promise<JobStatus> {
  const status = await readStatus(dir);
  return effectiveJob(status, status.state === "running" ? runnerAlive(status.runner) : true);
}
