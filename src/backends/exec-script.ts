import type { ExecResult } from "./types.js";

/**
 * The shell script an exec runs inside a remote or containerised sandbox (Runloop devboxes, Docker
 * containers), where rli cannot spawn the process itself: it holds the environment, feeds stdin from a
 * file, enforces the deadline with coreutils `timeout`, and reports the exit on its own stdout.
 */

const EXIT_MARKER = "RLI-EXIT";
const PRELUDE_MARKER = "RLI-PRELUDE-FAILED";

/** POSIX shell single-quoting. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ExecScriptInput {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number | null;
  graceMs: number;
  stdinPath: string | null;
  stdoutPath: string | undefined;
  stderrPath: string | undefined;
  prelude: readonly string[];
  /**
   * Keep the devbox's own environment under `env` (image-based tasks: the image's ENV, as docker exec
   * would); otherwise the command sees exactly `env`.
   */
  inheritEnv?: boolean;
}

/**
 * The bash script one exec runs on the devbox. Pure. It deletes itself first (it holds the environment),
 * runs the prelude (a failure prints the prelude marker and stops), then the command under `env -i` and,
 * with a deadline, coreutils `timeout` (SIGTERM, then SIGKILL after the grace), and finally prints
 * `RLI-EXIT <code> <elapsed ms>` on its own stdout, which is what the execute call returns.
 */
export function execScript(input: ExecScriptInput): string {
  const lines = ["#!/bin/bash", 'rm -f -- "$0"'];
  for (const step of input.prelude) {
    lines.push(
      `{ ${step}; } >/dev/null 2>&1 || { echo ${PRELUDE_MARKER} ${shellQuote(step)}; exit 0; }`,
    );
  }
  lines.push(
    `cd -- ${shellQuote(input.cwd)} 2>/dev/null || { echo ${PRELUDE_MARKER} ${shellQuote(`cd ${input.cwd}`)}; exit 0; }`,
  );
  const env = Object.entries(input.env).map(([k, v]) => shellQuote(`${k}=${v}`));
  const deadline =
    input.timeoutMs === null
      ? []
      : [
          "timeout",
          `--kill-after=${(input.graceMs / 1000).toFixed(3)}s`,
          `${(input.timeoutMs / 1000).toFixed(3)}s`,
        ];
  const redirect: string[] = [
    input.stdinPath === null ? "</dev/null" : `<${shellQuote(input.stdinPath)}`,
  ];
  if (input.stdoutPath !== undefined && input.stdoutPath === input.stderrPath) {
    redirect.push(`>>${shellQuote(input.stdoutPath)}`, "2>&1");
  } else {
    redirect.push(
      input.stdoutPath === undefined ? ">/dev/null" : `>>${shellQuote(input.stdoutPath)}`,
    );
    redirect.push(
      input.stderrPath === undefined ? "2>/dev/null" : `2>>${shellQuote(input.stderrPath)}`,
    );
  }
  lines.push(
    "start=$(date +%s%3N)",
    [
      "env",
      ...(input.inheritEnv === true ? [] : ["-i"]),
      ...env,
      ...deadline,
      ...input.argv.map(shellQuote),
      ...redirect,
    ].join(" "),
    "code=$?",
    `echo ${EXIT_MARKER} "$code" "$(( $(date +%s%3N) - start ))"`,
  );
  return `${lines.join("\n")}\n`;
}

/** The outcome an exec script reported on its stdout; null when it never got that far. */
export function parseExecReport(
  stdout: string,
): { kind: "exit"; code: number; elapsedMs: number } | { kind: "prelude"; step: string } | null {
  for (const line of stdout.split("\n").reverse()) {
    const exit = new RegExp(`^${EXIT_MARKER} (\\d+) (-?\\d+)$`).exec(line.trim());
    if (exit) return { kind: "exit", code: Number(exit[1]), elapsedMs: Number(exit[2]) };
    if (line.startsWith(`${PRELUDE_MARKER} `)) {
      return { kind: "prelude", step: line.slice(PRELUDE_MARKER.length + 1) };
    }
  }
  return null;
}

/** The result of a command that was cancelled before it ended (or before it started). */
export function cancelledResult(started: number): ExecResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    cancelled: true,
    durationMs: performance.now() - started,
  };
}

/** Map a script's exit report to an ExecResult. `timeout` exits 124 (TERM) or 137 (KILL) at the deadline. */
export function execResultOf(
  report: { code: number; elapsedMs: number },
  timeoutMs: number | null,
  durationMs: number,
): ExecResult {
  const timedOut =
    timeoutMs !== null &&
    (report.code === 124 || report.code === 137) &&
    report.elapsedMs >= timeoutMs - 50;
  return {
    exitCode: timedOut ? null : report.code,
    signal: timedOut ? (report.code === 137 ? "SIGKILL" : "SIGTERM") : null,
    timedOut,
    cancelled: false,
    durationMs,
  };
}
