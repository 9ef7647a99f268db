import { describe, expect, it } from "vitest";
import type { AgentRef, Usage } from "../../../src/core/schemas.js";
import { UNKNOWN_USAGE } from "../../../src/core/schemas.js";
import { MATRIX_ROWS, markdownSummary, mdEscape } from "../../../src/report/markdown.js";
import {
  DIGEST,
  earlierTry,
  makeJob,
  makeResult,
  makeTrial,
  NOP,
  ORACLE,
} from "../../helpers/factories.js";

const scenarios = (...ids: string[]) =>
  ids.map((id) => ({ id, name: id, path: "/p", digest: DIGEST }));

const trial = makeTrial;

const cost = (usd: number): Usage => ({ ...UNKNOWN_USAGE, cost_usd: usd, cost_source: "reported" });

/** The cells of a table row, split at the pipes that are not escaped. */
const cells = (line: string): string[] => line.split(/(?<!\\)\|/).slice(1, -1);

describe("markdownSummary", () => {
  it("renders the heading, the per-agent table, the flaky section and the matrix", () => {
    const job = makeJob([ORACLE, NOP], {}, { scenarios: scenarios("b/a", "b/b"), n_attempts: 2 });
    const results = [
      trial(ORACLE, "a", 1, "passed", 1, { usage: cost(0.01) }),
      trial(ORACLE, "a", 2, "failed", 0.4, { duration_ms: 3000, usage: cost(0.02) }),
      trial(ORACLE, "b", 1, "passed", 1, { earlier_tries: [earlierTry(1)] }),
      trial(ORACLE, "b", 2, "passed", 1, { usage: cost(0.0123) }),
      trial(NOP, "a", 1, "agent_timeout", 0),
      trial(NOP, "a", 2, "cancelled", null),
      trial(NOP, "b", 1, "infra_error", null, { duration_ms: 61_000 }),
      trial(NOP, "b", 2, "failed", 0),
    ];
    expect(markdownSummary(job, results)).toBe(
      `## Benchmark job nightly

**completed** · 8 trials · job \`job_20240501_120000_abcdef\`

| Agent | Trials | Passed | Score (95% CI) | Excl. infra | pass@k | Median / p90 time | Cost | Errors |
| :-- | --: | --: | :-- | :-- | :-- | --: | --: | :-- |
| oracle | 4 | 3 | 0.850 [0.000, 1.000] | 0.850 [0.000, 1.000] | pass@1 0.750, pass@2 1.000 | 1.0s / 3.0s | \\$0.0423\\* | - |
| nop | 4 | 0 | 0.000 [0.000, 0.000] | 0.000 [0.000, 0.000] | pass@1 0.000 | 1.0s / 1m 1s | - | agent_timeout 1, infra_error 1, cancelled 1 |

Scores count unscored trials as 0 and leave cancelled ones out; 95% intervals are clustered by scenario. Excl. infra leaves infrastructure errors out as well.

\\* cost unknown for 1 of 4 trials of oracle; the sum covers the others

Retried after an infrastructure error (only the last try counts):

- oracle: 1 of 4 trials; passed 1 (100%), the other 3: 67%

### Paired comparisons

| A | B | Scenarios | A − B (points, 95% CI) | p | Verdict |
|---|---|--:|---|--:|---|
| oracle | nop | 2 | +85.0 [-100.0, 100.0] | p = 0.500 | not decisive (about 4 more scenarios needed) |

### Scenarios to look at

- Flaky for oracle: b/a

<details>
<summary>Scenarios × agents (2 scenarios)</summary>

| Scenario | oracle | nop |
| :-- | :-: | :-: |
| b/a | ⚠️ 1/2 | ❌ |
| b/b | ✅ | ❌ |

✅ passed every attempt · ❌ failed every attempt · ⚠️ passed/attempts · - no attempt counted (none finished, or cancelled or infrastructure errors only)

</details>
`,
    );
  });

  it("shows the mean alone over a single scenario, and - where nothing is known", () => {
    const out = markdownSummary(makeJob([ORACLE, NOP]), [trial(ORACLE, "s", 1, "passed", 1)]);
    expect(out).toContain(
      "| oracle | 1 | 1 | 1.000 | 1.000 | pass@1 1.000 | 1.0s / 1.0s | - | - |",
    );
    expect(out).toContain("| nop | 0 | 0 | - | - | - | - | - | - |");
    expect(out).toContain("**completed** · 1 of 2 trials");
    expect(out).not.toContain("cost unknown");
    expect(out).not.toContain("Retried");
  });

  it("prints cost like the text summary: 4 decimals below $10, 2 from there, no * when all are known", () => {
    const out = markdownSummary(makeJob([ORACLE, NOP]), [
      trial(ORACLE, "s", 1, "passed", 1, { usage: cost(0.5) }),
      trial(NOP, "s", 1, "failed", 0, { usage: cost(12.5) }),
    ]);
    expect(out).toMatch(/^\| oracle \|.*\| \\\$0\.5000 \| - \|$/m);
    expect(out).toMatch(/^\| nop \|.*\| \\\$12\.50 \| - \|$/m);
    expect(out).not.toContain("cost unknown");
  });

  it("says a running job is still running, and that no trial has finished when none has", () => {
    const job = makeJob([ORACLE], { state: "running", finished_at: null }, { n_attempts: 3 });
    expect(markdownSummary(job, [])).toBe(
      `## Benchmark job nightly

**running** · 0 of 3 trials · job \`job_20240501_120000_abcdef\`

Still running: the numbers cover the trials so far.

No trial has finished yet.
`,
    );
    const some = markdownSummary(job, [trial(ORACLE, "s", 1, "passed", 1)]);
    expect(some).toContain("**running** · 1 of 3 trials");
    expect(some).toContain("Still running: the numbers cover the trials so far.");
    expect(some).toContain("| oracle | 1 | 1 |");
  });

  it("names a failed job's reason", () => {
    const job = makeJob([ORACLE], { state: "failed", failure_reason: "runner <lost>" });
    expect(markdownSummary(job, [])).toContain(
      "**failed** · 0 of 1 trials · job `job_20240501_120000_abcdef`\n\n**Job failed:** runner &lt;lost&gt;\n\nNo trial finished.\n",
    );
  });

  it("leaves out the flaky section when every scenario went the same way every time", () => {
    const job = makeJob([ORACLE, NOP], {}, { scenarios: scenarios("b/a", "b/b"), n_attempts: 2 });
    const out = markdownSummary(job, [
      trial(ORACLE, "a", 1, "passed", 1),
      trial(ORACLE, "a", 2, "passed", 1),
      trial(NOP, "a", 1, "failed", 0),
      trial(NOP, "a", 2, "failed", 0),
    ]);
    expect(out).not.toContain("Scenarios to look at");
    expect(out).toContain("<details>");
  });

  it("lists scenarios flaky for every agent and scenarios every agent failed", () => {
    const job = makeJob([ORACLE, NOP], {}, { scenarios: scenarios("b/a", "b/b"), n_attempts: 2 });
    const out = markdownSummary(job, [
      trial(ORACLE, "a", 1, "passed", 1),
      trial(ORACLE, "a", 2, "failed", 0),
      trial(NOP, "a", 1, "failed", 0),
      trial(NOP, "a", 2, "passed", 1),
      trial(ORACLE, "b", 1, "failed", 0),
      trial(ORACLE, "b", 2, "agent_error", null),
      trial(NOP, "b", 1, "failed", 0.5),
      trial(NOP, "b", 2, "failed", 0),
    ]);
    expect(out).toContain(
      `### Scenarios to look at

- Flaky for oracle: b/a
- Flaky for nop: b/a
- Flaky for every agent (maybe a nondeterministic scenario): b/a
- Failed by every agent (broken, or just hard): b/b
`,
    );
    expect(out).toContain("| b/a | ⚠️ 1/2 | ⚠️ 1/2 |");
  });

  it("marks a cell with no counted attempt (infrastructure errors, cancels) with -", () => {
    const out = markdownSummary(makeJob([ORACLE]), [
      trial(ORACLE, "s", 1, "infra_error", null),
      trial(ORACLE, "t", 1, "cancelled", null),
    ]);
    expect(out).toContain("| b/s | - |\n| b/t | - |\n");
  });

  it("past MATRIX_ROWS scenarios, leaves out the rows every agent passed first", () => {
    const ids = Array.from({ length: MATRIX_ROWS + 5 }, (_, i) => `s${String(i).padStart(4, "0")}`);
    const results = ids.map((s, i) => trial(ORACLE, s, 1, i % 50 === 7 ? "failed" : "passed", 0));
    const out = markdownSummary(makeJob([ORACLE]), results);
    const rows = out.split("\n").filter((l) => l.startsWith("| b/"));
    expect(rows).toEqual(ids.filter((_, i) => i % 50 === 7).map((s) => `| b/${s} | ❌ |`));
    expect(out).toContain(
      `${ids.length - rows.length} scenarios every agent passed are not shown.`,
    );
    expect(out).toContain(`<summary>Scenarios × agents (${ids.length} scenarios)</summary>`);

    const failing = ids.map((s) => trial(ORACLE, s, 1, "failed", 0));
    const cut = markdownSummary(makeJob([ORACLE]), failing);
    expect(cut.split("\n").filter((l) => l.startsWith("| b/"))).toHaveLength(MATRIX_ROWS);
    expect(cut).toContain("5 more scenarios are not shown.");
  });

  it("lists at most 20 flaky scenarios per line, then how many more", () => {
    const ids = Array.from({ length: 23 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    const results = ids.flatMap((s) => [
      trial(ORACLE, s, 1, "passed", 1),
      trial(ORACLE, s, 2, "failed", 0),
    ]);
    const out = markdownSummary(makeJob([ORACLE], {}, { n_attempts: 2 }), results);
    const line = out.split("\n").find((l) => l.startsWith("- Flaky for oracle: "))!;
    expect(line).toBe(
      `- Flaky for oracle: ${ids
        .slice(0, 20)
        .map((s) => `b/${s}`)
        .join(", ")} and 3 more`,
    );
  });
});

describe("markdownSummary with hostile names", () => {
  const evil: AgentRef = { name: "<script>alert(1)</script>", model: "a|b`c`" };
  const job = makeJob(
    [evil, NOP],
    { id: "job_`tick`" },
    { name: "# <img src=x onerror=alert(1)> |x|\n**bold**\x1b[31m\x00" },
  );
  const results = [
    makeResult(evil, "passed", 1, {
      trial_id: "t1",
      scenario_id: "b/pipe|<b>]]>\nnew`line`\x1b]0;title\x07\x00 $x$ _u_ [l](http://e) ~s~",
    }),
    makeResult(NOP, "failed", 0, { trial_id: "t2", scenario_id: "b/ok" }),
  ];
  const out = markdownSummary(job, results);

  it("keeps HTML, terminal escapes and control characters out", () => {
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<b>");
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;:a\\|b\\`c\\`");
  });

  it("keeps the heading on one line with its markup escaped", () => {
    expect(out.split("\n")[0]).toBe(
      "## Benchmark job # &lt;img src=x onerror=alert(1)&gt; \\|x\\| \\*\\*bold\\*\\*",
    );
    expect(out.split("\n")[2]).toBe("**completed** · 2 trials · job `` job_`tick` ``");
  });

  it("keeps every table row to its columns", () => {
    const rows = out.split("\n").filter((l) => l.startsWith("|"));
    const agentRows = rows.slice(0, 4);
    for (const r of agentRows) expect(cells(r)).toHaveLength(9);
    const matrix = rows.slice(4);
    expect(matrix.length).toBe(4);
    for (const r of matrix) expect(cells(r)).toHaveLength(3);
    expect(matrix).toContain(
      "| b/pipe\\|&lt;b&gt;\\]\\]&gt; new\\`line\\` \\$x\\$ \\_u\\_ \\[l\\](http://e) \\~s\\~ | ✅ | - |",
    );
  });
});

describe("mdEscape", () => {
  it.each([
    ["plain-name_1", "plain-name\\_1"],
    ["a|b", "a\\|b"],
    ["<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"],
    [
      "`code` *em* _em_ ~del~ $math$ [link](u) \\",
      "\\`code\\` \\*em\\* \\_em\\_ \\~del\\~ \\$math\\$ \\[link\\](u) \\\\",
    ],
    ["two\nlines\ttab", "two lines tab"],
    ["\x1b[31mred\x1b[0m\x00", "red"],
  ])("escapes %j as %j", (input, output) => {
    expect(mdEscape(input)).toBe(output);
  });
});
