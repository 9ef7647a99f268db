import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { TrialDigest } from "../../../src/core/digest.js";
import type { AgentRef, TrialResult, TrialStatus } from "../../../src/core/schemas.js";
import { junitXml, xmlEscape } from "../../../src/report/junit.js";
import {
  DIGEST,
  earlierTry,
  makeJob,
  makeResult,
  makeTrial,
  NOP,
  ORACLE,
} from "../../helpers/factories.js";

const SCENARIOS = ["b/a", "b/b"].map((id) => ({ id, name: id, path: "/p", digest: DIGEST }));

const trial = makeTrial;

const exception = (type: string): TrialResult["exception"] => ({
  type,
  message: "boom",
  phase: "agent_run",
  occurred_at: "2024-05-01T12:00:01.000Z",
});

/** xmllint's verdict on `xml`; a missing xmllint fails the test with what to install. */
function xmllint(
  args: readonly string[],
  xml: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("xmllint", [...args, "-"], { input: xml, encoding: "utf8" });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error(
      "xmllint is not installed: install libxml2-utils (apt-get install -y libxml2-utils) to check the JUnit XML",
    );
  }
  // Some versions end --xpath output with a newline, some do not.
  return { status: r.status, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr };
}

/** The numeric attributes of every element named `tag`, in document order. */
function countsOf(xml: string, tag: string): Record<string, number>[] {
  return [...xml.matchAll(new RegExp(`<${tag} [^>]*>`, "g"))].map((m) => {
    const out: Record<string, number> = {};
    for (const [, k, v] of m[0].matchAll(/ (tests|failures|errors|skipped|time)="([^"]*)"/g)) {
      out[k!] = Number(v);
    }
    return out;
  });
}

describe("junitXml", () => {
  it("renders a suite per agent and a case per trial, each outcome as JUnit readers expect", () => {
    const job = makeJob([ORACLE, NOP], {}, { scenarios: SCENARIOS, n_attempts: 2 });
    const results = [
      trial(ORACLE, "a", 1, "passed", 1, { duration_ms: 1234 }),
      trial(ORACLE, "a", 2, "failed", 0.4, { duration_ms: 2000 }),
      trial(ORACLE, "b", 1, "passed", 1, { earlier_tries: [earlierTry(1)] }),
      trial(NOP, "a", 1, "agent_timeout", 0, { exception: exception("AgentTimeoutError") }),
      trial(NOP, "a", 2, "cancelled", null, { duration_ms: 5 }),
      trial(NOP, "b", 1, "verifier_error", null),
    ];
    expect(junitXml(job, results)).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nightly" tests="6" failures="1" errors="2" skipped="1" time="6.239">
  <testsuite name="oracle" tests="3" failures="1" errors="0" skipped="0" time="4.234" timestamp="2024-05-01T12:00:00">
    <properties>
      <property name="job_id" value="job_20240501_120000_abcdef"/>
      <property name="job_state" value="completed"/>
      <property name="score" value="0.850"/>
      <property name="score_ci95" value="[0.000, 1.000]"/>
    </properties>
    <testcase classname="b/a" name="b/a [attempt 1]" time="1.234">
      <properties>
        <property name="trial_id" value="b_a__oracle__1"/>
        <property name="score" value="1"/>
      </properties>
    </testcase>
    <testcase classname="b/a" name="b/a [attempt 2]" time="2.000">
      <properties>
        <property name="trial_id" value="b_a__oracle__2"/>
        <property name="score" value="0.4"/>
      </properties>
      <failure message="score 0.400" type="failed"/>
    </testcase>
    <testcase classname="b/b" name="b/b [attempt 1]" time="1.000">
      <properties>
        <property name="trial_id" value="b_b__oracle__1"/>
        <property name="score" value="1"/>
        <property name="infra_retries" value="1"/>
      </properties>
    </testcase>
  </testsuite>
  <testsuite name="nop" tests="3" failures="0" errors="2" skipped="1" time="2.005" timestamp="2024-05-01T12:00:00">
    <properties>
      <property name="job_id" value="job_20240501_120000_abcdef"/>
      <property name="job_state" value="completed"/>
      <property name="score" value="0.000"/>
      <property name="score_ci95" value="[0.000, 0.000]"/>
    </properties>
    <testcase classname="b/a" name="b/a [attempt 1]" time="1.000">
      <properties>
        <property name="trial_id" value="b_a__nop__1"/>
        <property name="score" value="0"/>
      </properties>
      <error message="AgentTimeoutError" type="agent_timeout"/>
    </testcase>
    <testcase classname="b/a" name="b/a [attempt 2]" time="0.005">
      <properties>
        <property name="trial_id" value="b_a__nop__2"/>
      </properties>
      <skipped message="cancelled"/>
    </testcase>
    <testcase classname="b/b" name="b/b [attempt 1]" time="1.000">
      <properties>
        <property name="trial_id" value="b_b__nop__1"/>
      </properties>
      <error message="verifier_error" type="verifier_error"/>
    </testcase>
  </testsuite>
</testsuites>
`,
    );
  });

  it("maps every status: failed → failure, timeouts and errors → error, cancelled → skipped", () => {
    const statuses: TrialStatus[] = [
      "passed",
      "failed",
      "agent_timeout",
      "agent_error",
      "infra_error",
      "verifier_error",
      "cancelled",
    ];
    const results = statuses.map((st, i) =>
      trial(ORACLE, `s${i}`, 1, st, st === "passed" ? 1 : null, {
        exception: st === "infra_error" ? exception("SandboxError") : null,
      }),
    );
    const xml = junitXml(makeJob([ORACLE]), results);
    const outcomes = [...xml.matchAll(/<(failure|error|skipped) [^>]*\/>/g)].map((m) => m[0]);
    expect(outcomes).toEqual([
      '<failure message="no score" type="failed"/>',
      '<error message="agent_timeout" type="agent_timeout"/>',
      '<error message="agent_error" type="agent_error"/>',
      '<error message="SandboxError" type="infra_error"/>',
      '<error message="verifier_error" type="verifier_error"/>',
      '<skipped message="cancelled"/>',
    ]);
  });

  it("adds up: each suite's tests are its passes plus failures, errors and skips; the root sums the suites", () => {
    const statuses: TrialStatus[] = ["passed", "failed", "agent_error", "infra_error", "cancelled"];
    const results: TrialDigest[] = [];
    let n = 0;
    for (const [a, agent] of [ORACLE, NOP].entries()) {
      for (let i = 0; i < 11 + 3 * a; i++) {
        const st = statuses[(i * 7 + a) % statuses.length]!;
        results.push(
          trial(agent, `s${n++}`, 1, st, st === "passed" ? 1 : 0, { duration_ms: 100 + i }),
        );
      }
    }
    const xml = junitXml(makeJob([ORACLE, NOP]), results);
    const [root] = countsOf(xml, "testsuites");
    const suites = countsOf(xml, "testsuite");
    expect(suites).toHaveLength(2);
    for (const [i, s] of suites.entries()) {
      const body = xml.split("<testsuite ")[i + 1]!;
      const cases = (body.match(/<testcase /g) ?? []).length;
      const passes = cases - (body.match(/<(failure|error|skipped) /g) ?? []).length;
      expect(s.tests).toBe(cases);
      expect(s.failures).toBe((body.match(/<failure /g) ?? []).length);
      expect(s.errors).toBe((body.match(/<error /g) ?? []).length);
      expect(s.skipped).toBe((body.match(/<skipped /g) ?? []).length);
      expect(passes + s.failures! + s.errors! + s.skipped!).toBe(s.tests);
    }
    for (const k of ["tests", "failures", "errors", "skipped"]) {
      expect(root![k]).toBe(suites.reduce((a, s) => a + s[k]!, 0));
    }
    expect(root!.tests).toBe(results.length);
    expect(root!.time).toBeCloseTo(results.reduce((a, r) => a + r.duration_ms, 0) / 1000, 3);
  });

  it("orders suites as the job lists its agents and cases by trial id, whatever the input order", () => {
    const job = makeJob([NOP, ORACLE], {}, { scenarios: SCENARIOS, n_attempts: 2 });
    const results = [
      trial(ORACLE, "b", 1, "passed", 1),
      trial(NOP, "b", 2, "passed", 1),
      trial(ORACLE, "a", 2, "passed", 1),
      trial(NOP, "a", 1, "passed", 1),
      trial(ORACLE, "a", 1, "passed", 1),
    ];
    const xml = junitXml(job, results);
    expect([...xml.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1])).toEqual([
      "nop",
      "oracle",
    ]);
    expect([...xml.matchAll(/name="trial_id" value="([^"]*)"/g)].map((m) => m[1])).toEqual([
      "b_a__nop__1",
      "b_b__nop__2",
      "b_a__oracle__1",
      "b_a__oracle__2",
      "b_b__oracle__1",
    ]);
    expect(junitXml(job, [...results].reverse())).toBe(xml);
  });

  it("leaves out trials of agents the job does not list, as the other summaries do", () => {
    const stranger: AgentRef = { name: "stranger", model: null };
    const xml = junitXml(makeJob([ORACLE]), [
      trial(ORACLE, "a", 1, "passed", 1),
      trial(stranger, "a", 1, "failed", 0),
    ]);
    expect(xml).not.toContain("stranger");
    expect(countsOf(xml, "testsuites")[0]).toMatchObject({ tests: 1, failures: 0 });
  });

  it("gives an empty suite per agent for a running job without results, and says it runs", () => {
    const xml = junitXml(makeJob([ORACLE, NOP], { state: "running", finished_at: null }), []);
    expect(countsOf(xml, "testsuite")).toEqual([
      { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 },
      { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 },
    ]);
    expect(xml).toContain('<property name="job_state" value="running"/>');
    expect(xml).not.toContain('name="score"');
  });

  it("names a failed job's reason in every suite", () => {
    const xml = junitXml(makeJob([ORACLE], { state: "failed", failure_reason: "disk <full>" }), [
      trial(ORACLE, "a", 1, "passed", 1),
    ]);
    expect(xml).toContain('<property name="job_failure_reason" value="disk &lt;full&gt;"/>');
  });
});

describe("junitXml with hostile names", () => {
  const evilAgent: AgentRef = { name: `<script>alert("x")</script>`, model: "m&'n'" };
  const evilScenario = `b/]]><x y="1"/>\x1b[31mred\x1b[0m\x00nul\x1b]0;title\x07\ud800lone\uffff&amp;`;
  const job = makeJob(
    [evilAgent],
    { failure_reason: "line1\nline2\r\x0bend" },
    { name: `job "<b>" & 'co'\t\x7f` },
  );
  const results = [
    makeResult(evilAgent, "agent_error", null, {
      trial_id: "t\x00<1>",
      scenario_id: evilScenario,
      exception: exception("Err<\x1b[2J>\x08"),
    }),
    makeResult(evilAgent, "passed", 1, { trial_id: "t2", scenario_id: "b/ok \u{1F600}" }),
  ];
  const xml = junitXml(job, results);

  it("escapes markup and drops terminal escapes and characters XML 1.0 forbids", () => {
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]/);
    expect(xml).not.toMatch(/\p{Cs}/u);
    expect(xml).not.toContain("<script");
    expect(xml).not.toContain("]]>");
    expect(xml).toContain(
      '<testsuite name="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;:m&amp;&apos;n&apos;"',
    );
    expect(xml).toContain('classname="b/]]&gt;&lt;x y=&quot;1&quot;/&gt;rednullone&amp;amp;"');
    expect(xml).toContain('<error message="Err&lt;&gt;" type="agent_error"/>');
    expect(xml).toContain('<testsuites name="job &quot;&lt;b&gt;&quot; &amp; &apos;co&apos; "');
    expect(xml).toContain('value="line1 line2end"');
    expect(xml).toContain('name="b/ok \u{1F600} [attempt 1]"');
  });

  it("is well-formed XML (xmllint), and a parser reads back the names as shown", () => {
    expect(xmllint(["--noout"], xml)).toMatchObject({ status: 0, stderr: "" });
    const classname = xmllint(["--xpath", "string(//testcase[1]/@classname)"], xml);
    expect(classname.stdout).toBe('b/]]><x y="1"/>rednullone&amp;');
    const agent = xmllint(["--xpath", "string(//testsuite/@name)"], xml);
    expect(agent.stdout).toBe(`<script>alert("x")</script>:m&'n'`);
  });

  it("is well-formed XML (xmllint) for an ordinary job too", () => {
    const plain = junitXml(makeJob([ORACLE, NOP]), [
      trial(ORACLE, "a", 1, "failed", 0.5),
      trial(NOP, "a", 1, "cancelled", null),
    ]);
    expect(xmllint(["--noout"], plain)).toMatchObject({ status: 0, stderr: "" });
  });
});

describe("xmlEscape", () => {
  it.each([
    ["a&b", "a&amp;b"],
    ["<tag attr='v'>", "&lt;tag attr=&apos;v&apos;&gt;"],
    ['say "hi"', "say &quot;hi&quot;"],
    ["]]>", "]]&gt;"],
    ["tab\tnew\nline", "tab new line"],
    ["nul\x00bell\x07cr\r", "nulbellcr"],
    ["\x1b[1mbold\x1b[0m", "bold"],
    ["lone \ud83d high, lone \ude00 low", "lone  high, lone  low"],
    ["pair \ud83d\ude00 kept", "pair \ud83d\ude00 kept"],
    ["non\ufffe\uffffchars", "nonchars"],
    ["é ü 漢字", "é ü 漢字"],
  ])("escapes %j as %j", (input, output) => {
    expect(xmlEscape(input)).toBe(output);
  });
});
