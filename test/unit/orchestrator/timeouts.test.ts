import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/benchmarks/task.js";
import { PHASES } from "../../../src/core/schemas.js";
import {
  AGENT_SETUP_TIMEOUT_SEC,
  DEFAULT_AGENT_TIMEOUT_SEC,
  killGraceMs,
  phaseTimeouts,
} from "../../../src/orchestrator/timeouts.js";

function makeTask(
  opts: {
    agentTimeoutSec?: number | null;
    verifierTimeoutSec?: number;
    buildTimeoutSec?: number;
  } = {},
): Task {
  return {
    id: "b/t",
    name: "b/t",
    dir: "/tmp/b/t",
    instruction: "do it",
    environment: { kind: "host", workdir: "/app" },
    agent: { timeoutSec: opts.agentTimeoutSec ?? null, network: "public" },
    verifier: { timeoutSec: opts.verifierTimeoutSec ?? 600, network: "no-network", env: {} },
    solution: { dir: null, env: {} },
    buildTimeoutSec: opts.buildTimeoutSec ?? 600,
    testsDir: "/tmp/b/t/tests",
    metadata: {},
    digest: `sha256:${"0".repeat(64)}`,
  };
}

describe("constants", () => {
  it("default agent timeout is Runloop's 7200 s and agent setup gets 360 s", () => {
    expect(DEFAULT_AGENT_TIMEOUT_SEC).toBe(7200);
    expect(AGENT_SETUP_TIMEOUT_SEC).toBe(360);
  });
});

describe("phaseTimeouts", () => {
  it("returns every phase's timeout in ms, from the task and the fixed housekeeping budgets", () => {
    const t = phaseTimeouts(
      makeTask({ agentTimeoutSec: 60, verifierTimeoutSec: 30, buildTimeoutSec: 90 }),
      {
        agentTimeoutSec: null,
        multiplier: 1,
      },
    );
    expect(t).toEqual({
      provision: 90_000,
      agent_setup: 360_000,
      agent_run: 60_000,
      upload_tests: 120_000,
      verify: 30_000,
      collect: 120_000,
      teardown: 120_000,
    });
  });

  it("has exactly one entry per phase", () => {
    const t = phaseTimeouts(makeTask(), { agentTimeoutSec: null, multiplier: 1 });
    expect(Object.keys(t).sort()).toEqual([...PHASES].sort());
  });

  it("uses the task's [agent].timeout_sec when --timeout is not given", () => {
    const t = phaseTimeouts(makeTask({ agentTimeoutSec: 45 }), {
      agentTimeoutSec: null,
      multiplier: 1,
    });
    expect(t.agent_run).toBe(45_000);
  });

  it("lets --timeout override the task's agent timeout, larger or smaller", () => {
    const task = makeTask({ agentTimeoutSec: 45 });
    expect(phaseTimeouts(task, { agentTimeoutSec: 10, multiplier: 1 }).agent_run).toBe(10_000);
    expect(phaseTimeouts(task, { agentTimeoutSec: 900, multiplier: 1 }).agent_run).toBe(900_000);
  });

  it("falls back to 7200 s when neither --timeout nor the task sets one", () => {
    const t = phaseTimeouts(makeTask({ agentTimeoutSec: null }), {
      agentTimeoutSec: null,
      multiplier: 1,
    });
    expect(t.agent_run).toBe(7_200_000);
  });

  it("--timeout does not change the other phases", () => {
    const task = makeTask({ agentTimeoutSec: 45 });
    const a = phaseTimeouts(task, { agentTimeoutSec: null, multiplier: 1 });
    const b = phaseTimeouts(task, { agentTimeoutSec: 5, multiplier: 1 });
    expect({ ...b, agent_run: a.agent_run }).toEqual(a);
  });

  it("scales every phase by the multiplier", () => {
    const t = phaseTimeouts(
      makeTask({ agentTimeoutSec: 60, verifierTimeoutSec: 30, buildTimeoutSec: 90 }),
      {
        agentTimeoutSec: null,
        multiplier: 2,
      },
    );
    expect(t).toEqual({
      provision: 180_000,
      agent_setup: 720_000,
      agent_run: 120_000,
      upload_tests: 240_000,
      verify: 60_000,
      collect: 240_000,
      teardown: 240_000,
    });
  });

  it("scales --timeout and the 7200 s default by the multiplier too", () => {
    expect(phaseTimeouts(makeTask(), { agentTimeoutSec: 10, multiplier: 0.5 }).agent_run).toBe(
      5_000,
    );
    expect(phaseTimeouts(makeTask(), { agentTimeoutSec: null, multiplier: 1.5 }).agent_run).toBe(
      10_800_000,
    );
  });

  it("rounds fractional seconds to whole milliseconds", () => {
    const t = phaseTimeouts(makeTask(), { agentTimeoutSec: 1.2345, multiplier: 1 });
    expect(t.agent_run).toBe(1235);
  });

  it("never returns less than 1 ms", () => {
    const t = phaseTimeouts(makeTask({ verifierTimeoutSec: 1 }), {
      agentTimeoutSec: 1,
      multiplier: 1e-7,
    });
    expect(t.agent_run).toBe(1);
    expect(t.verify).toBe(1);
    expect(t.teardown).toBe(1);
  });
});

describe("killGraceMs", () => {
  it("is 10 s for an unbounded phase", () => {
    expect(killGraceMs(null)).toBe(10_000);
  });

  it("is 10% of the timeout between the bounds", () => {
    expect(killGraceMs(6_000)).toBe(600);
    expect(killGraceMs(54_321)).toBe(5_432);
    expect(killGraceMs(99_990)).toBe(9_999);
  });

  it("is at least 0.5 s", () => {
    expect(killGraceMs(1)).toBe(500);
    expect(killGraceMs(1_000)).toBe(500);
    expect(killGraceMs(5_000)).toBe(500);
  });

  it("is at most 10 s", () => {
    expect(killGraceMs(100_000)).toBe(10_000);
    expect(killGraceMs(7_200_000)).toBe(10_000);
  });
});
