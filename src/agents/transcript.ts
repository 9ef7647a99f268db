/** Helpers the agent definitions share for reading what an agent wrote (transcripts, session files). */

/**
 * The JSON objects of a JSON-lines text: each line that starts with `{` (after trimming, unless
 * `trim: false`) and parses to a plain object. Other lines (stderr, banners, a torn first or last line)
 * are skipped.
 */
export function jsonObjects(
  text: string,
  { trim = true }: { trim?: boolean } = {},
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of text.split("\n")) {
    const line = trim ? raw.trim() : raw;
    if (!line.startsWith("{")) continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        out.push(value as Record<string, unknown>);
      }
    } catch {
      // not JSON, or cut
    }
  }
  return out;
}

/** A token count: a non-negative integer, or null when the field is absent or not a count. */
export function tokenCount(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}

/** A text as one line (whitespace runs collapsed), cut to 300 characters. */
export function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
