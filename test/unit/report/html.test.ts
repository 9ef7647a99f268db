import { describe, expect, it } from "vitest";
import { digestOf, type TrialDigest } from "../../../src/core/digest.js";
import type { AgentRef, TrialStatus } from "../../../src/core/schemas.js";
import { esc, htmlReport } from "../../../src/report/html.js";
import { summarizeByAgent } from "../../../src/report/summary.js";
import { CLAUDE, DIGEST, makeJob, makeResult, NOP } from "../../helpers/factories.js";

const GENERATED = "2024-05-02T08:00:00.000Z";
const SCENARIOS = ["b/s1", "b/s2", "b/s3", "b/s4"];

/** One trial: `attempt` of `scenario`, lasting `seconds`, with a cost when known. */
function trial(
  agent: AgentRef,
  scenario: string,
  attempt: number,
  status: TrialStatus,
  score: number | null,
  seconds: number,
  cost: number | null = null,
): TrialDigest {
  const usage = {
    input_tokens: null,
    cache_read_tokens: null,
    cache_write_tokens: null,
    output_tokens: null,
    cost_usd: cost,
    cost_source: cost === null ? ("unknown" as const) : ("reported" as const),
  };
  return digestOf(
    makeResult(agent, status, score, {
      trial_id: `${scenario.replace("/", "_")}__${agent.name}__${attempt}`,
      scenario_id: scenario,
      attempt,
      duration_ms: seconds * 1000,
      usage,
    }),
  );
}

/**
 * Two attempts of four scenarios. claude-code: s1 passes twice, s2 once (flaky), s3 only infrastructure
 * errors (no counted attempt), s4 fails; cost known for five trials. nop: fails everything, s2 with a
 * partial score and a timeout; no cost known.
 */
function trials(): TrialDigest[] {
  return [
    trial(CLAUDE, "b/s1", 1, "passed", 1, 10, 0.1),
    trial(CLAUDE, "b/s1", 2, "passed", 1, 20, 0.2),
    trial(CLAUDE, "b/s2", 1, "passed", 1, 30, 0.3),
    trial(CLAUDE, "b/s2", 2, "failed", 0, 40),
    trial(CLAUDE, "b/s3", 1, "infra_error", null, 5),
    trial(CLAUDE, "b/s3", 2, "infra_error", null, 5),
    trial(CLAUDE, "b/s4", 1, "failed", 0, 6, 0.05),
    trial(CLAUDE, "b/s4", 2, "failed", 0, 6, 0.05),
    trial(NOP, "b/s1", 1, "failed", 0, 2),
    trial(NOP, "b/s1", 2, "failed", 0, 2),
    trial(NOP, "b/s2", 1, "failed", 0.5, 3),
    trial(NOP, "b/s2", 2, "agent_timeout", 0, 4),
    trial(NOP, "b/s3", 1, "failed", 0, 1),
    trial(NOP, "b/s3", 2, "failed", 0, 1),
    trial(NOP, "b/s4", 1, "failed", 0, 1),
    trial(NOP, "b/s4", 2, "failed", 0, 1),
  ];
}

function jobOf(agents: AgentRef[], over: Parameters<typeof makeJob>[1] = {}, name = "nightly") {
  return makeJob(agents, over, {
    name,
    n_attempts: 2,
    scenarios: SCENARIOS.map((id) => ({ id, name: id.slice(2), path: `/p/${id}`, digest: DIGEST })),
  });
}

/** The first element `<tag ...id="id"...>…</tag>` (not nested in itself). */
function element(html: string, tag: string, id: string): string {
  const m = new RegExp(`<${tag}\\b[^>]*\\bid="${id}"[^>]*>[\\s\\S]*?</${tag}>`).exec(html);
  if (m === null) throw new Error(`no <${tag} id="${id}"> in the page`);
  return m[0];
}

/** The text a reader sees: tags dropped, entities decoded, spaces collapsed. */
function text(html: string): string {
  return html
    .replace(/<title>[\s\S]*?<\/title>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

function agentRow(html: string, label: string): string {
  const table = element(html, "table", "agent-scores");
  const m = new RegExp(`<tr data-agent="${esc(label)}">[\\s\\S]*?</tr>`).exec(table);
  if (m === null) throw new Error(`no row for ${label}`);
  return text(m[0]);
}

describe("htmlReport", () => {
  const page = htmlReport(jobOf([CLAUDE, NOP]), trials(), { generatedAt: GENERATED });

  it("shows the job's name, id, state and dates in the header", () => {
    const head = text(element(page, "header", "job"));
    expect(head).toContain("nightly");
    expect(head).toContain("ID job_20240501_120000_abcdef");
    expect(head).toContain("State completed");
    expect(head).toContain("Created 2024-05-01 12:00:00 UTC");
    expect(head).toContain("Finished 2024-05-01 12:10:00 UTC (10m 0s)");
    expect(head).toContain("Trials 16 of 16 (4 scenarios × 2 agents × 2 attempts)");
    expect(head).toContain("Report generated 2024-05-02 08:00:00 UTC");
    expect(page).toContain("<title>nightly · job_20240501_120000_abcdef</title>");
  });

  it("shows each agent's trials, passes, score with interval, pass@k, times, cost and errors", () => {
    const [claude, nop] = summarizeByAgent([CLAUDE, NOP], trials());
    const bounds = (i: { low: number; high: number } | null) =>
      `[${i!.low.toFixed(3)}, ${i!.high.toFixed(3)}]`;
    // Scenario means 1, 0.5, 0 (infra errors as 0), 0; without infra errors s3 is left out.
    expect(agentRow(page, "claude-code:claude-sonnet-4-5")).toBe(
      [
        "claude-code:claude-sonnet-4-5 8 3 (38%)",
        `0.375 ${bounds(claude!.scoreInterval)}`,
        `0.500 ${bounds(claude!.scoreIntervalExcludingInfra)}`,
        "@1 0.375 @2 0.500",
        "8.0s / 40.0s",
        "$0.7000 unknown for 3 trials",
        "infra_error 2",
      ].join(" "),
    );
    expect(agentRow(page, "nop")).toBe(
      [
        "nop 8 0 (0%)",
        `0.063 ${bounds(nop!.scoreInterval)}`,
        `0.063 ${bounds(nop!.scoreIntervalExcludingInfra)}`,
        "@1 0.000 @2 0.000",
        "1.5s / 4.0s",
        "unknown (8 trials)",
        "agent_timeout 1",
      ].join(" "),
    );
  });

  it("draws one bar and whisker per agent in the score chart", () => {
    const chart = element(page, "figure", "chart-scores");
    expect(chart).toContain("<svg");
    expect(chart.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(chart).toContain('data-agent="claude-code:claude-sonnet-4-5" data-mean="0.375"');
    expect(chart).toContain('data-agent="nop" data-mean="0.063"');
  });

  it("colours the matrix cells pass, fail, flaky, and shows — where no attempt counted", () => {
    const matrix = element(page, "table", "matrix");
    const rows = matrix.match(/<tr data-scenario="[^"]*">[\s\S]*?<\/tr>/g) ?? [];
    expect(rows.map((r) => /data-scenario="([^"]*)"/.exec(r)![1])).toEqual(SCENARIOS);
    const cells = rows.map((r) =>
      [...r.matchAll(/<td class="(\w+)"[^>]*>([\s\S]*?)<\/td>/g)].map(
        ([, cls, body]) => `${cls} ${text(body!)}`,
      ),
    );
    expect(cells).toEqual([
      ["pass 2/2", "fail 0/2"],
      ["flaky 1/2", "fail 0/2 0.250"],
      ["none —", "fail 0/2"],
      ["fail 0/2", "fail 0/2"],
    ]);
    expect(matrix).toContain(
      'title="claude-code:claude-sonnet-4-5 on b/s3: no attempt counted; 2 left out (infrastructure error or cancelled)"',
    );
  });

  it("lists flaky scenarios per agent and the scenarios every agent failed", () => {
    const perAgent = element(page, "table", "flaky-per-agent");
    expect(text(perAgent)).toContain("claude-code:claude-sonnet-4-5 1 1 1 b/s2");
    expect(text(perAgent)).toContain("nop 0 4 0 none");
    expect(text(element(page, "p", "flaky-every-agent"))).toBe("none");
    expect(text(element(page, "ul", "failed-every-agent"))).toBe("b/s4");
  });

  it("plots every trial's duration and every known cost, and says how many costs are unknown", () => {
    const durations = element(page, "figure", "chart-durations");
    expect(durations.match(/<circle /g)).toHaveLength(16);
    expect(text(durations)).toContain("median 8.0s, p90 40.0s");
    const costs = element(page, "figure", "chart-costs");
    expect(costs.match(/<circle /g)).toHaveLength(5);
    expect(text(costs)).toContain("mean $0.1400, cost unknown for 3 trials");
    expect(text(costs)).toContain("cost unknown for 8 trials");
  });

  it('says "no cost data" when no trial has a cost', () => {
    const unknown = trials().filter((t) => t.agent.name === "nop");
    const costs = element(
      htmlReport(jobOf([NOP]), unknown, { generatedAt: GENERATED }),
      "figure",
      "chart-costs",
    );
    expect(costs).not.toContain("<svg");
    expect(text(costs)).toBe(
      "No cost data: no trial reported its cost (cost unknown for 8 trials).",
    );
  });

  it("renders a job without finished trials", () => {
    const running = htmlReport(jobOf([NOP], { state: "running", finished_at: null }), [], {
      generatedAt: GENERATED,
    });
    expect(text(element(running, "header", "job"))).toContain("Trials 0 of 8");
    expect(text(element(running, "p", "matrix"))).toBe("No trial has finished yet.");
    expect(agentRow(running, "nop")).toBe("nop 0 0 — — — — — none");
  });

  it("refers to nothing outside the page: no scripts, links, URLs or external fonts", () => {
    for (const bad of [
      "<script",
      "<link",
      "<img",
      "<iframe",
      "src=",
      "href=",
      "url(",
      "@import",
      "http",
    ]) {
      expect(page).not.toContain(bad);
    }
  });

  it("gives the same bytes for the same job, trials and time, whatever the trials' order", () => {
    const again = htmlReport(jobOf([CLAUDE, NOP]), [...trials()].reverse(), {
      generatedAt: GENERATED,
    });
    expect(again).toBe(page);
  });

  it("escapes hostile names and strips terminal escapes from every string the job holds", () => {
    const evilAgent: AgentRef = { name: "nop", model: `"><img src=x onerror=alert(1)>\x1b[2J` };
    const evilScenario = `b/"><script>alert(1)</script>\x1b]0;pwned\x07`;
    const job = makeJob(
      [evilAgent],
      { failure_reason: "<iframe srcdoc=x>\x1b[31mred" },
      {
        name: "\x1b]8;;http://evil.example\x07<b>nightly</b>\x1b]8;;\x07 & 'co'",
        metadata: { "<k>": '"v"' },
        benchmark: { kind: "path", source: "/tmp/<bench>" },
        scenarios: [{ id: evilScenario, name: "x", path: "/p", digest: DIGEST }],
      },
    );
    const evilPage = htmlReport(job, [trial(evilAgent, evilScenario, 1, "failed", 0, 1, 0.01)], {
      generatedAt: GENERATED,
    });
    for (const bad of ["<script", "<img", "<iframe", "<b>", "<k>", "http", "pwned"]) {
      expect(evilPage).not.toContain(bad);
    }
    expect(evilPage).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(evilPage).toContain("<h1>&lt;b&gt;nightly&lt;/b&gt; &amp; &#39;co&#39;</h1>");
    expect(evilPage).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(evilPage).toContain(`data-agent="nop:&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"`);
    expect(text(element(evilPage, "header", "job"))).toContain("Failure <iframe srcdoc=x>red");
  });
});
