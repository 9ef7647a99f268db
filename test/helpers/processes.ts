import { execFileSync } from "node:child_process";

/** PIDs of host processes whose command line matches `pattern` (sandboxed ones included). */
export function pgrep(pattern: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
}
