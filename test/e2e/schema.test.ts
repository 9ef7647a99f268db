import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliEnv, runCli } from "../helpers/cli.js";
import { hasCommand } from "../helpers/processes.js";
import { expectValid, schemaValidator } from "../helpers/schema.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";

const HAS_JQ = hasCommand("jq");

function jq(filter: string, input: string): string[] {
  const r = spawnSync("jq", ["-r", filter], { input, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

// The published schemas, compiled as a consumer would (see schema/README.md).
const validateView = schemaValidator("benchmark-job-view.schema.json");
const validateEvent = schemaValidator("job-event.schema.json");

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;
let run: CliResult;

beforeAll(async () => {
  home = await tempDir("rli-e2e-schema-");
  jobsDir = join(home.dir, "jobs");
  env = cliEnv(home.dir);
  run = await runCli(
    [
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--agent",
      "nop",
      "--scenarios",
      join(FIXTURES, "bench-mini", "hello"),
      join(FIXTURES, "bench-mini", "partial"),
      "--jobs-dir",
      jobsDir,
      "-o",
      "json",
    ],
    env,
  );
});
afterAll(() => home.cleanup());

describe("published schemas against the built CLI", () => {
  it("run -o json prints one BenchmarkJobView that validates", () => {
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as {
      state: string;
      benchmark_outcomes: unknown[];
      rli_comparisons: { verdict: string; test: { method: string } }[];
    };
    expect(view.state).toBe("completed");
    expect(view.benchmark_outcomes).toHaveLength(2);
    // Two agents: their paired comparison (hello 1 vs 0, partial 0.5 vs 0: the sign-flip test).
    expect(view.rli_comparisons).toHaveLength(1);
    expect(view.rli_comparisons[0]!.test.method).toBe("sign_flip");
    expect(view.rli_comparisons[0]!.verdict).toMatch(
      /^oracle ahead of nop by 75\.0 points, 95% CI \[-?[\d.]+, 100\.0\]: not decisive \(p = 0\.500\); about 4 more scenarios would be needed$/,
    );
    expectValid(validateView, view);
  });

  it.skipIf(!HAS_JQ)("jq reads the scenario outcome states", () => {
    const states = jq(".benchmark_outcomes[].scenario_outcomes[].state", run.stdout);
    expect(states).toEqual(["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"]);
    const scores = jq('.benchmark_outcomes[] | "\\(.agent_name) \\(.average_score)"', run.stdout);
    expect(scores).toEqual(["oracle 0.75", "nop 0"]);
  });

  it("summary <id> -o json validates and agrees with run's document", async () => {
    const [id] = await readdir(jobsDir);
    const r = await runCli(["bmj", "summary", id!, "--jobs-dir", jobsDir, "-o", "json"], env);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as Record<string, unknown>;
    expectValid(validateView, view);
    const fromRun = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(view.id).toBe(fromRun.id);
    expect(view.benchmark_outcomes).toEqual(fromRun.benchmark_outcomes);
  });

  it("every line of the job's events.jsonl validates as a JobEvent", async () => {
    const [id] = await readdir(jobsDir);
    const lines = readFileSync(join(jobsDir, id!, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean);
    const types = new Set<string>();
    for (const line of lines) {
      const event = JSON.parse(line) as { type: string };
      types.add(event.type);
      expectValid(validateEvent, event);
    }
    expect([...types].sort()).toEqual(
      [
        "job_finished",
        "job_started",
        "phase_finished",
        "phase_started",
        "trial_finished",
        "trial_started",
      ].sort(),
    );
  });
});
