import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Runner } from "../core/schemas.js";

function bootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in ticks since boot); the command name may hold spaces. */
function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Who is running a job: this process. */
export function currentRunner(rliVersion: string): Runner {
  const boot = bootId();
  const ticks = startTicks(process.pid);
  return {
    pid: process.pid,
    hostname: hostname(),
    rli_version: rliVersion,
    ...(boot !== undefined ? { boot_id: boot } : {}),
    ...(ticks !== undefined ? { start_ticks: ticks } : {}),
  };
}

/**
 * Whether a job's runner still runs: null when it is on another host (we cannot tell). A pid reused
 * after the runner died, or after a reboot, does not count: boot id and start time must match.
 */
export function runnerAlive(runner: Runner): boolean | null {
  if (runner.hostname !== hostname()) return null;
  const boot = bootId();
  if (runner.boot_id !== undefined && boot !== undefined && runner.boot_id !== boot) return false;
  try {
    process.kill(runner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (runner.start_ticks !== undefined) {
    const ticks = startTicks(runner.pid);
    if (ticks !== undefined && ticks !== runner.start_ticks) return false;
  }
  return true;
}
