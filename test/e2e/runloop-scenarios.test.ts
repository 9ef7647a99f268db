import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeRunloop, startFakeRunloop } from "../fakes/runloop-server.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tasks.js";

const KEY = "rl_scenarios_key_0123456789";

let fake: FakeRunloop;
let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  fake = await startFakeRunloop({ apiKey: KEY, longPollHoldMs: 2000 });
  home = await tempDir("rli-rl-scn-");
  env = { ...cliEnv(home.dir), RUNLOOP_API_KEY: KEY, RUNLOOP_BASE_URL: fake.baseUrl };
});
afterAll(async () => {
  await fake.close();
  await home.cleanup();
});

interface ViewOutcome {
  scenario_name: string;
  state: string;
  score?: number | null;
  rli_trial: { status: string; rewards: Record<string, number> | null };
}

describe("--backend runloop with Runloop-hosted scenarios (scenario runs, scored by Runloop)", () => {
  it("a Runloop benchmark by name: oracle (reference_output) passes every scenario, nop fails them; every run is completed", async () => {
    const jobsDir = join(home.dir, "jobs-bench");
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--agent",
        "nop",
        "--benchmark",
        "Terminal-Bench 2.0",
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
        "-o",
        "json",
      ],
      env,
      { timeoutMs: 120_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as {
      benchmark_outcomes: { agent_name: string; scenario_outcomes: ViewOutcome[] }[];
    };
    const byAgent = Object.fromEntries(
      view.benchmark_outcomes.map((o) => [o.agent_name, o.scenario_outcomes]),
    );
    const scenarios = fake.benchmarks().find((b) => b.name === "Terminal-Bench 2.0")?.scenarioIds;
    expect(byAgent.oracle).toHaveLength(scenarios?.length ?? -1);
    for (const o of byAgent.oracle ?? []) {
      expect(o).toMatchObject({ state: "COMPLETED", score: 1 });
    }
    for (const o of byAgent.nop ?? []) {
      expect(o.state).toBe("COMPLETED");
      expect(o.score).toBeLessThan(1);
    }
    // The weighted scenario's scoring functions come back as the trial's rewards.
    const weighted = (byAgent.oracle ?? []).find((o) => o.rli_trial.rewards !== null);
    expect(weighted?.rli_trial.rewards).not.toBeNull();

    // Runloop's scorer decided: every trial was a scenario run, scored, then completed; no devbox left.
    const runs = fake.count("/v1/scenarios/start_run", "POST");
    expect(runs).toBe(2 * (scenarios?.length ?? 0));
    expect(fake.count("/v1/scenarios/runs/{id}/score", "POST")).toBe(runs);
    expect(fake.count("/v1/scenarios/runs/{id}/complete", "POST")).toBe(runs);
    expect(fake.count("/v1/devboxes", "POST")).toBe(0);
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("scn_ ids with a gold patch: the oracle applies it in the working directory", async () => {
    const patchScenario = fake.seedScenario({
      name: "patch-me",
      problemStatement: "Make greet.txt say hello",
      workingDirectory: "/repo",
      files: { "/repo/greet.txt": "bye\n" },
      scoringFunctions: [
        {
          name: "greets",
          weight: 1,
          scorer: { type: "command_scorer", command: "grep -qx hello /repo/greet.txt" },
        },
      ],
      referenceOutput: [
        "diff --git a/greet.txt b/greet.txt",
        "--- a/greet.txt",
        "+++ b/greet.txt",
        "@@ -1 +1 @@",
        "-bye",
        "+hello",
        "",
      ].join("\n"),
    });
    const jobsDir = join(home.dir, "jobs-patch");
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        patchScenario.id,
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
      ],
      env,
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/oracle\s+100\.0%/);
    const summary = await runCli(
      ["bmj", "summary", "latest", "--jobs-dir", jobsDir, "-o", "json"],
      env,
    );
    const trial = (
      JSON.parse(summary.stdout) as { benchmark_outcomes: { scenario_outcomes: ViewOutcome[] }[] }
    ).benchmark_outcomes[0]?.scenario_outcomes[0];
    expect(trial).toMatchObject({ state: "COMPLETED", score: 1 });
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("an unknown scn_ id is one line, exit 2, and no job is made", async () => {
    const jobsDir = join(home.dir, "jobs-unknown");
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        "scn_nope",
        "--backend",
        "runloop",
        "--jobs-dir",
        jobsDir,
      ],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("Error: Unknown Runloop scenario: scn_nope\n");
    expect(existsSync(jobsDir) ? readdirSync(jobsDir) : []).toEqual([]);
  });

  it("without --backend runloop a scn_ id is a server-side job, where the oracle is refused", async () => {
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        fake.scenarios()[0]?.id ?? "",
        "--backend",
        "local",
      ],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: Unsupported agent for a server-side Runloop job: oracle/);
  });
});
