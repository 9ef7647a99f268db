import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";

/** A log ZIP holds a few dozen files; far more is a broken or hostile archive. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Uncompressed bytes written from one ZIP, as its entries declare them (yauzl checks they are honest). */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export interface ExtractOptions {
  /** Removed from the front of each entry name: Runloop prefixes `<scenarioRunId>_`. */
  stripPrefix?: string;
  maxEntries?: number;
  maxBytes?: number;
  /** Paths (`/`-separated, after stripping) that are never written, e.g. our own results.json. */
  reserved?: ReadonlySet<string>;
  signal?: AbortSignal;
}

export interface SkippedEntry {
  /** The entry's name as stored. */
  name: string;
  reason: string;
}

export interface ExtractResult {
  files: number;
  dirs: number;
  bytes: number;
  skipped: SkippedEntry[];
}

export type EntryPath =
  | { ok: true; segments: string[]; dir: boolean }
  | { ok: false; reason: string };

/**
 * Where an entry may go, as path segments under the target, or why it may not: absolute paths, drive
 * letters, backslashes, NUL and `..` segments are refused; empty and `.` segments are dropped.
 */
export function entryPath(name: string, stripPrefix = ""): EntryPath {
  if (name.includes("\0")) return { ok: false, reason: "NUL in the name" };
  if (name.includes("\\")) return { ok: false, reason: "backslash in the name" };
  if (name.startsWith("/")) return { ok: false, reason: "absolute path" };
  if (/^[A-Za-z]:/.test(name)) return { ok: false, reason: "drive letter" };
  const rel =
    stripPrefix !== "" && name.startsWith(stripPrefix) ? name.slice(stripPrefix.length) : name;
  const parts = rel.split("/");
  if (parts.includes("..")) return { ok: false, reason: "`..` in the path" };
  const segments = parts.filter((s) => s !== "" && s !== ".");
  if (segments.length === 0) return { ok: false, reason: "empty path" };
  return { ok: true, segments, dir: rel.endsWith("/") };
}

function fileType(entry: yauzl.Entry): number {
  return (entry.externalFileAttributes >>> 16) & S_IFMT;
}

/**
 * Extract a ZIP file into `dest` (created if missing), one entry at a time, streamed to disk. Nested
 * entries get their directories; entries that are unsafe (see entryPath), symlinks or special files,
 * encrypted, repeated, reserved, beyond the entry limit or the size budget, or that resolve outside
 * `dest` are skipped and listed. Throws only when the archive itself cannot be read.
 */
export async function extractZip(
  zipFile: string,
  dest: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const root = resolve(dest);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const result: ExtractResult = { files: 0, dirs: 0, bytes: 0, skipped: [] };
  const written = new Set<string>();
  // decodeStrings off: yauzl would reject the whole archive on the first bad name; names are checked here.
  const zip = await yauzl.openPromise(zipFile, {
    decodeStrings: false,
    validateEntrySizes: true,
    autoClose: false,
  });
  try {
    let count = 0;
    for await (const entry of zip.eachEntry()) {
      opts.signal?.throwIfAborted();
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      const skip = (reason: string) => result.skipped.push({ name, reason });
      if (++count > maxEntries) {
        skip(`more than ${maxEntries} entries: this one and the rest were not extracted`);
        break;
      }
      const path = entryPath(name, opts.stripPrefix);
      if (!path.ok) {
        skip(path.reason);
        continue;
      }
      const type = fileType(entry);
      if (type === S_IFLNK) {
        skip("symbolic link");
        continue;
      }
      const isDir = path.dir || type === S_IFDIR;
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
        skip("special file");
        continue;
      }
      const target = resolve(root, ...path.segments);
      if (!target.startsWith(root + sep)) {
        skip("resolves outside the target directory");
        continue;
      }
      const rel = path.segments.join("/");
      if (isDir) {
        try {
          await mkdir(target, { recursive: true, mode: 0o700 });
          result.dirs++;
        } catch (err) {
          skip(`cannot create the directory: ${(err as NodeJS.ErrnoException).code ?? err}`);
        }
        continue;
      }
      if (opts.reserved?.has(rel)) {
        skip("reserved name (rli writes this file)");
        continue;
      }
      if (written.has(rel)) {
        skip("repeated entry: the first one was kept");
        continue;
      }
      if (entry.isEncrypted() || !entry.canDecodeFileData()) {
        skip("encrypted or compressed with an unsupported method");
        continue;
      }
      if (result.bytes + entry.uncompressedSize > maxBytes) {
        skip(`its ${entry.uncompressedSize} bytes would pass the ${maxBytes}-byte limit`);
        continue;
      }
      written.add(rel);
      try {
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        const stream = await zip.openReadStreamPromise(entry);
        // `wx`: never through a file (or link) that is already there.
        await pipeline(stream, createWriteStream(target, { flags: "wx", mode: 0o600 }), {
          signal: opts.signal,
        });
        result.files++;
        result.bytes += entry.uncompressedSize;
      } catch (err) {
        opts.signal?.throwIfAborted();
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") await rm(target, { force: true }).catch(() => {});
        skip(`cannot extract: ${code ?? (err instanceof Error ? err.message : String(err))}`);
      }
    }
  } finally {
    zip.close();
  }
  return result;
}
