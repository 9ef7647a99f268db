import { EnvironmentError, EXIT, TaskLoadError, UsageError } from "../core/errors.js";
import type { Io } from "./io.js";

/** Map an error to one line on stderr and an exit code. Unknown errors keep their message, never a stack. */
export function reportError(err: unknown, io: Io): number {
  const message = err instanceof Error ? err.message : String(err);
  io.err(`Error: ${message.split("\n")[0]}\n`);
  if (err instanceof UsageError || err instanceof TaskLoadError) return EXIT.usage;
  if (err instanceof EnvironmentError) return EXIT.failure;
  if (process.env.RLI_DEBUG && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
  return EXIT.failure;
}
