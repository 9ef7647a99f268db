import { describe, expect, it } from "vitest";
import type { JobEvent } from "../../../src/core/schemas.js";
import { eventLine } from "../../../src/report/live.js";
import { JOB_ID, NOP_M, ORACLE } from "../../helpers/factories.js";

const base = { schema_version: 1 as const, ts: "2024-05-01T12:00:00.000Z", seq: 0 };

describe("eventLine", () => {
  it("announces the job start with its trial count", () => {
    expect(eventLine({ ...base, type: "job_started", job_id: JOB_ID, n_trials: 6 }, 0, 6)).toBe(
      "job started: 6 trial(s)",
    );
  });

  it("prints a trial start with scenario, agent and attempt", () => {
    const e: JobEvent = {
      ...base,
      type: "trial_started",
      trial_id: "b_s__oracle__2",
      scenario_id: "b/s",
      agent: ORACLE,
      attempt: 2,
    };
    expect(eventLine(e, 0, 4)).toBe("[start] b/s oracle attempt 2");
  });

  it("prints agent:model for an agent with a model", () => {
    const e: JobEvent = {
      ...base,
      type: "trial_started",
      trial_id: "t",
      scenario_id: "b/s",
      agent: NOP_M,
      attempt: 1,
    };
    expect(eventLine(e, 0, 1)).toBe("[start] b/s nop:m attempt 1");
  });

  it("prints a retry with the failed try, the reason (escapes stripped) and the wait", () => {
    const e: JobEvent = {
      ...base,
      type: "trial_retrying",
      trial_id: "b_s__oracle__1",
      try: 1,
      delay_ms: 2345,
      reason: "container 1a2b stopped\u001b[2J while the command ran",
    };
    expect(eventLine(e, 0, 4)).toBe(
      "[retry] b_s__oracle__1 try 1 hit an infrastructure error (container 1a2b stopped while the command ran); try 2 in 2.3s",
    );
  });

  it("prints nothing for a phase start", () => {
    const e: JobEvent = { ...base, type: "phase_started", trial_id: "t", phase: "agent_run" };
    expect(eventLine(e, 0, 1)).toBeNull();
  });

  it("prints nothing for a phase that ended well", () => {
    const e: JobEvent = {
      ...base,
      type: "phase_finished",
      trial_id: "t",
      phase: "verify",
      outcome: "ok",
      duration_ms: 1500,
    };
    expect(eventLine(e, 0, 1)).toBeNull();
  });

  it.each([
    ["timeout", "agent_run", 1500, "[timeout] b_s__oracle__1 agent_run after 1.5s"],
    ["error", "provision", 42, "[error] b_s__oracle__1 provision after 0.0s"],
    ["cancelled", "verify", 61_250, "[cancelled] b_s__oracle__1 verify after 61.3s"],
  ] as const)("prints a phase that ended with %s", (outcome, phase, ms, text) => {
    const e: JobEvent = {
      ...base,
      type: "phase_finished",
      trial_id: "b_s__oracle__1",
      phase,
      outcome,
      duration_ms: ms,
    };
    expect(eventLine(e, 0, 1)).toBe(text);
  });

  it("prints a finished trial as trialLine does, with the counts it is given", () => {
    const e: JobEvent = {
      ...base,
      type: "trial_finished",
      trial_id: "t",
      scenario_id: "starter/x",
      agent: NOP_M,
      status: "failed",
      score: 0.25,
      duration_ms: 2_340,
    };
    expect(eventLine(e, 3, 26)).toBe("[3/26] failed starter/x nop:m score=0.25 2.3s");
  });

  it.each(["completed", "failed", "cancelled"] as const)(
    "prints the job's end: job %s",
    (state) => {
      expect(eventLine({ ...base, type: "job_finished", job_id: JOB_ID, state }, 1, 1)).toBe(
        `job ${state}`,
      );
    },
  );

  it("prints nothing for an event type this version does not know", () => {
    const e = { ...base, type: "sandbox_resized", trial_id: "t" } as unknown as JobEvent;
    expect(eventLine(e, 0, 1)).toBeNull();
  });

  it("strips escape sequences from scenario ids, agents and trial ids", () => {
    const started: JobEvent = {
      ...base,
      type: "trial_started",
      trial_id: "t",
      scenario_id: "b/\x1b[2Js\x1b]0;pwned\x07",
      agent: { name: "nop", model: "\x1b[31mm" },
      attempt: 1,
    };
    expect(eventLine(started, 0, 1)).toBe("[start] b/s nop:m attempt 1");
    const phase: JobEvent = {
      ...base,
      type: "phase_finished",
      trial_id: "b_\x1b[1Ks\rx",
      phase: "verify",
      outcome: "error",
      duration_ms: 0,
    };
    expect(eventLine(phase, 0, 1)).toBe("[error] b_sx verify after 0.0s");
    const finished: JobEvent = {
      ...base,
      type: "trial_finished",
      trial_id: "t",
      scenario_id: "b/\x1b[31ms\nnext",
      agent: ORACLE,
      status: "passed",
      score: 1,
      duration_ms: 0,
    };
    expect(eventLine(finished, 1, 1)).toBe("[1/1] passed b/s next oracle score=1.00 0.0s");
  });
});
