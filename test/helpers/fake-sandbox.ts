import type { ExecRequest, ExecResult, Sandbox } from "../../src/backends/types.js";

/**
 * An in-memory Sandbox for adapter unit tests: every exec "prints" `transcript` to its stdout path and
 * exits with `exitCode`; files written or printed are kept in `files`; execs are recorded.
 */
export function fakeSandbox(
  transcript: string,
  exitCode: number,
): Sandbox & { files: Map<string, string>; execs: ExecRequest[] } {
  const files = new Map<string, string>();
  const execs: ExecRequest[] = [];
  return {
    workdir: "/app",
    files,
    execs,
    async exec(req: ExecRequest): Promise<ExecResult> {
      execs.push(req);
      if (req.stdoutPath) files.set(req.stdoutPath, transcript);
      return { exitCode, signal: null, timedOut: false, cancelled: false, durationMs: 5 };
    },
    async upload() {},
    async writeFile(path, content) {
      files.set(path, content);
    },
    async clearDir() {},
    async readFile(path) {
      return files.get(path) ?? null;
    },
    async teardown() {},
  };
}
