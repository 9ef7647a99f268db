import { NO_COLOR, type Paint } from "../report/text.js";
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

/** Colours for stdout or stderr: chalk where that stream takes colour, plain strings otherwise. */
export async function paintFor(io: Io, stream: "out" | "err"): Promise<Paint> {
  const on = stream === "out" ? io.outColor : io.color;
  return on ? (await import("chalk")).default : NO_COLOR;
}

export const JOBS_DIR_HELP =
  "where job directories are kept (default: $RLI_HOME/jobs or ~/.local/share/rli/jobs)";
