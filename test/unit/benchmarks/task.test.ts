import { chmod, mkdir, symlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestDir, loadTask } from "../../../src/benchmarks/task.js";
import { TaskLoadError } from "../../../src/core/errors.js";
import { rejectedWith } from "../../helpers/errors.js";
import { FIXTURES, tempDir } from "../../helpers/tasks.js";

const HOST_TOML = '[environment.rli]\nsandbox = "host"\n';

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir("rli-task-test-"));
});

afterEach(async () => {
  await cleanup();
});

interface TaskFiles {
  /** task.toml; null leaves it out. */
  toml?: string | null;
  /** instruction.md; null leaves it out. */
  instruction?: string | null;
  /** tests/test.sh; null leaves it out. */
  testSh?: string | null;
  /** Extra files by relative path. */
  files?: Record<string, string>;
}

/** Write a task directory `name` under the temp root; a valid host task unless told otherwise. */
async function makeTaskDir(name: string, files: TaskFiles = {}): Promise<string> {
  const dir = join(root, name);
  const all: Record<string, string> = { ...files.files };
  const toml = files.toml === undefined ? HOST_TOML : files.toml;
  const instruction = files.instruction === undefined ? "Do the thing.\n" : files.instruction;
  const testSh = files.testSh === undefined ? "echo 1 > /logs/verifier/reward.txt\n" : files.testSh;
  if (toml !== null) all["task.toml"] = toml;
  if (instruction !== null) all["instruction.md"] = instruction;
  if (testSh !== null) all["tests/test.sh"] = testSh;
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(all)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** The TaskLoadError loadTask rejects with. */
function loadError(dir: string): Promise<TaskLoadError> {
  return rejectedWith(TaskLoadError, loadTask(dir, "b/t"));
}

describe("loadTask: valid tasks", () => {
  it("reads [environment] cpus, memory_mb and storage_mb as the task's resources", async () => {
    const dir = await makeTaskDir("res", {
      toml: "[environment]\ncpus = 2\nmemory_mb = 4096\nstorage_mb = 10240\n",
      files: { "environment/Dockerfile": "FROM x\n" },
    });
    expect((await loadTask(dir, "b/res")).resources).toEqual({
      cpus: 2,
      memoryMb: 4096,
      storageMb: 10240,
    });
  });

  it("refuses a memory_mb that is not a positive integer, naming the field", async () => {
    const dir = await makeTaskDir("res-bad", {
      toml: "[environment]\nmemory_mb = -5\n",
      files: { "environment/Dockerfile": "FROM x\n" },
    });
    expect((await loadError(dir)).field).toBe("environment.memory_mb");
  });

  it("loads a host task with defaults for everything the toml leaves out", async () => {
    const dir = await makeTaskDir("t1");
    const task = await loadTask(dir, "bench/t1");
    expect(task).toEqual({
      id: "bench/t1",
      name: "bench/t1",
      dir,
      instruction: "Do the thing.\n",
      environment: { kind: "host", workdir: "/app" },
      agent: { timeoutSec: null, network: "public" },
      verifier: { timeoutSec: 600, network: "no-network", env: {} },
      solution: { dir: null, env: {} },
      buildTimeoutSec: 600,
      resources: { cpus: null, memoryMb: null, storageMb: null },
      testsDir: join(dir, "tests"),
      metadata: {},
      digest: await digestDir(dir),
    });
    expect(task.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("reads every known field of task.toml", async () => {
    const dir = await makeTaskDir("t2", {
      toml: [
        'version = "1.0"',
        "[task]",
        'name = "pretty name"',
        "[metadata]",
        'difficulty = "hard"',
        'tags = ["a", "b"]',
        "[agent]",
        "timeout_sec = 90.5",
        'network_mode = "allowlist"',
        "[verifier]",
        "timeout_sec = 30",
        'network_mode = "public"',
        "[verifier.env]",
        'MODE = "strict"',
        "[solution.env]",
        'HINT = "x"',
        "[environment]",
        "build_timeout_sec = 45",
        'workdir = "/ignored"',
        "[environment.rli]",
        'sandbox = "host"',
        'workdir = "/work/project"',
      ].join("\n"),
      files: { "solution/solve.sh": "true\n" },
    });
    const task = await loadTask(dir, "b/t2");
    expect(task.name).toBe("pretty name");
    expect(task.metadata).toEqual({ difficulty: "hard", tags: ["a", "b"] });
    expect(task.agent).toEqual({ timeoutSec: 90.5, network: "allowlist" });
    expect(task.verifier).toEqual({ timeoutSec: 30, network: "public", env: { MODE: "strict" } });
    expect(task.solution).toEqual({ dir: join(dir, "solution"), env: { HINT: "x" } });
    expect(task.buildTimeoutSec).toBe(45);
    expect(task.environment).toEqual({ kind: "host", workdir: "/work/project" });
  });

  it("uses [environment] workdir for a host task when [environment.rli] has none", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[environment]\nworkdir = "/srv"\n[environment.rli]\nsandbox = "host"\n',
    });
    expect((await loadTask(dir, "b/t")).environment).toEqual({ kind: "host", workdir: "/srv" });
  });

  it("takes the agent's network from [environment] network_mode", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[environment]\nnetwork_mode = "no-network"\n[environment.rli]\nsandbox = "host"\n',
    });
    expect((await loadTask(dir, "b/t")).agent.network).toBe("no-network");
  });

  it("maps allow_internet = false to no-network for the agent", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[environment]\nallow_internet = false\n[environment.rli]\nsandbox = "host"\n',
    });
    expect((await loadTask(dir, "b/t")).agent.network).toBe("no-network");
  });

  it("lets [agent] network_mode override the environment's", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[agent]\nnetwork_mode = "public"\n[environment]\nnetwork_mode = "no-network"\n[environment.rli]\nsandbox = "host"\n',
    });
    expect((await loadTask(dir, "b/t")).agent.network).toBe("public");
  });

  it("keeps unknown keys without complaint", async () => {
    const dir = await makeTaskDir("t", {
      toml: `future_key = 1\n[task]\nauthor = "me"\n[agent]\nretries = 3\n${HOST_TOML}`,
    });
    await expect(loadTask(dir, "b/t")).resolves.toMatchObject({ id: "b/t" });
  });

  it("loads a Dockerfile task as environment kind image", async () => {
    const dir = await makeTaskDir("t", {
      toml: "",
      files: { "environment/Dockerfile": "FROM x\n" },
    });
    expect((await loadTask(dir, "b/t")).environment).toEqual({
      kind: "image",
      workdir: "/app",
      dockerfile: join(dir, "environment", "Dockerfile"),
      dockerImage: null,
    });
  });

  it("loads a docker_image task as kind image with no Dockerfile", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[environment]\ndocker_image = "ubuntu:24.04"\nworkdir = "/w"\n',
    });
    expect((await loadTask(dir, "b/t")).environment).toEqual({
      kind: "image",
      workdir: "/w",
      workdirSet: true,
      dockerfile: null,
      dockerImage: "ubuntu:24.04",
    });
  });

  it("loads a docker-compose task as kind image", async () => {
    const dir = await makeTaskDir("t", {
      toml: "",
      files: { "environment/docker-compose.yaml": "services: {}\n" },
    });
    expect((await loadTask(dir, "b/t")).environment).toEqual({
      kind: "image",
      workdir: "/app",
      dockerfile: null,
      dockerImage: null,
    });
  });

  it("loads the image-task fixture", async () => {
    const dir = join(FIXTURES, "image-task");
    const task = await loadTask(dir, "x/image-task");
    expect(task.name).toBe("x/image");
    expect(task.instruction).toBe("do it\n");
    expect(task.environment).toEqual({
      kind: "image",
      workdir: "/app",
      dockerfile: join(dir, "environment", "Dockerfile"),
      dockerImage: null,
    });
    expect(task.solution.dir).toBeNull();
  });

  it("loads the bench-mini/hello fixture with its own timeouts", async () => {
    const dir = join(FIXTURES, "bench-mini", "hello");
    const task = await loadTask(dir, "bench-mini/hello");
    expect(task).toMatchObject({
      id: "bench-mini/hello",
      name: "mini/hello",
      dir,
      environment: { kind: "host", workdir: "/app" },
      agent: { timeoutSec: 60, network: "public" },
      verifier: { timeoutSec: 30, network: "no-network", env: {} },
      solution: { dir: join(dir, "solution"), env: {} },
      buildTimeoutSec: 600,
      testsDir: join(dir, "tests"),
    });
  });

  it("resolves a relative directory to an absolute one", async () => {
    const dir = await makeTaskDir("t");
    const task = await loadTask(relative(process.cwd(), dir), "b/t");
    expect(task.dir).toBe(dir);
    expect(task.testsDir).toBe(join(dir, "tests"));
  });
});

describe("loadTask: broken tasks", () => {
  it("refuses a directory without task.toml", async () => {
    const dir = await makeTaskDir("t", { toml: null });
    const err = await loadError(dir);
    expect(err.message).toBe(
      `${join(dir, "task.toml")}: (file): missing; a task directory needs task.toml`,
    );
    expect(err.file).toBe(join(dir, "task.toml"));
    expect(err.field).toBe("(file)");
  });

  it("reports invalid TOML syntax as file: (syntax): invalid TOML: …", async () => {
    const dir = await makeTaskDir("t", { toml: "[agent\ntimeout_sec = 1\n" });
    const err = await loadError(dir);
    expect(err.message.startsWith(`${join(dir, "task.toml")}: (syntax): invalid TOML: `)).toBe(
      true,
    );
    expect(err.message).not.toContain("\n");
  });

  it("reports a wrong field type as file: field: problem (bad-toml fixture)", async () => {
    const dir = join(FIXTURES, "bad-toml");
    const err = await loadError(dir);
    expect(err.message).toBe(
      `${join(dir, "task.toml")}: agent.timeout_sec: Invalid input: expected number, received string`,
    );
    expect(err.field).toBe("agent.timeout_sec");
  });

  it.each([
    ["[agent]\ntimeout_sec = 0\n", "agent.timeout_sec", "Too small: expected number to be >0"],
    [
      "[verifier]\ntimeout_sec = -5\n",
      "verifier.timeout_sec",
      "Too small: expected number to be >0",
    ],
    ['[environment]\nworkdir = "app"\n', "environment.workdir", "must be an absolute path"],
    [
      '[environment]\nnetwork_mode = "lan"\n',
      "environment.network_mode",
      'Invalid option: expected one of "public"|"no-network"|"allowlist"',
    ],
    [
      '[environment.rli]\nsandbox = "docker"\n',
      "environment.rli.sandbox",
      'Invalid input: expected "host"',
    ],
    [
      '[environment.rli]\nsandbox = "host"\nextra = 1\n',
      "environment.rli",
      'Unrecognized key: "extra"',
    ],
    [
      "[verifier.env]\nA = 1\n",
      "verifier.env.A",
      "Invalid input: expected string, received number",
    ],
    ['[task]\nname = ""\n', "task.name", "Too small: expected string to have >=1 characters"],
  ])("reports %j as field %s", async (toml, field, problem) => {
    const dir = await makeTaskDir("t", { toml });
    const err = await loadError(dir);
    expect(err.message).toBe(`${join(dir, "task.toml")}: ${field}: ${problem}`);
  });

  it("refuses a missing instruction.md (no-instruction fixture)", async () => {
    const dir = join(FIXTURES, "no-instruction");
    const err = await loadError(dir);
    expect(err.message).toBe(
      `${join(dir, "instruction.md")}: (file): missing; the task's prompt goes here`,
    );
  });

  it("refuses an instruction.md that is a directory", async () => {
    const dir = await makeTaskDir("t", { instruction: null });
    await mkdir(join(dir, "instruction.md"));
    expect((await loadError(dir)).message).toBe(
      `${join(dir, "instruction.md")}: (file): missing; the task's prompt goes here`,
    );
  });

  it.each(["", "  \n\t\n"])("refuses an empty instruction.md (%j)", async (instruction) => {
    const dir = await makeTaskDir("t", { instruction });
    expect((await loadError(dir)).message).toBe(`${join(dir, "instruction.md")}: (file): empty`);
  });

  it("refuses a task without tests/test.sh", async () => {
    const dir = await makeTaskDir("t", { testSh: null, files: { "tests/other.sh": "x" } });
    expect((await loadError(dir)).message).toBe(
      `${join(dir, "tests", "test.sh")}: (file): missing; the verifier must write /logs/verifier/reward.txt or reward.json`,
    );
  });

  it("refuses a task with no environment at all", async () => {
    const dir = await makeTaskDir("t", { toml: "" });
    expect((await loadError(dir)).message).toBe(
      `${join(dir, "task.toml")}: environment: no environment: add environment/Dockerfile, [environment] docker_image, or [environment.rli] sandbox = "host"`,
    );
  });

  it("refuses an rli host sandbox combined with a Dockerfile", async () => {
    const dir = await makeTaskDir("t", { files: { "environment/Dockerfile": "FROM x\n" } });
    const err = await loadError(dir);
    expect(err.message).toBe(
      `${join(dir, "task.toml")}: environment.rli.sandbox: "host" cannot be combined with a docker_image, Dockerfile or docker-compose file`,
    );
  });

  it("refuses an rli host sandbox combined with docker_image", async () => {
    const dir = await makeTaskDir("t", {
      toml: '[environment]\ndocker_image = "x"\n[environment.rli]\nsandbox = "host"\n',
    });
    expect((await loadError(dir)).field).toBe("environment.rli.sandbox");
  });

  it("refuses an rli host sandbox combined with docker-compose.yml", async () => {
    const dir = await makeTaskDir("t", { files: { "environment/docker-compose.yml": "x: 1\n" } });
    expect((await loadError(dir)).field).toBe("environment.rli.sandbox");
  });

  it("refuses a task holding a symlink that escapes its directory", async () => {
    const dir = await makeTaskDir("t");
    await writeFile(join(root, "secret.txt"), "s3cret");
    await symlink("../secret.txt", join(dir, "leak"));
    expect((await loadError(dir)).message).toBe(
      `${join(dir, "leak")}: (symlink): points outside the task directory (../secret.txt)`,
    );
  });
});

describe("digestDir", () => {
  it("is sha256:<64 hex> and stable across calls", async () => {
    const dir = await makeTaskDir("t");
    const a = await digestDir(dir);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digestDir(dir)).toBe(a);
  });

  it("depends on content, not on where the directory is", async () => {
    const a = await makeTaskDir("a");
    const b = await makeTaskDir("b");
    expect(await digestDir(a)).toBe(await digestDir(b));
  });

  it("ignores modification times", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await utimes(join(dir, "instruction.md"), new Date(2001, 0, 1), new Date(2001, 0, 1));
    expect(await digestDir(dir)).toBe(before);
  });

  it("changes when a file's content changes", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await writeFile(join(dir, "instruction.md"), "Do the other thing.\n");
    expect(await digestDir(dir)).not.toBe(before);
  });

  it("changes when a file in a subdirectory changes", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await writeFile(join(dir, "tests", "test.sh"), "echo 0 > /logs/verifier/reward.txt\n");
    expect(await digestDir(dir)).not.toBe(before);
  });

  it("changes when a file is renamed, keeping its content", async () => {
    const a = await makeTaskDir("a", { files: { "x.txt": "same" } });
    const b = await makeTaskDir("b", { files: { "y.txt": "same" } });
    expect(await digestDir(a)).not.toBe(await digestDir(b));
  });

  it("changes when a file is added", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await writeFile(join(dir, "notes.txt"), "");
    expect(await digestDir(dir)).not.toBe(before);
  });

  it("changes when an empty directory is added", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await mkdir(join(dir, "environment"));
    expect(await digestDir(dir)).not.toBe(before);
  });

  it("changes when a file becomes executable", async () => {
    const dir = await makeTaskDir("t");
    const before = await digestDir(dir);
    await chmod(join(dir, "tests", "test.sh"), 0o755);
    expect(await digestDir(dir)).not.toBe(before);
  });

  it("does not confuse moving bytes between a file name and its content", async () => {
    const a = await makeTaskDir("a", { files: { ab: "c" } });
    const b = await makeTaskDir("b", { files: { a: "bc" } });
    expect(await digestDir(a)).not.toBe(await digestDir(b));
  });

  it("allows a symlink inside the directory and hashes its target", async () => {
    const a = await makeTaskDir("a", { files: { "one.txt": "1", "two.txt": "2" } });
    const b = await makeTaskDir("b", { files: { "one.txt": "1", "two.txt": "2" } });
    await symlink("one.txt", join(a, "link"));
    await symlink("two.txt", join(b, "link"));
    const da = await digestDir(a);
    expect(da).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(da).not.toBe(await digestDir(b));
  });

  it("refuses a relative symlink that escapes the directory", async () => {
    const dir = await makeTaskDir("t");
    await mkdir(join(dir, "sub"));
    await symlink("../../outside", join(dir, "sub", "up"));
    await expect(digestDir(dir)).rejects.toThrow(
      new TaskLoadError(
        join(dir, "sub", "up"),
        "(symlink)",
        "points outside the task directory (../../outside)",
      ),
    );
  });

  it("refuses an absolute symlink to a system file", async () => {
    const dir = await makeTaskDir("t");
    await symlink("/etc/passwd", join(dir, "passwd"));
    await expect(digestDir(dir)).rejects.toThrow(
      `${join(dir, "passwd")}: (symlink): points outside the task directory (/etc/passwd)`,
    );
  });

  it("refuses a symlink to a sibling directory whose name starts with the task's", async () => {
    const dir = await makeTaskDir("t");
    await mkdir(join(root, "t-evil"));
    await symlink("../t-evil", join(dir, "evil"));
    await expect(digestDir(dir)).rejects.toThrow("points outside the task directory (../t-evil)");
  });

  it("accepts an internal symlink when the directory is given as a relative path", async () => {
    const dir = await makeTaskDir("t", { files: { "data.txt": "d" } });
    await symlink("data.txt", join(dir, "alias"));
    const absolute = await digestDir(dir);
    expect(await digestDir(relative(process.cwd(), dir))).toBe(absolute);
  });

  it("accepts an internal symlink when the directory is given with a trailing slash", async () => {
    const dir = await makeTaskDir("t", { files: { "data.txt": "d" } });
    await symlink("data.txt", join(dir, "alias"));
    const absolute = await digestDir(dir);
    expect(await digestDir(`${dir}/`)).toBe(absolute);
  });

  it("gives the same digest for a relative path as for the absolute path (no symlinks)", async () => {
    const dir = await makeTaskDir("t");
    expect(await digestDir(relative(process.cwd(), dir))).toBe(await digestDir(dir));
  });
});
