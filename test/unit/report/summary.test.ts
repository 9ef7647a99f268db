import { describe, expect, it } from "vitest";
import { makeJob } from "../../helpers/factories.js";
import type { AgentRef, TrialResult, TrialStatus } from "../../../src/core/schemas.js";
import { UNKNOWN_USAGE } from "../../../src/core/schemas.js";
import { jobDocument, summarizeByAgent } from "../../../src/report/summary.js";

const ORACLE: AgentRef = { name: "oracle", model: null };
const NOP: AgentRef = { name: "nop", model: null };
const NOP_M: AgentRef = { name: "nop", model: "m" };

const ZERO_BY_STATUS = {
  passed: 0,
  failed: 0,
  agent_timeout: 0,
  agent_error: 0,
  infra_error: 0,
  verifier_error: 0,
  cancelled: 0,
};

let seq = 0;
function makeResult(
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
  over: Partial<TrialResult> = {},
): TrialResult {
  seq++;
  return {
    schema_version: 1,
    trial_id: `b_s${seq}__${agent.name}__1`,
    job_id: "job_1",
    scenario_id: `b/s${seq}`,
    scenario_digest: `sha256:${"0".repeat(64)}`,
    agent,
    attempt: 1,
    status,
    score,
    rewards: score === null ? null : { reward: score },
    started_at: "2024-05-01T12:00:00.000Z",
    finished_at: "2024-05-01T12:00:01.000Z",
    duration_ms: 1000,
    phases: {},
    agent_exit_code: 0,
    usage: UNKNOWN_USAGE,
    exception: null,
    errors: [],
    logs_dir: "logs",
    ...over,
  };
}

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

describe("jobDocument", () => {
  it("copies the job's identity, state, times and spec", () => {
    const job = makeJob([ORACLE], { state: "failed", failure_reason: "boom" });
    const doc = jobDocument(job, []);
    expect(doc).toMatchObject({
      schema_version: 1,
      id: "job_20240501_120000_abcdef",
      name: "nightly",
      state: "failed",
      created_at: "2024-05-01T12:00:00.000Z",
      finished_at: "2024-05-01T12:10:00.000Z",
      failure_reason: "boom",
    });
    expect(doc.spec).toBe(job.spec);
  });

  it("summarises each agent with snake_case fields", () => {
    const results = [
      makeResult(NOP_M, "passed", 1, { duration_ms: 10 }),
      makeResult(NOP_M, "failed", 0, { duration_ms: 30 }),
      makeResult(NOP_M, "infra_error", null, { duration_ms: 20 }),
    ];
    const doc = jobDocument(makeJob([NOP_M, ORACLE]), results);
    expect(doc.agents).toEqual([
      {
        agent: "nop",
        model: "m",
        n_trials: 3,
        n_passed: 1,
        n_failed: 1,
        n_errors: 1,
        by_status: { ...ZERO_BY_STATUS, passed: 1, failed: 1, infra_error: 1 },
        mean_score: 0.5,
        mean_score_errors_as_zero: 1 / 3,
        median_duration_ms: 20,
      },
      {
        agent: "oracle",
        model: null,
        n_trials: 0,
        n_passed: 0,
        n_failed: 0,
        n_errors: 0,
        by_status: ZERO_BY_STATUS,
        mean_score: null,
        mean_score_errors_as_zero: null,
        median_duration_ms: null,
      },
    ]);
  });

  it("lists trials sorted by trial id without reordering the input", () => {
    const c = makeResult(ORACLE, "passed", 1, { trial_id: "c" });
    const a = makeResult(ORACLE, "passed", 1, { trial_id: "a" });
    const b = makeResult(ORACLE, "passed", 1, { trial_id: "b" });
    const input = [c, a, b];
    const doc = jobDocument(makeJob([ORACLE]), input);
    expect(doc.trials.map((t) => t.trial_id)).toEqual(["a", "b", "c"]);
    expect(input.map((t) => t.trial_id)).toEqual(["c", "a", "b"]);
  });

  it("round-trips through JSON", () => {
    const doc = jobDocument(makeJob([ORACLE]), [makeResult(ORACLE, "passed", 1)]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
