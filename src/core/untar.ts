import { createReadStream } from "node:fs";
import { lstat, mkdir } from "node:fs/promises";
import { isAbsolute, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import * as tar from "tar";

export interface UntarOutcome {
  files: number;
  skipped: { path: string; reason: string }[];
}

/** Why an entry must not be unpacked into `dest`, or null when it may. */
export function unsafeEntry(path: string, type: string): string | null {
  if (type !== "File" && type !== "OldFile" && type !== "Directory") {
    return `not a regular file or directory (${type})`;
  }
  if (path.includes("\0") || path.includes("\\")) return "a NUL or backslash in its name";
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) return "an absolute path";
  const normal = posix.normalize(path);
  if (normal === ".." || normal.startsWith("../")) return "a path outside the destination";
  return null;
}

/** Whether any existing component of `rel` under `dest` is a symlink (writing there would escape). */
async function throughSymlink(dest: string, rel: string): Promise<boolean> {
  const parts = posix
    .normalize(rel)
    .split("/")
    .filter((p) => p !== "" && p !== ".");
  let at = dest;
  for (const part of parts) {
    at = join(at, part);
    const st = await lstat(at).catch(() => null);
    if (st === null) return false;
    if (st.isSymbolicLink()) return true;
  }
  return false;
}

/**
 * Unpack a gzipped tar (a sandbox's /logs) into `dest`: regular files and directories only. Links,
 * devices and fifos, `..` and absolute paths, and entries that would pass through a symlink already in
 * `dest` are skipped with their reason; nothing is ever written outside `dest`.
 */
export async function extractTarGz(file: string, dest: string): Promise<UntarOutcome> {
  await mkdir(dest, { recursive: true, mode: 0o700 });
  const outcome: UntarOutcome = { files: 0, skipped: [] };
  // Symlink checks need the disk as it is before each entry: entries are filtered one at a time.
  const pending: { path: string; type: string }[] = [];
  await pipeline(
    createReadStream(file),
    createGunzip(),
    new tar.Parser({
      onReadEntry: (entry) => {
        pending.push({ path: entry.path, type: entry.type });
        entry.resume();
      },
    }),
  );
  const allowed = new Set<string>();
  for (const { path, type } of pending) {
    const reason =
      unsafeEntry(path, type) ??
      ((await throughSymlink(dest, path)) ? "it would pass through a symlink" : null);
    if (reason !== null) outcome.skipped.push({ path, reason });
    else allowed.add(path);
  }
  await pipeline(
    createReadStream(file),
    createGunzip(),
    tar.x({
      cwd: dest,
      strict: false,
      preservePaths: false,
      noChmod: false,
      filter: (path, entry) => {
        const ok = allowed.has(path) && "type" in entry && unsafeEntry(path, entry.type) === null;
        if (ok && entry.type !== "Directory") outcome.files++;
        return ok;
      },
    }),
  );
  return outcome;
}
