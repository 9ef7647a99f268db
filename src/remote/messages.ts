import { runloopErrorLine } from "../cli/report-error.js";
import { sanitize } from "../report/format.js";

/** A failure as one terminal-safe line: Runloop errors as reportError words them, others by message. */
export function errorLine(err: unknown): string {
  return sanitize(runloopErrorLine(err) ?? (err instanceof Error ? err.message : String(err)));
}
