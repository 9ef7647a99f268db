import { describe, expect, it } from "vitest";
import { digestOf } from "../../../src/core/digest.js";
import type { TrialStatus } from "../../../src/core/schemas.js";
import { summarizeByAgent } from "../../../src/report/summary.js";
import { earlierTry, makeResult, NOP, NOP_M, ORACLE } from "../../helpers/factories.js";

const ZERO_BY_STATUS = {
  passed: 0,
  failed: 0,
  agent_timeout: 0,
  agent_error: 0,
  infra_error: 0,
  verifier_error: 0,
  cancelled: 0,
};

describe("summarizeByAgent", () => {
  it("counts passed, failed-by-score and failed-by-error per agent", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0),
      makeResult(ORACLE, "agent_timeout", 1),
      makeResult(ORACLE, "verifier_error", null),
      makeResult(ORACLE, "cancelled", null),
    ];
    const [s] = summarizeByAgent([ORACLE], results);
    expect(s).toMatchObject({
      agent: ORACLE,
      label: "oracle",
      total: 6,
      passed: 2,
      failedScore: 1,
      failedError: 3,
    });
    expect(s?.byStatus).toEqual({
      ...ZERO_BY_STATUS,
      passed: 2,
      failed: 1,
      agent_timeout: 1,
      verifier_error: 1,
      cancelled: 1,
    });
  });

  it("counts every non-passed, non-failed status as an error", () => {
    const statuses: TrialStatus[] = [
      "agent_timeout",
      "agent_error",
      "infra_error",
      "verifier_error",
      "cancelled",
    ];
    const [s] = summarizeByAgent(
      [NOP],
      statuses.map((st) => makeResult(NOP, st, null)),
    );
    expect(s?.failedError).toBe(5);
    expect(s?.passed).toBe(0);
    expect(s?.failedScore).toBe(0);
  });

  it("averages scores over scored trials, and over all trials with errors as zero", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0.5),
      makeResult(ORACLE, "agent_error", null),
      makeResult(ORACLE, "infra_error", null),
    ];
    const [s] = summarizeByAgent([ORACLE], results);
    expect(s?.meanScore).toBe(0.75);
    expect(s?.meanScoreErrorsAsZero).toBe(0.375);
  });

  it("counts the score of a failed-status trial that still has one", () => {
    const [s] = summarizeByAgent([ORACLE], [makeResult(ORACLE, "agent_timeout", 1)]);
    expect(s?.meanScore).toBe(1);
    expect(s?.meanScoreErrorsAsZero).toBe(1);
  });

  it("has null means when no trial has a score, but a zero error-as-zero mean", () => {
    const [s] = summarizeByAgent([ORACLE], [makeResult(ORACLE, "agent_error", null)]);
    expect(s?.meanScore).toBeNull();
    expect(s?.meanScoreErrorsAsZero).toBe(0);
  });

  it("takes the median duration: middle value for odd counts", () => {
    const results = [300, 100, 200].map((d) => makeResult(ORACLE, "passed", 1, { duration_ms: d }));
    expect(summarizeByAgent([ORACLE], results)[0]?.medianDurationMs).toBe(200);
  });

  it("takes the median duration: mean of the middle two for even counts", () => {
    const results = [400, 100, 1000, 200].map((d) =>
      makeResult(ORACLE, "passed", 1, { duration_ms: d }),
    );
    expect(summarizeByAgent([ORACLE], results)[0]?.medianDurationMs).toBe(300);
  });

  it("includes agents with no results yet, with zero counts and null stats", () => {
    const [, s] = summarizeByAgent([ORACLE, NOP], [makeResult(ORACLE, "passed", 1)]);
    expect(s).toEqual({
      agent: NOP,
      label: "nop",
      total: 0,
      passed: 0,
      failedScore: 0,
      failedError: 0,
      byStatus: ZERO_BY_STATUS,
      meanScore: null,
      meanScoreErrorsAsZero: null,
      medianDurationMs: null,
      p90DurationMs: null,
      inputTokens: null,
      cacheReadTokens: null,
      cacheWriteTokens: null,
      outputTokens: null,
      costUsd: null,
      unknownCost: 0,
      retried: 0,
      retriedPassed: 0,
      scoreInterval: null,
      scoreIntervalExcludingInfra: null,
      passAtK: [],
      passHatK: [],
    });
  });

  it("keeps the job's agent order", () => {
    const summaries = summarizeByAgent([NOP_M, ORACLE, NOP], []);
    expect(summaries.map((s) => s.label)).toEqual(["nop:m", "oracle", "nop"]);
  });

  it("tells the same agent with and without a model apart", () => {
    const results = [makeResult(NOP, "passed", 1), makeResult(NOP_M, "failed", 0)];
    const [plain, withModel] = summarizeByAgent([NOP, NOP_M], results);
    expect(plain?.total).toBe(1);
    expect(plain?.passed).toBe(1);
    expect(withModel?.total).toBe(1);
    expect(withModel?.failedScore).toBe(1);
  });

  it("ignores results of agents that are not in the job", () => {
    const [s] = summarizeByAgent([ORACLE], [makeResult(NOP, "passed", 1)]);
    expect(s?.total).toBe(0);
  });
});

describe("usage sums", () => {
  const usage = (input: number | null, output: number | null, cost: number | null) => ({
    input_tokens: input,
    cache_read_tokens: null,
    cache_write_tokens: null,
    output_tokens: output,
    cost_usd: cost,
    cost_source: cost === null ? ("unknown" as const) : ("reported" as const),
  });

  it("sums known token counts and costs, and counts unknown costs", () => {
    const [s] = summarizeByAgent(
      [ORACLE],
      [
        makeResult(ORACLE, "passed", 1, { usage: usage(100, 10, 0.5) }),
        makeResult(ORACLE, "failed", 0, { usage: usage(50, null, null) }),
      ],
    );
    expect(s).toMatchObject({
      inputTokens: 150,
      outputTokens: 10,
      cacheReadTokens: null,
      costUsd: 0.5,
      unknownCost: 1,
    });
  });

  it("reports null, never 0, when no trial knows its usage", () => {
    const [s] = summarizeByAgent([ORACLE], [makeResult(ORACLE, "passed", 1)]);
    expect(s).toMatchObject({
      inputTokens: null,
      outputTokens: null,
      costUsd: null,
      unknownCost: 1,
    });
  });
});

describe("retried trials", () => {
  const tries = (n: number) => Array.from({ length: n }, (_, i) => earlierTry(i + 1));

  it("counts trials that needed retries and how many of them passed, from results or digests", () => {
    const results = [
      makeResult(ORACLE, "passed", 1, { earlier_tries: tries(2) }),
      makeResult(ORACLE, "failed", 0, { earlier_tries: tries(1) }),
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "infra_error", null, { earlier_tries: tries(2) }),
    ];
    const [full] = summarizeByAgent([ORACLE], results);
    expect(full).toMatchObject({ total: 4, passed: 2, retried: 3, retriedPassed: 1 });
    const [fromDigests] = summarizeByAgent([ORACLE], results.map(digestOf));
    expect(fromDigests).toMatchObject({ retried: 3, retriedPassed: 1 });
    expect(digestOf(results[2]!)).not.toHaveProperty("retries");
    expect(digestOf(results[0]!).retries).toBe(2);
  });
});

describe("intervals and pass@k per agent", () => {
  it("clusters by scenario, counts unscored as 0, leaves cancelled out, and averages pass@k over scenarios", () => {
    const at = (scenario: string, status: TrialStatus, score: number | null) =>
      makeResult(ORACLE, status, score, { scenario_id: scenario });
    const results = [
      at("b/x", "passed", 1),
      at("b/x", "failed", 0),
      at("b/y", "passed", 1),
      at("b/y", "agent_error", null),
      at("b/z", "failed", 0),
      at("b/z", "failed", 0),
      at("b/z", "cancelled", null),
    ];
    const [s] = summarizeByAgent([ORACLE], results);
    // Scenario means 0.5, 0.5, 0 over three scenarios.
    expect(s?.scoreInterval?.n).toBe(3);
    expect(s?.scoreInterval?.mean).toBeCloseTo(1 / 3, 12);
    // t(0.975, 2) × sd / √3 ≈ 0.72 reaches past both ends of [0, 1]: the interval is cut there.
    expect(s?.scoreInterval?.low).toBe(0);
    expect(s?.scoreInterval?.high).toBe(1);
    // Two attempts per scenario (the cancelled one does not count): pass@1 = mean of c/n.
    expect(s?.passAtK).toHaveLength(2);
    expect(s?.passAtK[0]).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12);
    expect(s?.passAtK[1]).toBeCloseTo((1 + 1 + 0) / 3, 12);
    expect(s?.passHatK[1]).toBeCloseTo(0, 12);
  });

  it("leaves infrastructure errors out of the second interval, and bootstraps from a seed on request", () => {
    const at = (scenario: string, status: TrialStatus, score: number | null) =>
      makeResult(ORACLE, status, score, { scenario_id: scenario });
    const results = [
      at("b/x", "passed", 1),
      at("b/x", "infra_error", null),
      at("b/y", "passed", 1),
      at("b/z", "infra_error", null),
      at("b/w", "failed", 0),
    ];
    const [s] = summarizeByAgent([ORACLE], results);
    // Errors as 0: scenario means 0.5, 1, 0, 0. Infrastructure errors left out: 1, 1, 0 (b/z has none).
    expect(s?.scoreInterval?.mean).toBeCloseTo(1.5 / 4, 12);
    expect(s?.scoreInterval?.n).toBe(4);
    expect(s?.scoreIntervalExcludingInfra?.mean).toBeCloseTo(2 / 3, 12);
    expect(s?.scoreIntervalExcludingInfra?.n).toBe(3);
    const boot = summarizeByAgent([ORACLE], results, { bootstrap: { seed: 5, iterations: 500 } });
    expect(boot[0]?.scoreInterval?.mean).toBeCloseTo(1.5 / 4, 12);
    expect(boot[0]?.scoreInterval).not.toEqual(s?.scoreInterval);
    expect(
      summarizeByAgent([ORACLE], results, { bootstrap: { seed: 5, iterations: 500 } }),
    ).toEqual(boot);
  });

  it("takes the p90 duration by nearest rank", () => {
    const results = Array.from({ length: 20 }, (_, i) =>
      makeResult(ORACLE, "passed", 1, { duration_ms: (20 - i) * 100 }),
    );
    expect(summarizeByAgent([ORACLE], results)[0]?.p90DurationMs).toBe(1800);
    expect(summarizeByAgent([ORACLE], results.slice(0, 1))[0]?.p90DurationMs).toBe(2000);
  });
});
