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

/** Fields 3 on of /proc/<pid>/stat (the command name before them may hold spaces), or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat: start time in ticks since boot. */
function startTicks(pid: number): number | undefined {
  const ticks = Number(statFields(pid)?.[19]);
  return Number.isInteger(ticks) ? ticks : undefined;
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
  // A killed runner its parent has not reaped yet is a zombie (state Z): dead, though its pid answers.
  const fields = statFields(runner.pid);
  if (fields?.[0] === "Z" || fields?.[0] === "X") return false;
  if (runner.start_ticks !== undefined) {
    const ticks = startTicks(runner.pid);
    if (ticks !== undefined && ticks !== runner.start_ticks) return false;
  }
  return true;
}
