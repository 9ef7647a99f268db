import { describe, expect, it } from "vitest";
import { RETRY_MAX_MS, retryDelayMs } from "../../../src/orchestrator/retry.js";

describe("retryDelayMs", () => {
  it("doubles the mean with each failed try", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 0.5))).toEqual([1000, 2000, 4000, 8000]);
  });

  it("jitters between half and one and a half times the mean", () => {
    expect(retryDelayMs(2, 1000, 0)).toBe(1000);
    expect(retryDelayMs(2, 1000, 0.999)).toBe(2998);
  });

  it("never waits longer than the cap", () => {
    expect(retryDelayMs(30, 2000, 0.999)).toBe(RETRY_MAX_MS);
  });
});
