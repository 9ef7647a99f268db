/** Why an agent exited non-zero, read from the end of its transcript. */
export interface AgentFailure {
  /** A stable class name, e.g. ApiRateLimitError. */
  type: string;
  /** The matching line, trimmed and shortened. */
  message: string;
}

// Checked in order; the first pattern that matches any line wins, scanning from the transcript's end
// (the last error an agent printed is the one that stopped it).
const PATTERNS: readonly [type: string, pattern: RegExp][] = [
  ["ApiRateLimitError", /\b429\b|rate[ _-]?limit|too many requests|resource[ _]exhausted/i],
  ["ApiOverloadedError", /\b529\b|overloaded/i],
  [
    "ApiAuthenticationError",
    /\b401\b|unauthori[sz]ed|invalid (x-)?api[ -]?key|authentication|not logged in/i,
  ],
  ["ModelNotFoundError", /model[^\n]{0,40}not (found|exist)|unknown model|\b404\b[^\n]*model/i],
  ["ContextWindowExceededError", /context (length|window)|prompt is too long|maximum context/i],
  ["ApiInternalServerError", /\b50[0-4]\b|internal server error|bad gateway|service unavailable/i],
  [
    "NetworkConnectionError",
    /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|could not resolve host|connection (refused|reset|error)|fetch failed|network error/i,
  ],
];

/** Classify a failed run from its transcript's tail; null when nothing recognisable was printed. */
export function classifyAgentFailure(transcript: string): AgentFailure | null {
  const lines = transcript
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    for (const [type, pattern] of PATTERNS) {
      if (pattern.test(line)) {
        return { type, message: line.length > 300 ? `${line.slice(0, 297)}...` : line };
      }
    }
  }
  return null;
}
