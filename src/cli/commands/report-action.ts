import { dirname, resolve } from "node:path";
import { EnvironmentError, EXIT, errorMessage, UsageError } from "../../core/errors.js";
import { htmlReport } from "../../report/html.js";
import { readDigests } from "../../store/read.js";
import { writeFileAtomic } from "../../store/store.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJobHead } from "../job-context.js";
import { isRemoteJobId } from "../remote.js";
import type { ReportFlags } from "./report.js";

/** Why `path` (shown as `shown`) could not be written, in words. */
function whyNotWritten(err: unknown, path: string, shown: string): string {
  const dir = dirname(path);
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return `directory ${dir} does not exist`;
    case "ENOTDIR":
      return `${dir} is not a directory`;
    case "EISDIR":
      return `${shown} is a directory`;
    case "EACCES":
    case "EPERM":
      return `permission denied in ${dir}`;
    case "EROFS":
      return `${dir} is on a read-only file system`;
    case "ENOSPC":
      return `no space left in ${dir}`;
    default:
      return errorMessage(err);
  }
}

/** Write `data` to `path` atomically (the old file or the new, never a part), as the user's umask allows. */
async function writeReport(path: string, shown: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data, 0o666);
  } catch (err) {
    throw new EnvironmentError(`Cannot write ${shown}: ${whyNotWritten(err, path, shown)}`);
  }
}

function size(bytes: number): string {
  return bytes < 1000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`;
}

const count = (n: number, one: string): string => `${n} ${one}${n === 1 ? "" : "s"}`;

/** Render a local job's report page and write it to --html. */
export async function reportAction(id: string, flags: ReportFlags, io: Io): Promise<number> {
  if (isRemoteJobId(id)) {
    throw new UsageError(
      `report works on local jobs; ${id} is a server-side Runloop job (see "rli bmj summary ${id}")`,
    );
  }
  if (flags.html.trim() === "") throw new UsageError(`--html needs a file name, got ""`);
  const head = await loadJobHead(jobsDirOf(flags.jobsDir, io), id);
  const digests = await readDigests(head.dir, head.job);
  const html = htmlReport(head.job, digests, { generatedAt: new Date().toISOString() });
  await writeReport(resolve(flags.html), flags.html, html);
  const { spec } = head.job;
  io.err(
    `Wrote ${flags.html} (${size(Buffer.byteLength(html))}): ${count(spec.agents.length, "agent")}, ${count(spec.scenarios.length, "scenario")}\n`,
  );
  return EXIT.ok;
}
