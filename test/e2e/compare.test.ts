import { spawnSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, runCli, runStarterJob } from "../helpers/cli.js";
import { expectValid, schemaValidator } from "../helpers/schema.js";
import { tempDir } from "../helpers/tasks.js";

const STARTER_TASKS = 14;

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;
/** The oracle alone and nop alone, each on the 14 starter tasks. */
let oracleJob: string;
let nopJob: string;

const cli = (...args: string[]) => runCli(["bmj", ...args, "--jobs-dir", jobsDir], env);

beforeAll(async () => {
  home = await tempDir("rli-compare-");
  env = cliEnv(home.dir);
  jobsDir = join(home.dir, "jobs");
  oracleJob = await runStarterJob(env, jobsDir, ["oracle"]);
  nopJob = await runStarterJob(env, jobsDir, ["nop"]);
}, 300_000);
afterAll(() => home.cleanup());

interface ComparisonJson {
  a: { agent: string; job_id: string; mean_score: number };
  b: { agent: string; job_id: string; mean_score: number };
  n_scenarios: number;
  difference: { mean: number; low: number; high: number; method: string };
  test: { method: string; only_a_passed: number; only_b_passed: number };
  p: number;
  random: unknown;
  decisive: boolean;
  verdict: string;
  scenarios: { scenario_id: string; difference: number }[];
}

describe("rli bmj compare", () => {
  it("two jobs: the oracle beats nop on all 14 paired scenarios, decisively (exact McNemar)", async () => {
    const r = await cli("compare", oracleJob, nopJob, "-o", "json");
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { comparisons: ComparisonJson[]; holm_adjusted: boolean };
    expectValid(schemaValidator("compare.schema.json"), doc);
    expect(doc.holm_adjusted).toBe(false);
    expect(doc.comparisons).toHaveLength(1);
    const [c] = doc.comparisons;
    expect(c!.a).toEqual({ agent: "oracle", job_id: oracleJob, mean_score: 1 });
    expect(c!.b).toEqual({ agent: "nop", job_id: nopJob, mean_score: 0 });
    expect(c!.n_scenarios).toBe(STARTER_TASKS);
    expect(c!.test).toEqual({ method: "mcnemar_exact", only_a_passed: 14, only_b_passed: 0 });
    expect(c!.p).toBeCloseTo(2 * 0.5 ** 14, 12);
    expect(c!.random).toBeNull();
    expect(c!.decisive).toBe(true);
    expect(c!.difference).toMatchObject({ mean: 1, low: 1, high: 1, method: "t" });
    expect(c!.scenarios.map((s) => s.difference)).toEqual(Array(STARTER_TASKS).fill(1));
    expect(c!.verdict).toBe(
      `oracle (${oracleJob}) beats nop (${nopJob}) by 100.0 points, 95% CI [100.0, 100.0], decisive (p < 0.001)`,
    );

    const text = await cli("compare", nopJob, oracleJob, "-e");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `Verdict     oracle (${oracleJob}) beats nop (${nopJob}) by 100.0 points, 95% CI [100.0, 100.0], decisive (p < 0.001)`,
    );
    expect(text.stdout).toContain("exact McNemar: only nop");
    expect(text.stdout.match(/^ {2}starter\/\S+ +0\.000 +1\.000 +-100\.0$/gm)).toHaveLength(
      STARTER_TASKS,
    );

    const md = await cli("compare", oracleJob, nopJob, "-o", "markdown");
    // Markdown escapes the underscores of the job ids.
    const [o, n] = [oracleJob, nopJob].map((id) => id.replace(/_/g, "\\_"));
    expect(md.stdout).toContain(
      `| oracle (${o}) | nop (${n}) | 14 | +100.0 [100.0, 100.0] | p < 0.001 | **oracle (${o}) better, decisive** |`,
    );
  });

  it("refuses one agent, an unknown agent and an unknown job with one line and exit 2", async () => {
    const one = await cli("compare", oracleJob);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe(
      `Error: ${oracleJob} has one agent (oracle) to compare; compare needs two agents of a job, or two jobs\n`,
    );
    const unknown = await cli("compare", oracleJob, nopJob, "--agent", "codex");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `Error: --agent codex is not an agent of ${oracleJob} or ${nopJob}; its agents: oracle, nop\n`,
    );
    const bad = await cli("compare", oracleJob, "job_nope");
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")).toHaveLength(2);
    const seed = await cli("compare", oracleJob, nopJob, "--seed", "-1");
    expect(seed.code).toBe(2);
    expect(seed.stderr).toBe('Error: --seed must be an integer from 0 to 4294967295, got "-1"\n');
    for (const r of [one, unknown, bad, seed]) expect(r.stdout).toBe("");
  });
});

describe("summary: CI gates", () => {
  it("--fail-under: exit 4 with a line per agent on stderr, the summary still on stdout", async () => {
    const r = await cli("summary", nopJob, "--fail-under", "0.5");
    expect(r.code).toBe(4);
    expect(r.stdout).toContain("Score [95% CI]");
    expect(r.stderr).toBe("FAILED --fail-under 0.5: nop has score 0.000\n");
    const ok = await cli("summary", oracleJob, "--fail-under", "1", "-o", "json");
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("passed --fail-under 1: oracle has score 1.000\n");
    expect(() => JSON.parse(ok.stdout)).not.toThrow();
    const bad = await cli("summary", nopJob, "--fail-under", "1.5");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('Error: --fail-under must be a score from 0 to 1, got "1.5"\n');
  });

  it("--fail-if-worse-than: exit 5 only when decisively worse than the baseline", async () => {
    const worse = await cli("summary", nopJob, "--fail-if-worse-than", oracleJob, "-o", "json");
    expect(worse.code).toBe(5);
    expect(worse.stderr).toBe(
      `FAILED --fail-if-worse-than ${oracleJob}: oracle (${oracleJob}) beats nop (this job) by 100.0 points, 95% CI [100.0, 100.0], decisive (p < 0.001)\n`,
    );
    const better = await cli("summary", oracleJob, "--fail-if-worse-than", nopJob);
    expect(better.code).toBe(0);
    expect(better.stderr).toMatch(
      /^passed --fail-if-worse-than job_\S+: oracle \(this job\) beats nop/,
    );
    const same = await cli("summary", nopJob, "--fail-if-worse-than", nopJob);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/score the same on these 14 scenarios: not decisive/);
    // Both gates failing: --fail-under's code wins.
    const both = await cli(
      "summary",
      nopJob,
      "--fail-under",
      "0.5",
      "--fail-if-worse-than",
      oracleJob,
    );
    expect(both.code).toBe(4);
    expect(both.stderr.trim().split("\n")).toHaveLength(2);
    // A baseline that does not exist is an error before any output.
    const missing = await cli("summary", nopJob, "--fail-if-worse-than", "job_nope");
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
  });
});

describe("run: CI gates once the job has completed", () => {
  it("--fail-under exits 4 after the results; a bad baseline stops it before anything runs", async () => {
    const before = await readdir(jobsDir);
    const bad = await cli(
      "run",
      "--agent",
      "nop",
      "--benchmark",
      "starter",
      "--fail-if-worse-than",
      "job_nope",
    );
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(await readdir(jobsDir)).toEqual(before);
    const detached = await cli(
      "run",
      "--agent",
      "nop",
      "--benchmark",
      "starter",
      "--detach",
      "--fail-under",
      "0.5",
    );
    expect(detached.code).toBe(2);
    expect(detached.stderr).toMatch(
      /^Error: --fail-under and --fail-if-worse-than wait for the job to end: with --detach/,
    );
    expect(await readdir(jobsDir)).toEqual(before);

    const r = await cli(
      "run",
      "--agent",
      "nop",
      "--benchmark",
      "starter",
      "--fail-under",
      "0.5",
      "--fail-if-worse-than",
      oracleJob,
    );
    expect(r.code).toBe(4);
    expect(r.stdout).toContain("nop");
    expect(r.stderr).toContain("FAILED --fail-under 0.5: nop has score 0.000\n");
    expect(r.stderr).toContain(
      `FAILED --fail-if-worse-than ${oracleJob}: oracle (${oracleJob}) beats nop (this job)`,
    );
  });
});

describe("summary -o junit and -o markdown", () => {
  it("junit: one testcase per trial, well-formed (xmllint), failures for nop's trials", async () => {
    const r = await cli("summary", nopJob, "-o", "junit");
    expect(r.code, r.stderr).toBe(0);
    const lint = spawnSync("xmllint", ["--noout", "-"], { input: r.stdout, encoding: "utf8" });
    expect(lint.error, "xmllint is missing: apt-get install libxml2-utils").toBeUndefined();
    expect(lint.status, lint.stderr).toBe(0);
    expect(r.stdout.match(/<testcase /g)).toHaveLength(STARTER_TASKS);
    expect(r.stdout.match(/<failure /g)).toHaveLength(STARTER_TASKS);
    expect(r.stdout).toMatch(/<testsuite name="nop" tests="14" failures="14" errors="0"/);
  });

  it("markdown: the per-agent table with the interval", async () => {
    const r = await cli("summary", oracleJob, "-o", "markdown");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^## Benchmark job /);
    expect(r.stdout).toMatch(/\| oracle \| 14 \| 14 \| 1\.000 \[1\.000, 1\.000\] \|/);
  });
});
