import { describe, expect, it } from "vitest";
import type { TrialDigest } from "../../../src/core/digest.js";
import { scenarioTallies, trialsByAgent } from "../../../src/core/tally.js";
import { summarizeByAgent } from "../../../src/report/summary.js";
import { makeResult, NOP, ORACLE } from "../../helpers/factories.js";

const at = (
  agent: typeof ORACLE,
  scenario: string,
  status: TrialDigest["status"],
  score: number | null,
) => makeResult(agent, status, score, { scenario_id: scenario });

describe("scenarioTallies", () => {
  it("counts attempts, passes and scores per scenario; cancels apart, infrastructure errors marked", () => {
    const t = scenarioTallies([
      at(ORACLE, "b/x", "passed", 1),
      at(ORACLE, "b/x", "failed", 0.5),
      at(ORACLE, "b/x", "infra_error", null),
      at(ORACLE, "b/y", "cancelled", null),
    ]);
    expect([...t.keys()]).toEqual(["b/x", "b/y"]);
    expect(t.get("b/x")).toEqual({ n: 3, c: 1, sum: 1.5, infra: 1, infraSum: 0, cancelled: 0 });
    expect(t.get("b/y")).toEqual({ n: 0, c: 0, sum: 0, infra: 0, infraSum: 0, cancelled: 1 });
  });

  it("gives the same answer for the same array, and counts again once the array has grown", () => {
    const results: TrialDigest[] = [at(ORACLE, "b/x", "passed", 1), at(NOP, "b/x", "failed", 0)];
    const first = trialsByAgent(results);
    expect(trialsByAgent(results)).toBe(first);
    expect(scenarioTallies(first.get("oracle")!)).toBe(scenarioTallies(first.get("oracle")!));
    expect(summarizeByAgent([ORACLE], results)).toBe(summarizeByAgent([ORACLE], results));
    results.push(at(ORACLE, "b/y", "failed", 0));
    expect(trialsByAgent(results).get("oracle")).toHaveLength(2);
    expect(summarizeByAgent([ORACLE], results)[0]?.total).toBe(2);
    expect(summarizeByAgent([ORACLE], results)[0]?.scoreInterval?.n).toBe(2);
  });
});
