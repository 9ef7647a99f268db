// Real agent CLIs through the built CLI against the scripted model server (test/fakes), which answers at
// once, so the numbers are the agents' and rli's own costs, without a model's thinking time:
//
//   install   agent_setup of the first trial with an empty agent cache (npm install of the pinned
//             package) against the median of later trials (cache hit: the read-only mount only);
//   run       agent_run median over the warm trials: the CLI's start-up, two model turns and one shell
//             call, against the baseline of the CLI printing its version once (start-up alone),
//             measured in the same run;
//   overhead  trial duration minus agent_run and verify: what rli adds around the agent per trial
//             (sandbox, setup, uploads, collection, teardown).
//
// Every agent's pinned package is installed into a fresh cache in the scratch directory, so the first
// trial really installs (about 1.5 GB for all five; the registry must be reachable). Pass agent names
// to measure some: `node bench/agents.js codex goose`.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import ts from "typescript";
import { median, ms, ROOT, removeDir, requireBuild, scratchDir } from "./lib.js";

requireBuild();
const WARM = 3;
const RLI = join(ROOT, "bin", "rli.js");
const TASK = join(ROOT, "test", "fixtures", "agent-task");

/** How each agent is pointed at the fake server (as the agent tests do). */
const AGENTS = {
  "claude-code": (url) => ({
    agent: "claude-code:claude-sonnet-4-5",
    env: { ANTHROPIC_API_KEY: "sk-ant-bench", ANTHROPIC_BASE_URL: url },
    version: ["node_modules/.bin/claude", "--version"],
  }),
  codex: (url) => ({
    agent: "codex:gpt-5",
    env: { OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: `${url}/v1` },
    version: ["node_modules/.bin/codex", "--version"],
  }),
  opencode: (url) => ({
    agent: "opencode:anthropic/claude-sonnet-4-5",
    env: { ANTHROPIC_API_KEY: "sk-ant-bench", ANTHROPIC_BASE_URL: `${url}/v1` },
    version: ["node_modules/.bin/opencode", "--version"],
  }),
  goose: (url) => ({
    agent: "goose:openai/gpt-4.1",
    env: { OPENAI_API_KEY: "sk-bench", OPENAI_HOST: url },
    version: ["node_modules/@aaif/goose-binary-linux-x64/bin/goose", "--version"],
  }),
  "gemini-cli": (url) => ({
    agent: "gemini-cli:gemini-2.5-pro",
    env: { GEMINI_API_KEY: "bench-key", GOOGLE_GEMINI_BASE_URL: url },
    version: ["node_modules/.bin/gemini", "--version"],
  }),
};

/** test/fakes is TypeScript: transpile it (no type check) into the scratch directory to import it. */
async function loadFakes(dir) {
  const src = join(ROOT, "test", "fakes");
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".ts") ? [join(d, e.name)] : [],
    );
  for (const file of walk(src)) {
    const out = join(dir, file.slice(src.length)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(out), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(out, outputText);
  }
  return import(join(dir, "model-server.js"));
}

/** Run a child without blocking this process: the fake model server answers from this event loop. */
function run(argv, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

async function runTrials(agent, env, jobsDir, cacheDir, attempts) {
  const r = await run(
    [
      process.execPath,
      RLI,
      ...["bmj", "run", "--agent", agent, "--scenarios", TASK, "--jobs-dir", jobsDir],
      ...["--n-attempts", String(attempts), "--n-concurrent-trials", "1", "-o", "json"],
    ],
    { ...process.env, ...env, RLI_AGENT_CACHE: cacheDir, NO_COLOR: "1" },
  );
  if (r.code !== 0) throw new Error(`rli exited ${r.code}: ${r.stderr.trim().split("\n").at(-1)}`);
  const view = JSON.parse(r.stdout);
  return view.benchmark_outcomes[0].scenario_outcomes.map((o) => ({
    status: o.rli_trial.status,
    attempt: o.rli_trial.attempt,
    total: o.duration_ms,
    setup: o.rli_trial.phases.agent_setup?.duration_ms ?? Number.NaN,
    run: o.rli_trial.phases.agent_run?.duration_ms ?? Number.NaN,
    verify: o.rli_trial.phases.verify?.duration_ms ?? 0,
  }));
}

async function timeVersion(cacheDir, argv) {
  const pkgDir = readdirSync(cacheDir).find((d) => !d.includes(".tmp-") && !d.startsWith("."));
  const r = await run([join(cacheDir, pkgDir, argv[0]), ...argv.slice(1)], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
  });
  return r.code === 0 ? r.ms : Number.NaN;
}

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(AGENTS);
const scratch = scratchDir("agents");
const { startModelServer, runCommandScript } = await loadFakes(join(scratch, "fakes"));
console.log(
  `Agent benchmark (${process.execPath} ${process.version}); fake model server answers at once`,
);
try {
  for (const name of wanted) {
    const make = AGENTS[name];
    if (make === undefined) {
      console.log(`  ${name}: unknown agent (known: ${Object.keys(AGENTS).join(", ")})`);
      continue;
    }
    const server = await startModelServer({
      script: runCommandScript("echo hello > /app/hello.txt"),
    });
    try {
      const { agent, env, version } = make(server.url);
      const cacheDir = join(scratch, `cache-${name}`);
      const jobsDir = join(scratch, `jobs-${name}`);
      const [cold] = await runTrials(agent, env, jobsDir, cacheDir, 1);
      const warm = await runTrials(agent, env, jobsDir, cacheDir, WARM);
      const versions = [];
      for (let i = 0; i < 3; i++) versions.push(await timeVersion(cacheDir, version));
      const passed = [cold, ...warm].filter((t) => t.status === "passed").length;
      const warmSetup = median(warm.map((t) => t.setup));
      const warmRun = median(warm.map((t) => t.run));
      const cliStart = median(versions);
      const overhead = median(warm.map((t) => t.total - t.run - t.verify));
      console.log(`  ${name} (${agent}): ${passed}/${1 + WARM} trials passed`);
      console.log(
        `    install  first trial ${ms(cold.setup, 0)} · cache hit ${ms(warmSetup, 0)} (median of ${WARM}): the install is paid once per machine and version`,
      );

      console.log(
        `    run      agent_run ${ms(warmRun, 0)} (2 model turns, 1 shell call) · CLI --version alone ${ms(cliStart, 0)} = ${(warmRun / cliStart).toFixed(1)}x its start-up`,
      );
      console.log(
        `    overhead rli around the agent per trial ${ms(overhead, 0)} (trial − agent_run − verify)`,
      );
    } catch (err) {
      console.log(`  ${name}: FAILED: ${err.message}`);
    } finally {
      await server.close();
    }
  }
} finally {
  removeDir(scratch);
}
