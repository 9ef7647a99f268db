import { type ChildProcess, execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLeftover } from "../../src/store/leftovers.js";
import { type FakeRunloop, startFakeRunloop } from "../fakes/runloop-server.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

const run = promisify(execFile);

/** Names of the containers labelled with this job. */
async function containersOf(jobId: string): Promise<string[]> {
  const { stdout } = await run("docker", [
    "ps",
    "-a",
    "--filter",
    `label=rli.job_id=${jobId}`,
    "--format",
    "{{.Names}}",
  ]);
  return stdout.split("\n").filter((l) => l !== "");
}

let home: { dir: string; cleanup: () => Promise<void> };
let bench: string;
let jobsDir: string;

beforeAll(async () => {
  home = await tempDir("rli-cleanup-");
  jobsDir = join(home.dir, "jobs");
  bench = join(home.dir, "sleepy");
  const { mkdir, writeFile } = await import("node:fs/promises");
  for (const name of ["a", "b"]) {
    const dir = join(bench, name);
    for (const sub of ["environment", "solution", "tests"]) {
      await mkdir(join(dir, sub), { recursive: true });
    }
    await writeFile(join(dir, "task.toml"), 'version = "1.0"\n');
    await writeFile(join(dir, "instruction.md"), "Wait.\n");
    await writeFile(
      join(dir, "environment", "Dockerfile"),
      "FROM rli-base:bookworm\nWORKDIR /app\n",
    );
    await writeFile(join(dir, "solution", "solve.sh"), "#!/bin/bash\nsleep 120\n");
    await writeFile(join(dir, "tests", "test.sh"), "echo 1 > /logs/verifier/reward.txt\n");
  }
});
afterAll(async () => {
  await home.cleanup();
});

describe("isLeftover", () => {
  it("never a running job's; an ended job's always; the doubtful ones only with --force", () => {
    expect(isLeftover("running", true)).toBe(false);
    expect(isLeftover("ended", false)).toBe(true);
    expect(isLeftover("elsewhere", false)).toBe(false);
    expect(isLeftover("elsewhere", true)).toBe(true);
    expect(isLeftover("unknown", false)).toBe(false);
    expect(isLeftover("unknown", true)).toBe(true);
  });
});

describe("rli bmj cleanup with Docker", () => {
  it("keeps a running job's containers; after kill -9 of its runner, --dry-run lists and cleanup removes them", async () => {
    const env = cliEnv(home.dir);
    let child: ChildProcess | undefined;
    const running = runCli(
      ["bmj", "run", "--agent", "oracle", "--benchmark", bench, "--jobs-dir", jobsDir],
      env,
      { onSpawn: (c) => (child = c), timeoutMs: 120_000 },
    );
    let jobId = "";
    await waitFor(
      async () => {
        const ids = await readdir(jobsDir).catch(() => [] as string[]);
        jobId = ids.find((i) => i.startsWith("job_")) ?? "";
        return jobId !== "" && (await containersOf(jobId)).length === 2;
      },
      60_000,
      "two running containers",
    );

    const whileRunning = await runCli(["bmj", "cleanup", "--jobs-dir", jobsDir, "-o", "json"], env);
    expect(whileRunning.code).toBe(0);
    const kept = (
      JSON.parse(whileRunning.stdout) as { job_id: string; action: string; job: string }[]
    ).filter((r) => r.job_id === jobId);
    expect(kept.map((r) => [r.action, r.job])).toEqual([
      ["kept", "running"],
      ["kept", "running"],
    ]);

    child?.kill("SIGKILL");
    await running;
    // Containers do not die with their runner.
    expect(await containersOf(jobId)).toHaveLength(2);

    const dry = await runCli(
      ["bmj", "cleanup", "--jobs-dir", jobsDir, "--job", jobId, "--dry-run"],
      env,
    );
    expect(dry.code).toBe(0);
    expect(
      dry.stdout.split("\n").filter((l) => l.startsWith("would remove container")),
    ).toHaveLength(2);
    expect(await containersOf(jobId)).toHaveLength(2);

    const real = await runCli(["bmj", "cleanup", "--jobs-dir", jobsDir, "--job", jobId], env);
    expect(real.code).toBe(0);
    expect(real.stdout.split("\n").filter((l) => l.startsWith("removed container"))).toHaveLength(
      2,
    );
    expect(await containersOf(jobId)).toEqual([]);
  }, 180_000);

  it("a bad --job is a usage error", async () => {
    const r = await runCli(["bmj", "cleanup", "--job", "nope"], cliEnv(home.dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: --job takes a job id .*got "nope"\n$/);
  });
});

describe("rli bmj cleanup with Runloop", () => {
  let fake: FakeRunloop;
  beforeAll(async () => {
    fake = await startFakeRunloop({ apiKey: "rl_cleanup_key_0123456789" });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("a devbox of a job this store does not know is kept, and shut down with --force", async () => {
    const res = await fetch(`${fake.baseUrl}/v1/devboxes`, {
      method: "POST",
      headers: {
        authorization: "Bearer rl_cleanup_key_0123456789",
        "content-type": "application/json",
      },
      body: JSON.stringify({
        name: "orphan",
        metadata: { rli_job_id: "job_20200101_000000_abcdef", rli_trial_id: "t__oracle__1" },
      }),
    });
    expect(res.status).toBe(200);
    await waitFor(async () => fake.devboxes().every((d) => d.status === "running"), 10_000);
    const env = {
      ...cliEnv(home.dir),
      RUNLOOP_API_KEY: "rl_cleanup_key_0123456789",
      RUNLOOP_BASE_URL: fake.baseUrl,
      DOCKER_HOST: "unix:///nonexistent.sock",
    };
    const kept = await runCli(["bmj", "cleanup", "--jobs-dir", jobsDir], env);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toMatch(
      /^kept devbox orphan \(dbx_\w+\) of job_20200101_000000_abcdef .*--force removes it$/m,
    );
    expect(fake.liveDevboxes()).toBe(1);
    const forced = await runCli(["bmj", "cleanup", "--jobs-dir", jobsDir, "--force"], env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^removed devbox orphan/m);
    expect(fake.liveDevboxes()).toBe(0);
  });
});
