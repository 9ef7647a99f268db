import { join } from "node:path";
import { isJobId } from "./paths.js";
import { readStatus } from "./read.js";
import { runnerAlive } from "./runner.js";

/**
 * What the job store says of the job a sandbox, container or devbox was made for:
 * - `running`: its runner is alive on this machine (never touch its resources; `cancel` it instead);
 * - `ended`: the job finished, or its runner is gone (killed, rebooted): leftovers;
 * - `elsewhere`: its runner is on another machine (cannot tell);
 * - `unknown`: no such job in this store (made from another store or machine).
 */
export type JobLiveness = "running" | "ended" | "elsewhere" | "unknown";

export async function jobLiveness(jobsDir: string, jobId: string): Promise<JobLiveness> {
  if (!isJobId(jobId)) return "unknown";
  let status: Awaited<ReturnType<typeof readStatus>>;
  try {
    status = await readStatus(join(jobsDir, jobId));
  } catch {
    return "unknown";
  }
  if (status.state !== "running") return "ended";
  const alive = runnerAlive(status.runner);
  if (alive === null) return "elsewhere";
  return alive ? "running" : "ended";
}

/** Whether to remove a resource of a job in that state: never a running job's; the doubtful ones only with force. */
export function isLeftover(liveness: JobLiveness, force: boolean): boolean {
  if (liveness === "running") return false;
  if (liveness === "ended") return true;
  return force;
}
