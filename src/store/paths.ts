import { readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EnvironmentError } from "../core/errors.js";

// Names and places of the job store. Imports no schemas (no zod), so commands that only list or
// locate jobs start as fast as `--help`.

export const JOB_FILE = "job.json";
export const STATUS_FILE = "status.json";
export const EVENTS_FILE = "events.jsonl";
/** trials/<id>/tries/<n>/try.json: the record of a try that was run again. */
export const TRY_FILE = "try.json";
export const RESULTS_FILE = "results.jsonl";
export const DIGEST_FILE = "digest.json";
/** Written beside digest.json when a job ends: per agent and scenario, the counts comparisons need. */
export const TALLIES_FILE = "tallies.json";

/**
 * Where jobs live: `--jobs-dir`, else $RLI_HOME/jobs, else $XDG_DATA_HOME/rli/jobs, else ~/.local/share/rli/jobs.
 */
export function defaultJobsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RLI_HOME) return join(env.RLI_HOME, "jobs");
  const data = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "rli", "jobs");
}

/** Job ids made by `newJobId`; other entries of the jobs dir are ignored. */
const JOB_ID = /^job_\d{8}_\d{6}_[0-9a-f]{6}$/;

export function isJobId(name: string): boolean {
  return JOB_ID.test(name);
}

/** The names of the job directories under `jobsDir`, oldest first; none when it does not exist. */
export function jobIds(jobsDir: string): string[] {
  try {
    return readdirSync(jobsDir).filter(isJobId).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    throw new EnvironmentError(`cannot read jobs directory ${jobsDir}: ${code ?? String(err)}`);
  }
}

export function trialDir(jobDir: string, trialId: string): string {
  return join(jobDir, "trials", trialId);
}
