import { execFileSync, spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CliResult, cliEnv, expectUsageError, runCli } from "../helpers/cli.js";
import { readJson } from "../helpers/files.js";
import { hasCommand, pgrep, processAlive } from "../helpers/processes.js";
import { BIN, FIXTURES, tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

const MINI = join(FIXTURES, "bench-mini");

interface Status {
  state: string;
  runner: { pid: number };
}

describe("summary and watch on a finished job", () => {
  let home: { dir: string; cleanup: () => Promise<void> };
  let env: NodeJS.ProcessEnv;
  let jobId = "";

  beforeAll(async () => {
    home = await tempDir("rli-summary-");
    env = cliEnv(home.dir);
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
        join(MINI, "sleeper"),
        "--n-attempts",
        "2",
        "--n-concurrent-trials",
        "12",
        "-o",
        "json",
      ],
      env,
    );
    expect(r.code).toBe(0);
    jobId = (JSON.parse(r.stdout) as { id: string }).id;
  });
  afterAll(() => home.cleanup());

  it("summary prints Runloop's results table, then our columns", async () => {
    const r = await runCli(["bmj", "summary", jobId], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain(`Job ID: ${jobId}`);
    // oracle: hello passes (2), partial scores 0.5 (2), sleeper times out (2); nop: 6 verified zeros.
    expect(lines).toContain(
      `${"oracle".padEnd(40)}${"33.3%".padStart(10)}${"33.3%".padStart(14)}${"33.3%".padStart(16)}${"6".padStart(8)}`,
    );
    expect(lines).toContain(
      `${"nop".padEnd(40)}${"0.0%".padStart(10)}${"100.0%".padStart(14)}${"0.0%".padStart(16)}${"6".padStart(8)}`,
    );
    const oracle = lines.find((l) => /^oracle +\d\.\d{3} /.test(l));
    // Mean with unscored trials as 0: (1 + 1 + 0.5 + 0.5 + sleeper's two verified 1s) / 6.
    expect(oracle).toMatch(/^oracle +0\.833 .*agent_timeout 2$/);
    expect(r.stderr).toBe("");
  });

  it("summary -e adds one line per trial with Runloop's icons", async () => {
    const r = await runCli(["bmj", "summary", jobId, "-e"], env);
    expect(r.code).toBe(0);
    const trialLines = r.stdout.split("\n").filter((l) => /^ {2}[✓✗!] /.test(l));
    expect(trialLines).toHaveLength(12);
    expect(trialLines.filter((l) => l.startsWith("  ✓ mini/hello"))).toHaveLength(2);
    expect(trialLines.filter((l) => /^ {2}✗ mini\/partial +score=0\.5/.test(l))).toHaveLength(2);
    expect(
      trialLines.filter((l) => /^ {2}! mini\/sleeper +TIMEOUT {2}agent_timeout: Agent/.test(l)),
    ).toHaveLength(2);
  });

  it("summary -o json is Runloop's BenchmarkJobView", async () => {
    const r = await runCli(["bmj", "summary", jobId, "-o", "json"], env);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as {
      id: string;
      state: string;
      benchmark_outcomes: {
        agent_name: string;
        n_completed: number;
        n_timeout: number;
        scenario_outcomes: { state: string; score?: number }[];
      }[];
      in_progress_runs: unknown[];
    };
    expect(view.id).toBe(jobId);
    expect(view.state).toBe("completed");
    expect(view.in_progress_runs).toEqual([]);
    const [oracle, nop] = view.benchmark_outcomes;
    expect(oracle).toMatchObject({ agent_name: "oracle", n_completed: 4, n_timeout: 2 });
    expect(nop).toMatchObject({ agent_name: "nop", n_completed: 6, n_timeout: 0 });
    const states = view.benchmark_outcomes.flatMap((o) => o.scenario_outcomes.map((s) => s.state));
    expect(states.sort()).toEqual([...Array(10).fill("COMPLETED"), "TIMEOUT", "TIMEOUT"]);
  });

  it.skipIf(!hasCommand("jq"))("works with jq as Runloop's does", async () => {
    const r = await runCli(["bmj", "summary", jobId, "-o", "json"], env);
    const out = execFileSync("jq", ["-r", ".benchmark_outcomes[].scenario_outcomes[].state"], {
      input: r.stdout,
      encoding: "utf8",
    });
    expect(out.trim().split("\n")).toHaveLength(12);
    expect(new Set(out.trim().split("\n"))).toEqual(new Set(["COMPLETED", "TIMEOUT"]));
  });

  it("summary -o yaml holds the same document, and `latest` and id prefixes find the job", async () => {
    const json = await runCli(["bmj", "summary", jobId, "-o", "json"], env);
    const yaml = await runCli(["bmj", "summary", "latest", "-o", "yaml"], env);
    const prefix = await runCli(["bmj", "summary", jobId.slice(0, 20), "-o", "json"], env);
    expect(yaml.code).toBe(0);
    const { parse } = await import("yaml");
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    expect(JSON.parse(prefix.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it("watch on a finished job prints the table at once, the hint, and exits 0", async () => {
    const r = await runCli(["bmj", "watch", jobId], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Benchmark Job Results");
    expect(r.stdout).toContain("State: completed");
    expect(r.stderr).toContain("Benchmark job completed!");
    expect(r.stderr).toContain(`To see full results, run: rli benchmark-job summary -e ${jobId}`);
  });

  it("watch -o json replays the job's events as NDJSON", async () => {
    const r = await runCli(["bmj", "watch", jobId, "-o", "json"], env);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; seq: number });
    expect(events[0]?.type).toBe("job_started");
    expect(events.at(-1)?.type).toBe("job_finished");
    expect(events.filter((e) => e.type === "trial_finished")).toHaveLength(12);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });

  const bad: [string, string[], RegExp][] = [
    ["summary of an unknown id", ["summary", "job_19990101_000000_abcdef"], /not found in/],
    ["summary with a bad -o", ["summary", "latest", "-o", "xml"], /Unknown output format: xml/],
    ["watch with -o yaml", ["watch", "latest", "-o", "yaml"], /Valid options: text, json$/],
    ["watch of an unknown id", ["watch", "nope"], /Benchmark job nope not found/],
    ["cancel with a bad --wait", ["cancel", "latest", "--wait", "soon"], /--wait must be/],
    ["a path that is not a job", ["summary", "./nowhere"], /is not a job directory/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what}: one line, exit 2`, async () => {
      expectUsageError(await runCli(["bmj", ...args], env), message);
    });
  }

  it("an unreadable jobs directory is one line and exit 1 for every command that reads it", async () => {
    const file = join(home.dir, "not-a-dir");
    await writeFile(file, "x");
    for (const cmd of [
      ["summary", "latest"],
      ["watch", "latest"],
      ["logs", "latest"],
      ["cancel", "latest"],
      ["list"],
    ]) {
      const r = await runCli(["bmj", ...cmd, "--jobs-dir", file], env);
      expect(r.code, cmd.join(" ")).toBe(1);
      expect(r.stderr).toBe(`Error: cannot read jobs directory ${file}: ENOTDIR\n`);
    }
  });

  it("cancel of a finished job changes nothing", async () => {
    const before = await readFile(join(home.dir, "jobs", jobId, "job.json"), "utf8");
    const r = await runCli(["bmj", "cancel", jobId], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("already ended (completed)");
    expect(await readFile(join(home.dir, "jobs", jobId, "job.json"), "utf8")).toBe(before);
  });
});

describe("detached jobs", () => {
  let home: { dir: string; cleanup: () => Promise<void> };
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    home = await tempDir("rli-detach-");
    env = cliEnv(home.dir);
  });
  afterEach(() => home.cleanup());

  /** `bmj run --agent oracle <args> --detach`, and the id of the job it created. */
  async function runDetached(args: string[]): Promise<{ r: CliResult; jobId: string }> {
    const r = await runCli(["bmj", "run", "--agent", "oracle", ...args, "--detach"], env);
    return { r, jobId: /created: (job_\S+)/.exec(r.stdout)?.[1] ?? "" };
  }

  it("run --detach returns at once; watch follows the job to its end from another process", async () => {
    const { r } = await runDetached([
      "--scenarios",
      join(MINI, "sleeper"),
      join(MINI, "hello"),
      "--n-attempts",
      "2",
      "--n-concurrent-trials",
      "1",
    ]);
    expect(r.code).toBe(0);
    const [created, follow] = r.stdout.trimEnd().split("\n");
    const jobId = /^Benchmark job created: (job_\S+) \(agent timeout = /.exec(created ?? "")?.[1];
    expect(jobId).toBeDefined();
    expect(follow).toBe(`Follow the run with "rli benchmark-job watch ${jobId}"`);
    const dir = join(home.dir, "jobs", jobId!);
    const status = await readJson<Status>(join(dir, "status.json"));
    expect(status.state).toBe("running");
    expect(status.runner.pid).not.toBe(process.pid);

    const w = await runCli(["bmj", "watch", jobId!, "-o", "json"], env);
    expect(w.code).toBe(0);
    const events = w.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; state?: string });
    expect(events.filter((e) => e.type === "trial_finished")).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: "job_finished", state: "completed" });
    await waitFor(async () => !processAlive(status.runner.pid), 5000, "the runner to exit");
    const log = await readFile(join(dir, "runner.log"), "utf8");
    expect(log).toContain("Benchmark Job Results");
  });

  it.skipIf(!hasCommand("script"))(
    "watch in a terminal draws the live view, then the results table",
    async () => {
      const { jobId } = await runDetached([
        "--scenarios",
        join(MINI, "sleeper"),
        "--n-attempts",
        "3",
        "--n-concurrent-trials",
        "1",
      ]);
      expect(jobId).not.toBe("");
      // `script` gives the watcher a pseudo-terminal, as a person's shell would.
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        // A pseudo-terminal starts with no size; a person's terminal has one.
        const cmd = `stty rows 30 cols 100; node ${BIN} bmj watch ${jobId}`;
        const child = spawn("script", ["-qec", cmd, "/dev/null"], {
          env,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let text = "";
        child.stdout.on("data", (d: Buffer) => {
          text += d.toString();
        });
        child.on("close", (code) => resolve({ code, text }));
      });
      expect(out.code).toBe(0);
      const plain = out.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      expect(plain).toContain(`Benchmark Job: `);
      expect(plain).toMatch(/Progress:|Waiting for trials to start/);
      expect(plain).toContain("Benchmark Job Results");
      expect(plain).toContain(`To see full results, run: rli benchmark-job summary -e ${jobId}`);
      // Drawn in place: cursor movement, not one line per redraw.
      expect(out.text).toMatch(/\x1b\[\d*A|\x1b\[2K/);
    },
  );

  it("cancel stops a detached job: marked cancelled, its runner and sandboxes gone", async () => {
    const marker = `detach-${process.pid}-${Date.now()}`;
    const { r, jobId } = await runDetached([
      "--scenarios",
      join(FIXTURES, "slow-task"),
      "--n-attempts",
      "2",
      "--env-vars",
      `RLI_TEST_MARKER=${marker}`,
    ]);
    expect(r.code).toBe(0);
    const dir = join(home.dir, "jobs", jobId);
    await waitFor(
      async () => pgrep(`rli-slow-task-${marker}`).length >= 2,
      20_000,
      "the slow agents to start",
    );
    const { runner } = await readJson<Status>(join(dir, "status.json"));

    const c = await runCli(["bmj", "cancel", jobId], env);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(
      new RegExp(
        `^Benchmark job ${jobId} cancelled: 0 of 2 trial\\(s\\) finished, 2 cancelled\\n$`,
      ),
    );
    expect((await readJson<Status>(join(dir, "status.json"))).state).toBe("cancelled");
    expect((await readJson<Status>(join(dir, "job.json"))).state).toBe("cancelled");
    await waitFor(async () => !processAlive(runner.pid), 5000, "the runner to exit");
    expect(pgrep(`rli-slow-task-${marker}`)).toEqual([]);

    const w = await runCli(["bmj", "watch", jobId], env);
    expect(w.code).toBe(3);
    expect(w.stderr).toContain("Benchmark job cancelled.");
  });

  it("a job whose runner was killed reads as failed; watch exits 1 and cancel closes it", async () => {
    const marker = `kill9-${process.pid}-${Date.now()}`;
    const { jobId } = await runDetached([
      "--scenarios",
      join(FIXTURES, "slow-task"),
      "--env-vars",
      `RLI_TEST_MARKER=${marker}`,
    ]);
    const dir = join(home.dir, "jobs", jobId);
    await waitFor(
      async () => pgrep(`rli-slow-task-${marker}`).length > 0,
      20_000,
      "the slow agent to start",
    );
    const { runner } = await readJson<Status>(join(dir, "status.json"));
    process.kill(runner.pid, "SIGKILL");
    await waitFor(async () => !processAlive(runner.pid), 5000, "the runner to die");
    // bubblewrap's --die-with-parent takes the sandbox with the runner.
    await waitFor(
      async () => pgrep(`rli-slow-task-${marker}`).length === 0,
      5000,
      "the sandbox to go",
    );

    const w = await runCli(["bmj", "watch", jobId], env);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain(`stopped without finishing the job`);
    const s = await runCli(["bmj", "summary", jobId, "-o", "json"], env);
    expect(JSON.parse(s.stdout)).toMatchObject({
      state: "failed",
      rli_job: { runner: { alive: false } },
    });

    const c = await runCli(["bmj", "cancel", jobId], env);
    expect(c.code).toBe(0);
    expect((await readJson<Status>(join(dir, "status.json"))).state).toBe("cancelled");
    const events = (await readFile(join(dir, "events.jsonl"), "utf8")).trim().split("\n");
    expect(JSON.parse(events.at(-1)!)).toMatchObject({ type: "job_finished", state: "cancelled" });
    expect(await readdir(join(dir, "trials"))).toHaveLength(1);
  });
});
