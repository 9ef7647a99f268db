import { mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, runCli } from "../helpers/cli.js";
import { isJobName } from "../helpers/files.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";

// The bad-input corpus: every entry is a command line a user could type, with the one line it must
// print on stderr (starting "Error: ", naming the bad value and what is allowed) and its exit code.
// Nothing may reach stdout, no stack trace may show, and no job directory may appear.

let tmp: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;
let tasks: string;
let jobsBefore: string[];

const HOST = '[environment.rli]\nsandbox = "host"\n';

/** A valid host task, then `change` applied to its files (a path → content, or null to delete). */
async function malformedTask(
  name: string,
  toml: string,
  change: (dir: string) => Promise<void> = async () => {},
): Promise<string> {
  const dir = join(tasks, name);
  await mkdir(join(dir, "tests"), { recursive: true });
  await mkdir(join(dir, "solution"), { recursive: true });
  await writeFile(join(dir, "task.toml"), toml);
  await writeFile(join(dir, "instruction.md"), "Do it.\n");
  await writeFile(join(dir, "tests", "test.sh"), "echo 1 > /logs/verifier/reward.txt\n");
  await writeFile(join(dir, "solution", "solve.sh"), "true\n");
  await change(dir);
  return dir;
}

beforeAll(async () => {
  tmp = await tempDir("rli-corpus-");
  env = { ...cliEnv(join(tmp.dir, "home")), RUNLOOP_API_KEY: "" };
  jobsDir = join(tmp.dir, "home", "jobs");
  tasks = join(tmp.dir, "tasks");
  // One finished job, so that commands taking a job id have something to refuse bad flags for.
  const r = await runCli(
    ["bmj", "run", "--agent", "oracle", "--scenarios", join(FIXTURES, "bench-mini", "hello")],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
  jobsBefore = (await readdir(jobsDir)).filter(isJobName);
}, 60_000);
afterAll(() => tmp?.cleanup());

async function expectOneLine(args: string[], code: number, re: RegExp): Promise<void> {
  const r = await runCli(args, env);
  expect(r.stdout, args.join(" ")).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, `${args.join(" ")}\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^Error: /);
  expect(lines[0]).toMatch(re);
  expect(r.code, args.join(" ")).toBe(code);
  expect((await readdir(jobsDir)).filter(isJobName)).toEqual(jobsBefore);
}

const RUN = ["bmj", "run"];
const ORACLE_STARTER = [...RUN, "--agent", "oracle", "--benchmark", "starter"];

/** [command line, exit code, the line]. */
const CLI_CORPUS: [string[], number, RegExp][] = [
  [RUN, 2, /At least one --agent is required/],
  [[...RUN, "--agent", "oracle"], 2, /Either --benchmark or --scenarios must be specified/],
  [[...RUN, "--benchmark", "starter"], 2, /At least one --agent is required/],
  [
    [...RUN, "--agent", "oracle", "--benchmark", "nope"],
    2,
    /Unknown benchmark: "nope"\. Use a built-in benchmark \(starter\)/,
  ],
  [
    [...RUN, "--agent", "bogus", "--benchmark", "starter"],
    2,
    /Unsupported agent: bogus\. Supported agents: claude-code, codex/,
  ],
  [
    [...RUN, "--agent", "claude-code", "--benchmark", "starter"],
    2,
    /No model specified for agent "claude-code"/,
  ],
  [[...RUN, "--agent", "oracle:", "--benchmark", "starter"], 2, /Invalid agent format: "oracle:"/],
  [
    [...RUN, "--agent", "oracle", "--agent", "oracle", "--benchmark", "starter"],
    2,
    /Agent given twice: "oracle"/,
  ],
  [
    [...RUN, "--agent", "codex", "--benchmark", "starter"],
    2,
    /No model specified for agent "codex"/,
  ],
  [
    [...RUN, "--agent", "codex:gpt-5", "--benchmark", "starter"],
    2,
    /Missing API key: codex needs OPENAI_API_KEY/,
  ],
  [[...ORACLE_STARTER, "--n-attempts", "0"], 2, /--n-attempts must be a positive integer, got "0"/],
  [
    [...ORACLE_STARTER, "--n-attempts", "1.5"],
    2,
    /--n-attempts must be a positive integer, got "1\.5"/,
  ],
  [
    [...ORACLE_STARTER, "--n-concurrent-trials", "abc"],
    2,
    /--n-concurrent-trials must be a positive integer, got "abc"/,
  ],
  [[...ORACLE_STARTER, "--timeout", "-5"], 2, /--timeout must be a positive number, got "-5"/],
  [[...ORACLE_STARTER, "--timeout", "soon"], 2, /--timeout must be a positive number, got "soon"/],
  [
    [...ORACLE_STARTER, "--timeout-multiplier", "0"],
    2,
    /--timeout-multiplier must be a positive number, got "0"/,
  ],
  [
    [...ORACLE_STARTER, "--max-retries", "x"],
    2,
    /--max-retries must be an integer from 0 to 10, got "x"/,
  ],
  [
    [...ORACLE_STARTER, "--max-retries", "99"],
    2,
    /--max-retries must be an integer from 0 to 10, got "99"/,
  ],
  [
    [...ORACLE_STARTER, "--env-vars", "NOEQUALS"],
    2,
    /Invalid environment variable format: NOEQUALS\. Expected KEY=value/,
  ],
  [[...ORACLE_STARTER, "--env-vars", "=value"], 2, /Invalid environment variable format: =value/],
  [[...ORACLE_STARTER, "--env-vars", "1BAD=x"], 2, /Invalid environment variable format: 1BAD=x/],
  [
    [...ORACLE_STARTER, "--secrets", "KEY"],
    2,
    /Invalid secret format: KEY\. Expected ENV_VAR=SECRET_NAME/,
  ],
  [
    [...ORACLE_STARTER, "--secrets", "A=RLI_CORPUS_UNSET"],
    2,
    /Secret RLI_CORPUS_UNSET \(for A\) is not set in this environment/,
  ],
  [
    [...ORACLE_STARTER, "--metadata", "novalue"],
    2,
    /Invalid metadata format: "novalue"\. Expected key=value/,
  ],
  [
    [...ORACLE_STARTER, "-o", "xml"],
    2,
    /Unknown output format: xml\. Valid options: text, json, yaml/,
  ],
  [
    [...ORACLE_STARTER, "--backend", "cloud"],
    2,
    /argument 'cloud' is invalid\. Allowed choices are local, docker, runloop/,
  ],
  [
    [...ORACLE_STARTER, "--sandbox", "chroot"],
    2,
    /argument 'chroot' is invalid\. Allowed choices are bubblewrap, none/,
  ],
  [[...ORACLE_STARTER, "--frobnicate"], 2, /unknown option '--frobnicate'/],
  [
    [...ORACLE_STARTER, "--agent-config", "/nonexistent/agents.yaml"],
    2,
    /--agent-config \/nonexistent\/agents\.yaml: cannot read it \(ENOENT\)/,
  ],
  [
    [...ORACLE_STARTER, "--scenarios", "starter/x"],
    2,
    /Cannot specify both --benchmark and --scenarios/,
  ],
  [
    [...RUN, "--agent", "oracle", "--scenarios", "starter/does-not-exist"],
    2,
    /Unknown scenario: "starter\/does-not-exist"; scenarios in "starter": /,
  ],
  [
    [...RUN, "--agent", "oracle", "--scenarios", "/nonexistent/task"],
    2,
    /Unknown scenario: no such file or directory: "\/nonexistent\/task"/,
  ],
  [
    [...RUN, "--agent", "oracle", "--scenarios", "noslash"],
    2,
    /Invalid scenario: "noslash"\. Use <benchmark>\/<scenario>/,
  ],
  [
    [...RUN, "--agent", "oracle", "--scenarios", "scn_1", "starter/x"],
    2,
    /Cannot mix Runloop scenario ids \(scn_1\) with local scenarios \(starter\/x\)/,
  ],
  [
    [...RUN, "--agent", "oracle", "--benchmark", "bmd_123"],
    2,
    /Unsupported agent for a server-side Runloop job: oracle/,
  ],
  [
    [...RUN, "--resume", "latest", "--agent", "nop"],
    2,
    /--resume continues a job with its own agents and scenarios; drop --agent/,
  ],
  [["bmj", "watch"], 2, /missing required argument 'id'/],
  [
    ["bmj", "watch", "nosuchjob"],
    2,
    /Benchmark job nosuchjob not found in \S+ \(list them with "rli benchmark-job list --all"\)/,
  ],
  [
    ["bmj", "watch", "latest", "--interval", "0"],
    2,
    /--interval and --timeout apply to Runloop jobs/,
  ],
  [["bmj", "summary"], 2, /missing required argument 'id'/],
  [["bmj", "summary", "job_1999"], 2, /Benchmark job job_1999 not found/],
  [
    ["bmj", "summary", "latest", "-o", "csv"],
    2,
    /Unknown output format: csv\. Valid options: text, json, yaml/,
  ],
  [["bmj", "list", "--days", "abc"], 2, /--days must be a positive integer, got "abc"/],
  [
    ["bmj", "list", "--status", "nonsense"],
    2,
    /Invalid status: nonsense\. Valid: initializing, queued, running, completed/,
  ],
  [["bmj", "list", "-o", "xml"], 2, /Unknown output format: xml/],
  [["bmj", "logs"], 2, /missing required argument 'id'/],
  [["bmj", "logs", "nosuchjob"], 2, /Benchmark job nosuchjob not found/],
  [["bmj", "cancel"], 2, /missing required argument 'id'/],
  [["bmj", "cancel", "nosuchjob"], 2, /Benchmark job nosuchjob not found/],
  [["bmj", "cancel", "latest", "--wait", "0"], 2, /--wait must be a positive number, got "0"/],
  [
    ["bmj", "cleanup", "--job", "notajob"],
    2,
    /--job takes a job id \(job_YYYYMMDD_HHMMSS_xxxxxx\), got "notajob"/,
  ],
  [["bmj", "cleanup", "-o", "xml"], 2, /Unknown output format: xml/],
  [["bmj", "resume"], 2, /missing required argument 'id'/],
  [
    ["bmj", "resume", "latest", "--rerun", "done"],
    2,
    /--rerun: unknown status "done"; allowed: passed, failed/,
  ],
  [
    ["bmj", "resume", "bmj_31dYgHn3cCnyRMrGrqpEG"],
    2,
    /resume continues jobs run from this machine/,
  ],
  [["bmj", "frobnicate"], 2, /unknown command 'frobnicate'/],
  [["completion", "powershell"], 2, /Unknown shell: powershell\. Valid: bash, zsh, fish/],
];

describe("the bad-input corpus: command lines", () => {
  it("has at least 50 entries", () => {
    expect(CLI_CORPUS.length).toBeGreaterThanOrEqual(50);
  });

  it.each(CLI_CORPUS)("%j: exit %i, one line", async (args, code, re) => {
    await expectOneLine(args, code, re);
  });
});

/** [task name, task.toml, change to the files, the line]. The line names the file and the field. */
const TASK_CORPUS: [string, string, ((dir: string) => Promise<void>) | null, RegExp][] = [
  [
    "no-toml",
    HOST,
    (d) => rm(join(d, "task.toml")),
    /Not a task directory \(no task\.toml in it\): "\S+\/no-toml"/,
  ],
  [
    "toml-is-dir",
    HOST,
    async (d) => {
      await rm(join(d, "task.toml"));
      await mkdir(join(d, "task.toml"));
    },
    /Not a task directory \(no task\.toml in it\): "\S+\/toml-is-dir"/,
  ],
  ["syntax", "this is = = not toml\n", null, /syntax\/task\.toml: \(syntax\): invalid TOML: /],
  [
    "timeout-string",
    `[agent]\ntimeout_sec = "ten"\n${HOST}`,
    null,
    /task\.toml: agent\.timeout_sec: Invalid input: expected number, received string/,
  ],
  [
    "timeout-negative",
    `[agent]\ntimeout_sec = -1\n${HOST}`,
    null,
    /task\.toml: agent\.timeout_sec: Too small: expected number to be >0/,
  ],
  [
    "verifier-zero",
    `[verifier]\ntimeout_sec = 0\n${HOST}`,
    null,
    /task\.toml: verifier\.timeout_sec: Too small/,
  ],
  [
    "verifier-env-number",
    `[verifier]\nenv = { A = 1 }\n${HOST}`,
    null,
    /task\.toml: verifier\.env\.A: Invalid input: expected string, received number/,
  ],
  [
    "workdir-relative",
    `[environment]\nworkdir = "relative/path"\n${HOST}`,
    null,
    /task\.toml: environment\.workdir: must be an absolute path/,
  ],
  [
    "network-bad",
    `[environment]\nnetwork_mode = "sometimes"\n${HOST}`,
    null,
    /task\.toml: environment\.network_mode: Invalid option: expected one of "public"\|"no-network"\|"allowlist"/,
  ],
  [
    "agent-network-bad",
    `[agent]\nnetwork_mode = 5\n${HOST}`,
    null,
    /task\.toml: agent\.network_mode: Invalid option/,
  ],
  [
    "cpus-negative",
    `[environment]\ncpus = -2\n${HOST}`,
    null,
    /task\.toml: environment\.cpus: Too small: expected number to be >0/,
  ],
  [
    "memory-fraction",
    `[environment]\nmemory_mb = 1.5\n${HOST}`,
    null,
    /task\.toml: environment\.memory_mb: Invalid input: expected int/,
  ],
  [
    "storage-string",
    `[environment]\nstorage_mb = "lots"\n${HOST}`,
    null,
    /task\.toml: environment\.storage_mb: Invalid input: expected number/,
  ],
  [
    "sandbox-vm",
    '[environment.rli]\nsandbox = "vm"\n',
    null,
    /task\.toml: environment\.rli\.sandbox: Invalid input: expected "host"/,
  ],
  [
    "rli-unknown-key",
    `${HOST}gpu = true\n`,
    null,
    /task\.toml: environment\.rli: Unrecognized key: "gpu"/,
  ],
  [
    "empty-image",
    '[environment]\ndocker_image = ""\n',
    null,
    /task\.toml: environment\.docker_image: Too small: expected string to have >=1 characters/,
  ],
  [
    "host-and-dockerfile",
    HOST,
    async (d) => {
      await mkdir(join(d, "environment"));
      await writeFile(join(d, "environment", "Dockerfile"), "FROM x\n");
    },
    /task\.toml: environment\.rli\.sandbox: "host" cannot be combined with a docker_image, Dockerfile or docker-compose file/,
  ],
  [
    "no-environment",
    "[agent]\ntimeout_sec = 60\n",
    null,
    /task\.toml: environment: no environment: add environment\/Dockerfile, \[environment\] docker_image, or \[environment\.rli\] sandbox = "host"/,
  ],
  [
    "no-instruction",
    HOST,
    (d) => rm(join(d, "instruction.md")),
    /instruction\.md: \(file\): missing; the task's prompt goes here/,
  ],
  [
    "empty-instruction",
    HOST,
    (d) => writeFile(join(d, "instruction.md"), "  \n"),
    /instruction\.md: \(file\): empty/,
  ],
  [
    "no-tests",
    HOST,
    (d) => rm(join(d, "tests", "test.sh")),
    /tests\/test\.sh: \(file\): missing; the verifier must write \/logs\/verifier\/reward\.txt or reward\.json/,
  ],
  [
    "symlink-out",
    HOST,
    (d) => symlink("/etc/passwd", join(d, "tests", "passwd")),
    /tests\/passwd: \(symlink\): points outside the task directory \(\/etc\/passwd\)/,
  ],
  [
    "symlink-up",
    HOST,
    (d) => symlink("../../..", join(d, "solution", "up")),
    /solution\/up: \(symlink\): points outside the task directory \(\.\.\/\.\.\/\.\.\)/,
  ],
];

describe("the bad-input corpus: malformed task directories", () => {
  it("has at least 20 entries", () => {
    expect(TASK_CORPUS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(TASK_CORPUS)(
    "%s: exit 2, one line naming the file and field",
    async (name, toml, change, re) => {
      const dir = await malformedTask(name, toml, change ?? undefined);
      await expectOneLine([...RUN, "--agent", "oracle", "--scenarios", dir], 2, re);
    },
  );
});
