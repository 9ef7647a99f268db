import { describe, expect, it } from "vitest";
import { outcomeCounts, resultsTableInput } from "../../../src/remote/results.js";
import { renderResultsTable, scenarioLineText } from "../../../src/report/text.js";
import { TAGS } from "../../helpers/factories.js";
import { jobJson, outcomeJson, scenarioOutcomeJson, view } from "../../helpers/runloop-views.js";

const sp = (n: number) => " ".repeat(n);
const COLUMNS = `Agent / Model${sp(27)}${sp(4)}Passed${sp(2)}Failed (0.0)${sp(2)}Failed (error)${sp(3)}Total`;
const DASHES = "-".repeat(88);

function row(label: string, passed: string, failed: string, errors: string, total: string) {
  return (
    label.padEnd(40) +
    passed.padStart(10) +
    failed.padStart(14) +
    errors.padStart(16) +
    total.padStart(8)
  );
}

function table(json: Record<string, unknown>, extended = false) {
  return renderResultsTable(resultsTableInput(view(json)), undefined, extended);
}

const HEADER = [
  "",
  "Benchmark Job Results",
  "Job ID: bmj_test1",
  "Name: nightly",
  "State: completed",
  "",
];

describe("remote results table", () => {
  it("prints Runloop's layout: passed is COMPLETED with score exactly 1.0", () => {
    const out = table(
      jobJson({
        state: "completed",
        benchmark_outcomes: [
          outcomeJson("claude-code", "claude-sonnet-4", "bmr_1", [
            scenarioOutcomeJson("a", "COMPLETED", 1),
            scenarioOutcomeJson("b", "COMPLETED", 0.5),
            scenarioOutcomeJson("c", "COMPLETED", 0),
            scenarioOutcomeJson("d", "COMPLETED", null),
            scenarioOutcomeJson("e", "FAILED"),
            scenarioOutcomeJson("f", "TIMEOUT"),
            scenarioOutcomeJson("g", "CANCELED"),
            scenarioOutcomeJson("h", "COMPLETED", 1),
          ]),
          outcomeJson("codex", "default", "bmr_2", [scenarioOutcomeJson("a", "COMPLETED", 1)]),
        ],
      }),
    );
    expect(out).toBe(
      `${[
        ...HEADER,
        COLUMNS,
        DASHES,
        row("claude-code (claude-sonnet-4)", "25.0%", "37.5%", "37.5%", "8"),
        row("codex", "100.0%", "0.0%", "0.0%", "1"),
      ].join("\n")}\n`,
    );
    expect(COLUMNS).toHaveLength(88);
  });

  it("compares states case-insensitively", () => {
    const v = view(
      jobJson({
        benchmark_outcomes: [
          outcomeJson("a", null, "bmr_1", [
            scenarioOutcomeJson("a", "completed", 1),
            scenarioOutcomeJson("b", "Completed", 0.2),
            scenarioOutcomeJson("c", "failed"),
          ]),
        ],
      }),
    );
    expect(outcomeCounts(v.benchmark_outcomes![0]!)).toEqual({
      passed: 1,
      failedScore: 1,
      failedError: 1,
      total: 3,
    });
  });

  it("shows the failure reason when there are no outcomes", () => {
    expect(table(jobJson({ state: "failed", failure_reason: "quota exceeded" }))).toBe(
      `${["", "Benchmark Job Results", "Job ID: bmj_test1", "Name: nightly", "State: failed", "", "Job failed: quota exceeded"].join("\n")}\n`,
    );
  });

  it("says No benchmark outcomes found without outcomes or a reason, and omits an empty name", () => {
    expect(table(jobJson({ state: "completed", name: "", benchmark_outcomes: null }))).toBe(
      `${["", "Benchmark Job Results", "Job ID: bmj_test1", "State: completed", "", "No benchmark outcomes found"].join("\n")}\n`,
    );
  });

  it("adds one -e line per scenario outcome with Runloop's icons", () => {
    const long = "x".repeat(60);
    const out = table(
      jobJson({
        state: "completed",
        benchmark_outcomes: [
          outcomeJson("oracle", null, "bmr_1", [
            scenarioOutcomeJson("passes", "COMPLETED", 1),
            scenarioOutcomeJson("half", "COMPLETED", 0.5),
            scenarioOutcomeJson("times-out", "TIMEOUT"),
            scenarioOutcomeJson(long, "CANCELED"),
            { scenario_definition_id: "scn_unnamed", state: "FAILED" },
          ]),
        ],
      }),
      true,
    );
    expect(out.split("\n").slice(8, -1)).toEqual([
      row("oracle", "20.0%", "20.0%", "60.0%", "5"),
      `  ✓ ${"passes".padEnd(52)}score=1.0`,
      `  ✗ ${"half".padEnd(52)}score=0.5`,
      `  ! ${"times-out".padEnd(52)}TIMEOUT`,
      `  ! ${`${"x".repeat(47)}...`.padEnd(52)}CANCELED`,
      `  ! ${"scn_unnamed".padEnd(52)}FAILED`,
    ]);
  });

  it("colours the -e icons green, yellow and red", () => {
    expect(scenarioLineText({ state: "COMPLETED", score: 1, name: "a" }, TAGS)).toMatch(
      /^ {2}<green>✓<\/green> a/,
    );
    expect(scenarioLineText({ state: "completed", score: 0, name: "a" }, TAGS)).toMatch(
      /^ {2}<yellow>✗<\/yellow> a/,
    );
    expect(scenarioLineText({ state: "FAILED", score: null, name: "a" }, TAGS)).toMatch(
      /^ {2}<red>!<\/red> a/,
    );
  });

  it("without -e shows no scenario lines", () => {
    const out = table(
      jobJson({
        benchmark_outcomes: [
          outcomeJson("a", null, "bmr_1", [scenarioOutcomeJson("x", "COMPLETED", 1)]),
        ],
      }),
    );
    expect(out).not.toContain("✓");
  });
});
