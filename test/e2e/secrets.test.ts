import { execFileSync } from "node:child_process";
import { chmod, lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliEnv, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tasks.js";

// A secret given with --secrets, which the agent prints, writes to logs and artifacts (text and
// binary), and puts in its last words (which become the trial's error message); and a key-shaped
// string the job was never told about. Neither may appear in any byte the CLI writes: the job store,
// downloaded logs (a directory and an archive), or any command's output.

const PLANTED = "plAnted-s3cret-Value-7f3a9c";
const KEY_SHAPED = "sk-ant-api03-Zq9vXk2Lm8Np4Rt6Yw1Bc3Df5Gh7";

let tmp: { dir: string; cleanup: () => Promise<void> };
let home: string;
let env: NodeJS.ProcessEnv;
const outputs: CliResult[] = [];

/** Every regular file under `dir`. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

async function leakyTask(dir: string): Promise<string> {
  const files: Record<string, string> = {
    "task.toml":
      'schema_version = "1.1"\n[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = 30\n[environment.rli]\nsandbox = "host"\n',
    "instruction.md": "Leak the key.\n",
    "solution/solve.sh": [
      'echo "my key is $PLANTED"',
      'echo "found one: $FOUND"',
      'echo "$PLANTED" > /logs/agent/leak.txt',
      "mkdir -p /logs/agent/deep/er",
      'printf "x%sx" "$PLANTED" > /logs/agent/deep/er/f',
      'printf \'bin\\0%s\\0%s\\0\' "$PLANTED" "$FOUND" > /logs/artifacts/leak.bin',
      'echo "Error: request failed with key $PLANTED" >&2',
      "exit 3",
      "",
    ].join("\n"),
    "tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await chmod(join(dir, "solution", "solve.sh"), 0o755);
  await chmod(join(dir, "tests", "test.sh"), 0o755);
  return dir;
}

beforeAll(async () => {
  tmp = await tempDir("rli-secrets-");
  home = join(tmp.dir, "home");
  env = { ...cliEnv(home), RLI_TEST_PLANTED: PLANTED, RLI_TEST_FOUND: KEY_SHAPED };
  const task = await leakyTask(join(tmp.dir, "leaks", "leaky"));
  const run = await runCli(
    [
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--scenarios",
      task,
      "--secrets",
      "PLANTED=RLI_TEST_PLANTED",
      "FOUND=RLI_TEST_FOUND",
      "-o",
      "json",
    ],
    env,
  );
  expect(run.code, run.stderr).toBe(0);
  outputs.push(run);
  const out = join(tmp.dir, "downloaded");
  for (const args of [
    ["logs", "latest", "-o", out],
    ["logs", "latest", "--archive", join(tmp.dir, "job.tar.gz")],
    ["summary", "latest", "-e"],
    ["summary", "latest", "-o", "json"],
    ["watch", "latest", "-o", "json"],
    ["list", "-o", "json"],
  ]) {
    const r = await runCli(["bmj", ...args], env);
    expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    outputs.push(r);
  }
  await mkdir(join(tmp.dir, "unpacked"));
  execFileSync("tar", ["-xzf", join(tmp.dir, "job.tar.gz"), "-C", join(tmp.dir, "unpacked")]);
}, 120_000);
afterAll(() => tmp?.cleanup());

describe("a secret the agent leaks", () => {
  it("is in no file of the job store, the downloaded logs or the unpacked archive", async () => {
    const files = [
      ...(await filesUnder(home)),
      ...(await filesUnder(join(tmp.dir, "downloaded"))),
      ...(await filesUnder(join(tmp.dir, "unpacked"))),
    ];
    expect(files.length).toBeGreaterThan(10);
    const hits: string[] = [];
    for (const f of files) {
      const bytes = await readFile(f);
      for (const s of [PLANTED, KEY_SHAPED]) if (bytes.includes(s)) hits.push(`${s} in ${f}`);
    }
    expect(hits).toEqual([]);
  });

  it("is in no command's output", () => {
    for (const r of outputs) {
      for (const s of [PLANTED, KEY_SHAPED]) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
    }
  });

  it("is masked where it was, keeping each file's length (binary files stay intact)", async () => {
    const [jobId] = (await readdir(join(home, "jobs"))).filter((n) => n.startsWith("job_"));
    const logs = join(home, "jobs", jobId as string, "trials", "leaks_leaky__oracle__1", "logs");
    expect(await readFile(join(logs, "agent", "leak.txt"), "utf8")).toBe(
      `[REDACTED]${"*".repeat(PLANTED.length - 10)}\n`,
    );
    const bin = await readFile(join(logs, "artifacts", "leak.bin"));
    expect(bin.length).toBe(4 + PLANTED.length + 1 + KEY_SHAPED.length + 1);
    expect(bin.subarray(0, 4).toString("latin1")).toBe("bin\0");
    // The trial's error message came from the agent's last words, masked as well.
    const result = JSON.parse(await readFile(join(logs, "..", "result.json"), "utf8")) as {
      status: string;
    };
    expect(result.status).toBe("agent_error");
  });

  it("the store's files and directories are readable by their owner only", async () => {
    const loose: string[] = [];
    const walk = async (p: string): Promise<void> => {
      const st = await lstat(p);
      if ((st.mode & 0o077) !== 0 && !st.isSymbolicLink()) {
        loose.push(`${(st.mode & 0o777).toString(8)} ${p}`);
      }
      if (st.isDirectory()) for (const n of await readdir(p)) await walk(join(p, n));
    };
    await walk(join(home, "jobs"));
    expect(loose).toEqual([]);
  });
});
