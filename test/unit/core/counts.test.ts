import { describe, expect, it } from "vitest";
import { jobCounts } from "../../../src/core/counts.js";
import { makeResult, NOP, NOP_M, ORACLE } from "../../helpers/factories.js";

describe("jobCounts", () => {
  it("counts nothing and has no score without results", () => {
    expect(jobCounts([ORACLE], [])).toEqual({ finished: 0, passed: 0, errors: 0, score: null });
  });

  it("counts every result as finished and only 'passed' as passed", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0),
      makeResult(ORACLE, "cancelled", null),
    ];
    expect(jobCounts([ORACLE], results)).toMatchObject({ finished: 4, passed: 2 });
  });

  it("counts timeouts, agent, infra and verifier errors as errors, but not cancels", () => {
    const results = [
      makeResult(ORACLE, "agent_timeout", 1),
      makeResult(ORACLE, "agent_error", null),
      makeResult(ORACLE, "infra_error", null),
      makeResult(ORACLE, "verifier_error", null),
      makeResult(ORACLE, "cancelled", null),
      makeResult(ORACLE, "cancelled", null),
      makeResult(ORACLE, "failed", 0),
    ];
    expect(jobCounts([ORACLE], results)).toEqual({
      finished: 7,
      passed: 0,
      errors: 4,
      score: 0,
    });
  });

  it("scores one agent as the mean over its verified trials", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0.5),
      makeResult(ORACLE, "failed", 0),
      makeResult(ORACLE, "failed", 0.25),
    ];
    expect(jobCounts([ORACLE], results).score).toBe(0.4375);
  });

  it("ignores the score of a trial that was not verified (a timed-out agent's reward)", () => {
    const results = [makeResult(ORACLE, "failed", 0), makeResult(ORACLE, "agent_timeout", 1)];
    expect(jobCounts([ORACLE], results).score).toBe(0);
  });

  it("ignores a verified trial without a score", () => {
    const results = [makeResult(ORACLE, "passed", 1), makeResult(ORACLE, "failed", null)];
    expect(jobCounts([ORACLE], results).score).toBe(1);
  });

  it("averages per-agent means, so an agent with more trials does not weigh more", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(NOP, "failed", 0),
      makeResult(NOP, "failed", 0),
      makeResult(NOP, "failed", 0),
    ];
    // per trial it would be 0.25; per agent (1 + 0) / 2
    expect(jobCounts([ORACLE, NOP], results).score).toBe(0.5);
  });

  it("leaves out agents without a verified trial instead of counting them as 0", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0.5),
      makeResult(NOP, "agent_error", null),
      makeResult(NOP, "agent_timeout", 0),
    ];
    expect(jobCounts([ORACLE, NOP, NOP_M], results)).toEqual({
      finished: 4,
      passed: 1,
      errors: 2,
      score: 0.75,
    });
  });

  it("has no score when no agent has a verified trial with a score", () => {
    const results = [
      makeResult(ORACLE, "agent_error", null),
      makeResult(NOP, "cancelled", null),
      makeResult(NOP, "agent_timeout", 1),
    ];
    expect(jobCounts([ORACLE, NOP], results).score).toBeNull();
  });

  it("tells agents apart by name and model", () => {
    const results = [makeResult(NOP, "passed", 1), makeResult(NOP_M, "failed", 0)];
    expect(jobCounts([NOP, NOP_M], results).score).toBe(0.5);
  });

  it("counts results of an agent that is not in the job but leaves them out of the score", () => {
    const results = [makeResult(ORACLE, "failed", 0.5), makeResult(NOP, "passed", 1)];
    expect(jobCounts([ORACLE], results)).toEqual({
      finished: 2,
      passed: 1,
      errors: 0,
      score: 0.5,
    });
  });
});
