import type { Task } from "../benchmarks/task.js";

/**
 * Where sandboxes live. Lifecycle of one trial's sandbox:
 *
 *   provision → exec* / upload* / readFile* → teardown
 *
 * - `provision` may throw `SandboxError` (infrastructure: counted as infra_error, never as an agent failure).
 * - `exec` never throws for the command's own failure: a non-zero exit, a timeout or a cancel is reported in
 *   `ExecResult`. It throws `SandboxError` only when the sandbox itself failed.
 * - `teardown` is idempotent, always called (also after a failed provision of the same object), and removes
 *   every process, mount and scratch file the sandbox made.
 */
export interface Backend {
  readonly name: string;
  /** Why this backend cannot run the task, or null when it can. */
  unsupportedReason(task: Task): string | null;
  /** What this backend will not honour for these tasks (e.g. a limit it cannot apply), one line each. */
  warnings?(tasks: readonly Task[]): Promise<string[]>;
  provision(req: ProvisionRequest): Promise<Sandbox>;
}

export interface ProvisionRequest {
  jobId: string;
  trialId: string;
  task: Task;
  /** Host directory the sandbox's /logs maps to; the store collects it. */
  logsDir: string;
  /** Host directory for the sandbox's scratch state (workspace copy etc.); removed at teardown. */
  scratchDir: string;
  signal?: AbortSignal;
}

export interface ExecRequest {
  /** argv; never a shell string built by concatenation. */
  argv: string[];
  cwd?: string;
  /** The complete environment of the process: nothing is inherited from the host. */
  env: Record<string, string>;
  /** Wall-clock limit; null means none. */
  timeoutMs: number | null;
  /** After the deadline or a cancel: SIGTERM, wait this long, then SIGKILL the whole process tree. */
  graceMs: number;
  network: boolean;
  /** Text written to the process's stdin (then closed). Without it stdin is empty. */
  stdin?: string;
  /** Sandbox paths (under /logs) the process's stdout and stderr go to; the same path merges them. */
  stdoutPath?: string;
  stderrPath?: string;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

export interface Sandbox {
  readonly workdir: string;
  /** A Node.js binary that runs in the sandbox, for agents written in JavaScript (default /usr/bin/node). */
  readonly nodePath?: string;
  exec(req: ExecRequest): Promise<ExecResult>;
  /** Make a host directory available read-only at an absolute sandbox path for every later exec. */
  upload(hostDir: string, sandboxPath: string): Promise<void>;
  /**
   * Write a file (creating its directories) under the sandbox user's home (/root), the workdir or
   * /logs, e.g. an agent's configuration. Files are private to the sandbox's user.
   */
  writeFile(sandboxPath: string, content: string, mode?: number): Promise<void>;
  /** Empty a directory under /logs (e.g. /logs/verifier before the verifier runs). */
  clearDir(sandboxPath: string): Promise<void>;
  /**
   * Install an npm package at `root` inside the sandbox, for backends where the host's agent cache cannot
   * be mounted (remote machines). Absent: the caller installs on the host and uploads.
   */
  installPackage?(
    pkg: { name: string; version: string },
    root: string,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Score the trial with the sandbox's own scorer (Runloop scenario runs), instead of uploading tests and
   * running the verifier. Present only on sandboxes of tasks that carry one.
   */
  score?(signal?: AbortSignal): Promise<{ score: number; rewards: Record<string, number> | null }>;
  /** Contents of a file in the sandbox, or null when it does not exist. */
  readFile(sandboxPath: string): Promise<string | null>;
  teardown(): Promise<void>;
}

/**
 * The sandbox itself failed (could not start, crashed, lost): an infrastructure error. `retryable` is
 * false when running the trial again cannot help (a Dockerfile that does not build, an image that is
 * not there, a scenario the backend cannot run).
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.retryable = options.retryable ?? true;
  }
}
