import { describe, expect, it } from "vitest";
import type { JobEvent, JobSpec, TrialStatus } from "../../../src/core/schemas.js";
import { planTrials } from "../../../src/orchestrator/plan.js";
import {
  DEFAULT_RERUN,
  interruptedTries,
  planResume,
  resumeConflicts,
  tryToFile,
} from "../../../src/orchestrator/resume.js";
import { makeResult, NOP, ORACLE } from "../../helpers/factories.js";

const scenarios = [{ id: "b/a" }, { id: "b/b" }];
const trials = planTrials(scenarios, [ORACLE, NOP], 1);
const result = (trialId: string, status: TrialStatus) =>
  makeResult(trialId.includes("oracle") ? ORACLE : NOP, status, status === "passed" ? 1 : 0, {
    trial_id: trialId,
  });

describe("planResume", () => {
  it("keeps results that stand and runs the missing trials and the rerun statuses", () => {
    const results = [
      result("b_a__oracle__1", "passed"),
      result("b_a__nop__1", "cancelled"),
      result("b_b__oracle__1", "infra_error"),
    ];
    const plan = planResume(trials, results, new Set(DEFAULT_RERUN));
    expect(plan.keep.map((r) => r.trial_id)).toEqual(["b_a__oracle__1"]);
    expect(plan.run.map((r) => [r.planned.trialId, r.previous?.status ?? null])).toEqual([
      ["b_a__nop__1", "cancelled"],
      ["b_b__oracle__1", "infra_error"],
      ["b_b__nop__1", null],
    ]);
  });

  it("runs passed trials again only when asked, and drops results of trials the plan has not", () => {
    const results = [result("b_a__oracle__1", "passed"), result("gone__oracle__1", "failed")];
    expect(planResume(trials, results, new Set()).keep.map((r) => r.trial_id)).toEqual([
      "b_a__oracle__1",
    ]);
    const again = planResume(trials, results, new Set<TrialStatus>(["passed"]));
    expect(again.keep).toEqual([]);
    expect(again.run).toHaveLength(4);
  });
});

const ev = (seq: number, e: Record<string, unknown>): JobEvent =>
  ({ schema_version: 1, ts: `2026-01-01T00:00:0${seq}.000Z`, seq, ...e }) as JobEvent;

describe("interruptedTries", () => {
  it("finds trials started and not finished since the job's last start or resume, with their last phase", () => {
    const agent = ORACLE;
    const events = [
      ev(0, { type: "job_started", job_id: "j", n_trials: 3 }),
      ev(1, { type: "trial_started", trial_id: "old", scenario_id: "b/a", agent, attempt: 1 }),
      ev(2, { type: "job_resumed", job_id: "j", n_trials: 3, n_kept: 0, rerun: [] }),
      ev(3, { type: "trial_started", trial_id: "t1", scenario_id: "b/a", agent, attempt: 1 }),
      ev(4, { type: "phase_started", trial_id: "t1", phase: "agent_run" }),
      ev(5, { type: "trial_started", trial_id: "t2", scenario_id: "b/b", agent, attempt: 1 }),
      ev(6, {
        type: "trial_finished",
        trial_id: "t2",
        scenario_id: "b/b",
        agent,
        status: "passed",
        score: 1,
        duration_ms: 5,
      }),
      ev(7, { type: "trial_started", trial_id: "t3", scenario_id: "b/b", agent, attempt: 1 }),
    ];
    expect(Object.fromEntries(interruptedTries(events))).toEqual({
      t1: { startedAt: "2026-01-01T00:00:03.000Z", phase: "agent_run" },
      t3: { startedAt: "2026-01-01T00:00:07.000Z", phase: null },
    });
  });
});

describe("tryToFile", () => {
  const now = "2026-01-01T00:01:00.000Z";
  const cut = { startedAt: "2026-01-01T00:00:30.000Z", phase: "verify" as const };

  it("files a try a stopped runner cut off as cancelled, saying so, in the phase it was in", () => {
    expect(tryToFile(null, cut, new Set(), now)).toEqual({
      status: "cancelled",
      started_at: cut.startedAt,
      finished_at: now,
      duration_ms: 30_000,
      phases: {},
      exception: {
        type: "RunnerLostError",
        message: "the runner stopped while this try ran (killed, or its machine went down)",
        phase: "verify",
        occurred_at: now,
      },
      errors: [],
      backoff_ms: 0,
    });
  });

  it("files the last result's try when nothing was cut off, and nothing already filed", () => {
    const previous = { ...result("b_a__oracle__1", "infra_error"), started_at: cut.startedAt };
    expect(tryToFile(previous, null, new Set(), now)).toMatchObject({
      status: "infra_error",
      started_at: cut.startedAt,
    });
    expect(tryToFile(previous, null, new Set([cut.startedAt]), now)).toBeNull();
    expect(tryToFile(null, cut, new Set([cut.startedAt]), now)).toBeNull();
    expect(tryToFile(null, null, new Set(), now)).toBeNull();
  });

  it("a result written after the cut-off try started is that try's own", () => {
    const own = {
      ...result("b_a__oracle__1", "cancelled"),
      started_at: "2026-01-01T00:00:31.000Z",
    };
    expect(tryToFile(own, cut, new Set(), now)).toMatchObject({
      status: "cancelled",
      exception: null,
    });
  });
});

describe("resumeConflicts", () => {
  const spec = {
    scenarios: [
      { id: "b/a", name: "a", path: "/x/a", digest: `sha256:${"a".repeat(64)}` },
      { id: "b/b", name: "b", path: "/x/b", digest: `sha256:${"b".repeat(64)}` },
    ],
    agent_versions: { codex: "@openai/codex@0.171.0", oracle: "builtin" },
  } as unknown as JobSpec;

  it("is empty when every scenario and agent is as the job recorded", () => {
    expect(
      resumeConflicts(spec, spec.scenarios, { codex: "@openai/codex@0.171.0", oracle: "builtin" }),
    ).toEqual([]);
  });

  it("names changed and missing scenarios and changed agent versions", () => {
    const now = [{ id: "b/a", digest: `sha256:${"c".repeat(64)}` }];
    expect(resumeConflicts(spec, now, { codex: "@openai/codex@0.172.0" })).toEqual([
      `scenario b/a changed since the job started (${"a".repeat(12)} → ${"c".repeat(12)})`,
      "scenario b/b is gone",
      "agent codex is @openai/codex@0.172.0, the job ran @openai/codex@0.171.0",
    ]);
  });

  it("does not check agent versions of jobs recorded before they were kept", () => {
    const old = { ...spec, agent_versions: undefined } as JobSpec;
    expect(resumeConflicts(old, spec.scenarios, { codex: "anything" })).toEqual([]);
  });
});
