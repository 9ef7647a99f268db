import { chmod, lstat, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Shapes of common API keys, masked wherever they appear even when the job was not told the value
 * (a key the agent found on its own, a key in a downloaded Runloop log).
 */
export const KEY_PATTERNS: readonly RegExp[] = [
  // A key starts a token (nothing word-like before it: "task-runner-…" holds no key) and, for the
  // sk- families, mixes letters and digits over at least 20 characters.
  /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g, // Anthropic
  /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-)?(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}/g, // OpenAI and look-alikes
  /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}/g, // Google
  /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}/g, // GitHub
  /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{40,}/g,
  /(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack
  /(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![A-Za-z0-9])/g, // AWS access key id
];

/** Names of variables whose values are credentials (keys, tokens; base URLs are not). */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** The values of the credential-named variables of an environment. */
export function secretValuesIn(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    SECRET_NAME.test(name) && value !== undefined && value !== "" ? [value] : [],
  );
}

/** Values shorter than this are not masked: they would hit ordinary text (and are no secret). */
const MIN_SECRET_LENGTH = 6;

/** The same length as `s`: `[REDACTED]` cut or padded with `*`, so masked binary files keep their layout. */
function mask(length: number): string {
  return length >= 10 ? `[REDACTED]${"*".repeat(length - 10)}` : "*".repeat(length);
}

export interface Redactor {
  /** `text` with every secret value and key-shaped string masked. */
  text(text: string): string;
  /** The bytes with the same masked (same length), or null when nothing was found. */
  bytes(data: Buffer): Buffer | null;
}

/**
 * Masks the exact `values` (the job's secrets and keys) and KEY_PATTERNS. Works on bytes through latin1,
 * one character per byte, so a value is found in any file, text or binary, and masks keep lengths.
 */
export function redactor(values: readonly string[]): Redactor {
  const exact = [...new Set(values.filter((v) => v.length >= MIN_SECRET_LENGTH))]
    // Also as it appears inside a JSON string.
    .flatMap((v) => [v, JSON.stringify(v).slice(1, -1)])
    .map((v) => Buffer.from(v, "utf8").toString("latin1"))
    .sort((a, b) => b.length - a.length);
  const apply = (s: string): string => {
    let out = s;
    for (const v of exact) if (out.includes(v)) out = out.split(v).join(mask(v.length));
    for (const re of KEY_PATTERNS) out = out.replace(re, (m) => mask(m.length));
    return out;
  };
  return {
    text(text) {
      return Buffer.from(apply(Buffer.from(text, "utf8").toString("latin1")), "latin1").toString(
        "utf8",
      );
    },
    bytes(data) {
      const before = data.toString("latin1");
      const after = apply(before);
      return after === before ? null : Buffer.from(after, "latin1");
    },
  };
}

/**
 * Mask secrets in every regular file under `dir` (rewritten in place only when something was found)
 * and take group and other permissions off every file and directory. Symlinks are left alone (never
 * followed). Returns the files rewritten, relative to `dir`.
 */
export async function scrubTree(dir: string, r: Redactor): Promise<string[]> {
  const changed: string[] = [];
  const walk = async (path: string, rel: string): Promise<void> => {
    const st = await lstat(path).catch(() => null);
    if (st === null || st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) await chmod(path, st.mode & 0o700).catch(() => {});
    if (st.isDirectory()) {
      for (const name of await readdir(path).catch(() => [] as string[])) {
        await walk(join(path, name), rel === "" ? name : `${rel}/${name}`);
      }
    } else if (st.isFile()) {
      const masked = r.bytes(await readFile(path));
      if (masked !== null) {
        // A read-only file (the agent's, or a tests upload) is made writable for the rewrite only.
        const mode = st.mode & 0o700;
        if ((mode & 0o200) === 0) await chmod(path, mode | 0o200);
        await writeFile(path, masked);
        if ((mode & 0o200) === 0) await chmod(path, mode);
        changed.push(rel);
      }
    }
  };
  await walk(dir, "");
  return changed;
}
