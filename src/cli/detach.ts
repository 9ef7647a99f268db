import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError } from "../core/errors.js";
import { JOB_FILE } from "../store/paths.js";

/** Set in a detached runner's environment: the id of the job it must create. */
export const RUNNER_JOB_ID_ENV = "RLI_RUNNER_JOB_ID";

/** argv without the flag that asked for detaching (it is a boolean flag: one token). */
export function withoutDetach(argv: readonly string[]): string[] {
  return argv.filter((a) => a !== "--detach");
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the same `run` in a background process that outlives this terminal (its own session, stdin
 * closed, stdout and stderr to the job's runner.log) and wait until it has created the job. If the runner
 * dies first, its last log line becomes the error and the job directory is removed.
 */
export async function startDetachedRunner(opts: {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  jobsDir: string;
  jobId: string;
  timeoutMs?: number;
}): Promise<string> {
  const dir = join(opts.jobsDir, opts.jobId);
  await mkdir(opts.jobsDir, { recursive: true, mode: 0o700 });
  await mkdir(dir, { mode: 0o700 });
  const logPath = join(dir, "runner.log");
  const fd = openSync(logPath, "a", 0o600);
  let exited: number | null = null;
  let pid: number | undefined;
  try {
    const [node, ...args] = withoutDetach(opts.argv);
    const child = spawn(node ?? process.execPath, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...opts.env, [RUNNER_JOB_ID_ENV]: opts.jobId, NO_COLOR: "1" },
    });
    child.on("exit", (code, sig) => {
      exited = code ?? (sig ? 128 : 1);
    });
    child.on("error", () => {
      exited = 1;
    });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!(await exists(join(dir, JOB_FILE)))) {
    if (exited !== null || Date.now() > deadline) {
      // Timed out: stop the runner (its whole session) rather than leave it to create a job later.
      if (exited === null && pid !== undefined) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      const log = await readFile(logPath, "utf8").catch(() => "");
      const last = log.trim().split("\n").at(-1) ?? "";
      await rm(dir, { recursive: true, force: true });
      throw new EnvironmentError(
        `the detached runner ${exited !== null ? `exited (code ${exited})` : "did not start"} before creating the job${last ? `: ${last.replace(/^Error: /, "")}` : ""}`,
      );
    }
    await sleep(25);
  }
  return dir;
}
