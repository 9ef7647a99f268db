import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeRunloop, startFakeRunloop } from "../fakes/runloop-server.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tasks.js";

const KEY = "rl_test_key_0123456789";

let fake: FakeRunloop;
let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Jobs move only when the test steps them.
  fake = await startFakeRunloop({ apiKey: KEY, jobStepMs: 0 });
  home = await tempDir("rli-remote-");
  env = { ...cliEnv(home.dir), RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: fake.baseUrl };
});
afterAll(async () => {
  await fake.close();
  await home.cleanup();
});

async function createJob(name: string, agents: [string, string][]): Promise<string> {
  const res = await fetch(`${fake.baseUrl}/v1/benchmark_jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      name,
      spec: {
        type: "scenarios",
        scenario_ids: fake
          .scenarios()
          .map((s) => s.id)
          .slice(0, 3),
        agent_configs: agents.map(([agent, model]) => ({
          type: "job_agent",
          name: agent,
          model_name: model,
        })),
        orchestrator_config: { n_attempts: 1, n_concurrent_trials: 3 },
      },
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli(["bmj", ...args], { ...env, ...extra });

describe("Runloop jobs through the built CLI", () => {
  let done: string;
  beforeAll(async () => {
    done = await createJob("e2e done", [
      ["oracle", "m"],
      ["nop", "m"],
    ]);
    fake.runJob(done);
  });

  it("summary prints Runloop's table; -e a line per scenario; -o json the server's view", async () => {
    const text = await cli(["summary", done, "-e"]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    expect(text.stdout).toContain(`Job ID: ${done}\nName: e2e done\nState: completed\n`);
    expect(text.stdout).toContain("-".repeat(88));
    expect(text.stdout).toMatch(/\noracle \(m\) +100\.0% +0\.0% +0\.0% +3\n/);
    expect(text.stdout).toMatch(/\nnop \(m\) +0\.0% +100\.0% +0\.0% +3\n/);
    const lines = text.stdout.split("\n");
    expect(lines.filter((l) => /^ {2}✓ .*score=1\.0$/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /^ {2}✗ .*score=0\.0$/.test(l))).toHaveLength(3);

    const json = await cli(["summary", done, "-o", "json"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout)).toEqual(fake.job(done));
  });

  it("watch of an ended job prints the banner, the table and the hint; exit 0", async () => {
    const r = await cli(["watch", done]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Benchmark job completed!\n");
    expect(r.stderr).toContain(`To see full results, run: rli benchmark-job summary -e ${done}\n`);
    expect(r.stdout).toContain("Benchmark Job Results");
  });

  it("watch follows a running job to its end, a line per change off a terminal", async () => {
    const id = await createJob("e2e watch", [["oracle", "m"]]);
    const timer = setInterval(() => fake.step(id), 300);
    try {
      const r = await cli(["watch", id, "--interval", "1"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^Watching benchmark job bmj_\S+ \(e2e watch\)\nState: /);
      expect(r.stderr).toContain("oracle:m: 3/3 complete, score: 100%\n");
      expect(r.stderr).toMatch(/\nBenchmark job completed!\nTotal time: \d+s\n/);
      expect(r.stdout).toMatch(/\noracle \(m\) +100\.0%/);
    } finally {
      clearInterval(timer);
    }
  });

  it("watch -o json streams NDJSON and nothing else on stdout", async () => {
    const id = await createJob("e2e ndjson", [["nop", "m"]]);
    const timer = setInterval(() => fake.step(id), 300);
    try {
      const r = await cli(["watch", id, "--interval", "1", "-o", "json"]);
      expect(r.code).toBe(0);
      const records = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; job_id: string; end?: string });
      expect(records.at(-1)).toMatchObject({ type: "end", job_id: id, end: "completed" });
      expect(records.slice(0, -1).every((x) => x.type === "progress")).toBe(true);
    } finally {
      clearInterval(timer);
    }
  });

  it("cancel cancels the runs of a running job; watch then exits 3", async () => {
    const id = await createJob("e2e cancel", [
      ["oracle", "m"],
      ["nop", "m"],
    ]);
    fake.step(id);
    fake.step(id);
    const r = await cli(["cancel", id]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(r.stdout).toMatch(/^bmr_\S+ oracle:m: cancelled/m);
    expect(r.stderr).toContain(`Cancelled 2/2 benchmark run(s) of job ${id}\n`);
    for (let i = 0; i < 5; i++) fake.step(id);
    const w = await cli(["watch", id]);
    expect(w.code).toBe(3);
    expect(w.stderr).toContain("Benchmark job cancelled.\n");
    const again = await cli(["cancel", id]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already ended \(cancelled\); nothing to cancel/);
  });

  it("list --remote shows the jobs in the local list's table; -o json an array of views", async () => {
    const r = await cli(["list", "--remote"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID +NAME +STARTED +STATUS +DONE +ERRORS +SCORE\n/);
    expect(r.stdout).toMatch(
      new RegExp(`\\n${done} +e2e done +just now +completed +6/6 +0 +50%\\n`),
    );
    const json = await cli(["list", "--remote", "--status", "completed", "-o", "json"]);
    const jobs = JSON.parse(json.stdout) as { id: string; state: string }[];
    expect(jobs.map((j) => j.id)).toContain(done);
    expect(jobs.every((j) => j.state === "completed")).toBe(true);
  });

  it("logs downloads every scenario run into Runloop's layout and exits 0", async () => {
    const out = join(home.dir, "logs-out");
    const r = await cli(["logs", done, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`Downloaded logs for 6/6 scenario run(s) to ${out}\n`);
    expect((await readdir(out)).sort()).toEqual(["nop_m", "oracle_m"]);
    const scenarios = await readdir(join(out, "oracle_m"));
    expect(scenarios).toHaveLength(3);
    const results = JSON.parse(
      await readFile(join(out, "oracle_m", scenarios[0]!, "results.json"), "utf8"),
    ) as { state: string; score: number };
    expect(results).toMatchObject({ state: "COMPLETED", score: 1 });
    const again = await cli(["logs", done, "-o", out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("(already downloaded; --force downloads it again)");
  });

  it("an unknown job, a wrong key and a missing key are one line each, exit 1", async () => {
    const unknown = await cli(["summary", "bmj_doesnotexist"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^Error: not found on Runloop \(404 on GET \/v1\/benchmark_jobs\/bmj_doesnotexist\)[^\n]*\n$/,
    );
    const wrong = await cli(["watch", done], { RUNLOOP_API_KEY: "wrong_key_123456" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^Error: the Runloop API rejected RUNLOOP_API_KEY \(401[^\n]*\n$/);
    const missing = await cli(["logs", done], { RUNLOOP_API_KEY: undefined });
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(missing.stderr).toMatch(/^Error: RUNLOOP_API_KEY/);
  });

  it("bad --interval and --timeout are usage errors; they do not apply to local jobs", async () => {
    expect((await cli(["watch", done, "--interval", "0"])).code).toBe(2);
    expect((await cli(["watch", done, "--timeout", "soon"])).code).toBe(2);
    const local = await cli(["watch", "latest", "--interval", "5"]);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/^Error: --interval and --timeout apply to Runloop jobs/);
  });
});
