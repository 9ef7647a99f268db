import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectUsageError, registryEnv, runCli } from "../helpers/cli.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";

const CONFIGS = join(FIXTURES, "agent-configs");
const TASK = join(FIXTURES, "agent-task");

interface View {
  benchmark_outcomes: {
    agent_name: string;
    model_name?: string;
    scenario_outcomes: {
      score?: number;
      rli_trial: { status: string; score: number | null; logs_dir: string };
    }[];
  }[];
}

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  home = await tempDir("rli-custom-agent-");
  env = {
    PATH: process.env.PATH,
    HOME: home.dir,
    RLI_HOME: home.dir,
    RLI_AGENT_CACHE: join(home.dir, "agent-cache"),
    NO_COLOR: "1",
    ...registryEnv(),
  };
});
afterAll(() => home.cleanup());

function run(config: string, agent: string, extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(
    [
      "bmj",
      "run",
      "--agent-config",
      join(CONFIGS, config),
      "--agent",
      agent,
      "--scenarios",
      TASK,
      "-o",
      "json",
    ],
    { ...env, ...extraEnv },
  );
}

describe("--agent-config: bring your own agent", () => {
  it("runs a custom command with the instruction on stdin and its placeholders filled", async () => {
    const r = await run("agents.yaml", "scripted:m1");
    expect(r.code).toBe(0);
    const [outcome] = (JSON.parse(r.stdout) as View).benchmark_outcomes;
    expect(outcome).toMatchObject({ agent_name: "scripted", model_name: "m1" });
    const trial = outcome?.scenario_outcomes[0]?.rli_trial;
    expect(trial).toMatchObject({ status: "passed", score: 1 });
    const transcript = await readFile(join(trial!.logs_dir, "agent", "scripted.txt"), "utf8");
    expect(transcript).toBe(
      "instruction: Create the file /app/hello.txt containing the single line `hello`.\nmodel: m1 workdir: /app\n",
    );
  });

  it("installs an npm package once into the agent cache, mounts it and passes only its own key", async () => {
    const first = await run("agents.yaml", "cow", { COW_TOKEN: "moo-secret-1" });
    expect(first.code).toBe(0);
    const trial = (JSON.parse(first.stdout) as View).benchmark_outcomes[0]?.scenario_outcomes[0]
      ?.rli_trial;
    // cowsay only talks: the verifier finds no file, so the trial fails with score 0.
    expect(trial, JSON.stringify(trial)).toMatchObject({ status: "failed", score: 0 });
    const said = await readFile(join(trial!.logs_dir, "agent", "cow.txt"), "utf8");
    expect(said).toContain("(oo)");
    expect(said).toContain("Create the file /app/hello.txt");
    const cached = await readdir(join(home.dir, "agent-cache"));
    expect(cached).toEqual(["cowsay@1.6.0"]);
    // The key's value is nowhere in the job directory.
    const jobs = await readdir(join(home.dir, "jobs"));
    for (const job of jobs) {
      const text = await readFile(join(home.dir, "jobs", job, "job.json"), "utf8");
      expect(text).not.toContain("moo-secret-1");
    }
    // npm install over the network: slow on a busy machine.
  }, 180_000);

  it("refuses a job whose custom agent lacks its required key, before anything starts", async () => {
    const before = await readdir(join(home.dir, "jobs")).catch(() => []);
    const r = await run("agents.yaml", "cow");
    expectUsageError(r, /^Error: Missing API key: cow needs COW_TOKEN\./);
    expect(await readdir(join(home.dir, "jobs")).catch(() => [])).toEqual(before);
  });

  const bad: [string, RegExp][] = [
    ["bad-placeholder.yaml", /agents\.x: unknown placeholder \{prompt\}; allowed: \{instruction\}/],
    ["relative.yaml", /agents\.x\.command: the program must be an absolute path in the sandbox/],
    ["builtin-name.yaml", /agents\.codex: a built-in agent has this name; choose another$/],
    ["unpinned.yaml", /agents\.x\.npm: must be package@version/],
    ["not-yaml.yaml", /not-yaml\.yaml: not valid YAML: /],
    ["missing.yaml", /^Error: --agent-config .*missing\.yaml: cannot read it \(ENOENT\)$/],
  ];
  for (const [file, message] of bad) {
    it(`rejects ${file} with one line naming the file and field`, async () => {
      const r = await run(file, "x");
      expectUsageError(r, message);
    });
  }
});
