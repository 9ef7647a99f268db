import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export async function readJson<T = unknown>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/** One JSONL line: `v` as JSON and a newline. */
export const jsonLine = (v: unknown): string => `${JSON.stringify(v)}\n`;

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Every regular file under `dir`, as sorted `/`-separated relative paths. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

/** A job directory's name (not a job being created: those are staged under a dot name first). */
export const isJobName = (name: string): boolean => name.startsWith("job_");
