import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { symlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Runner } from "../../../src/core/schemas.js";
import { currentRunner, runnerAlive } from "../../../src/store/runner.js";
import { tempDir } from "../../helpers/tasks.js";

/** Field 22 of /proc/<pid>/stat, parsed independently of the module under test. */
function startTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const afterComm = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(afterComm[19]);
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL");
      await once(c, "exit");
    }
  }
  for (const f of cleanups.splice(0)) await f();
});

/** A child that sleeps until killed, started from `file` (its name becomes the command name). */
async function sleeper(file = "sleep"): Promise<ChildProcess> {
  const child = spawn(file, ["60"], { stdio: "ignore" });
  children.push(child);
  await once(child, "spawn");
  return child;
}

describe("currentRunner", () => {
  it("describes this process: pid, hostname, version, boot id and start time", () => {
    const r = currentRunner("1.2.3");
    expect(r).toEqual({
      pid: process.pid,
      hostname: hostname(),
      rli_version: "1.2.3",
      boot_id: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
      start_ticks: startTicksOf(process.pid),
    });
    expect(r.boot_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(r.start_ticks)).toBe(true);
  });
});

describe("runnerAlive", () => {
  it("is true for this process", () => {
    expect(runnerAlive(currentRunner("0.1.0"))).toBe(true);
  });

  it("is true for a live process recorded without boot id and start time (older job docs)", () => {
    expect(runnerAlive({ pid: process.pid, hostname: hostname(), rli_version: "0.1.0" })).toBe(
      true,
    );
  });

  it("is false for a process that has exited", async () => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    children.push(child);
    await once(child, "exit");
    const pid = child.pid as number;
    expect(runnerAlive({ pid, hostname: hostname(), rli_version: "0.1.0" })).toBe(false);
  });

  it("is null for a runner on another host, even with this process's pid", () => {
    const runner: Runner = { ...currentRunner("0.1.0"), hostname: `not-${hostname()}` };
    expect(runnerAlive(runner)).toBeNull();
  });

  it("is false after a reboot: the boot id differs although the pid is alive", () => {
    const runner: Runner = {
      ...currentRunner("0.1.0"),
      boot_id: "00000000-0000-0000-0000-000000000000",
    };
    expect(runnerAlive(runner)).toBe(false);
  });

  it("is false for a reused pid: the process alive under that pid started at another time", () => {
    const me = currentRunner("0.1.0");
    expect(runnerAlive({ ...me, start_ticks: (me.start_ticks as number) + 1 })).toBe(false);
  });

  it("reads the start time of a process whose command name holds spaces and parentheses", async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const odd = join(dir, "a) b (c");
    await symlink("/bin/sleep", odd);
    const child = await sleeper(odd);
    const pid = child.pid as number;
    expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toContain("(a) b (c)");
    const ticks = startTicksOf(pid);
    const runner: Runner = { pid, hostname: hostname(), rli_version: "0.1.0" };
    expect(runnerAlive({ ...runner, start_ticks: ticks })).toBe(true);
    expect(runnerAlive({ ...runner, start_ticks: ticks + 1 })).toBe(false);
  });
});
