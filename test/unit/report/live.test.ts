import { describe, expect, it } from "vitest";
import type { AgentRef, JobEvent, Phase, TrialStatus } from "../../../src/core/schemas.js";
import { renderProgress, sanitize, trialLine } from "../../../src/report/live.js";
import { applyEvent, emptyProgress, type Progress } from "../../../src/report/progress.js";
import { NOP_M, ORACLE, sp, TAGS } from "../../helpers/factories.js";

const HEADER = { jobId: "job_20240501_120000_abcdef", name: "nightly" };
const T0 = Date.parse("2024-05-01T12:00:00.000Z");

const iso = (msAfterT0: number) => new Date(T0 + msAfterT0).toISOString();

let seq = 0;
function ev<T extends JobEvent["type"]>(
  type: T,
  atMs: number,
  rest: Omit<Extract<JobEvent, { type: T }>, "type" | "schema_version" | "ts" | "seq">,
): JobEvent {
  return { schema_version: 1, ts: iso(atMs), seq: seq++, type, ...rest } as unknown as JobEvent;
}

const started = (id: string, agent: AgentRef, atMs: number, scenario = "b/s") =>
  ev("trial_started", atMs, { trial_id: id, scenario_id: scenario, agent, attempt: 1 });
const phase = (id: string, p: Phase, atMs: number) =>
  ev("phase_started", atMs, { trial_id: id, phase: p });
const finished = (
  id: string,
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
  atMs: number,
) =>
  ev("trial_finished", atMs, {
    trial_id: id,
    scenario_id: "b/s",
    agent,
    status,
    score,
    duration_ms: 1000,
  });

/** Progress for `agents` after job_started at T0 and `events`. */
function progressOf(agents: AgentRef[], nTrials: number, events: JobEvent[]): Progress {
  const p = emptyProgress(agents, nTrials);
  applyEvent(p, ev("job_started", 0, { job_id: HEADER.jobId, n_trials: nTrials }));
  for (const e of events) applyEvent(p, e);
  return p;
}

describe("sanitize", () => {
  it("strips SGR colour sequences", () => {
    expect(sanitize("\x1b[31mred\x1b[0m")).toBe("red");
  });

  it("strips cursor movement, screen clearing and private-mode sequences", () => {
    expect(sanitize("\x1b[2J\x1b[1;1Hx\x1b[?25l\x1b[3A")).toBe("x");
  });

  it("strips two-character escape sequences with a final byte in @-_ (ESC M, ESC D)", () => {
    expect(sanitize("a\x1bMb\x1bDc")).toBe("abc");
  });

  it("strips two-character escape sequences such as ESC 7 (save cursor) and ESC c (reset)", () => {
    expect(sanitize("a\x1b7b\x1bcc")).toBe("abc");
  });

  it("strips C0 control characters, carriage return, DEL and C1 controls", () => {
    expect(sanitize("a\x00b\x07c\x08d\re\x7ff\x9bg")).toBe("abcdefg");
  });

  it("strips an OSC sequence (window title) including its payload", () => {
    expect(sanitize("\x1b]0;pwned\x07name")).toBe("name");
  });

  it("removes line breaks so a name cannot add lines to the screen", () => {
    expect(sanitize("first\nsecond")).not.toContain("\n");
  });

  it("leaves printable text, including non-ASCII, unchanged", () => {
    expect(sanitize("starter/fix-csv ✓ é 日本 [ok] ~x")).toBe("starter/fix-csv ✓ é 日本 [ok] ~x");
  });
});

describe("trialLine", () => {
  it("prints [n/total] status scenario agent score duration", () => {
    const e = finished("t", ORACLE, "passed", 1, 0) as Extract<
      JobEvent,
      { type: "trial_finished" }
    >;
    expect(trialLine({ ...e, scenario_id: "starter/x", duration_ms: 1234 }, 3, 26)).toBe(
      "[3/26] passed starter/x oracle score=1.00 1.2s",
    );
  });

  it("prints score=- for a trial without a score and agent:model for a model", () => {
    const e = finished("t", NOP_M, "agent_timeout", null, 0) as Extract<
      JobEvent,
      { type: "trial_finished" }
    >;
    expect(trialLine({ ...e, duration_ms: 60_049 }, 1, 2)).toBe(
      "[1/2] agent_timeout b/s nop:m score=- 60.0s",
    );
  });

  it("prints the score with two decimals", () => {
    const e = finished("t", ORACLE, "failed", 0.333, 0) as Extract<
      JobEvent,
      { type: "trial_finished" }
    >;
    expect(trialLine({ ...e, duration_ms: 50 }, 2, 2)).toBe(
      "[2/2] failed b/s oracle score=0.33 0.1s",
    );
  });

  it("strips escape sequences from the scenario id and the agent", () => {
    const e = finished("t", { name: "oracle", model: "\x1b[2Jm" }, "passed", 1, 0) as Extract<
      JobEvent,
      { type: "trial_finished" }
    >;
    expect(trialLine({ ...e, scenario_id: "b/\x1b[31ms", duration_ms: 0 }, 1, 1)).toBe(
      "[1/1] passed b/s oracle:m score=1.00 0.0s",
    );
  });
});

describe("renderProgress", () => {
  it("shows a waiting screen before any trial starts, without elapsed time before job_started", () => {
    const p = emptyProgress([ORACLE], 2);
    expect(renderProgress(p, HEADER, T0)).toEqual([
      "Benchmark Job: nightly",
      "ID: job_20240501_120000_abcdef",
      "State: running",
      "",
      "Waiting for trials to start...",
    ]);
  });

  it("shows the elapsed time since job_started in the title", () => {
    const p = progressOf([ORACLE], 2, []);
    expect(renderProgress(p, HEADER, T0 + 65_000)[0]).toBe("Benchmark Job: nightly (1m 5s)");
  });

  it("shows per-agent progress and each running trial with its phase and age", () => {
    const p = progressOf([ORACLE, NOP_M], 4, [
      started("o1", ORACLE, 1_000, "b/first"),
      finished("o1", ORACLE, "passed", 1, 9_000),
      started("o2", ORACLE, 10_000, "b/second"),
      phase("o2", "agent_run", 11_000),
    ]);
    expect(renderProgress(p, HEADER, T0 + 75_000)).toEqual([
      "Benchmark Job: nightly (1m 15s)",
      "ID: job_20240501_120000_abcdef",
      "State: running",
      "",
      "Progress:",
      `  oracle${sp(24)} 1/2 complete, 1 running, score: 100%`,
      `      └ b/second${sp(28)}agent_run (1m 5s)`,
      `  nop:m${sp(25)} 0/2 complete, 2 pending`,
      "",
      "Press Ctrl+C to cancel",
    ]);
  });

  it("shows 'starting' for a running trial that has no phase yet", () => {
    const p = progressOf([ORACLE], 1, [started("o1", ORACLE, 0, "b/s")]);
    expect(renderProgress(p, HEADER, T0 + 2_000)).toContain(`      └ b/s${sp(33)}starting (2s)`);
  });

  it("marks an agent whose trials are all done with a check and its mean score", () => {
    const p = progressOf([ORACLE], 2, [
      started("a", ORACLE, 0),
      started("b", ORACLE, 0),
      finished("a", ORACLE, "passed", 1, 1_000),
      finished("b", ORACLE, "failed", 0, 2_000),
    ]);
    expect(renderProgress(p, HEADER, T0 + 3_000)[5]).toBe(`✓ oracle${sp(24)} score: 50%`);
  });

  it("says 'done' for a finished agent without any score", () => {
    const p = progressOf([ORACLE], 1, [
      started("a", ORACLE, 0),
      finished("a", ORACLE, "agent_error", null, 1_000),
    ]);
    expect(renderProgress(p, HEADER, T0 + 3_000)[5]).toBe(`✓ oracle${sp(24)} done`);
  });

  it("shows the final state", () => {
    const p = progressOf([ORACLE], 1, [
      started("a", ORACLE, 0),
      finished("a", ORACLE, "passed", 1, 1_000),
      ev("job_finished", 2_000, { job_id: HEADER.jobId, state: "completed" }),
    ]);
    expect(renderProgress(p, HEADER, T0 + 3_000)[2]).toBe("State: completed");
  });

  it("limits the running trials listed per agent by the terminal height", () => {
    const events = Array.from({ length: 5 }, (_, i) => started(`t${i}`, ORACLE, 0, `b/s${i}`));
    const p = progressOf([ORACLE], 5, events);
    const lines = renderProgress(p, HEADER, T0 + 1_000, 10);
    expect(lines.slice(5)).toEqual([
      `  oracle${sp(24)} 0/5 complete, 5 running`,
      `      └ b/s0${sp(32)}starting (1s)`,
      `      └ b/s1${sp(32)}starting (1s)`,
      `      └ b/s2${sp(32)}starting (1s)`,
      "      ... and 2 more",
      "",
      "Press Ctrl+C to cancel",
    ]);
  });

  it("lists every running trial when the terminal is tall enough", () => {
    const events = Array.from({ length: 5 }, (_, i) => started(`t${i}`, ORACLE, 0, `b/s${i}`));
    const lines = renderProgress(progressOf([ORACLE], 5, events), HEADER, T0, 24);
    expect(lines.filter((l) => l.startsWith("      └ "))).toHaveLength(5);
    expect(lines.some((l) => l.includes("more"))).toBe(false);
  });

  it("truncates a long agent label to 30 and a long scenario id to 36 characters", () => {
    const agent = { name: "nop", model: "x".repeat(40) };
    const scenario = `b/${"y".repeat(40)}`;
    const p = progressOf([agent], 1, [started("t", agent, 0, scenario)]);
    const lines = renderProgress(p, HEADER, T0);
    expect(lines[5]).toBe(`  nop:${"x".repeat(23)}... 0/1 complete, 1 running`);
    expect(lines[6]).toBe(`      └ b/${"y".repeat(31)}...starting (0s)`);
  });

  it("strips escape sequences from the job name, agent labels and scenario ids", () => {
    const agent = { name: "nop", model: "\x1b[31mred" };
    const p = progressOf([agent], 1, [started("t", agent, 0, "b/\x1b[2Js")]);
    const lines = renderProgress(p, { ...HEADER, name: "\x1b]0;x\x07\x1b[1mjob" }, T0);
    for (const l of lines) expect(l).not.toContain("\x1b");
    expect(lines[5]).toBe(`  nop:red${sp(23)} 0/1 complete, 1 running`);
    expect(lines[6]).toBe(`      └ b/s${sp(33)}starting (0s)`);
  });

  it("paints the title, the check mark, phases and the footer", () => {
    const p = progressOf([ORACLE, NOP_M], 2, [
      started("a", ORACLE, 0),
      finished("a", ORACLE, "passed", 1, 1_000),
      started("b", NOP_M, 0, "b/x"),
      phase("b", "verify", 500),
    ]);
    const lines = renderProgress(p, HEADER, T0 + 2_000, 24, TAGS);
    expect(lines[0]).toBe("<bold><cyan>Benchmark Job: nightly</cyan></bold><dim> (2s)</dim>");
    expect(lines[5]).toBe(`<green>✓</green> oracle${sp(24)} score: 100%`);
    expect(lines[7]).toBe(`      └ b/x${sp(33)}<cyan>verify</cyan> (2s)`);
    expect(lines.at(-1)).toBe("<dim>Press Ctrl+C to cancel</dim>");
  });
});
