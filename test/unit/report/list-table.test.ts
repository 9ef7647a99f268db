import { describe, expect, it } from "vitest";
import {
  formatStarted,
  type JobListEntry,
  listEntry,
  listTable,
  nameWidth,
} from "../../../src/report/list-table.js";
import { TAGS } from "../../helpers/factories.js";

const NOW = Date.parse("2026-03-20T12:00:00.000Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function entry(over: Partial<JobListEntry>): JobListEntry {
  return {
    id: "job_20260320_113000_abcdef",
    name: "starter: oracle",
    state: "completed",
    create_time_ms: NOW - 30 * MIN,
    created_at: "2026-03-20T11:30:00.000Z",
    finished_at: "2026-03-20T11:40:00.000Z",
    failure_reason: null,
    n_trials: 14,
    n_finished: 14,
    n_errors: 0,
    n_passed: 14,
    score: 1,
    dir: "/jobs/job_20260320_113000_abcdef",
    ...over,
  };
}

describe("formatStarted", () => {
  it.each([
    [0, "just now"],
    [59_999, "just now"],
    [-5 * MIN, "just now"],
    [MIN, "1m ago"],
    [59 * MIN + 59_999, "59m ago"],
    [HOUR, "1h ago"],
    [23 * HOUR + 59 * MIN, "23h ago"],
    [DAY, "1d ago"],
    [7 * DAY - 1, "6d ago"],
  ])("%d ms ago reads %s", (ago, expected) => {
    expect(formatStarted(NOW - ago, NOW)).toBe(expected);
  });

  it("shows a week or more as an en-US month and day", () => {
    expect(formatStarted(NOW - 7 * DAY, NOW)).toBe("Mar 13");
    expect(formatStarted(Date.parse("2025-09-05T12:00:00Z"), NOW)).toBe("Sep 5");
    expect(formatStarted(Date.parse("2025-12-31T12:00:00Z"), NOW)).toBe("Dec 31");
  });

  it("prints old dates as Runloop's toLocaleDateString('en-US', {month: 'short', day: 'numeric'}) does", () => {
    for (let month = 0; month < 12; month++) {
      for (const day of [1, 9, 28]) {
        const t = Date.UTC(2025, month, day, 12);
        const runloop = new Date(t).toLocaleDateString("en-US", { month: "short", day: "numeric" });
        expect(formatStarted(t, NOW)).toBe(runloop);
      }
    }
  });
});

describe("nameWidth", () => {
  it("gives NAME what the fixed columns and their six separators leave, at least 10", () => {
    expect(nameWidth(100)).toBe(16);
    expect(nameWidth(200)).toBe(116);
    expect(nameWidth(94)).toBe(10);
    expect(nameWidth(40)).toBe(10);
  });
});

describe("listTable", () => {
  it("prints Runloop's columns, one row per job, and a footer (colours off)", () => {
    const rows = [
      entry({
        id: "job_20260310_090000_000001",
        name: "nightly regression run",
        state: "failed",
        create_time_ms: NOW - 10 * DAY,
        n_trials: 28,
        n_finished: 20,
        n_errors: 3,
        score: 0.375,
      }),
      entry({ state: "cancelled", create_time_ms: NOW - 2 * HOUR, n_finished: 5, score: null }),
      entry({ state: "running", create_time_ms: NOW - 10_000, n_finished: 0, score: null }),
    ];
    expect(listTable(rows, { nowMs: NOW, width: 100 })).toBe(
      [
        "ID                             NAME             STARTED    STATUS              DONE   ERRORS   SCORE",
        "─".repeat(100),
        "job_20260310_090000_000001     nightly regre... Mar 10     failed             20/28        3     38%",
        "job_20260320_113000_abcdef     starter: oracle  2h ago     cancelled           5/14        0     N/A",
        "job_20260320_113000_abcdef     starter: oracle  just now   running             0/14        0     N/A",
        "",
        "3 jobs",
        "",
      ].join("\n"),
    );
  });

  it("fits every line to the width: NAME grows on a wide terminal and never goes below 10", () => {
    const long = "x".repeat(300);
    const wide = listTable([entry({ name: long })], { nowMs: NOW, width: 160 }).split("\n");
    expect(wide[0]).toHaveLength(160);
    expect(wide[2]).toHaveLength(160);
    expect(wide[2]).toContain(` ${"x".repeat(73)}... 30m ago `);
    const narrow = listTable([entry({ name: long })], { nowMs: NOW, width: 60 }).split("\n");
    expect(narrow[2]).toContain(` ${"x".repeat(7)}... 30m ago `);
    expect(narrow[1]).toBe("─".repeat(60));
  });

  it("keeps a name that fits as it is and pads it", () => {
    const [, , row] = listTable([entry({ name: "exactly-16-chars" })], {
      nowMs: NOW,
      width: 100,
    }).split("\n");
    expect(row).toBe(
      "job_20260320_113000_abcdef     exactly-16-chars 30m ago    completed          14/14        0    100%",
    );
  });

  it("strips control sequences from names before measuring them", () => {
    const [, , row] = listTable([entry({ name: "\x1b[31mred\x1b[0m\tjob\x07" })], {
      nowMs: NOW,
      width: 100,
    }).split("\n");
    expect(row).toContain(" red job          30m ago ");
    expect(row).not.toContain("\x1b");
  });

  it("colours status by state, errors when there are any, and the score at 50%", () => {
    const rows = [
      entry({ state: "running", n_errors: 0, score: null }),
      entry({ state: "completed", n_errors: 2, score: 0.495 }),
      entry({ state: "failed", score: 0.494 }),
      entry({ state: "cancelled", score: 0 }),
      entry({ state: "timeout", score: 1 }),
    ];
    const lines = listTable(rows, { nowMs: NOW, width: 100, paint: TAGS }).split("\n");
    expect(lines[0]).toMatch(/^<bold>ID {29}NAME .*SCORE<\/bold>$/);
    expect(lines[1]).toBe(`<dim>${"─".repeat(100)}</dim>`);
    expect(lines[2]).toContain(
      " <yellow>running</yellow>            14/14 <dim>       0</dim> <dim>    N/A</dim>",
    );
    expect(lines[3]).toContain(
      " <green>completed</green>          14/14 <red>       2</red> <green>    50%</green>",
    );
    expect(lines[4]).toContain(" <red>failed</red>             14/14 ");
    expect(lines[4]).toMatch(/<yellow> {4}49%<\/yellow>$/);
    expect(lines[5]).toContain(" <dim>cancelled</dim>          14/14 ");
    expect(lines[5]).toMatch(/<yellow> {5}0%<\/yellow>$/);
    expect(lines[6]).toContain(" <red>timeout</red>            14/14 ");
    expect(lines.slice(7)).toEqual(["", "<dim>5 jobs</dim>", ""]);
  });

  it("says so when there is no job, and counts one job in the singular", () => {
    expect(listTable([], { nowMs: NOW, width: 100 })).toBe("No benchmark jobs found\n");
    expect(listTable([], { nowMs: NOW, width: 100, paint: TAGS })).toBe(
      "<dim>No benchmark jobs found</dim>\n",
    );
    expect(listTable([entry({})], { nowMs: NOW, width: 100 }).endsWith("\n\n1 job\n")).toBe(true);
  });
});

describe("listEntry", () => {
  it("is Runloop's id, name, state and create_time_ms plus the job's counts and directory", () => {
    const e = listEntry(
      {
        id: "job_20260320_113000_abcdef",
        name: "n",
        state: "failed",
        created_at: "2026-03-20T11:30:00.250Z",
        finished_at: null,
        failure_reason: "runner died",
        n_trials: 4,
      },
      { finished: 3, passed: 1, errors: 2, score: 0.5 },
      "/d",
    );
    expect(e).toEqual({
      id: "job_20260320_113000_abcdef",
      name: "n",
      state: "failed",
      create_time_ms: Date.parse("2026-03-20T11:30:00.250Z"),
      created_at: "2026-03-20T11:30:00.250Z",
      finished_at: null,
      failure_reason: "runner died",
      n_trials: 4,
      n_finished: 3,
      n_errors: 2,
      n_passed: 1,
      score: 0.5,
      dir: "/d",
    });
  });
});
