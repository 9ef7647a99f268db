/** Where a command writes: stdout is data, stderr is for people. Injected so tests can capture both. */
export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** stderr is a terminal: live views and colour go there. */
  stderrIsTTY: boolean;
  stderrColumns: number;
  stderrRows: number;
  /** Colour on stderr (a terminal and NO_COLOR unset). */
  color: boolean;
  /** Colour on stdout, for tables a person reads. */
  outColor: boolean;
  env: NodeJS.ProcessEnv;
  /** Signal handlers are installed by the caller; abort cancels the running job. */
  interrupt: AbortSignal;
  /**
   * A command that winds down on `interrupt` claims it, with the line to print on the first Ctrl-C.
   * Unclaimed, the first Ctrl-C exits at once (there is nothing to wind down).
   */
  claimInterrupt(message: string | null): void;
  /** The real stderr stream when it is a terminal (for in-place redraws). */
  errStream?: NodeJS.WriteStream;
  /** The process's argv (node, script, args), for `run --detach` to start itself again. */
  argv?: readonly string[];
}

export function processIo(
  interrupt: AbortSignal,
  claimInterrupt: (message: string | null) => void = () => {},
): Io {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    stderrIsTTY: process.stderr.isTTY === true,
    stderrColumns: process.stderr.columns ?? 100,
    stderrRows: process.stderr.rows ?? 30,
    color: !noColor && process.stderr.isTTY === true && process.env.FORCE_COLOR !== "0",
    outColor: !noColor && process.stdout.isTTY === true && process.env.FORCE_COLOR !== "0",
    env: process.env,
    interrupt,
    claimInterrupt,
    ...(process.stderr.isTTY ? { errStream: process.stderr } : {}),
    argv: process.argv,
  };
}
