import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT } from "../core/errors.js";
import { registerCancel } from "./commands/cancel.js";
import { registerCleanup } from "./commands/cleanup.js";
import { registerCompare } from "./commands/compare.js";
import { registerCompletion } from "./commands/completion.js";
import { registerList } from "./commands/list.js";
import { registerLogs } from "./commands/logs.js";
import { registerReport } from "./commands/report.js";
import { registerResume } from "./commands/resume.js";
import { registerRun } from "./commands/run.js";
import { registerSummary } from "./commands/summary.js";
import { registerWatch } from "./commands/watch.js";
import { type Io, processIo } from "./io.js";

export function rliVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    return pkg.version;
  } catch {
    return "0.0.0";
  }
}

/** Holds the exit code an action decided; commander has no return channel of its own. */
export interface ExitBox {
  code: number;
}

/** A fresh program per call (tests build many). Handlers are imported lazily, when their command runs. */
export function createProgram(io: Io, exit: ExitBox): Command {
  const program = new Command("rli")
    .description("Benchmark coding agents in sandboxes and compare their scores")
    .version(rliVersion(), "-V, --version")
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (s, write) => write(s.replace(/^error: /, "Error: ")),
    })
    .exitOverride();
  program.addHelpText(
    "after",
    `
Examples:
  $ rli benchmark-job run --agent oracle --benchmark starter
  $ rli bmj run --agent oracle --agent nop --benchmark starter --detach && rli bmj watch latest
  $ rli bmj summary latest -e
  $ eval "$(rli completion bash)"

Jobs are kept in $RLI_HOME/jobs (else ~/.local/share/rli/jobs); see "rli bmj <command> --help".`,
  );
  const bmj = program
    .command("benchmark-job")
    .alias("bmj")
    .description("Run agents against benchmarks and inspect the results")
    .addHelpText(
      "after",
      `
Examples:
  $ rli bmj run --agent oracle --agent nop --benchmark starter --n-attempts 2
  $ rli bmj list --days 7
  $ rli bmj watch latest
  $ rli bmj summary latest -o json | jq '.benchmark_outcomes[] | {agent_name, average_score}'
  $ rli bmj logs latest --run nop --scenario starter/py-paginate-last-page
  $ rli bmj cancel latest

A job is named by its id, a unique prefix of it, "latest", or its directory.
Errors are one line on stderr ("Error: ..."); exit codes: 0 ok, 1 failure, 2 bad input, 130 interrupted.`,
    )
    .exitOverride();
  registerRun(bmj, io, exit);
  registerWatch(bmj, io, exit);
  registerSummary(bmj, io, exit);
  registerList(bmj, io, exit);
  registerLogs(bmj, io, exit);
  registerCancel(bmj, io, exit);
  registerCleanup(bmj, io, exit);
  registerResume(bmj, io, exit);
  registerReport(bmj, io, exit);
  registerCompare(bmj, io, exit);
  registerCompletion(program, io, exit);
  return program;
}

/** Run the CLI; resolves to the process exit code. Errors are one line on stderr, never a stack trace. */
export async function main(argv: string[], io: Io): Promise<number> {
  const exit: ExitBox = { code: EXIT.ok };
  const program = createProgram(io, exit);
  try {
    await program.parseAsync(argv);
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help/version text).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { reportError } = await import("./report-error.js");
    return reportError(err, io);
  }
}

/** How long a second Ctrl-C waits for the last cleanup before the process exits. */
const LAST_CLEANUP_MS = 5000;

/** The bin entry point: real process IO, signal handling, exit code. */
export async function cli(): Promise<void> {
  const interrupt = new AbortController();
  let interrupts = 0;
  let claimed: { message: string | null; lastCleanup?: () => Promise<unknown> } | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    const again = sig === "SIGINT" ? "Ctrl-C" : sig;
    const last = claimed?.lastCleanup;
    if (interrupts === 2 && last !== undefined) {
      // Cut short: one last attempt at removing what the job made, bounded, then out.
      process.stderr.write(
        `\nExiting: removing this job's sandboxes first (at most ${LAST_CLEANUP_MS / 1000} s; ${again} again to skip)\n`,
      );
      const deadline = new Promise((resolve) => setTimeout(resolve, LAST_CLEANUP_MS).unref());
      void Promise.race([last().catch(() => {}), deadline]).finally(() =>
        process.exit(EXIT.interrupted),
      );
      return;
    }
    if (interrupts > 1 || sig === "SIGHUP" || claimed === null) process.exit(EXIT.interrupted);
    if (claimed.message !== null)
      process.stderr.write(`\n${claimed.message} (${again} again to exit at once)\n`);
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const io = processIo(interrupt.signal, (message, lastCleanup) => {
    claimed = { message, ...(lastCleanup !== undefined ? { lastCleanup } : {}) };
  });
  process.exitCode = await main(process.argv, io);
}
