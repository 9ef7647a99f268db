import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalBackend } from "../../../src/backends/local.js";
import type { ExecRequest, Sandbox } from "../../../src/backends/types.js";
import { loadTask, type Task } from "../../../src/benchmarks/task.js";
import { BASE_ENV } from "../../../src/orchestrator/trial.js";
import { pgrep } from "../../helpers/processes.js";
import { FIXTURES, tempDir } from "../../helpers/tasks.js";

const backend = new LocalBackend("bubblewrap");
let task: Task;
let tmp: { dir: string; cleanup: () => Promise<void> };
let sandbox: Sandbox;
let logsDir: string;
let scratchDir: string;

function exec(script: string, extra: Partial<ExecRequest> = {}) {
  return sandbox.exec({
    argv: ["bash", "-c", script],
    env: { ...BASE_ENV },
    timeoutMs: 20_000,
    graceMs: 500,
    network: false,
    stdoutPath: "/logs/agent/out.txt",
    stderrPath: "/logs/agent/out.txt",
    ...extra,
  });
}

async function output(): Promise<string> {
  return readFile(join(logsDir, "agent", "out.txt"), "utf8");
}

beforeAll(async () => {
  task = await loadTask(join(FIXTURES, "sandbox-task"), "fixtures/sandbox-task");
});

beforeEach(async () => {
  tmp = await tempDir();
  logsDir = join(tmp.dir, "logs");
  scratchDir = join(tmp.dir, "scratch");
  await mkdir(logsDir);
  sandbox = await backend.provision({ jobId: "job_t", trialId: "t1", task, logsDir, scratchDir });
});

afterEach(async () => {
  await sandbox.teardown();
  await tmp.cleanup();
});

describe("local bubblewrap sandbox", () => {
  it("keeps the home directory for the whole trial and writes files there for the agent", async () => {
    await sandbox.writeFile("/root/.config/agent/settings.json", '{"a":1}\n');
    expect(
      (await exec("cat /root/.config/agent/settings.json; echo x > /root/state")).exitCode,
    ).toBe(0);
    expect(await output()).toBe('{"a":1}\n');
    // A later exec sees what an earlier one left in /root (private /tmp does not survive).
    const second = { stdoutPath: "/logs/agent/second.txt", stderrPath: "/logs/agent/second.txt" };
    expect((await exec("cat /root/state; ls /tmp | wc -l", second)).exitCode).toBe(0);
    expect(await readFile(join(logsDir, "agent", "second.txt"), "utf8")).toBe("x\n0\n");
    expect(await sandbox.readFile("/root/state")).toBe("x\n");
    // Only the sandbox's user reads what was written for it.
    const host = join(scratchDir, "home", ".config", "agent", "settings.json");
    expect((await import("node:fs")).statSync(host).mode & 0o777).toBe(0o600);
  });

  it("refuses to write outside the home, the workdir and /logs", async () => {
    await expect(sandbox.writeFile("/etc/passwd", "x")).rejects.toThrow(
      /can write only under \/root, .* and \/logs: \/etc\/passwd/,
    );
    await expect(sandbox.writeFile("/root", "x")).rejects.toThrow(/can write only under/);
  });

  it("cannot write to the host even as root: read-only system dirs, no capabilities, no remount", async () => {
    const probe = `/etc/rli-escape-probe-${process.pid}`;
    const usrProbe = `/usr/rli-escape-probe-${process.pid}`;
    const r = await exec(
      [
        `touch ${probe} && echo WROTE_ETC`,
        `touch ${usrProbe} && echo WROTE_USR`,
        "mount -o remount,rw / 2>/dev/null && echo REMOUNTED_ROOT",
        "mount -o remount,rw /etc 2>/dev/null && echo REMOUNTED_ETC",
        `mount -o remount,rw /etc 2>/dev/null; touch ${probe} 2>/dev/null && echo WROTE_AFTER_REMOUNT`,
        "grep CapEff /proc/self/status",
        "echo done",
      ].join("; "),
    );
    expect(r.exitCode).toBe(0);
    const out = await output();
    expect(out).toContain("CapEff:\t0000000000000000");
    expect(out).not.toMatch(/WROTE_|REMOUNTED_/);
    expect(existsSync(probe)).toBe(false);
    expect(existsSync(usrProbe)).toBe(false);
  });

  it("does not show the invoking user's home, the host's /tmp or its processes", async () => {
    const marker = join(homedir(), `.rli-sandbox-marker-${process.pid}`);
    const tmpMarker = `/tmp/rli-sandbox-marker-${process.pid}`;
    await writeFile(marker, "private");
    await writeFile(tmpMarker, "private");
    try {
      const r = await exec(
        `cat ${marker} 2>/dev/null && echo READ_HOME; cat ${tmpMarker} 2>/dev/null && echo READ_TMP; ls /proc | grep -c '^[0-9]'`,
      );
      expect(r.exitCode).toBe(0);
      const out = await output();
      expect(out).not.toContain("READ_HOME");
      expect(out).not.toContain("READ_TMP");
      // Only the sandbox's own processes (its init, bash, ls, grep) are visible.
      expect(Number(out.trim().split("\n").at(-1))).toBeLessThan(8);
    } finally {
      await rm(marker, { force: true });
      await rm(tmpMarker, { force: true });
    }
  });

  it("clears the environment to what the exec declares", async () => {
    process.env.RLI_TEST_HOST_ONLY = "host-value";
    try {
      await exec("env | sort", { env: { ...BASE_ENV, GIVEN: "yes" } });
      const names = (await output())
        .trim()
        .split("\n")
        .map((l) => l.split("=")[0]);
      expect(names).toContain("GIVEN");
      expect(names).not.toContain("RLI_TEST_HOST_ONLY");
      const allowed = new Set([...Object.keys(BASE_ENV), "GIVEN", "PWD", "SHLVL", "_"]);
      expect(names.filter((n) => !allowed.has(n!))).toEqual([]);
    } finally {
      delete process.env.RLI_TEST_HOST_ONLY;
    }
  });

  describe("network", () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((sock) => sock.end("pong\n"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const probe = () =>
      `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), timeout=3); print(s.recv(10).decode().strip())" 2>&1 | tail -1`;

    it("has no network unless the phase needs it", async () => {
      await exec(probe(), { network: false });
      const out = await output();
      expect(out).not.toContain("pong");
      expect(out).toMatch(/Network is unreachable|Connection refused/);
    });

    it("reaches the host when network is granted", async () => {
      await exec(probe(), { network: true });
      expect(await output()).toContain("pong");
    });
  });

  it("seeds the workspace at the task's workdir and writes logs to the host", async () => {
    expect(sandbox.workdir).toBe("/work/project");
    const r = await exec(
      "pwd; cat src/seed.txt; echo made > new.txt; echo note > /logs/agent/note.txt",
    );
    expect(r.exitCode).toBe(0);
    expect(await output()).toBe("/work/project\nseed\n");
    expect(await sandbox.readFile("/work/project/new.txt")).toBe("made\n");
    expect(await readFile(join(logsDir, "agent", "note.txt"), "utf8")).toBe("note\n");
    expect(await sandbox.readFile("/logs/agent/absent.txt")).toBeNull();
  });

  it("shows /tests and /solution only after they are uploaded, read-only", async () => {
    await exec("ls /tests /solution 2>&1 | head -2");
    expect(await output()).toMatch(/No such file or directory/);
    await sandbox.upload(task.testsDir, "/tests");
    await sandbox.upload(task.solution.dir!, "/solution");
    await rm(join(logsDir, "agent", "out.txt"));
    await exec("ls /tests /solution; touch /tests/x 2>/dev/null && echo WROTE_TESTS; echo ok");
    const out = await output();
    expect(out).toContain("test.sh");
    expect(out).toContain("solve.sh");
    expect(out).not.toContain("WROTE_TESTS");
  });

  it("kills the whole process tree on timeout, even processes that ignore SIGTERM", async () => {
    const marker = `rli-tree-${process.pid}-${Date.now()}`;
    const sleeper = `python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)' ${marker}`;
    const r = await exec(`trap '' TERM; ${sleeper} & (${sleeper} &); ${sleeper}`, {
      timeoutMs: 500,
      graceMs: 300,
    });
    expect(r.timedOut).toBe(true);
    expect(r.cancelled).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(pgrep(marker)).toEqual([]);
  });

  it("stops the process tree when cancelled", async () => {
    const marker = `rli-cancel-${process.pid}-${Date.now()}`;
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const r = await exec(`python3 -c 'import time; time.sleep(300)' ${marker} & wait`, {
      signal: ctl.signal,
      timeoutMs: null,
    });
    expect(r.cancelled).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(pgrep(marker)).toEqual([]);
  });

  it("passes stdin to the process and reports its exit code", async () => {
    const r = await sandbox.exec({
      argv: ["bash", "-c", 'read -r line; echo "got $line"; exit 7'],
      env: { ...BASE_ENV },
      timeoutMs: 5000,
      graceMs: 500,
      network: false,
      stdin: 'it\'s "quoted" $(not run)\n',
      stdoutPath: "/logs/agent/out.txt",
    });
    expect(r.exitCode).toBe(7);
    expect(await output()).toBe('got it\'s "quoted" $(not run)\n');
  });

  it("teardown removes the scratch directory and refuses later execs", async () => {
    expect(existsSync(join(scratchDir, "workspace"))).toBe(true);
    await sandbox.teardown();
    expect(existsSync(scratchDir)).toBe(false);
    await expect(exec("true")).rejects.toThrow(/torn down/);
  });
});
