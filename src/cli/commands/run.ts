import { type Command, Option } from "commander";
import { GATES_HELP, type GateFlags } from "../gate-flags.js";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";

export interface RunFlags extends GateFlags {
  agent?: string[];
  benchmark?: string;
  scenarios?: string[];
  jobName?: string;
  envVars?: string[];
  secrets?: string[];
  timeout?: string;
  nAttempts: string;
  nConcurrentTrials: string;
  maxRetries?: string;
  timeoutMultiplier: string;
  metadata: string[];
  output: string;
  jobsDir?: string;
  backend: string;
  sandbox: string;
  remote?: boolean;
  runloopBlueprint?: string;
  detach?: boolean;
  agentConfig?: string;
  resume?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const EXAMPLES = `
Examples:
  $ rli benchmark-job run --agent oracle --benchmark starter
  $ rli bmj run --agent oracle --agent nop --benchmark starter --n-attempts 2
  $ ANTHROPIC_API_KEY=... rli bmj run --agent claude-code:claude-sonnet-4-5 --benchmark starter
  $ rli bmj run --agent codex:gpt-5 --secrets OPENAI_API_KEY=MY_TEAM_OPENAI_KEY --benchmark starter
  $ rli bmj run --agent-config agents.yaml --agent my-agent:my-model --benchmark starter
  $ rli bmj run --agent oracle --scenarios starter/fix-csv-quoting starter/js-debounce-leading-edge
  $ rli bmj run --agent oracle --benchmark ./my-tasks -o json | jq '.benchmark_outcomes[].average_score'
  $ rli bmj run --agent oracle --agent nop --benchmark starter --detach && rli bmj watch latest
  $ rli bmj run --agent oracle --benchmark ./image-tasks --backend docker --max-retries 0
  $ RUNLOOP_API_KEY=... rli bmj run --agent oracle --benchmark starter --backend runloop
  $ RUNLOOP_API_KEY=... rli bmj run --agent claude-code:claude-sonnet-4 --benchmark "SWE-bench Verified"

${GATES_HELP}
  (on run: checked once the job has completed; not with --detach or a server-side job)

Exit codes: 0 job completed (whatever the scores, unless a gate says otherwise) · 1 failure · 2 bad
input · 4 below --fail-under · 5 decisively worse than --fail-if-worse-than · 130 cancelled`;

/** `rli benchmark-job run`: Runloop's flags plus --jobs-dir, --backend and --sandbox. */
export function registerRun(parent: Command, io: Io, exit: ExitBox): void {
  parent
    .command("run")
    .description("Run agents against a benchmark, one sandbox per trial, and score the results")
    .option(
      "--agent <agents...>",
      "agent to run, agent[:model]; repeatable (claude-code, codex, opencode, goose, gemini-cli, oracle, nop, or one from --agent-config)",
    )
    .option(
      "--agent-config <file>",
      "YAML file defining your own agents (install, command, env, keys, usage parser); see docs/agents.md",
    )
    .option("--benchmark <id-or-name>", "built-in benchmark name or a directory of Harbor tasks")
    .option(
      "--scenarios <ids...>",
      "scenarios to run, <benchmark>/<scenario> or task directories (instead of --benchmark)",
    )
    .option("-n, --job-name <name>", "name for this job")
    .option("--env-vars <vars...>", "environment variables for every agent, KEY=value")
    .option(
      "--secrets <secrets...>",
      "secrets for every agent, ENV_VAR=NAME: the value of $NAME here becomes ENV_VAR in the sandbox; only names are recorded (server-side Runloop jobs: NAME is a Runloop secret)",
    )
    .option(
      "--timeout <seconds>",
      "agent timeout in seconds (default: the task's [agent].timeout_sec, else 7200)",
    )
    .option("--n-attempts <n>", "attempts per scenario and agent", "1")
    .option("--n-concurrent-trials <n>", "trials running at once", "10")
    .option("--timeout-multiplier <n>", "scales every phase's timeout", "1.0")
    .option(
      "--max-retries <n>",
      "times a trial that hit an infrastructure error (sandbox could not start or died, lost connection) is run again, after a jittered backoff; agent errors, timeouts and low scores are never retried (default: 2)",
    )
    .option("--metadata <key=value>", "metadata tag, repeatable", collect, [])
    .option("--fail-under <score>", "exit 4 when an agent's mean score is below this (0 to 1)")
    .option("--fail-if-worse-than <job>", "exit 5 when decisively worse than this baseline job")
    .option("--common-only", "with --fail-if-worse-than: compare on the scenarios both jobs ran")
    .option("-o, --output <format>", "output format: text|json|yaml", "text")
    .option(
      "--resume <id>",
      "continue an interrupted job instead of starting one (the same as `rli bmj resume <id>`)",
    )
    .option(
      "--detach",
      "run in a background process that outlives this terminal; prints the job id and returns",
    )
    .option(
      "--jobs-dir <dir>",
      "where job directories are kept (default: $RLI_HOME/jobs or ~/.local/share/rli/jobs)",
    )
    .addOption(
      new Option(
        "--backend <name>",
        "where sandboxes run: local (bubblewrap here; image tasks in Docker), docker (every task in a container), or runloop (a Runloop devbox per trial, orchestrated from here; needs RUNLOOP_API_KEY)",
      )
        .choices(["local", "docker", "runloop"])
        .default("local"),
    )
    .option(
      "--remote",
      "create a server-side Runloop benchmark job (the default for bmd_ ids, Runloop benchmark names and scn_ ids); prints its id and returns",
    )
    .option(
      "--runloop-blueprint <id-or-name>",
      "--backend runloop: the blueprint every devbox starts from (default: Runloop's default image)",
    )
    .addOption(
      new Option(
        "--sandbox <mode>",
        "local confinement: bubblewrap, or none (unconfined; root only)",
      )
        .choices(["bubblewrap", "none"])
        .default("bubblewrap"),
    )
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (flags: RunFlags) => {
      const { runAction } = await import("./run-action.js");
      exit.code = await runAction(flags, io);
    });
}
