import { setTimeout as sleep } from "node:timers/promises";

/** Resolves true when `cond` holds within `ms`, false otherwise; polls every `intervalMs`. */
export async function within(
  ms: number,
  cond: () => boolean | Promise<boolean>,
  intervalMs = 10,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(intervalMs);
  }
  return cond();
}

/** Polls `check` every 50 ms until it holds; throws when it has not within `ms`. */
export async function waitFor(
  check: () => Promise<boolean>,
  ms: number,
  what = "a condition",
): Promise<void> {
  if (!(await within(ms, check, 50))) throw new Error(`timed out waiting for ${what}`);
}
