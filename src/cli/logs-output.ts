import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorMessage, UsageError } from "../core/errors.js";

// Where `logs` writes, for local and Runloop jobs alike: an output directory, or a .tar.gz built from a
// staging directory next to it and renamed into place.

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export interface PrepareDirOptions {
  /** Accept a directory that already holds files (--force, or a Runloop download that resumes). */
  allowNonEmpty: boolean;
}

/** The output root, checked and created (and probed for writing) before anything is written. */
export async function prepareDir(
  path: string,
  shown: string,
  force: boolean,
  opts: Partial<PrepareDirOptions> = {},
): Promise<void> {
  let exists = false;
  try {
    const s = await stat(path);
    if (!s.isDirectory())
      throw new UsageError(`Output directory ${shown} exists and is not a directory`);
    exists = true;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (code(err) !== "ENOENT") {
      throw new UsageError(
        `Cannot use output directory ${shown}: ${code(err) ?? errorMessage(err)}`,
      );
    }
  }
  if (exists && !force && opts.allowNonEmpty !== true && (await readdir(path)).length > 0) {
    throw new UsageError(
      `Output directory ${shown} already exists and is not empty (use --force to overwrite the scenario directories it holds, or pick another with --output-dir)`,
    );
  }
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    // Probe writability now, so a read-only target fails before any output.
    const probe = join(path, `.rli-probe-${randomBytes(4).toString("hex")}`);
    await writeFile(probe, "");
    await rm(probe);
  } catch (err) {
    throw new UsageError(
      `Cannot write to output directory ${shown}: ${code(err) ?? errorMessage(err)}`,
    );
  }
}

/** The archive's directory, checked; the archive itself must not exist unless --force. */
export async function prepareArchive(path: string, shown: string, force: boolean): Promise<void> {
  if (!/\.(tar\.gz|tgz)$/.test(path)) {
    throw new UsageError(`--archive must name a .tar.gz or .tgz file, got "${shown}"`);
  }
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new UsageError(`Archive ${shown} is a directory`);
    if (!force) throw new UsageError(`Archive ${shown} already exists (use --force to replace it)`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (code(err) !== "ENOENT") {
      throw new UsageError(`Cannot use archive ${shown}: ${code(err) ?? errorMessage(err)}`);
    }
  }
  let problem: string | null = null;
  try {
    if (!(await stat(dirname(path))).isDirectory()) problem = "ENOTDIR";
  } catch (err) {
    problem = code(err) ?? errorMessage(err);
  }
  if (problem !== null) {
    throw new UsageError(
      `Cannot write archive ${shown}: its directory ${dirname(path)} is not usable (${problem})`,
    );
  }
}

/** A fresh staging directory next to the archive (same file system, so the final rename is cheap). */
export async function stagingDir(archive: string, shown: string): Promise<string> {
  try {
    return await mkdtemp(join(dirname(archive), `.${basename(archive)}.`));
  } catch (err) {
    throw new UsageError(`Cannot write archive ${shown}: ${code(err) ?? errorMessage(err)}`);
  }
}

/** `<staging>/<top>` as a gzipped tar at `archive`, written to a temporary name and renamed. */
export async function packArchive(staging: string, top: string, archive: string): Promise<void> {
  const { c } = await import("tar");
  const tmp = join(dirname(archive), `.${basename(archive)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await c({ gzip: true, file: tmp, cwd: staging, portable: true }, [top]);
    await rename(tmp, archive);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
