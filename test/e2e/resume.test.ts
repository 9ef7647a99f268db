import type { ChildProcess } from "node:child_process";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliEnv, expectUsageError, runCli } from "../helpers/cli.js";
import { isJobName } from "../helpers/files.js";
import { mulberry32 } from "../helpers/prng.js";
import { pgrep } from "../helpers/processes.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

interface Result {
  trial_id: string;
  status: string;
  score: number | null;
  earlier_tries?: { status: string; exception: { type: string } | null; logs_dir: string }[];
}

let tmp: { dir: string; cleanup: () => Promise<void> };
/** A benchmark of N_TASKS copies of mini/hello whose solution takes SOLVE_SEC. */
let bench: string;
const N_TASKS = 16;
const SOLVE_SEC = 0.3;

beforeAll(async () => {
  tmp = await tempDir("rli-resume-");
  bench = join(tmp.dir, "kb");
  for (let i = 0; i < N_TASKS; i++) {
    const dir = join(bench, `t${String(i).padStart(2, "0")}`);
    await cp(join(FIXTURES, "bench-mini", "hello"), dir, { recursive: true });
    const solve = join(dir, "solution", "solve.sh");
    await writeFile(solve, `sleep ${SOLVE_SEC}\n${await readFile(solve, "utf8")}`);
  }
});
afterAll(() => tmp?.cleanup());

/** Each trial's last record in results.jsonl (what readers load), by trial id. */
async function lastResults(jobDir: string): Promise<Map<string, Result>> {
  const text = await readFile(join(jobDir, "results.jsonl"), "utf8");
  const byId = new Map<string, Result>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const r = JSON.parse(line) as Result;
      byId.set(r.trial_id, r);
    } catch {
      // a torn line a killed runner left: the trial ran again
    }
  }
  return byId;
}

const outcomes = (m: Map<string, Result>): Record<string, string> =>
  Object.fromEntries([...m].map(([id, r]) => [id, `${r.status} ${r.score}`]).sort());

const jobDirs = async (home: string): Promise<string[]> =>
  (await readdir(join(home, "jobs")).catch(() => [] as string[]))
    .filter(isJobName)
    .map((id) => join(home, "jobs", id));

describe("resume after SIGKILL", () => {
  const RUN = [
    "--agent",
    "oracle",
    "--agent",
    "nop",
    "--benchmark",
    "",
    "--n-attempts",
    "3",
    "--n-concurrent-trials",
    "4",
  ];
  const N_TRIALS = N_TASKS * 2 * 3;

  it("the runner killed at 20 random moments: after resume every trial has exactly one result and the totals of an uninterrupted run", async () => {
    const args = RUN.map((a) => (a === "" ? bench : a));
    const baseHome = join(tmp.dir, "uninterrupted");
    const base = await runCli(["bmj", "run", ...args, "-o", "json"], cliEnv(baseHome), {
      timeoutMs: 300_000,
    });
    expect(base.code, base.stderr).toBe(0);
    const [baseDir] = await jobDirs(baseHome);
    const expected = outcomes(await lastResults(baseDir as string));
    expect(Object.keys(expected)).toHaveLength(N_TRIALS);

    const home = join(tmp.dir, "killed");
    const env = cliEnv(home);
    // Seeded, so the kill moments are the same on every run.
    const random = mulberry32(20261127);
    let landed = 0;
    const log: string[] = [];
    for (let attempt = 0; landed < 20 && attempt < 60; attempt++) {
      const [dir] = await jobDirs(home);
      const cmd = dir === undefined ? ["bmj", "run", ...args] : ["bmj", "resume", "latest"];
      // Anywhere from start-up (flags, loading tasks) to well into the trials.
      const delayMs = Math.round(100 + random() * 1100);
      let child: ChildProcess | undefined;
      const timer = setTimeout(() => child?.kill("SIGKILL"), delayMs);
      const r: CliResult = await runCli(cmd, env, {
        timeoutMs: 300_000,
        onSpawn: (c) => {
          child = c;
        },
      });
      clearTimeout(timer);
      const killed = r.code === null;
      if (killed) landed++;
      log.push(`${cmd[1]} +${delayMs}ms: ${killed ? "killed" : `exit ${r.code}`}`);
      // A run that was not killed finished the job: nothing left to kill.
      if (!killed) {
        expect(r.code, `${log.join("\n")}\n${r.stderr}`).toBe(0);
        break;
      }
    }
    expect(landed, log.join("\n")).toBe(20);

    // Resume until the job is complete (one resume suffices unless it is interrupted).
    const final = await runCli(["bmj", "resume", "latest", "-o", "json"], env, {
      timeoutMs: 300_000,
    });
    expect(final.code, final.stderr).toBe(0);
    const dirs = await jobDirs(home);
    expect(dirs, "one job, resumed in place").toHaveLength(1);
    const jobDir = dirs[0] as string;
    const results = await lastResults(jobDir);
    expect(outcomes(results)).toEqual(expected);

    // Every trial's own result.json agrees with the line readers load.
    for (const [id, r] of results) {
      const own = JSON.parse(
        await readFile(join(jobDir, "trials", id, "result.json"), "utf8"),
      ) as Result;
      expect(`${own.status} ${own.score}`, id).toBe(`${r.status} ${r.score}`);
    }
    // Trials cut off mid-run kept a record of it, with their logs moved aside.
    const carried = [...results.values()].flatMap((r) => r.earlier_tries ?? []);
    expect(carried.length, log.join("\n")).toBeGreaterThan(0);
    for (const t of carried) {
      expect(["cancelled", "infra_error"]).toContain(t.status);
      expect(t.logs_dir).toMatch(/^tries\/\d+\/logs$/);
    }
    const job = JSON.parse(await readFile(join(jobDir, "job.json"), "utf8")) as {
      state: string;
      resumed_at?: string[];
    };
    expect(job.state).toBe("completed");
    expect(job.resumed_at?.length ?? 0).toBeGreaterThan(0);
    // The killed runners' sandboxes died with them.
    expect(pgrep(jobDir)).toEqual([]);
  }, 600_000);
});

describe("resume refuses, or has nothing to do", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let jobDir: string;

  beforeAll(async () => {
    home = join(tmp.dir, "refusals");
    env = cliEnv(home);
    const r = await runCli(
      ["bmj", "run", "--agent", "oracle", "--scenarios", join(bench, "t00"), join(bench, "t01")],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    [jobDir] = (await jobDirs(home)) as [string];
  });

  it("a completed job: nothing to resume, exit 0, nothing written", async () => {
    const before = await readFile(join(jobDir, "events.jsonl"), "utf8");
    const r = await runCli(["bmj", "resume", "latest"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^Nothing to resume: all 2 trial\(s\) of job_\S+ have results that stand/,
    );
    expect(await readFile(join(jobDir, "events.jsonl"), "utf8")).toBe(before);
  });

  it("--rerun passed runs the passed trials again, keeping their first tries", async () => {
    const r = await runCli(["bmj", "resume", "latest", "--rerun", "passed", "-o", "json"], env);
    expect(r.code, r.stderr).toBe(0);
    const results = await lastResults(jobDir);
    expect([...results.values()].map((t) => t.status)).toEqual(["passed", "passed"]);
    for (const t of results.values()) {
      expect(t.earlier_tries?.map((e) => e.status)).toEqual(["passed"]);
    }
  });

  it("a scenario whose files changed: refused naming it, unless --force", async () => {
    const test = join(bench, "t01", "tests", "test.sh");
    const original = await readFile(test, "utf8");
    try {
      await writeFile(test, `${original}\n# changed\n`);
      const r = await runCli(["bmj", "resume", "latest", "--rerun", "passed"], env);
      expectUsageError(
        r,
        /^Error: Cannot resume job_\S+: scenario kb\/t01 changed since the job started \([0-9a-f]{12} → [0-9a-f]{12}\); --force resumes anyway/,
      );
      const forced = await runCli(["bmj", "resume", "latest", "--rerun", "passed", "--force"], env);
      expect(forced.code, forced.stderr).toBe(0);
    } finally {
      await writeFile(test, original);
    }
  });

  it("a job whose runner is alive: refused, exit 1", async () => {
    const sleeperHome = join(tmp.dir, "alive");
    const sleeperEnv = cliEnv(sleeperHome);
    let child: ChildProcess | undefined;
    const running = runCli(
      ["bmj", "run", "--agent", "oracle", "--scenarios", join(FIXTURES, "bench-mini", "sleeper")],
      sleeperEnv,
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    try {
      await waitFor(async () => (await jobDirs(sleeperHome)).length === 1, 30_000, "the job");
      const r = await runCli(["bmj", "resume", "latest"], sleeperEnv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error: Benchmark job job_\S+ is still running \(runner pid \d+\)/);
    } finally {
      child?.kill("SIGINT");
      await running;
    }
  });

  it.each([
    [
      ["resume", "latest", "--rerun", "passed,bogus"],
      /^Error: --rerun: unknown status "bogus"; allowed: passed, failed/,
    ],
    [
      ["resume", "bmj_31dYgHn3cCnyRMrGrqpEG"],
      /^Error: resume continues jobs run from this machine; bmj_\S+ is a server-side Runloop job$/,
    ],
    [
      ["run", "--resume", "latest", "--agent", "nop"],
      /^Error: --resume continues a job with its own agents and scenarios; drop --agent$/,
    ],
    [["resume", "job_20990101_000000_abcdef"], /job_20990101_000000_abcdef/],
  ])("bmj %j: one-line error, exit 2", async (args, re) => {
    expectUsageError(await runCli(["bmj", ...args], env), re);
  });
});
