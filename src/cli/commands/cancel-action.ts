import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError, EXIT } from "../../core/errors.js";
import type { JobStatus } from "../../core/schemas.js";
import { resolveJobDir, staleReason } from "../../store/jobs.js";
import { runnerAlive } from "../../store/runner.js";
import { closeAbandonedJob, readResults, readStatus } from "../../store/store.js";
import type { Io } from "../io.js";
import { jobsDirOf } from "../job-context.js";
import { positiveNumber } from "../parse.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import type { CancelFlags } from "./cancel.js";

async function waitForEnd(dir: string, deadlineMs: number): Promise<JobStatus | null> {
  while (Date.now() < deadlineMs) {
    const status = await readStatus(dir);
    if (status.state !== "running") return status;
    if (runnerAlive(status.runner) === false) return null;
    await sleep(200);
  }
  return null;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

export async function cancelAction(id: string, flags: CancelFlags, io: Io): Promise<number> {
  const waitSec = positiveNumber("--wait", flags.wait);
  if (isRemoteJobId(id)) {
    const { cancelRemote } = await import("../../remote/cancel-action.js");
    return cancelRemote(id, io, await remoteDeps(io));
  }
  const dir = await resolveJobDir(jobsDirOf(flags.jobsDir, io), id);
  const status = await readStatus(dir);
  if (status.state !== "running") {
    io.err(`Benchmark job ${status.id} already ended (${status.state}); nothing to cancel\n`);
    return EXIT.ok;
  }
  const alive = runnerAlive(status.runner);
  if (alive === null) {
    throw new EnvironmentError(
      `Benchmark job ${status.id} runs on ${status.runner.hostname} (pid ${status.runner.pid}); cancel it there`,
    );
  }
  let final: JobStatus | null = null;
  if (alive) {
    io.err(
      `Cancelling ${status.id}: stopping running trials and tearing down sandboxes (runner pid ${status.runner.pid})\n`,
    );
    signal(status.runner.pid, "SIGTERM");
    final = await waitForEnd(dir, Date.now() + waitSec * 1000);
    if (final === null && runnerAlive(status.runner)) {
      io.err(`The runner did not finish within ${waitSec}s; killing it and its sandboxes\n`);
      signal(status.runner.pid, "SIGKILL");
      await sleep(200);
    }
  }
  if (final === null) {
    // The runner is gone (or was just killed): nobody else will record the end of the job.
    await closeAbandonedJob(
      dir,
      "cancelled",
      alive ? "cancelled; the runner was killed" : `cancelled; ${staleReason(status.runner)}`,
    );
    final = await readStatus(dir);
  }
  const results = await readResults(dir);
  const cancelled = results.filter((r) => r.status === "cancelled").length;
  io.out(
    `Benchmark job ${final.id} ${final.state}: ${results.length - cancelled} of ${final.n_trials} trial(s) finished, ${final.n_trials - results.length + cancelled} cancelled\n`,
  );
  return EXIT.ok;
}
