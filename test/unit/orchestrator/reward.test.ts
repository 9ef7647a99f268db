import { describe, expect, it } from "vitest";
import { parseReward } from "../../../src/orchestrator/reward.js";

function parseError(type: string, message: string) {
  return { ok: false, type, message };
}

describe("parseReward: reward.json", () => {
  it("reads reward.json before reward.txt", () => {
    expect(parseReward('{"reward": 0.5}', "1")).toEqual({
      ok: true,
      score: 0.5,
      rewards: { reward: 0.5 },
    });
  });

  it("takes the score from the 'reward' key and keeps every other value", () => {
    expect(parseReward('{"accuracy": 0.25, "reward": 1, "tests": 12}', null)).toEqual({
      ok: true,
      score: 1,
      rewards: { accuracy: 0.25, reward: 1, tests: 12 },
    });
  });

  it("takes the score from the only key when there is no 'reward' key", () => {
    expect(parseReward('{"accuracy": 0.25}', null)).toEqual({
      ok: true,
      score: 0.25,
      rewards: { accuracy: 0.25 },
    });
  });

  it("accepts integer 0 and 1", () => {
    expect(parseReward('{"reward": 0}', null)).toEqual({
      ok: true,
      score: 0,
      rewards: { reward: 0 },
    });
    expect(parseReward('{"reward": 1}', null)).toEqual({
      ok: true,
      score: 1,
      rewards: { reward: 1 },
    });
  });

  it("tolerates whitespace and a trailing newline around the JSON", () => {
    expect(parseReward('\n  {"reward": 0.75}\n', null)).toEqual({
      ok: true,
      score: 0.75,
      rewards: { reward: 0.75 },
    });
  });

  it("rejects several keys without 'reward'", () => {
    expect(parseReward('{"a": 1, "b": 0}', null)).toEqual(
      parseError("VerifierOutputParseError", 'reward.json has several keys and no "reward"'),
    );
  });

  it("rejects an empty object", () => {
    expect(parseReward("{}", null)).toEqual(
      parseError("VerifierOutputParseError", "reward.json has no values"),
    );
  });

  it.each(["", "   ", "\n"])(
    "reports an empty reward.json (%j) even when reward.txt is valid",
    (json) => {
      expect(parseReward(json, "1")).toEqual(
        parseError("RewardFileEmptyError", "reward.json is empty"),
      );
    },
  );

  it.each(["{reward: 1}", '{"reward": 1', "1 2", '{"reward": NaN}'])(
    "rejects invalid JSON %j",
    (json) => {
      expect(parseReward(json, null)).toEqual(
        parseError("VerifierOutputParseError", "reward.json is not valid JSON"),
      );
    },
  );

  it.each(["1", "[1]", "null", '"1"', "true"])("rejects JSON that is not an object: %s", (json) => {
    expect(parseReward(json, null)).toEqual(
      parseError("VerifierOutputParseError", "reward.json must be an object of numbers"),
    );
  });

  it.each([
    ['{"reward": "1"}', "reward"],
    ['{"reward": true}', "reward"],
    ['{"reward": null}', "reward"],
    ['{"reward": {"x": 1}}', "reward"],
    ['{"reward": 1, "note": "fine"}', "note"],
  ])("rejects a non-number value in %s", (json, key) => {
    expect(parseReward(json, null)).toEqual(
      parseError("VerifierOutputParseError", `reward.json: "${key}" is not a number`),
    );
  });

  it("rejects a value that overflows to Infinity", () => {
    expect(parseReward('{"reward": 1e400}', null)).toEqual(
      parseError("VerifierOutputParseError", 'reward.json: "reward" is not a number'),
    );
  });

  it.each([
    ["1.5", "1.5"],
    ["-0.5", "-0.5"],
    ["2", "2"],
  ])("rejects a reward of %s outside [0, 1]", (value, shown) => {
    expect(parseReward(`{"reward": ${value}}`, null)).toEqual(
      parseError("VerifierOutputParseError", `reward.json: reward ${shown} is outside [0, 1]`),
    );
  });

  it("checks the range of the only key too", () => {
    expect(parseReward('{"accuracy": 42}', null)).toEqual(
      parseError("VerifierOutputParseError", "reward.json: reward 42 is outside [0, 1]"),
    );
  });

  it("does not range-check values other than the score", () => {
    expect(parseReward('{"reward": 0, "tests_passed": 17}', null)).toEqual({
      ok: true,
      score: 0,
      rewards: { reward: 0, tests_passed: 17 },
    });
  });
});

describe("parseReward: reward.txt", () => {
  it("reads a number followed by a newline", () => {
    expect(parseReward(null, "1\n")).toEqual({ ok: true, score: 1, rewards: { reward: 1 } });
  });

  it("trims surrounding whitespace", () => {
    expect(parseReward(null, "  0.75 \t\n\n")).toEqual({
      ok: true,
      score: 0.75,
      rewards: { reward: 0.75 },
    });
  });

  it.each([
    ["0", 0],
    ["0.0", 0],
    [".5", 0.5],
    ["1.", 1],
    ["1e-1", 0.1],
    ["+1", 1],
    ["1.000", 1],
  ])("reads %j as %s", (txt, score) => {
    expect(parseReward(null, txt)).toEqual({ ok: true, score, rewards: { reward: score } });
  });

  it.each(["", " ", "\n\n"])("reports an empty reward.txt (%j)", (txt) => {
    expect(parseReward(null, txt)).toEqual(
      parseError("RewardFileEmptyError", "reward.txt is empty"),
    );
  });

  it.each([
    ["abc", '"abc"'],
    ["NaN", '"NaN"'],
    ["Infinity", '"Infinity"'],
    ["0x1", '"0x1"'],
    ["1 2", '"1 2"'],
    ["1\n0", '"1\\n0"'],
    ["1,0", '"1,0"'],
    ["reward: 1", '"reward: 1"'],
  ])("rejects %j, which is not a number", (txt, shown) => {
    expect(parseReward(null, txt)).toEqual(
      parseError("VerifierOutputParseError", `reward.txt is not a number: ${shown}`),
    );
  });

  it("quotes at most the first 40 characters of a non-number", () => {
    const txt = `${"x".repeat(40)}TAIL`;
    expect(parseReward(null, txt)).toEqual(
      parseError("VerifierOutputParseError", `reward.txt is not a number: "${"x".repeat(40)}"`),
    );
  });

  it.each([
    ["2", "2"],
    ["-0.1", "-0.1"],
    ["1.0001", "1.0001"],
    ["1e400", "Infinity"],
  ])("rejects %s outside [0, 1]", (txt, shown) => {
    expect(parseReward(null, txt)).toEqual(
      parseError("VerifierOutputParseError", `reward.txt: reward ${shown} is outside [0, 1]`),
    );
  });
});

describe("parseReward: no file", () => {
  it("reports that neither file was written", () => {
    expect(parseReward(null, null)).toEqual(
      parseError(
        "RewardFileNotFoundError",
        "the verifier wrote neither /logs/verifier/reward.json nor /logs/verifier/reward.txt",
      ),
    );
  });
});
