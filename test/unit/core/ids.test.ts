import { afterEach, describe, expect, it, vi } from "vitest";
import { agentLabel, newJobId, safeSegment, trialId } from "../../../src/core/ids.js";

const JOB_ID = /^job_(\d{8})_(\d{6})_([0-9a-f]{6})$/;

afterEach(() => {
  vi.useRealTimers();
});

describe("newJobId", () => {
  it("formats a fixed UTC date as job_<yyyymmdd>_<hhmmss>_<6 hex>", () => {
    const id = newJobId(new Date("2024-05-01T12:34:56.789Z"));
    expect(id).toMatch(/^job_20240501_123456_[0-9a-f]{6}$/);
  });

  it("uses UTC, not the offset the date was written with", () => {
    const id = newJobId(new Date("2024-05-01T23:30:07-02:00"));
    expect(id.slice(0, 20)).toBe("job_20240502_013007_");
  });

  it("pads single-digit months, days, hours, minutes and seconds", () => {
    const id = newJobId(new Date("2025-01-02T03:04:05.000Z"));
    expect(id.slice(0, 20)).toBe("job_20250102_030405_");
  });

  it("uses the current time when no date is given", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2030-12-31T23:59:58.000Z"));
    expect(newJobId().slice(0, 20)).toBe("job_20301231_235958_");
  });

  it("gives different ids to jobs created in the same second", () => {
    const now = new Date("2024-05-01T12:00:00.000Z");
    const ids = new Set(Array.from({ length: 50 }, () => newJobId(now)));
    expect(ids.size).toBeGreaterThan(1);
    for (const id of ids) expect(id).toMatch(JOB_ID);
  });

  it("sorts lexicographically in creation order across seconds, days, months and years", () => {
    const dates = [
      "2023-12-31T23:59:59.999Z",
      "2024-01-01T00:00:00.000Z",
      "2024-01-01T00:00:09.000Z",
      "2024-01-01T00:00:10.000Z",
      "2024-01-01T09:59:59.000Z",
      "2024-01-01T10:00:00.000Z",
      "2024-01-09T00:00:00.000Z",
      "2024-01-10T00:00:00.000Z",
      "2024-09-30T00:00:00.000Z",
      "2024-10-01T00:00:00.000Z",
    ].map((s) => new Date(s));
    const ids = dates.map((d) => newJobId(d));
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("safeSegment", () => {
  it("leaves letters, digits, dot, underscore and dash alone", () => {
    expect(safeSegment("Ab-9_x.y")).toBe("Ab-9_x.y");
  });

  it("replaces each run of unsafe characters with one underscore", () => {
    expect(safeSegment("a/b c")).toBe("a_b_c");
    expect(safeSegment("a//:b")).toBe("a_b");
    expect(safeSegment("héllo wörld")).toBe("h_llo_w_rld");
  });

  it("replaces leading dots so that a segment is never . or .. or hidden", () => {
    expect(safeSegment(".")).toBe("_");
    expect(safeSegment("..")).toBe("_");
    expect(safeSegment(".hidden")).toBe("_hidden");
    expect(safeSegment("../etc")).toBe("__etc");
  });

  it("keeps dots that are not leading", () => {
    expect(safeSegment("gpt-4.1")).toBe("gpt-4.1");
  });
});

describe("trialId", () => {
  it("joins the sanitised scenario, agent and attempt with double underscores", () => {
    expect(trialId("starter/hello", { name: "oracle", model: null }, 1)).toBe(
      "starter_hello__oracle__1",
    );
  });

  it("joins agent and model with a dash and sanitises the model", () => {
    expect(
      trialId("starter/fix-csv", { name: "claude-code", model: "anthropic/claude-sonnet-4" }, 3),
    ).toBe("starter_fix-csv__claude-code-anthropic_claude-sonnet-4__3");
  });

  it("sanitises a model that contains a colon", () => {
    expect(trialId("b/s", { name: "oracle", model: "a:b" }, 2)).toBe("b_s__oracle-a_b__2");
  });

  it("is stable: the same inputs give the same id", () => {
    const agent = { name: "nop", model: "m" };
    expect(trialId("b/s", agent, 1)).toBe(trialId("b/s", { ...agent }, 1));
  });

  it("differs by attempt", () => {
    const agent = { name: "nop", model: null };
    expect(trialId("b/s", agent, 1)).not.toBe(trialId("b/s", agent, 2));
  });

  it("never contains a path separator", () => {
    const id = trialId("../../etc/passwd", { name: "nop", model: "../x" }, 1);
    expect(id).toBe("__.._etc_passwd__nop-.._x__1");
    expect(id).not.toContain("/");
  });
});

describe("agentLabel", () => {
  it("is the bare name when the model is null", () => {
    expect(agentLabel({ name: "oracle", model: null })).toBe("oracle");
  });

  it("is name:model otherwise, keeping colons inside the model", () => {
    expect(agentLabel({ name: "claude-code", model: "claude-sonnet-4" })).toBe(
      "claude-code:claude-sonnet-4",
    );
    expect(agentLabel({ name: "oracle", model: "a:b" })).toBe("oracle:a:b");
  });
});
