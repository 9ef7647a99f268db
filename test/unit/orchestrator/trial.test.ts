import { describe, expect, it } from "vitest";
import { decideStatus } from "../../../src/orchestrator/trial.js";

type Failure = Parameters<typeof decideStatus>[0];

const FAILURES: Exclude<Failure, null>[] = [
  "infra_error",
  "agent_error",
  "agent_timeout",
  "verifier_error",
  "cancelled",
];

describe("decideStatus", () => {
  it("is passed when nothing failed and the score is exactly 1", () => {
    expect(decideStatus(null, 1)).toBe("passed");
  });

  it.each([0, 0.5, 0.999999])("is failed when nothing failed and the score is %s", (score) => {
    expect(decideStatus(null, score)).toBe("failed");
  });

  it("is verifier_error when nothing failed but there is no score", () => {
    expect(decideStatus(null, null)).toBe("verifier_error");
  });

  it.each(FAILURES)("the first failure (%s) wins over a perfect score", (failure) => {
    expect(decideStatus(failure, 1)).toBe(failure);
  });

  it.each(FAILURES)("the first failure (%s) wins over a missing score", (failure) => {
    expect(decideStatus(failure, null)).toBe(failure);
  });

  it.each(FAILURES)("the first failure (%s) wins over a partial score", (failure) => {
    expect(decideStatus(failure, 0.5)).toBe(failure);
  });
});
