import type { ChildProcess } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { list } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, expectUsageError, runCli } from "../helpers/cli.js";
import { exists, filesUnder, isJobName, readJson } from "../helpers/files.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

const MINI = join(FIXTURES, "bench-mini");

interface ResultsJson {
  scenario_run_id: string;
  scenario_id: string;
  scenario_name: string;
  state: string;
  score: number | null;
  duration_ms: number | null;
  failure_reason?: { exception_type: string; exception_message: string };
  scoring_functions: { name: string; score: number; state: string; output: null }[];
  rli_trial: { status: string; agent: string; attempt: number; score: number | null };
}
interface StoredTrial {
  trial_id: string;
  scenario_id: string;
  agent: { name: string; model: string | null };
  attempt: number;
  status: string;
  score: number | null;
  rewards: Record<string, number> | null;
  duration_ms: number;
  exception: { type: string; message: string } | null;
}

let tmp: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;
let jobId: string;
let jobDir: string;
let outN = 0;

/** A fresh output path under the temp dir (not created). */
function outDir(): string {
  outN++;
  return join(tmp.dir, `out-${outN}`);
}

function logs(...args: string[]) {
  return runCli(["bmj", "logs", ...args], env);
}

async function storedTrial(dir: string, id: string): Promise<StoredTrial> {
  return readJson<StoredTrial>(join(dir, "trials", id, "result.json"));
}

function lines(s: string): string[] {
  return s.split("\n").filter((l) => l !== "");
}

beforeAll(async () => {
  tmp = await tempDir("rli-logs-e2e-");
  env = cliEnv(tmp.dir);
  jobsDir = join(tmp.dir, "jobs");
  const r = await runCli(
    [
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--agent",
      "nop",
      "--scenarios",
      join(MINI, "hello"),
      join(MINI, "partial"),
      join(MINI, "broken-verifier"),
      "--n-attempts",
      "2",
      "--jobs-dir",
      jobsDir,
      "-o",
      "json",
    ],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
  const ids = await readdir(jobsDir);
  expect(ids).toHaveLength(1);
  jobId = ids[0]!;
  jobDir = join(jobsDir, jobId);
});
afterAll(() => tmp.cleanup());

/** agent dir, scenario dir base, scenario id: the 12 trials of the job above. */
const AGENTS = [
  { dir: "oracle", name: "oracle" },
  { dir: "nop", name: "nop" },
];
const SCENARIOS = [
  { dir: "mini_hello", id: "bench-mini/hello", name: "mini/hello" },
  { dir: "mini_partial", id: "bench-mini/partial", name: "mini/partial" },
  { dir: "mini_broken-verifier", id: "bench-mini/broken-verifier", name: "mini/broken-verifier" },
];

describe("rli bmj logs <id> -o <dir>", () => {
  it("writes <agent>/<scenario>-<n>/results.json and every log file of each trial", async () => {
    const out = outDir();
    const r = await logs(jobId, "-o", out, "--jobs-dir", jobsDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    const err = lines(r.stderr);
    expect(err[0]).toBe(`Downloading logs for 12 scenario run(s) to ${out}`);
    expect(err.at(-1)).toBe(`Downloaded logs for 12/12 scenario run(s) to ${out}`);
    expect(err.filter((l) => l.startsWith("  ✓ "))).toHaveLength(12);
    expect(err).toContain("  ✓ oracle / mini/partial (attempt 2)");
    expect(r.stderr).not.toContain("Warning");

    expect((await readdir(out)).sort()).toEqual(["nop", "oracle"]);
    for (const agent of AGENTS) {
      expect((await readdir(join(out, agent.dir))).sort()).toEqual(
        SCENARIOS.flatMap((s) => [`${s.dir}-1`, `${s.dir}-2`]).sort(),
      );
      for (const s of SCENARIOS) {
        for (const attempt of [1, 2]) {
          const dest = join(out, agent.dir, `${s.dir}-${attempt}`);
          const id = `${s.id.replace("/", "_")}__${agent.name}__${attempt}`;
          const stored = await storedTrial(jobDir, id);
          const res = await readJson<ResultsJson>(join(dest, "results.json"));
          expect(res.scenario_run_id).toBe(id);
          expect(res.scenario_id).toBe(s.id);
          expect(res.scenario_name).toBe(s.name);
          expect(res.duration_ms).toBe(stored.duration_ms);
          expect(res.rli_trial).toMatchObject({
            status: stored.status,
            agent: agent.name,
            attempt,
            score: stored.score,
          });
          expect(res.scoring_functions).toEqual(
            Object.entries(stored.rewards ?? {}).map(([name, score]) => ({
              name,
              score,
              state: "complete",
              output: null,
            })),
          );
          // The copy holds exactly the trial's log files, byte for byte.
          const src = join(jobDir, "trials", id, "logs");
          const srcFiles = await filesUnder(src);
          expect(await filesUnder(dest)).toEqual([...srcFiles, "results.json"].sort());
          for (const f of srcFiles) {
            expect(await readFile(join(dest, f), "utf8")).toBe(
              await readFile(join(src, f), "utf8"),
            );
          }
        }
      }
    }
  });

  it("holds the Runloop state, score and failure reason the trial earned", async () => {
    const out = outDir();
    expect((await logs(jobId, "-o", out, "--jobs-dir", jobsDir)).code).toBe(0);
    const res = (agent: string, scenario: string) =>
      readJson<ResultsJson>(join(out, agent, `${scenario}-1`, "results.json"));

    const hello = await res("oracle", "mini_hello");
    expect([hello.state, hello.score, hello.failure_reason]).toEqual(["COMPLETED", 1, undefined]);
    expect(hello.scoring_functions.map((f) => [f.name, f.score])).toEqual([["reward", 1]]);

    const partial = await res("oracle", "mini_partial");
    expect([partial.state, partial.score, partial.rli_trial.status]).toEqual([
      "COMPLETED",
      0.5,
      "failed",
    ]);
    expect(partial.scoring_functions.map((f) => [f.name, f.score])).toEqual([
      ["reward", 0.5],
      ["extra", 2],
    ]);

    const nopHello = await res("nop", "mini_hello");
    expect([nopHello.state, nopHello.score]).toEqual(["COMPLETED", 0]);

    const broken = await res("oracle", "mini_broken-verifier");
    expect([broken.state, broken.score, broken.rli_trial.status]).toEqual([
      "FAILED",
      null,
      "verifier_error",
    ]);
    expect(broken.failure_reason?.exception_type).toBe("RewardFileNotFoundError");
    expect(broken.scoring_functions).toEqual([]);

    // The oracle's own log and the verifier's output are there; nop writes no agent log.
    const helloDir = join(out, "oracle", "mini_hello-1");
    expect(await filesUnder(helloDir)).toEqual(
      expect.arrayContaining([
        "agent/oracle.txt",
        "verifier/reward.txt",
        "verifier/test-stdout.txt",
      ]),
    );
    expect((await readFile(join(helloDir, "verifier", "reward.txt"), "utf8")).trim()).toBe("1");
    expect(await filesUnder(join(out, "nop", "mini_hello-1"))).not.toContain("agent/oracle.txt");
  });

  it("--run takes an agent label or the benchmark_run_id from summary -o json", async () => {
    const out = outDir();
    const r = await logs(jobId, "-o", out, "--run", "nop", "--jobs-dir", jobsDir);
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(out)).toEqual(["nop"]);
    expect(await readdir(join(out, "nop"))).toHaveLength(6);
    expect(lines(r.stderr).at(-1)).toBe(`Downloaded logs for 6/6 scenario run(s) to ${out}`);

    const out2 = outDir();
    const r2 = await logs(
      jobId,
      "-o",
      out2,
      "--run",
      `${jobId}/oracle`,
      "--scenario",
      "bench-mini/partial",
      "--jobs-dir",
      jobsDir,
    );
    expect(r2.code, r2.stderr).toBe(0);
    expect(await readdir(out2)).toEqual(["oracle"]);
    expect((await readdir(join(out2, "oracle"))).sort()).toEqual([
      "mini_partial-1",
      "mini_partial-2",
    ]);
  });

  it("--scenario takes one scenario run id and keeps that run's directory name", async () => {
    const out = outDir();
    const r = await logs(
      jobId,
      "-o",
      out,
      "--scenario",
      "bench-mini_hello__nop__2",
      "--jobs-dir",
      jobsDir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await filesUnder(out)).toEqual(
      expect.arrayContaining([
        "nop/mini_hello-2/results.json",
        "nop/mini_hello-2/verifier/reward.txt",
      ]),
    );
    expect(await readdir(out)).toEqual(["nop"]);
    expect(await readdir(join(out, "nop"))).toEqual(["mini_hello-2"]);
    const res = await readJson<ResultsJson>(join(out, "nop", "mini_hello-2", "results.json"));
    expect(res.scenario_run_id).toBe("bench-mini_hello__nop__2");
  });

  it("refuses a non-empty output directory unless --force, which replaces only its scenario dirs", async () => {
    const out = outDir();
    await mkdir(join(out, "oracle", "mini_hello-1"), { recursive: true });
    await writeFile(join(out, "oracle", "mini_hello-1", "stale.txt"), "old");
    await writeFile(join(out, "mine.txt"), "keep");
    const refused = await logs(jobId, "-o", out, "--jobs-dir", jobsDir);
    expectUsageError(refused, /already exists and is not empty .*--force/);
    expect(await filesUnder(out)).toEqual(["mine.txt", "oracle/mini_hello-1/stale.txt"]);

    const forced = await logs(jobId, "-o", out, "--force", "--jobs-dir", jobsDir);
    expect(forced.code, forced.stderr).toBe(0);
    const files = await filesUnder(out);
    expect(files).not.toContain("oracle/mini_hello-1/stale.txt");
    expect(files).toContain("oracle/mini_hello-1/results.json");
    expect(await readFile(join(out, "mine.txt"), "utf8")).toBe("keep");
  });
});

describe("rli bmj logs --archive", () => {
  it("writes one .tar.gz rooted at <jobId>/ with the same layout, and nothing else", async () => {
    const dir = join(tmp.dir, "archive-1");
    await mkdir(dir);
    const archive = join(dir, "job.tar.gz");
    const r = await logs(jobId, "--archive", archive, "--run", "oracle", "--jobs-dir", jobsDir);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stderr).at(-1)).toBe(`Downloaded logs for 6/6 scenario run(s) to ${archive}`);
    expect(await readdir(dir)).toEqual(["job.tar.gz"]);

    const entries: string[] = [];
    await list({ file: archive, onReadEntry: (e) => void entries.push(e.path) });
    const files = entries.filter((p) => !p.endsWith("/"));
    expect(
      entries.every(
        (p) => p.startsWith(`${jobId}/oracle/`) || p === `${jobId}/` || p === `${jobId}/oracle/`,
      ),
    ).toBe(true);
    for (const s of SCENARIOS) {
      for (const n of [1, 2]) {
        const base = `${jobId}/oracle/${s.dir}-${n}`;
        expect(files).toContain(`${base}/results.json`);
        expect(files).toContain(`${base}/agent/oracle.txt`);
        expect(files).toContain(`${base}/verifier/test-stdout.txt`);
      }
    }
    expect(files.filter((f) => f.endsWith("/results.json"))).toHaveLength(6);

    // An existing archive is kept unless --force.
    const before = await readFile(archive);
    expectUsageError(
      await logs(jobId, "--archive", archive, "--jobs-dir", jobsDir),
      /already exists .*--force/,
    );
    expect(await readFile(archive)).toEqual(before);
    const forced = await logs(jobId, "--archive", archive, "--force", "--jobs-dir", jobsDir);
    expect(forced.code, forced.stderr).toBe(0);
    const all: string[] = [];
    await list({ file: archive, onReadEntry: (e) => void all.push(e.path) });
    expect(all.filter((f) => f.endsWith("/results.json"))).toHaveLength(12);
    expect(await readdir(dir)).toEqual(["job.tar.gz"]);
  });
});

describe("rli bmj logs bad input", () => {
  it("an unknown job id is a one-line usage error and writes nothing", async () => {
    const out = outDir();
    expectUsageError(
      await logs("job_19990101_000000_ffffff", "-o", out, "--jobs-dir", jobsDir),
      /Benchmark job job_19990101_000000_ffffff not found/,
    );
    expect(await exists(out)).toBe(false);
  });

  it("an unknown --run names the job's runs and writes nothing", async () => {
    const out = outDir();
    const r = await logs(jobId, "-o", out, "--run", "claude-code", "--jobs-dir", jobsDir);
    expectUsageError(
      r,
      /Benchmark run claude-code not found in job job_\S+ \(runs: oracle, nop\)$/m,
    );
    expect(await exists(out)).toBe(false);
  });

  it("an unknown --scenario is named in the error and writes nothing", async () => {
    const out = outDir();
    const r = await logs(jobId, "-o", out, "--scenario", "bench-mini/nope", "--jobs-dir", jobsDir);
    expectUsageError(r, /Scenario bench-mini\/nope not found in job /);
    expect(await exists(out)).toBe(false);
  });

  it("an output path that is a file, or below one, is a usage error", async () => {
    const file = join(tmp.dir, "a-file");
    await writeFile(file, "x");
    expectUsageError(
      await logs(jobId, "-o", file, "--jobs-dir", jobsDir),
      /exists and is not a directory/,
    );
    expectUsageError(await logs(jobId, "-o", join(file, "sub"), "--jobs-dir", jobsDir), /ENOTDIR/);
    expect(await readFile(file, "utf8")).toBe("x");
  });

  it("--archive with --output-dir, or an archive without .tar.gz, is a usage error", async () => {
    const out = outDir();
    expectUsageError(
      await logs(jobId, "-o", out, "--archive", `${out}.tar.gz`, "--jobs-dir", jobsDir),
      /either --output-dir or --archive/,
    );
    expectUsageError(
      await logs(jobId, "--archive", `${out}.zip`, "--jobs-dir", jobsDir),
      /\.tar\.gz/,
    );
    expect(await exists(out)).toBe(false);
    expect(await exists(`${out}.tar.gz`)).toBe(false);
    expect(await exists(`${out}.zip`)).toBe(false);
  });
});

describe("rli bmj logs on an altered job", () => {
  it("writes results.json for a trial without logs, skips symlinks, and exits 1 when a copy fails", async () => {
    const jobs2 = join(tmp.dir, "jobs-altered");
    await mkdir(jobs2);
    const dir2 = join(jobs2, jobId);
    await cp(jobDir, dir2, { recursive: true });
    // No logs at all (as a trial cancelled before it started).
    await rm(join(dir2, "trials", "bench-mini_hello__oracle__2", "logs"), { recursive: true });
    // A symlink pointing out of the trial directory.
    const secret = join(tmp.dir, "secret.txt");
    await writeFile(secret, "do not copy");
    await symlink(
      secret,
      join(dir2, "trials", "bench-mini_hello__oracle__1", "logs", "agent", "leak.txt"),
    );
    // A result whose logs_dir points outside its trial directory cannot be copied.
    const jsonl = await readFile(join(dir2, "results.jsonl"), "utf8");
    const altered = jsonl
      .split("\n")
      .map((l) => {
        if (!l.includes('"trial_id":"bench-mini_partial__nop__1"')) return l;
        return JSON.stringify({ ...JSON.parse(l), logs_dir: "../../.." });
      })
      .join("\n");
    expect(altered).not.toBe(jsonl);
    await writeFile(join(dir2, "results.jsonl"), altered);

    const out = outDir();
    const r = await logs(jobId, "-o", out, "--jobs-dir", jobs2);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const err = lines(r.stderr);
    const warnings = err.filter((l) => l.startsWith("  Warning: "));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^ {2}Warning: failed to copy logs for nop \/ mini\/partial \(attempt 1\) \(bench-mini_partial__nop__1\): .*outside the trial directory/,
    );
    expect(err.at(-1)).toBe(`Downloaded logs for 11/12 scenario run(s) to ${out}`);
    expect(
      err.some((l) => /skipped 1 symlink\(s\) or special file\(s\): agent\/leak\.txt/.test(l)),
    ).toBe(true);

    expect(await filesUnder(join(out, "oracle", "mini_hello-2"))).toEqual(["results.json"]);
    const noLogs = await readJson<ResultsJson>(join(out, "oracle", "mini_hello-2", "results.json"));
    expect(noLogs.scenario_run_id).toBe("bench-mini_hello__oracle__2");
    expect(noLogs.state).toBe("COMPLETED");
    const withLink = await filesUnder(join(out, "oracle", "mini_hello-1"));
    expect(withLink).toContain("agent/oracle.txt");
    expect(withLink).not.toContain("agent/leak.txt");
    expect(await exists(join(out, "oracle", "mini_hello-1", "agent", "leak.txt"))).toBe(false);
    // The failed trial still has its results.json (written before the copy), and nothing else.
    expect(await filesUnder(join(out, "nop", "mini_partial-1"))).toEqual(["results.json"]);
  });
});

describe("rli bmj logs on a running job", () => {
  it("copies finished trials and the running trial's partial logs, and says so", async () => {
    const jobs3 = join(tmp.dir, "jobs-running");
    let child: ChildProcess | undefined;
    const run = runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        join(FIXTURES, "slow-task"),
        join(MINI, "hello"),
        "--n-concurrent-trials",
        "2",
        "--jobs-dir",
        jobs3,
      ],
      env,
      { onSpawn: (c) => (child = c) },
    );
    try {
      let id = "";
      await waitFor(async () => {
        const ids = (await readdir(jobs3).catch(() => [] as string[])).filter(isJobName);
        if (ids.length === 0) return false;
        id = ids[0]!;
        const results = await readFile(join(jobs3, id, "results.jsonl"), "utf8").catch(() => "");
        const events = await readFile(join(jobs3, id, "events.jsonl"), "utf8").catch(() => "");
        return (
          results.includes("bench-mini_hello__oracle__1") &&
          events.includes('"trial_id":"fixtures_slow-task__oracle__1","phase":"agent_run"')
        );
      }, 30_000);
      const partial = join(jobs3, id, "trials", "fixtures_slow-task__oracle__1", "logs", "agent");
      await writeFile(join(partial, "progress.txt"), "halfway\n");

      const out = outDir();
      const r = await logs(id, "-o", out, "--jobs-dir", jobs3);
      expect(r.code, r.stderr).toBe(0);
      const err = lines(r.stderr);
      expect(err[0]).toBe(`Downloading logs for 2 scenario run(s) to ${out}`);
      expect(err).toContain("  ✓ oracle / fixtures/slow-task (running: partial logs)");
      expect(err).toContain("  ✓ oracle / mini/hello");
      expect(err.some((l) => l.startsWith(`Note: job ${id} is still running`))).toBe(true);

      const slow = await readJson<ResultsJson>(
        join(out, "oracle", "fixtures_slow-task", "results.json"),
      );
      expect(slow).toMatchObject({
        state: "running",
        score: null,
        rli_trial: { status: "running" },
      });
      expect(
        await readFile(join(out, "oracle", "fixtures_slow-task", "agent", "progress.txt"), "utf8"),
      ).toBe("halfway\n");
      const hello = await readJson<ResultsJson>(join(out, "oracle", "mini_hello", "results.json"));
      expect([hello.state, hello.score]).toEqual(["COMPLETED", 1]);
    } finally {
      child?.kill("SIGINT");
      await run;
    }
  });
});
