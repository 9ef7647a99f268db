import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeRunloop, startFakeRunloop } from "../fakes/runloop-server.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tasks.js";

const KEY = "rl_blueprints_key_0123456789";
const SEED_DOCKERFILE = [
  "FROM ubuntu:24.04",
  "WORKDIR /app",
  "RUN mkdir -p /srv && echo secret-sauce > /srv/seed.txt",
  "ENV GREETING=hello",
  "",
].join("\n");

/** A Harbor task whose environment is a Dockerfile (no `sandbox = "host"`). */
async function imageTask(
  root: string,
  name: string,
  dockerfile: string,
  solve: string,
  check: string,
): Promise<void> {
  const dir = join(root, name);
  for (const sub of ["environment", "solution", "tests"]) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  await writeFile(join(dir, "task.toml"), 'version = "1.0"\n[verifier]\ntimeout_sec = 60\n');
  await writeFile(join(dir, "instruction.md"), `Solve ${name}.\n`);
  await writeFile(join(dir, "environment", "Dockerfile"), dockerfile);
  await writeFile(join(dir, "solution", "solve.sh"), `#!/bin/bash\n${solve}\n`);
  await writeFile(
    join(dir, "tests", "test.sh"),
    `#!/bin/bash\nif ${check}; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n`,
  );
}

let fake: FakeRunloop;
let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let bench: string;

beforeAll(async () => {
  fake = await startFakeRunloop({ apiKey: KEY, longPollHoldMs: 2000 });
  home = await tempDir("rli-rl-bpt-");
  env = { ...cliEnv(home.dir), RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: fake.baseUrl };
  bench = join(home.dir, "imgbench");
  await imageTask(
    bench,
    "seed-copy",
    SEED_DOCKERFILE,
    "cp /srv/seed.txt /app/out.txt",
    "grep -qx secret-sauce /app/out.txt",
  );
  await imageTask(
    bench,
    "seed-greet",
    SEED_DOCKERFILE,
    'echo "$GREETING" > /app/greet.txt',
    "grep -qx hello /app/greet.txt",
  );
  await imageTask(bench, "broken-build", "FROM ubuntu:24.04\nRUN exit 3\n", "true", "true");
});
afterAll(async () => {
  await fake.close();
  await home.cleanup();
});

interface Outcome {
  scenario_name: string;
  state: string;
  score?: number | null;
  rli_trial: { status: string; exception: { message: string } | null };
}

async function run(jobsDir: string, benchmark = bench) {
  const r = await runCli(
    [
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--benchmark",
      benchmark,
      "--backend",
      "runloop",
      "--n-attempts",
      "2",
      "--jobs-dir",
      jobsDir,
      "-o",
      "json",
    ],
    env,
    { timeoutMs: 120_000 },
  );
  const view = JSON.parse(r.stdout) as { benchmark_outcomes: { scenario_outcomes: Outcome[] }[] };
  return { r, outcomes: view.benchmark_outcomes[0]?.scenario_outcomes ?? [] };
}

describe("--backend runloop with task Dockerfiles: built once as a blueprint per content digest", () => {
  it("each distinct Dockerfile is built once and shared; the image's files and ENV reach the trials; a failed build fails only its own trials", async () => {
    const { r, outcomes } = await run(join(home.dir, "jobs-1"));
    expect(r.code).toBe(0);
    const by = (name: string) => outcomes.filter((o) => o.scenario_name.endsWith(`/${name}`));
    expect(by("seed-copy")).toHaveLength(2);
    expect(by("seed-greet")).toHaveLength(2);
    for (const o of [...by("seed-copy"), ...by("seed-greet")]) {
      expect(o).toMatchObject({ state: "COMPLETED", score: 1 });
    }
    const broken = by("broken-build");
    expect(broken).toHaveLength(2);
    for (const o of broken) {
      expect(o.rli_trial.status).toBe("infra_error");
      expect(o.rli_trial.exception?.message).toMatch(/failed to build: a RUN step failed/);
    }
    // Two distinct Dockerfiles among six trials: two builds.
    expect(fake.blueprintBuilds()).toBe(2);
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("a later job reuses the built blueprint (no new build for it)", async () => {
    const before = fake.blueprintBuilds();
    const { r, outcomes } = await run(join(home.dir, "jobs-2"));
    expect(r.code).toBe(0);
    expect(outcomes.filter((o) => o.score === 1)).toHaveLength(4);
    // Only the failed one is tried again.
    expect(fake.blueprintBuilds() - before).toBe(1);
  });

  it("a Dockerfile that needs its build context is refused up front, one line, exit 2", async () => {
    const copyBench = join(home.dir, "copybench");
    await imageTask(
      copyBench,
      "needs-context",
      "FROM ubuntu:24.04\nCOPY app.py /app/\n",
      "true",
      "true",
    );
    const r = await runCli(
      ["bmj", "run", "--agent", "oracle", "--benchmark", copyBench, "--backend", "runloop"],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /needs-context: environment\/Dockerfile uses its build context \(COPY app\.py \/app\/\)/,
    );
  });
});
