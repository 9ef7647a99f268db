import { describe, expect, it } from "vitest";
import type { AgentRef, JobEvent, TrialStatus } from "../../../src/core/schemas.js";
import { applyEvent, emptyProgress } from "../../../src/report/progress.js";
import { NOP_M, ORACLE } from "../../helpers/factories.js";

let seq = 0;
const base = (ts = "2024-05-01T12:00:00.000Z") => ({ schema_version: 1 as const, ts, seq: seq++ });

const jobStarted = (n: number, ts?: string): JobEvent => ({
  ...base(ts),
  type: "job_started",
  job_id: "j",
  n_trials: n,
});
const trialStarted = (trialId: string, agent: AgentRef, ts?: string): JobEvent => ({
  ...base(ts),
  type: "trial_started",
  trial_id: trialId,
  scenario_id: "b/s",
  agent,
  attempt: 1,
});
const phaseStarted = (trialId: string, phase: "agent_run" | "verify"): JobEvent => ({
  ...base(),
  type: "phase_started",
  trial_id: trialId,
  phase,
});
const trialFinished = (
  trialId: string,
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
): JobEvent => ({
  ...base(),
  type: "trial_finished",
  trial_id: trialId,
  scenario_id: "b/s",
  agent,
  status,
  score,
  duration_ms: 10,
});

describe("emptyProgress", () => {
  it("starts with one zeroed entry per agent label, running, with no start time", () => {
    const p = emptyProgress([ORACLE, NOP_M], 4);
    expect(p.totalTrials).toBe(4);
    expect(p.state).toBe("running");
    expect(p.startedAtMs).toBeNull();
    expect(p.finished).toBe(0);
    expect(p.running.size).toBe(0);
    expect([...p.agents.entries()]).toEqual([
      ["oracle", { agent: "oracle", done: 0, running: 0, scoreSum: 0, scored: 0, byStatus: {} }],
      ["nop:m", { agent: "nop:m", done: 0, running: 0, scoreSum: 0, scored: 0, byStatus: {} }],
    ]);
  });
});

describe("applyEvent", () => {
  it("returns the same (mutated) progress object", () => {
    const p = emptyProgress([ORACLE], 1);
    expect(applyEvent(p, jobStarted(1))).toBe(p);
  });

  it("job_started sets the trial count and the start time", () => {
    const p = applyEvent(emptyProgress([ORACLE], 0), jobStarted(6, "2024-05-01T12:00:03.500Z"));
    expect(p.totalTrials).toBe(6);
    expect(p.startedAtMs).toBe(Date.parse("2024-05-01T12:00:03.500Z"));
  });

  it("trial_started records a running trial with no phase yet", () => {
    const p = applyEvent(
      emptyProgress([ORACLE], 1),
      trialStarted("t1", ORACLE, "2024-05-01T12:00:01.000Z"),
    );
    expect(p.running.get("t1")).toEqual({
      trialId: "t1",
      scenarioId: "b/s",
      agent: "oracle",
      phase: null,
      startedAtMs: Date.parse("2024-05-01T12:00:01.000Z"),
      retries: 0,
    });
    expect(p.agents.get("oracle")?.running).toBe(1);
  });

  it("phase_started sets the running trial's phase", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialStarted("t1", ORACLE));
    applyEvent(p, phaseStarted("t1", "agent_run"));
    expect(p.running.get("t1")?.phase).toBe("agent_run");
    applyEvent(p, phaseStarted("t1", "verify"));
    expect(p.running.get("t1")?.phase).toBe("verify");
  });

  it("phase_started for an unknown trial changes nothing", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, phaseStarted("ghost", "verify"));
    expect(p.running.size).toBe(0);
  });

  it("trial_finished moves a trial from running to done and records status and score", () => {
    const p = emptyProgress([ORACLE], 2);
    applyEvent(p, trialStarted("t1", ORACLE));
    applyEvent(p, trialFinished("t1", ORACLE, "failed", 0.25));
    expect(p.running.has("t1")).toBe(false);
    expect(p.finished).toBe(1);
    expect(p.agents.get("oracle")).toEqual({
      agent: "oracle",
      done: 1,
      running: 0,
      scoreSum: 0.25,
      scored: 1,
      byStatus: { failed: 1 },
    });
  });

  it("trial_finished without a score counts the trial but not a score", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialStarted("t1", ORACLE));
    applyEvent(p, trialFinished("t1", ORACLE, "agent_error", null));
    expect(p.agents.get("oracle")).toMatchObject({ done: 1, scored: 0, scoreSum: 0 });
    expect(p.agents.get("oracle")?.byStatus).toEqual({ agent_error: 1 });
  });

  it("a trial cancelled before it started does not make running negative", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialFinished("t1", ORACLE, "cancelled", null));
    expect(p.agents.get("oracle")).toMatchObject({ done: 1, running: 0 });
    expect(p.finished).toBe(1);
  });

  it("accumulates several trials per agent and keeps agents apart", () => {
    const p = emptyProgress([ORACLE, NOP_M], 4);
    for (const e of [
      trialStarted("a", ORACLE),
      trialStarted("b", NOP_M),
      trialStarted("c", ORACLE),
      trialFinished("a", ORACLE, "passed", 1),
      trialFinished("c", ORACLE, "passed", 1),
      trialFinished("b", NOP_M, "failed", 0),
    ])
      applyEvent(p, e);
    expect(p.agents.get("oracle")).toEqual({
      agent: "oracle",
      done: 2,
      running: 0,
      scoreSum: 2,
      scored: 2,
      byStatus: { passed: 2 },
    });
    expect(p.agents.get("nop:m")).toMatchObject({ done: 1, byStatus: { failed: 1 }, scored: 1 });
    expect(p.finished).toBe(3);
  });

  it("adds an agent it has not seen before", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialStarted("t1", NOP_M));
    expect(p.agents.get("nop:m")).toMatchObject({ agent: "nop:m", running: 1 });
    expect([...p.agents.keys()]).toEqual(["oracle", "nop:m"]);
  });

  it("job_finished sets the job's final state", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, { ...base(), type: "job_finished", job_id: "j", state: "cancelled" });
    expect(p.state).toBe("cancelled");
  });

  it("ignores phase_finished and unknown event types", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialStarted("t1", ORACLE));
    const before = structuredClone({ ...p, agents: [...p.agents], running: [...p.running] });
    applyEvent(p, {
      ...base(),
      type: "phase_finished",
      trial_id: "t1",
      phase: "verify",
      outcome: "ok",
      duration_ms: 5,
    });
    applyEvent(p, { ...base(), type: "from_the_future" } as unknown as JobEvent);
    expect({ ...p, agents: [...p.agents], running: [...p.running] }).toEqual(before);
  });
});

describe("applyEvent on a retry", () => {
  it("keeps the trial running, counts its retries and forgets the failed try's phase", () => {
    const p = emptyProgress([ORACLE], 1);
    applyEvent(p, trialStarted("t1", ORACLE));
    applyEvent(p, phaseStarted("t1", "agent_run"));
    applyEvent(p, {
      ...base(),
      type: "trial_retrying",
      trial_id: "t1",
      try: 1,
      delay_ms: 10,
      reason: "lost",
    });
    expect(p.running.get("t1")).toMatchObject({ phase: null, retries: 1 });
    expect(p.agents.get("oracle")).toMatchObject({ running: 1, done: 0 });
    expect(p.finished).toBe(0);
  });
});

describe("applyEvent on a resume", () => {
  it("forgets the stopped runner's running trials and the outcomes of the trials that run again", () => {
    const p = emptyProgress([ORACLE], 3);
    applyEvent(p, trialStarted("t1", ORACLE));
    applyEvent(p, trialFinished("t1", ORACLE, "cancelled", null));
    applyEvent(p, trialStarted("t2", ORACLE));
    applyEvent(p, trialFinished("t2", ORACLE, "passed", 1));
    applyEvent(p, trialStarted("t3", ORACLE));
    applyEvent(p, {
      ...base(),
      type: "job_resumed",
      job_id: "j",
      n_trials: 3,
      n_kept: 1,
      rerun: ["t1"],
    });
    expect(p.running.size).toBe(0);
    expect(p.finished).toBe(1);
    expect(p.agents.get("oracle")).toMatchObject({
      done: 1,
      running: 0,
      scored: 1,
      scoreSum: 1,
      byStatus: { cancelled: 0, passed: 1 },
    });
  });
});
