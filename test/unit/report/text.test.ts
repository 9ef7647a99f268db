import { describe, expect, it } from "vitest";
import type { AgentRef } from "../../../src/core/schemas.js";
import { formatDuration, NO_COLOR, resultsTable } from "../../../src/report/text.js";
import { makeJob, makeResult, ORACLE, sp, TAGS } from "../../helpers/factories.js";

const NOP_GPT: AgentRef = { name: "nop", model: "gpt-4o" };
const NOP_DEFAULT: AgentRef = { name: "nop", model: "default" };

const HEADER_LINES = [
  "",
  "Benchmark Job Results",
  "Job ID: job_20240501_120000_abcdef",
  "Name: nightly",
  "State: completed",
  "",
];

// "Agent / Model" is 13 wide, padded to 40; then Passed (10), Failed (0.0) (14),
// Failed (error) (16), Total (8), all right-aligned.
const COLUMNS = `Agent / Model${sp(27)}${sp(4)}Passed${sp(2)}Failed (0.0)${sp(2)}Failed (error)${sp(3)}Total`;
const DASHES = "-".repeat(88);

/** One row: label padded to 40, then the right-aligned cells. */
function row(label: string, passed: string, failed: string, errors: string, total: string) {
  return (
    label +
    sp(40 - label.length) +
    sp(10 - passed.length) +
    passed +
    sp(14 - failed.length) +
    failed +
    sp(16 - errors.length) +
    errors +
    sp(8 - total.length) +
    total
  );
}

describe("resultsTable", () => {
  it("prints Runloop's layout: header, 88 dashes and one row per agent", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0),
      makeResult(NOP_GPT, "failed", 0.5),
      makeResult(NOP_GPT, "agent_error", null),
    ];
    const out = resultsTable(makeJob([ORACLE, NOP_GPT]), results);
    expect(out).toBe(
      `${[
        ...HEADER_LINES,
        COLUMNS,
        DASHES,
        row("oracle", "66.7%", "33.3%", "0.0%", "3"),
        row("nop (gpt-4o)", "0.0%", "50.0%", "50.0%", "2"),
      ].join("\n")}\n`,
    );
  });

  it("makes the column header and rows exactly 88 characters wide", () => {
    const out = resultsTable(makeJob([ORACLE]), [makeResult(ORACLE, "passed", 1)]);
    const lines = out.split("\n");
    expect(lines[6]).toBe(COLUMNS);
    expect(COLUMNS).toHaveLength(88);
    expect(lines[7]).toHaveLength(88);
    expect(lines[8]).toHaveLength(88);
    expect(lines[8]).toBe(row("oracle", "100.0%", "0.0%", "0.0%", "1"));
  });

  it("labels an agent with no model or model 'default' by its name alone", () => {
    const results = [makeResult(NOP_DEFAULT, "passed", 1)];
    const out = resultsTable(makeJob([NOP_DEFAULT]), results);
    expect(out.split("\n")[8]).toBe(row("nop", "100.0%", "0.0%", "0.0%", "1"));
  });

  it("keeps a label of 38 characters", () => {
    const agent = { name: "nop", model: "m".repeat(32) }; // "nop (" + 32 + ")" = 38
    const out = resultsTable(makeJob([agent]), [makeResult(agent, "passed", 1)]);
    expect(out.split("\n")[8]?.slice(0, 40)).toBe(`nop (${"m".repeat(32)})  `);
  });

  it("truncates a label longer than 38 characters to 35 plus '...'", () => {
    const agent = { name: "nop", model: "m".repeat(33) }; // 39 characters
    const out = resultsTable(makeJob([agent]), [makeResult(agent, "failed", 0)]);
    const label = `nop (${"m".repeat(30)}...`;
    expect(label).toHaveLength(38);
    expect(out.split("\n")[8]).toBe(row(label, "0.0%", "100.0%", "0.0%", "1"));
  });

  it("rounds percentages to one decimal", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      ...Array.from({ length: 5 }, () => makeResult(ORACLE, "failed", 0)),
    ];
    const out = resultsTable(makeJob([ORACLE]), results);
    expect(out.split("\n")[8]).toBe(row("oracle", "16.7%", "83.3%", "0.0%", "6"));
  });

  it("shows an agent without results as 0.0% of 0 when others have results", () => {
    const out = resultsTable(makeJob([ORACLE, NOP_GPT]), [makeResult(ORACLE, "passed", 1)]);
    expect(out.split("\n")[9]).toBe(row("nop (gpt-4o)", "0.0%", "0.0%", "0.0%", "0"));
  });

  it("counts timeouts, infra errors, verifier errors and cancels as Failed (error)", () => {
    const results = [
      makeResult(ORACLE, "agent_timeout", 1),
      makeResult(ORACLE, "infra_error", null),
      makeResult(ORACLE, "verifier_error", null),
      makeResult(ORACLE, "cancelled", null),
    ];
    const out = resultsTable(makeJob([ORACLE]), results);
    expect(out.split("\n")[8]).toBe(row("oracle", "0.0%", "0.0%", "100.0%", "4"));
  });

  it("says 'No benchmark outcomes found' when there are no results", () => {
    expect(resultsTable(makeJob([ORACLE]), [])).toBe(
      `${[...HEADER_LINES, "No benchmark outcomes found"].join("\n")}\n`,
    );
  });

  it("says 'Job failed: <reason>' when there are no results and the job failed", () => {
    const job = makeJob([ORACLE], { state: "failed", failure_reason: "bubblewrap missing" });
    expect(resultsTable(job, [])).toBe(
      `${[
        "",
        "Benchmark Job Results",
        "Job ID: job_20240501_120000_abcdef",
        "Name: nightly",
        "State: failed",
        "",
        "Job failed: bubblewrap missing",
      ].join("\n")}\n`,
    );
  });

  it("shows the table, not the failure reason, when the failed job has results", () => {
    const job = makeJob([ORACLE], { state: "failed", failure_reason: "boom" });
    const out = resultsTable(job, [makeResult(ORACLE, "passed", 1)]);
    expect(out).not.toContain("Job failed");
    expect(out).toContain(DASHES);
  });

  it("ignores results of agents that are not in the job", () => {
    const out = resultsTable(makeJob([ORACLE]), [makeResult(NOP_GPT, "passed", 1)]);
    expect(out).toContain("No benchmark outcomes found");
  });

  it("colours non-zero cells green/yellow/red and zero cells dim", () => {
    const results = [makeResult(ORACLE, "passed", 1), makeResult(ORACLE, "agent_error", null)];
    const out = resultsTable(makeJob([ORACLE, NOP_GPT]), results, TAGS);
    const lines = out.split("\n");
    expect(lines[1]).toBe("<bold>Benchmark Job Results</bold>");
    expect(lines[6]).toBe(`<bold>${COLUMNS}</bold>`);
    expect(lines[8]).toBe(
      `oracle${sp(34)}<green>${sp(5)}50.0%</green><dim>${sp(10)}0.0%</dim><red>${sp(11)}50.0%</red>${sp(7)}2`,
    );
    expect(lines[9]).toBe(
      `nop (gpt-4o)${sp(28)}<dim>${sp(6)}0.0%</dim><dim>${sp(10)}0.0%</dim><dim>${sp(12)}0.0%</dim>${sp(7)}0`,
    );
  });

  it("colours failed-by-score cells yellow", () => {
    const out = resultsTable(makeJob([ORACLE]), [makeResult(ORACLE, "failed", 0)], TAGS);
    expect(out.split("\n")[8]).toContain(`<yellow>${sp(8)}100.0%</yellow>`);
  });

  it("paints 'No benchmark outcomes found' yellow and 'Job failed' red", () => {
    expect(resultsTable(makeJob([ORACLE]), [], TAGS)).toContain(
      "<yellow>No benchmark outcomes found</yellow>",
    );
    const failed = makeJob([ORACLE], { state: "failed", failure_reason: "x" });
    expect(resultsTable(failed, [], TAGS)).toContain("<red>Job failed: x</red>");
  });

  it("NO_COLOR leaves text unchanged", () => {
    for (const f of Object.values(NO_COLOR)) expect(f("abc")).toBe("abc");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [1_000, "1s"],
    [59_999, "59s"],
    [60_000, "1m 0s"],
    [61_500, "1m 1s"],
    [3_599_999, "59m 59s"],
    [3_600_000, "1h 0m 0s"],
    [3_723_000, "1h 2m 3s"],
    [90_000_000, "25h 0m 0s"],
  ])("formats %s ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("shows a negative duration (clock skew) as 0s", () => {
    expect(formatDuration(-5_000)).toBe("0s");
  });
});
