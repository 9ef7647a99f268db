import { NO_COLOR, type Paint } from "../report/format.js";
import type { Io } from "./io.js";

/** A document on stdout as 2-space JSON or YAML: what scripts parse. */
export async function printDocument(io: Io, format: "json" | "yaml", doc: unknown): Promise<void> {
  if (format === "json") {
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const { stringify } = await import("yaml");
  io.out(stringify(doc));
}

/**
 * Colours for stdout or stderr: chalk where that stream takes colour, plain strings otherwise. The
 * decision is ours (io.color / io.outColor), so chalk gets a fixed level instead of probing stdout.
 */
export async function paintFor(io: Io, stream: "out" | "err"): Promise<Paint> {
  const on = stream === "out" ? io.outColor : io.color;
  if (!on) return NO_COLOR;
  const { Chalk } = await import("chalk");
  return new Chalk({ level: 1 });
}

export const JOBS_DIR_HELP =
  "where job directories are kept (default: $RLI_HOME/jobs or ~/.local/share/rli/jobs)";
