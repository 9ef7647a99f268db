/** The mean wait before the first retry of a trial; each later retry doubles it. */
export const RETRY_BASE_MS = 2000;
/** No wait between tries is longer than this. */
export const RETRY_MAX_MS = 60_000;

/**
 * The wait before try `failedTry + 1`: `baseMs · 2^(failedTry − 1)`, scaled by a jitter factor in
 * [0.5, 1.5) from `random` (in [0, 1)), capped at RETRY_MAX_MS. Jitter keeps trials that failed together
 * (a daemon restart, a provider outage) from coming back together.
 */
export function retryDelayMs(failedTry: number, baseMs: number, random: number): number {
  const mean = baseMs * 2 ** (failedTry - 1);
  return Math.round(Math.min(RETRY_MAX_MS, mean * (0.5 + random)));
}
