/** Why an agent exited non-zero, read from the end of its transcript. */
export interface AgentFailure {
  /** A stable class name, e.g. ApiRateLimitError. */
  type: string;
  /** The matching line, trimmed and shortened. */
  message: string;
}

// Checked in order; the first pattern that matches any line wins, scanning from the transcript's end
// (the last error an agent printed is the one that stopped it).
// An HTTP status counts only next to a word that makes it one ("status 429", "API Error: 429",
// "HTTP 401", "429 Too Many Requests"): bare numbers (token counts, line numbers) are not statuses.
const status = (codes: string, words: string): RegExp =>
  new RegExp(
    `(?:status|http|error|code)["':=\\s]{0,4}(?:${codes})\\b|\\b(?:${codes})\\s+(?:${words})`,
    "i",
  );

const PATTERNS: readonly [type: string, pattern: RegExp][] = [
  ["ApiRateLimitError", /rate[ _-]?limit|too many requests|resource[ _]exhausted/i],
  ["ApiRateLimitError", status("429", "too many|rate")],
  ["ApiOverloadedError", /overloaded/i],
  ["ApiOverloadedError", status("529", "overloaded")],
  [
    "ApiAuthenticationError",
    /unauthori[sz]ed|invalid[ _](x-)?api[ _-]?key|authentication[ _]error|not logged in|permission[ _]denied/i,
  ],
  ["ApiAuthenticationError", status("401|403", "unauthori|forbidden")],
  ["ModelNotFoundError", /model[^\n]{0,40}not (found|exist)|unknown model|not_found_error/i],
  ["ContextWindowExceededError", /context (length|window)|prompt is too long|maximum context/i],
  ["ApiInternalServerError", /internal server error|bad gateway|service unavailable|api_error/i],
  ["ApiInternalServerError", status("50[0-4]", "internal|bad gateway|service|gateway")],
  [
    "NetworkConnectionError",
    /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|could not resolve host|connection (refused|reset|error)|fetch failed|network error|error sending request/i,
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
