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
   * Unclaimed, the first Ctrl-C exits at once (there is nothing to wind down). `lastCleanup` runs when
   * a second Ctrl-C cuts the winding down short (for at most a few seconds) before the process exits.
   */
  claimInterrupt(message: string | null, lastCleanup?: () => Promise<unknown>): void;
  /** The real stderr stream when it is a terminal (for in-place redraws). */
  errStream?: NodeJS.WriteStream;
  /** The process's argv (node, script, args), for `run --detach` to start itself again. */
  argv?: readonly string[];
}

/**
 * Colour as the environment asks: FORCE_COLOR (non-empty, not "0") forces it on, FORCE_COLOR=0 or a
 * non-empty NO_COLOR (no-color.org) turn it off; null leaves it to whether the stream is a terminal.
 */
export function colorWanted(env: NodeJS.ProcessEnv): boolean | null {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return null;
}

export function processIo(
  interrupt: AbortSignal,
  claimInterrupt: Io["claimInterrupt"] = () => {},
): Io {
  const color = colorWanted(process.env);
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    stderrIsTTY: process.stderr.isTTY === true,
    stderrColumns: process.stderr.columns ?? 100,
    stderrRows: process.stderr.rows ?? 30,
    color: color ?? process.stderr.isTTY === true,
    outColor: color ?? process.stdout.isTTY === true,
    env: process.env,
    interrupt,
    claimInterrupt,
    ...(process.stderr.isTTY ? { errStream: process.stderr } : {}),
    argv: process.argv,
  };
}
