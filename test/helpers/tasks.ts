import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = join(REPO_ROOT, "test", "fixtures");
export const BIN = join(REPO_ROOT, "bin", "rli.js");

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir(
  prefix = "rli-test-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
