import { describe, expect, it } from "vitest";
import { planTrials } from "../../../src/orchestrator/plan.js";
import { NOP, ORACLE } from "../../helpers/factories.js";

function scenario(id: string, extra = 0) {
  return { id, extra };
}

/** `attempt scenario agent` per trial, to compare orderings compactly. */
function shape(trials: ReturnType<typeof planTrials>) {
  return trials.map((t) => `${t.attempt} ${t.scenario.id} ${t.agent.name}`);
}

describe("planTrials", () => {
  it("plans attempts × scenarios × agents trials", () => {
    const trials = planTrials(
      [scenario("b/s1"), scenario("b/s2"), scenario("b/s3")],
      [ORACLE, NOP],
      2,
    );
    expect(trials).toHaveLength(12);
  });

  it("orders attempts outermost, then scenarios, with agents innermost", () => {
    const trials = planTrials([scenario("b/s1"), scenario("b/s2")], [ORACLE, NOP], 2);
    expect(shape(trials)).toEqual([
      "1 b/s1 oracle",
      "1 b/s1 nop",
      "1 b/s2 oracle",
      "1 b/s2 nop",
      "2 b/s1 oracle",
      "2 b/s1 nop",
      "2 b/s2 oracle",
      "2 b/s2 nop",
    ]);
  });

  it("keeps the given order of scenarios and agents (does not sort)", () => {
    const trials = planTrials([scenario("b/z"), scenario("b/a")], [NOP, ORACLE], 1);
    expect(shape(trials)).toEqual(["1 b/z nop", "1 b/z oracle", "1 b/a nop", "1 b/a oracle"]);
  });

  it("numbers attempts from 1", () => {
    const trials = planTrials([scenario("b/s")], [ORACLE], 3);
    expect(trials.map((t) => t.attempt)).toEqual([1, 2, 3]);
  });

  it("gives each trial the id trialId(scenario, agent, attempt)", () => {
    const trials = planTrials(
      [scenario("starter/hello")],
      [ORACLE, { name: "nop", model: "m/x" }],
      2,
    );
    expect(trials.map((t) => t.trialId)).toEqual([
      "starter_hello__oracle__1",
      "starter_hello__nop-m_x__1",
      "starter_hello__oracle__2",
      "starter_hello__nop-m_x__2",
    ]);
  });

  it("gives every trial a unique id", () => {
    const trials = planTrials(
      [scenario("b/s1"), scenario("b/s2"), scenario("c/s1")],
      [ORACLE, NOP, { name: "oracle", model: "m1" }, { name: "oracle", model: "m2" }],
      3,
    );
    expect(new Set(trials.map((t) => t.trialId)).size).toBe(trials.length);
  });

  it("keeps agents whose models differ only in punctuation apart (distinct trial ids)", () => {
    // parseAgentSpecs accepts both as different agents, so they must not share trial ids
    // (the store keys result.json by trial id).
    const trials = planTrials(
      [scenario("b/s")],
      [
        { name: "oracle", model: "org/model" },
        { name: "oracle", model: "org_model" },
      ],
      1,
    );
    expect(new Set(trials.map((t) => t.trialId)).size).toBe(2);
  });

  it("passes the scenario object through by reference", () => {
    const s = scenario("b/s", 42);
    const [t] = planTrials([s], [ORACLE], 1);
    expect(t?.scenario).toBe(s);
    expect(t?.agent).toBe(ORACLE);
  });

  it("plans nothing for zero attempts, no scenarios or no agents", () => {
    expect(planTrials([scenario("b/s")], [ORACLE], 0)).toEqual([]);
    expect(planTrials([], [ORACLE], 2)).toEqual([]);
    expect(planTrials([scenario("b/s")], [], 2)).toEqual([]);
  });
});
