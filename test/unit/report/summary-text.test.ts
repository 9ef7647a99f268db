import { describe, expect, it } from "vitest";
import type {
  AgentRef,
  ExceptionInfo,
  JobDoc,
  TrialResult,
  TrialStatus,
  Usage,
} from "../../../src/core/schemas.js";
import { UNKNOWN_USAGE } from "../../../src/core/schemas.js";
import { summarizeByAgent } from "../../../src/report/summary.js";
import {
  detailsTable,
  errorsByKind,
  formatElapsed,
  formatTokens,
  progressText,
  summaryText,
} from "../../../src/report/summary-text.js";
import { NO_COLOR } from "../../../src/report/text.js";
import {
  DIGEST,
  earlierTry,
  JOB_ID,
  makeJob,
  makeResult as makeResultOf,
  NOP,
  NOP_M,
  ORACLE,
  TAGS,
} from "../../helpers/factories.js";

const T0 = Date.parse("2024-05-01T12:00:00.000Z");

const LONG_NAME = `long-${"x".repeat(46)}`; // 51 characters
const NAME_50 = `fifty-${"y".repeat(44)}`; // exactly 50

/** A job over named scenarios (ids b/<name>), agents and attempts. */
function jobOf(agents: AgentRef[], over: Partial<JobDoc> = {}, nAttempts = 1): JobDoc {
  const names = ["fix-csv", "add-test", LONG_NAME, NAME_50, "\x1b[31mred\x1b[0m-task\x1b]0;t\x07"];
  return makeJob(agents, over, {
    scenarios: names.map((name, i) => ({
      id: `b/s${i}`,
      name,
      path: `/p/${i}`,
      digest: DIGEST,
    })),
    n_attempts: nAttempts,
  });
}

interface Over {
  scenario?: number | string;
  attempt?: number;
  durationMs?: number;
  usage?: Partial<Usage>;
  exception?: string;
}

let seq = 0;
function makeResult(
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
  over: Over = {},
): TrialResult {
  seq++;
  const scenario = typeof over.scenario === "string" ? over.scenario : `b/s${over.scenario ?? 0}`;
  const exception: ExceptionInfo | null = over.exception
    ? {
        type: over.exception,
        message: "boom",
        phase: "agent_run",
        occurred_at: "2024-05-01T12:00:01.000Z",
      }
    : null;
  return makeResultOf(agent, status, score, {
    trial_id: `t${String(seq).padStart(4, "0")}`,
    job_id: JOB_ID,
    scenario_id: scenario,
    attempt: over.attempt ?? 1,
    duration_ms: over.durationMs ?? 1000,
    usage: { ...UNKNOWN_USAGE, ...over.usage },
    exception,
  });
}

function usage(
  input: number,
  cacheRead: number | null,
  output: number,
  cost: number,
): Partial<Usage> {
  return {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    output_tokens: output,
    cost_usd: cost,
    cost_source: "reported",
  };
}

describe("formatTokens", () => {
  it.each([
    [null, "-"],
    [0, "0"],
    [999, "999"],
    [1_000, "1.0k"],
    [12_345, "12.3k"],
    [999_949, "999.9k"],
    [1_000_000, "1.00M"],
    [1_234_567, "1.23M"],
    [25_000_000, "25.00M"],
  ])("formats %j as %j", (n, text) => {
    expect(formatTokens(n)).toBe(text);
  });

  it("never shows 1000.0k: a count that rounds to a million reads in M (or stays below)", () => {
    expect(["999.9k", "1.00M"]).toContain(formatTokens(999_999));
  });
});

describe("formatElapsed", () => {
  it.each([
    [0, "0.0s"],
    [400, "0.4s"],
    [12_345, "12.3s"],
    [59_900, "59.9s"],
    [60_000, "1m 0s"],
    [65_400, "1m 5s"],
    [3_723_000, "1h 2m 3s"],
  ])("formats %s ms as %j", (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it("never shows 60.0s: under a minute reads below 60, or as 1m 0s", () => {
    expect(["59.9s", "1m 0s"]).toContain(formatElapsed(59_999));
  });
});

describe("errorsByKind", () => {
  it("lists each kind of error with its count in a fixed order", () => {
    const [s] = summarizeByAgent(
      [ORACLE],
      [
        makeResult(ORACLE, "cancelled", null),
        makeResult(ORACLE, "infra_error", null),
        makeResult(ORACLE, "agent_timeout", 1),
        makeResult(ORACLE, "agent_timeout", null),
        makeResult(ORACLE, "verifier_error", null),
        makeResult(ORACLE, "agent_error", null),
        makeResult(ORACLE, "passed", 1),
        makeResult(ORACLE, "failed", 0),
      ],
    );
    expect(errorsByKind(s!)).toBe(
      "agent_timeout 2, agent_error 1, infra_error 1, verifier_error 1, cancelled 1",
    );
  });

  it("is '-' for an agent without errors or without results", () => {
    const [ok, none] = summarizeByAgent(
      [ORACLE, NOP],
      [makeResult(ORACLE, "passed", 1), makeResult(ORACLE, "failed", 0)],
    );
    expect(errorsByKind(ok!)).toBe("-");
    expect(errorsByKind(none!)).toBe("-");
  });
});

describe("detailsTable", () => {
  const results = [
    makeResult(ORACLE, "passed", 1, { durationMs: 1_000, usage: usage(1_200, 300, 450, 0.0123) }),
    makeResult(ORACLE, "failed", 0.5, { durationMs: 3_000, usage: usage(800, null, 50, 0.01) }),
    makeResult(NOP_M, "agent_timeout", null, { durationMs: 61_000 }),
    makeResult(NOP_M, "infra_error", null, { durationMs: 1_000 }),
    makeResult(NOP_M, "failed", 0, {
      durationMs: 5_000,
      usage: usage(1_500_000, null, 20_000, 12.5),
    }),
  ];

  it("prints mean score, median time, tokens, cost and errors per agent, with the * footnote", () => {
    const out = detailsTable(summarizeByAgent([ORACLE, NOP_M, NOP], results), NO_COLOR);
    expect(out).toMatchInlineSnapshot(`
      "
      Agent                         Score [95% CI]        Excl. infra   Median      p90    Tokens in/out       Cost  Errors
      ---------------------------------------------------------------------------------------------------------------------
      oracle                        0.750 (1 scenario)          0.750     2.0s     3.0s         2.3k/500    $0.0223  -
      nop:m                         0.000 (1 scenario)          0.000     5.0s    1m 1s      1.50M/20.0k    $12.50*  agent_timeout 1, infra_error 1
      nop                           -                               -        -        -                -          -  -
      * cost unknown for 2 of 3 trials of nop:m; the sum covers the others
      "
    `);
  });

  it("adds each retried agent's retried trials and their pass rate next to the others'", () => {
    const retried = earlierTry(1);
    const rs = [
      makeResultOf(ORACLE, "passed", 1, { earlier_tries: [retried] }),
      makeResultOf(ORACLE, "failed", 0, { earlier_tries: [retried] }),
      makeResultOf(ORACLE, "passed", 1),
      makeResultOf(ORACLE, "passed", 1),
      makeResultOf(ORACLE, "failed", 0),
      makeResultOf(NOP, "failed", 0),
    ];
    const out = detailsTable(summarizeByAgent([ORACLE, NOP], rs), NO_COLOR);
    expect(out.split("\n").slice(-4)).toEqual([
      "",
      "Retried after an infrastructure error (kept only the last try's outcome):",
      "  oracle                      2 of 5 trials; passed 1 (50%), the other 3: 67%",
      "",
    ]);
    expect(detailsTable(summarizeByAgent([ORACLE], results), NO_COLOR)).not.toContain("Retried");
  });

  it("has a header and dashes 117 characters wide and rows that line up with it", () => {
    const lines = detailsTable(summarizeByAgent([ORACLE, NOP_M, NOP], results)).split("\n");
    expect(lines[1]).toHaveLength(117);
    expect(lines[2]).toBe("-".repeat(117));
    // every cell before the errors column ends at the same place as its header
    for (const l of lines.slice(3, 6)) expect(l.slice(0, 109).length).toBe(109);
    expect(lines[3]?.slice(109)).toBe("  -");
  });

  it("prints no footnote when every cost is known or every cost is unknown", () => {
    const known = [results[0]!, results[1]!];
    expect(detailsTable(summarizeByAgent([ORACLE], known))).not.toContain("*");
    const unknown = [makeResult(NOP, "passed", 1), makeResult(NOP, "failed", 0)];
    const out = detailsTable(summarizeByAgent([NOP], unknown));
    expect(out).not.toContain("*");
    expect(out.split("\n")[3]).toBe(
      `nop${" ".repeat(27)}0.500 (1 scenario)          0.500     1.0s     1.0s                -          -  -`,
    );
  });

  it("prints '-' for unknown input tokens next to known output tokens", () => {
    const r = makeResult(NOP, "passed", 1, { usage: { output_tokens: 20 } });
    expect(detailsTable(summarizeByAgent([NOP], [r])).split("\n")[3]).toContain("   -/20 ");
  });

  it("counts cache reads as input tokens", () => {
    const r = makeResult(NOP, "passed", 1, {
      usage: { input_tokens: null, cache_read_tokens: 2_500, output_tokens: null },
    });
    expect(detailsTable(summarizeByAgent([NOP], [r])).split("\n")[3]).toContain(" 2.5k/- ");
  });

  it("prints a cost of $10 or more with 2 decimals and below with 4", () => {
    const cheap = makeResult(ORACLE, "passed", 1, { usage: { cost_usd: 9.5 } });
    const dear = makeResult(NOP, "passed", 1, { usage: { cost_usd: 10 } });
    const lines = detailsTable(summarizeByAgent([ORACLE, NOP], [cheap, dear])).split("\n");
    expect(lines[3]).toContain(" $9.5000 ");
    expect(lines[4]).toContain(" $10.00 ");
  });

  it("truncates an agent label over 28 characters to 25 plus '...' and strips escapes", () => {
    const agent = { name: "nop", model: `\x1b[31m${"m".repeat(30)}` };
    const out = detailsTable(summarizeByAgent([agent], [makeResult(agent, "passed", 1)]));
    expect(out.split("\n")[3]?.slice(0, 30)).toBe(`nop:${"m".repeat(21)}...  `);
  });

  it("paints the header bold, errors red, no errors dim and the footnote dim", () => {
    const out = detailsTable(summarizeByAgent([ORACLE, NOP_M], results), TAGS);
    const lines = out.split("\n");
    expect(lines[1]).toMatch(/^<bold>Agent {25}Score \[95% CI\].*Errors<\/bold>$/);
    expect(lines[3]?.endsWith("  <dim>-</dim>")).toBe(true);
    expect(lines[4]?.endsWith("  <red>agent_timeout 1, infra_error 1</red>")).toBe(true);
    expect(lines[5]).toBe(
      "<dim>* cost unknown for 2 of 3 trials of nop:m; the sum covers the others</dim>",
    );
  });
});

describe("progressText", () => {
  it("shows the elapsed time and each agent's complete, running and pending trials and score", () => {
    const job = jobOf([ORACLE, NOP_M], { state: "running", finished_at: null });
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0.5, { scenario: 1 }),
    ];
    const out = progressText(job, results, {
      extended: false,
      running: new Map([
        ["oracle", 1],
        ["nop:m", 2],
      ]),
      nowMs: T0 + 605_000,
    });
    expect(out).toMatchInlineSnapshot(`
      "Job: nightly (10m 5s)
      ID: job_20240501_120000_abcdef
      State: running

      Progress:
        oracle                         2/5 complete, 1 running, 2 pending, score: 75%
        nop:m                          0/5 complete, 2 running, 3 pending
      "
    `);
  });

  it("shows every trial as pending when none runs and none finished", () => {
    const job = jobOf([NOP_M], { state: "running", finished_at: null }, 2);
    const out = progressText(job, [], { extended: false, nowMs: T0 + 5_000 });
    expect(out.split("\n")).toEqual([
      "Job: nightly (5s)",
      "ID: job_20240501_120000_abcdef",
      "State: running",
      "",
      "Progress:",
      `  nop:m${" ".repeat(26)}0/10 complete, 10 pending`,
      "",
    ]);
  });

  it("never shows a negative pending count", () => {
    const job = jobOf([ORACLE], { state: "running", finished_at: null });
    const out = progressText(job, [makeResult(ORACLE, "passed", 1)], {
      extended: false,
      running: new Map([["oracle", 9]]),
      nowMs: T0,
    });
    expect(out).toContain("1/5 complete, 9 running, score: 100%");
    expect(out).not.toContain("pending");
  });

  it("strips escape sequences from the job name and agent labels, and truncates long labels", () => {
    const agent = { name: "nop", model: `\x1b[2J${"q".repeat(40)}` };
    const job = jobOf([agent], { state: "running", finished_at: null });
    const out = progressText(
      { ...job, spec: { ...job.spec, name: "\x1b]0;x\x07night\x1b[1mly" } },
      [],
      {
        extended: false,
        nowMs: T0,
      },
    );
    expect(out).not.toContain("\x1b");
    expect(out.split("\n")[0]).toBe("Job: nightly (0s)");
    expect(out.split("\n")[5]).toBe(`  nop:${"q".repeat(23)}... 0/5 complete, 5 pending`);
  });

  it("paints the elapsed time dim", () => {
    const job = jobOf([ORACLE], { state: "running", finished_at: null });
    const out = progressText(job, [], { extended: false, nowMs: T0 + 1_000, paint: TAGS });
    expect(out.split("\n")[0]).toBe("Job: nightly <dim>(1s)</dim>");
  });
});

describe("summaryText", () => {
  const finishedJob = jobOf([ORACLE, NOP_M]);
  const finishedResults = [
    makeResult(ORACLE, "passed", 1, { scenario: 0, usage: usage(1_000, 0, 100, 0.02) }),
    makeResult(ORACLE, "failed", 0.5, { scenario: 1, usage: usage(2_000, 500, 200, 0.03) }),
    makeResult(ORACLE, "agent_timeout", 1, { scenario: 2, exception: "AgentTimeoutError" }),
    makeResult(ORACLE, "passed", 1, { scenario: 3 }),
    makeResult(ORACLE, "failed", 0, { scenario: 4 }),
    makeResult(NOP_M, "infra_error", null, { scenario: 0 }),
    makeResult(NOP_M, "verifier_error", null, {
      scenario: 1,
      exception: "RewardFileNotFoundError",
    }),
    makeResult(NOP_M, "cancelled", null, { scenario: 2 }),
    makeResult(NOP_M, "agent_error", null, { scenario: "b/gone", exception: "AgentExitError" }),
  ];

  it("prints Runloop's results table then our columns for a finished job", () => {
    const out = summaryText(finishedJob, finishedResults, { extended: false });
    expect(out).toMatchInlineSnapshot(`
      "
      Benchmark Job Results
      Job ID: job_20240501_120000_abcdef
      Name: nightly
      State: completed

      Agent / Model                               Passed  Failed (0.0)  Failed (error)   Total
      ----------------------------------------------------------------------------------------
      oracle                                       40.0%         40.0%           20.0%       5
      nop (m)                                       0.0%          0.0%          100.0%       4

      Agent                         Score [95% CI]        Excl. infra   Median      p90    Tokens in/out       Cost  Errors
      ---------------------------------------------------------------------------------------------------------------------
      oracle                        0.700 [0.145, 1.000]        0.700     1.0s     1.0s         3.5k/300   $0.0500*  agent_timeout 1
      nop:m                         0.000 [0.000, 0.000]        0.000     1.0s     1.0s                -          -  agent_error 1, infra_error 1, verifier_error 1, cancelled 1
      * cost unknown for 3 of 5 trials of oracle; the sum covers the others

      Score: errors count as 0; Excl. infra leaves infrastructure errors out.
      95% CI: t-interval over 5 scenarios, attempts averaged per scenario first.

      Scenarios over their attempts (cancels and infrastructure errors left out):
        Failed by every agent: b/s1

      Comparison (paired by scenario):
        oracle ahead of nop:m by 75.0 points, 95% CI [-100.0, 100.0]: not decisive (p = 0.500); about 4 more scenarios would be needed (on the 2 scenarios both have)
      "
    `);
  });

  it("prints a line per trial under each agent with -e", () => {
    const out = summaryText(finishedJob, finishedResults, { extended: true });
    expect(out).toMatchInlineSnapshot(`
      "
      Benchmark Job Results
      Job ID: job_20240501_120000_abcdef
      Name: nightly
      State: completed

      Agent / Model                               Passed  Failed (0.0)  Failed (error)   Total
      ----------------------------------------------------------------------------------------
      oracle                                       40.0%         40.0%           20.0%       5
        ✓ fix-csv                                             score=1.0
        ✗ add-test                                            score=0.5
        ! long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...  TIMEOUT  agent_timeout: AgentTimeoutError
        ✓ fifty-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy  score=1.0
        ✗ red-task                                            score=0.0
      nop (m)                                       0.0%          0.0%          100.0%       4
        ! fix-csv                                             FAILED  infra_error
        ! add-test                                            FAILED  verifier_error: RewardFileNotFoundError
        ! long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...  CANCELED  cancelled
        ! b/gone                                              FAILED  agent_error: AgentExitError

      Agent                         Score [95% CI]        Excl. infra   Median      p90    Tokens in/out       Cost  Errors
      ---------------------------------------------------------------------------------------------------------------------
      oracle                        0.700 [0.145, 1.000]        0.700     1.0s     1.0s         3.5k/300   $0.0500*  agent_timeout 1
      nop:m                         0.000 [0.000, 0.000]        0.000     1.0s     1.0s                -          -  agent_error 1, infra_error 1, verifier_error 1, cancelled 1
      * cost unknown for 3 of 5 trials of oracle; the sum covers the others

      Score: errors count as 0; Excl. infra leaves infrastructure errors out.
      95% CI: t-interval over 5 scenarios, attempts averaged per scenario first.

      Scenarios over their attempts (cancels and infrastructure errors left out):
        Failed by every agent: b/s1

      Comparison (paired by scenario):
        oracle ahead of nop:m by 75.0 points, 95% CI [-100.0, 100.0]: not decisive (p = 0.500); about 4 more scenarios would be needed (on the 2 scenarios both have)
      "
    `);
  });

  it("prints each -e line in Runloop's layout: icon, name padded to 52, then score or state", () => {
    const lines = summaryText(finishedJob, finishedResults, { extended: true }).split("\n");
    const pad = (s: string) => s.padEnd(52);
    expect(lines).toContain(`  ✓ ${pad("fix-csv")}score=1.0`);
    expect(lines).toContain(`  ✗ ${pad("add-test")}score=0.5`);
    expect(lines).toContain(`  ✗ ${pad("red-task")}score=0.0`);
    expect(lines).toContain(`  ✓ ${pad(NAME_50)}score=1.0`);
    expect(lines).toContain(
      `  ! ${pad(`${LONG_NAME.slice(0, 47)}...`)}TIMEOUT  agent_timeout: AgentTimeoutError`,
    );
    expect(lines).toContain(`  ! ${pad("fix-csv")}FAILED  infra_error`);
    expect(lines).toContain(
      `  ! ${pad("add-test")}FAILED  verifier_error: RewardFileNotFoundError`,
    );
    expect(lines).toContain(`  ! ${pad(`${LONG_NAME.slice(0, 47)}...`)}CANCELED  cancelled`);
    expect(lines).toContain(`  ! ${pad("b/gone")}FAILED  agent_error: AgentExitError`);
    for (const l of lines) expect(l).not.toContain("\x1b");
  });

  it("adds 'attempt N' to -e lines when the job runs several attempts", () => {
    const job = jobOf([ORACLE], {}, 3);
    const results = [
      makeResult(ORACLE, "passed", 1, { attempt: 1 }),
      makeResult(ORACLE, "failed", 0, { attempt: 2 }),
      makeResult(ORACLE, "agent_timeout", null, { attempt: 3 }),
    ];
    const lines = summaryText(job, results, { extended: true }).split("\n");
    expect(lines.slice(9, 12)).toEqual([
      `  ✓ ${"fix-csv".padEnd(52)}score=1.0  attempt 1`,
      `  ✗ ${"fix-csv".padEnd(52)}score=0.0  attempt 2`,
      `  ! ${"fix-csv".padEnd(52)}TIMEOUT  agent_timeout, attempt 3`,
    ]);
  });

  it("paints the -e icons green, yellow and red and the detail dim", () => {
    const results = [
      makeResult(ORACLE, "passed", 1),
      makeResult(ORACLE, "failed", 0.5),
      makeResult(ORACLE, "infra_error", null),
    ];
    const lines = summaryText(jobOf([ORACLE]), results, { extended: true, paint: TAGS }).split(
      "\n",
    );
    expect(lines.slice(9, 12)).toEqual([
      `  <green>✓</green> ${"fix-csv".padEnd(52)}score=1.0`,
      `  <yellow>✗</yellow> ${"fix-csv".padEnd(52)}score=0.5`,
      `  <red>!</red> ${"fix-csv".padEnd(52)}FAILED<dim>  infra_error</dim>`,
    ]);
  });

  it("ends with the failure reason of a failed job that has results", () => {
    const job = jobOf([ORACLE], { state: "failed", failure_reason: "runner \x1b[31mkilled" });
    const out = summaryText(job, [makeResult(ORACLE, "passed", 1)], { extended: false });
    expect(out.endsWith("\nJob failed: runner killed\n")).toBe(true);
  });

  it("prints only Runloop's no-outcomes message for a finished job without results", () => {
    const out = summaryText(jobOf([ORACLE]), [], { extended: true });
    expect(out).toBe(
      [
        "",
        "Benchmark Job Results",
        "Job ID: job_20240501_120000_abcdef",
        "Name: nightly",
        "State: completed",
        "",
        "No benchmark outcomes found",
        "",
      ].join("\n"),
    );
  });

  it("prints only the progress of a running job without results", () => {
    const job = jobOf([ORACLE], { state: "running", finished_at: null });
    const opts = { extended: false, nowMs: T0 + 3_000 };
    expect(summaryText(job, [], opts)).toBe(progressText(job, [], opts));
  });

  it("prints the progress, then the results so far, for a running job with results", () => {
    const job = jobOf([ORACLE, NOP_M], { state: "running", finished_at: null });
    const results = [
      makeResult(ORACLE, "passed", 1, { usage: usage(1_000, null, 10, 0.5) }),
      makeResult(NOP_M, "failed", 0, { scenario: 1 }),
    ];
    const out = summaryText(job, results, {
      extended: true,
      running: new Map([["oracle", 2]]),
      nowMs: T0 + 62_000,
    });
    expect(out).toMatchInlineSnapshot(`
      "Job: nightly (1m 2s)
      ID: job_20240501_120000_abcdef
      State: running

      Progress:
        oracle                         1/5 complete, 2 running, 2 pending, score: 100%
        nop:m                          1/5 complete, 4 pending, score: 0%

      So far:

      Benchmark Job Results
      Job ID: job_20240501_120000_abcdef
      Name: nightly
      State: running

      Agent / Model                               Passed  Failed (0.0)  Failed (error)   Total
      ----------------------------------------------------------------------------------------
      oracle                                      100.0%          0.0%            0.0%       1
        ✓ fix-csv                                             score=1.0
      nop (m)                                       0.0%        100.0%            0.0%       1
        ✗ add-test                                            score=0.0

      Agent                         Score [95% CI]        Excl. infra   Median      p90    Tokens in/out       Cost  Errors
      ---------------------------------------------------------------------------------------------------------------------
      oracle                        1.000 (1 scenario)          1.000     1.0s     1.0s          1.0k/10    $0.5000  -
      nop:m                         0.000 (1 scenario)          0.000     1.0s     1.0s                -          -  -

      Score: errors count as 0; Excl. infra leaves infrastructure errors out.
      95% CI: t-interval over 1 scenario, attempts averaged per scenario first.
      "
    `);
  });

  it("strips escape sequences from the job name in the results table", () => {
    const job = jobOf([ORACLE]);
    const named = { ...job, spec: { ...job.spec, name: "night\x1b[2J\x1b]0;pwned\x07ly" } };
    const out = summaryText(named, [makeResult(ORACLE, "passed", 1)], { extended: false });
    expect(out).not.toContain("\x1b");
    expect(out.split("\n")[3]).toBe("Name: nightly");
  });

  it("strips escape sequences from the failure reason of a job without results", () => {
    const job = jobOf([ORACLE], { state: "failed", failure_reason: "bad \x1b[2Jtask" });
    const out = summaryText(job, [], { extended: false });
    expect(out).not.toContain("\x1b");
    expect(out.split("\n")[6]).toBe("Job failed: bad task");
  });
});
