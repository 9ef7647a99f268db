export type RewardOutcome =
  | { ok: true; score: number; rewards: Record<string, number> }
  | {
      ok: false;
      type: "RewardFileNotFoundError" | "RewardFileEmptyError" | "VerifierOutputParseError";
      message: string;
    };

function checkScore(score: number, source: string, rewards: Record<string, number>): RewardOutcome {
  if (!Number.isFinite(score) || score < 0 || score > 1) {
    return {
      ok: false,
      type: "VerifierOutputParseError",
      message: `${source}: reward ${score} is outside [0, 1]`,
    };
  }
  return { ok: true, score, rewards };
}

/**
 * The verifier's reward, Harbor's way: reward.json first (a flat map of numbers; the score is its
 * "reward" key, or its only key), then reward.txt (one number). The test script's exit code is ignored.
 */
export function parseReward(json: string | null, txt: string | null): RewardOutcome {
  if (json !== null) {
    if (json.trim() === "")
      return { ok: false, type: "RewardFileEmptyError", message: "reward.json is empty" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return {
        ok: false,
        type: "VerifierOutputParseError",
        message: "reward.json is not valid JSON",
      };
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return {
        ok: false,
        type: "VerifierOutputParseError",
        message: "reward.json must be an object of numbers",
      };
    }
    const rewards: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        return {
          ok: false,
          type: "VerifierOutputParseError",
          message: `reward.json: "${k}" is not a number`,
        };
      }
      rewards[k] = v;
    }
    const keys = Object.keys(rewards);
    const main =
      "reward" in rewards ? rewards.reward : keys.length === 1 ? rewards[keys[0]!] : undefined;
    if (main === undefined) {
      return {
        ok: false,
        type: "VerifierOutputParseError",
        message:
          keys.length === 0
            ? "reward.json has no values"
            : 'reward.json has several keys and no "reward"',
      };
    }
    return checkScore(main, "reward.json", rewards);
  }
  if (txt !== null) {
    const text = txt.trim();
    if (text === "")
      return { ok: false, type: "RewardFileEmptyError", message: "reward.txt is empty" };
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
      return {
        ok: false,
        type: "VerifierOutputParseError",
        message: `reward.txt is not a number: ${JSON.stringify(text.slice(0, 40))}`,
      };
    }
    const score = Number(text);
    return checkScore(score, "reward.txt", { reward: score });
  }
  return {
    ok: false,
    type: "RewardFileNotFoundError",
    message: "the verifier wrote neither /logs/verifier/reward.json nor /logs/verifier/reward.txt",
  };
}
