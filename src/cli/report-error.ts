import { EnvironmentError, EXIT, TaskLoadError, UsageError } from "../core/errors.js";
import {
  RunloopApiError,
  RunloopConnectionError,
  RunloopPollTimeoutError,
  RunloopResponseError,
} from "../runloop/errors.js";
import type { Io } from "./io.js";

/** What a Runloop failure means for the user, in one line; null for other errors. */
export function runloopErrorLine(err: unknown): string | null {
  if (err instanceof RunloopApiError) {
    const call = `${err.method} ${err.path}`;
    const id = err.requestId ? ` (request ${err.requestId})` : "";
    if (err.status === 401) {
      return `the Runloop API rejected RUNLOOP_API_KEY (401 on ${call}): check the key, or export a new one from the Runloop dashboard`;
    }
    if (err.status === 403) {
      return `the Runloop API key may not do this (403 on ${call})${id}: ${err.message}`;
    }
    if (err.status === 404) return `not found on Runloop (404 on ${call}): ${err.message}`;
    return `the Runloop API answered ${err.message} to ${call}${id}`;
  }
  if (err instanceof RunloopConnectionError) {
    return `${err.message}; check RUNLOOP_BASE_URL and the network`;
  }
  if (err instanceof RunloopResponseError || err instanceof RunloopPollTimeoutError) {
    return err.message;
  }
  return null;
}

/** Map an error to one line on stderr and an exit code. Unknown errors keep their message, never a stack. */
export function reportError(err: unknown, io: Io): number {
  const message = runloopErrorLine(err) ?? (err instanceof Error ? err.message : String(err));
  io.err(`Error: ${message.split("\n")[0]}\n`);
  if (err instanceof UsageError || err instanceof TaskLoadError) return EXIT.usage;
  if (err instanceof EnvironmentError) return EXIT.failure;
  if (process.env.RLI_DEBUG && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
  return EXIT.failure;
}
