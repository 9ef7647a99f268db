import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { SandboxError } from "./types.js";

export interface ProcessOptions {
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number | null;
  graceMs: number;
  signal?: AbortSignal;
  stdin?: string;
  /** Host files for stdout / stderr (appended). The same path for both merges them. */
  stdoutFile?: string;
  stderrFile?: string;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

/**
 * Run argv in its own process group and wait for it. On the deadline or an abort the whole group gets
 * SIGTERM, then SIGKILL after `graceMs`. Never rejects for the command's own failure; rejects with
 * SandboxError only when the process cannot be started.
 */
export function runProcess(argv: string[], opts: ProcessOptions): Promise<ProcessResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new SandboxError("empty command"));
  const fds: number[] = [];
  const openOut = (file: string | undefined): number | "ignore" => {
    if (file === undefined) return "ignore";
    const fd = openSync(file, "a", 0o600);
    fds.push(fd);
    return fd;
  };
  const started = performance.now();
  return new Promise<ProcessResult>((resolve, reject) => {
    let out: number | "ignore";
    let errOut: number | "ignore";
    try {
      out = openOut(opts.stdoutFile);
      errOut =
        opts.stderrFile !== undefined && opts.stderrFile === opts.stdoutFile
          ? out
          : openOut(opts.stderrFile);
    } catch (err) {
      for (const fd of fds) closeSync(fd);
      reject(new SandboxError(`cannot open log file: ${(err as Error).message}`));
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: [opts.stdin === undefined ? "ignore" : "pipe", out, errOut],
      });
    } catch (err) {
      reject(new SandboxError(`cannot start ${cmd}: ${(err as Error).message}`));
      return;
    } finally {
      for (const fd of fds) closeSync(fd);
    }

    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    const terminate = (): void => {
      if (killTimer !== undefined || settled) return;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), opts.graceMs);
      killTimer.unref();
    };
    const deadline =
      opts.timeoutMs === null
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            terminate();
          }, opts.timeoutMs);
    const onAbort = (): void => {
      cancelled = true;
      terminate();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (): void => {
      settled = true;
      if (deadline) clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      // Whatever the leader left behind in its group goes too.
      killGroup("SIGKILL");
    };
    child.once("error", (err) => {
      finish();
      reject(new SandboxError(`cannot start ${cmd}: ${err.message}`));
    });
    child.once("close", (code, sig) => {
      finish();
      resolve({
        exitCode: code,
        signal: sig,
        timedOut,
        cancelled,
        durationMs: Math.round(performance.now() - started),
      });
    });
    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {
        // the process may exit without reading its input
      });
      child.stdin.end(opts.stdin);
    }
  });
}
