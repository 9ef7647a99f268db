import { describe, expect, it } from "vitest";
import type { TrialDigest } from "../../../src/core/digest.js";
import type { AgentRef, TrialStatus } from "../../../src/core/schemas.js";
import { flakyReport, scenarioMatrix } from "../../../src/report/flaky.js";
import { makeResult, NOP, ORACLE } from "../../helpers/factories.js";

function t(agent: AgentRef, scenario: string, attempt: number, status: TrialStatus): TrialDigest {
  const score = status === "passed" ? 1 : status === "failed" ? 0.5 : null;
  return makeResult(agent, status, score, {
    scenario_id: scenario,
    trial_id: `${scenario}__${agent.name}__${attempt}`,
    attempt,
  });
}

describe("scenarioMatrix", () => {
  it("counts attempts per scenario and agent, leaving out cancels and infrastructure errors", () => {
    const m = scenarioMatrix(
      [ORACLE, NOP],
      [
        t(NOP, "b/z", 1, "failed"),
        t(ORACLE, "b/z", 1, "passed"),
        t(ORACLE, "b/z", 2, "infra_error"),
        t(ORACLE, "b/a", 1, "passed"),
        t(ORACLE, "b/a", 2, "agent_error"),
        t(NOP, "b/a", 1, "cancelled"),
        t({ name: "stranger", model: null }, "b/q", 1, "passed"),
      ],
    );
    expect(m.scenarios).toEqual(["b/a", "b/z"]);
    expect(m.agents).toEqual(["oracle", "nop"]);
    expect(m.cells[0]).toEqual([
      { attempts: 2, passed: 1, meanScore: 0.5, consistency: "flaky", excluded: 0 },
      null,
    ]);
    expect(m.cells[1]).toEqual([
      { attempts: 1, passed: 1, meanScore: 1, consistency: "always_pass", excluded: 1 },
      { attempts: 1, passed: 0, meanScore: 0.5, consistency: "always_fail", excluded: 0 },
    ]);
  });
});

describe("flakyReport", () => {
  const results = [
    // b/flip flips for both agents: a likely broken scenario.
    ...[ORACLE, NOP].flatMap((a) => [t(a, "b/flip", 1, "passed"), t(a, "b/flip", 2, "failed")]),
    // b/hard: nobody ever passes it.
    ...[ORACLE, NOP].flatMap((a) => [t(a, "b/hard", 1, "failed"), t(a, "b/hard", 2, "failed")]),
    // b/easy: oracle always passes, nop flips.
    t(ORACLE, "b/easy", 1, "passed"),
    t(ORACLE, "b/easy", 2, "passed"),
    t(NOP, "b/easy", 1, "failed"),
    t(NOP, "b/easy", 2, "passed"),
  ];

  it("sorts every scenario per agent and names the ones that look broken across agents", () => {
    const r = flakyReport(scenarioMatrix([ORACLE, NOP], results));
    expect(r.perAgent).toEqual([
      { agent: "oracle", alwaysPass: ["b/easy"], alwaysFail: ["b/hard"], flaky: ["b/flip"] },
      { agent: "nop", alwaysPass: [], alwaysFail: ["b/hard"], flaky: ["b/easy", "b/flip"] },
    ]);
    expect(r.flakyForEveryAgent).toEqual(["b/flip"]);
    expect(r.failedByEveryAgent).toEqual(["b/hard"]);
    expect(r.repeated).toBe(true);
  });

  it("with one agent, failing everywhere is not called suspicious; single attempts cannot flip", () => {
    const single = flakyReport(
      scenarioMatrix([ORACLE], [t(ORACLE, "b/x", 1, "failed"), t(ORACLE, "b/y", 1, "passed")]),
    );
    expect(single.failedByEveryAgent).toEqual([]);
    expect(single.flakyForEveryAgent).toEqual([]);
    expect(single.repeated).toBe(false);
    expect(single.perAgent[0]).toEqual({
      agent: "oracle",
      alwaysPass: ["b/y"],
      alwaysFail: ["b/x"],
      flaky: [],
    });
  });
});
