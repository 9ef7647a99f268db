import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BUILTIN_DIR,
  listBuiltinBenchmarks,
  resolveBenchmark,
  resolveScenarios,
} from "../../../src/benchmarks/resolve.js";
import { TaskLoadError, UsageError } from "../../../src/core/errors.js";
import { rejectedWith } from "../../helpers/errors.js";
import { FIXTURES, REPO_ROOT as REPO, tempDir } from "../../helpers/tasks.js";

const BENCH_MINI = join(FIXTURES, "bench-mini");
const STARTER = join(REPO, "fixtures", "benchmarks", "starter");
const HOST_TOML = '[environment.rli]\nsandbox = "host"\n';

let root: string;
let cleanup: () => Promise<void>;
let savedHome: string | undefined;

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir("rli-resolve-test-"));
  savedHome = process.env.HOME;
});

afterEach(async () => {
  if (savedHome === undefined) delete process.env.HOME;
  else process.env.HOME = savedHome;
  await cleanup();
});

/** A minimal valid host task at `dir`. */
async function writeTask(dir: string, toml = HOST_TOML): Promise<string> {
  await mkdir(join(dir, "tests"), { recursive: true });
  await writeFile(join(dir, "task.toml"), toml);
  await writeFile(join(dir, "instruction.md"), "Do it.\n");
  await writeFile(join(dir, "tests", "test.sh"), "echo 1 > /logs/verifier/reward.txt\n");
  return dir;
}

/** Names of the subdirectories of `dir` holding a task.toml, sorted (fixtures may grow). */
async function taskDirsOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const isTask = await stat(join(dir, e.name, "task.toml")).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isTask) out.push(e.name);
  }
  return out.sort();
}

const starterTaskDirs = () => taskDirsOf(STARTER);
const MINI_TASKS = ["broken-verifier", "hello", "partial", "sleeper"];

/** The UsageError message `p` rejects with. */
async function usageError(p: Promise<unknown>): Promise<string> {
  return (await rejectedWith(UsageError, p)).message;
}

describe("built-in benchmarks", () => {
  it("BUILTIN_DIR is the package's fixtures/benchmarks directory", () => {
    expect(resolve(BUILTIN_DIR)).toBe(join(REPO, "fixtures", "benchmarks"));
  });

  it("lists starter among the built-in benchmarks, sorted", async () => {
    const names = await listBuiltinBenchmarks();
    expect(names).toContain("starter");
    expect([...names].sort()).toEqual(names);
  });
});

describe("resolveBenchmark", () => {
  it("resolves the built-in starter benchmark to one task per task directory", async () => {
    const dirs = await starterTaskDirs();
    const bench = await resolveBenchmark("starter");
    expect(bench.kind).toBe("builtin");
    expect(bench.source).toBe("starter");
    expect(bench.tasks.length).toBeGreaterThanOrEqual(1);
    expect(bench.tasks.map((t) => t.id)).toEqual(dirs.map((d) => `starter/${d}`));
    expect(bench.tasks.map((t) => t.dir)).toEqual(dirs.map((d) => join(STARTER, d)));
  });

  it("gives every starter task a digest and an instruction", async () => {
    const bench = await resolveBenchmark("starter");
    for (const t of bench.tasks) {
      expect(t.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(t.instruction.trim()).not.toBe("");
    }
  });

  it("resolves a directory of tasks (bench-mini) sorted by directory name", async () => {
    const dirs = await taskDirsOf(BENCH_MINI);
    expect(dirs).toEqual(expect.arrayContaining(MINI_TASKS));
    const bench = await resolveBenchmark("test/fixtures/bench-mini");
    expect(bench.kind).toBe("path");
    expect(bench.source).toBe("test/fixtures/bench-mini");
    expect(bench.tasks.map((t) => t.id)).toEqual(dirs.map((d) => `bench-mini/${d}`));
    expect(bench.tasks.map((t) => t.dir)).toEqual(dirs.map((d) => join(BENCH_MINI, d)));
    const byId = new Map(bench.tasks.map((t) => [t.id, t.name]));
    for (const d of MINI_TASKS) expect(byId.get(`bench-mini/${d}`)).toBe(`mini/${d}`);
  });

  it("resolves an absolute directory path the same way", async () => {
    const bench = await resolveBenchmark(BENCH_MINI);
    expect(bench.kind).toBe("path");
    expect(bench.tasks.map((t) => t.id)[0]).toBe("bench-mini/broken-verifier");
  });

  it("treats a directory that is itself a task as a one-task benchmark named after its parent", async () => {
    const bench = await resolveBenchmark("test/fixtures/image-task");
    expect(bench.tasks.map((t) => t.id)).toEqual(["fixtures/image-task"]);
    expect(bench.tasks[0]?.environment.kind).toBe("image");
  });

  it("names tasks of a temp benchmark after the directory and skips non-task entries", async () => {
    const bench = join(root, "mybench");
    await writeTask(join(bench, "zeta"));
    await writeTask(join(bench, "alpha"));
    await mkdir(join(bench, "not-a-task"), { recursive: true });
    await writeFile(join(bench, "README.md"), "hi");
    const r = await resolveBenchmark(bench);
    expect(r.tasks.map((t) => t.id)).toEqual(["mybench/alpha", "mybench/zeta"]);
  });

  it("names tasks after benchmark.toml's name when there is one", async () => {
    const bench = join(root, "dir-name");
    await writeTask(join(bench, "t1"));
    await writeFile(join(bench, "benchmark.toml"), 'name = " renamed "\n');
    expect((await resolveBenchmark(bench)).tasks.map((t) => t.id)).toEqual(["renamed/t1"]);
  });

  it("falls back to the directory name when benchmark.toml has no usable name", async () => {
    const bench = join(root, "dir-name");
    await writeTask(join(bench, "t1"));
    await writeFile(join(bench, "benchmark.toml"), "name = 3\n");
    expect((await resolveBenchmark(bench)).tasks.map((t) => t.id)).toEqual(["dir-name/t1"]);
  });

  it("refuses a directory without tasks", async () => {
    const bench = join(root, "empty");
    await mkdir(join(bench, "sub"), { recursive: true });
    expect(await usageError(resolveBenchmark(bench))).toBe(
      `Benchmark "${bench}" has no tasks: no subdirectory of ${bench} holds a task.toml`,
    );
  });

  it("refuses an unknown name, listing the built-in benchmarks", async () => {
    const builtins = await listBuiltinBenchmarks();
    expect(await usageError(resolveBenchmark("no-such-benchmark"))).toBe(
      `Unknown benchmark: "no-such-benchmark". Use a built-in benchmark (${builtins.join(", ")}) or a directory of Harbor tasks, or export RUNLOOP_API_KEY to run the Runloop benchmark of that name`,
    );
  });

  it("refuses a path that does not exist with the same message", async () => {
    const missing = join(root, "missing");
    const msg = await usageError(resolveBenchmark(missing));
    expect(msg.startsWith(`Unknown benchmark: "${missing}". Use a built-in benchmark (`)).toBe(
      true,
    );
  });

  it("propagates a broken task's TaskLoadError", async () => {
    const bench = join(root, "b");
    await writeTask(join(bench, "good"));
    await writeTask(join(bench, "bad"), '[agent]\ntimeout_sec = "soon"\n');
    await expect(resolveBenchmark(bench)).rejects.toBeInstanceOf(TaskLoadError);
    await expect(resolveBenchmark(bench)).rejects.toThrow(
      `${join(bench, "bad", "task.toml")}: agent.timeout_sec: Invalid input: expected number, received string`,
    );
  });

  it("expands ~ to the home directory", async () => {
    process.env.HOME = root;
    await writeTask(join(root, "homebench", "t1"));
    const r = await resolveBenchmark("~/homebench");
    expect(r.tasks.map((t) => t.id)).toEqual(["homebench/t1"]);
  });

  it("gives a task directory the same id whether picked by --benchmark or --scenarios", async () => {
    const bench = join(root, "dir-name");
    const task = await writeTask(join(bench, "t1"));
    await writeFile(join(bench, "benchmark.toml"), 'name = "renamed"\n');
    const viaBenchmark = (await resolveBenchmark(task)).tasks[0]?.id;
    const viaScenarios = (await resolveScenarios([task])).tasks[0]?.id;
    expect(viaBenchmark).toBe(viaScenarios);
  });
});

describe("resolveScenarios", () => {
  it("resolves <benchmark>/<scenario> against the built-in benchmarks", async () => {
    const [first, second] = await starterTaskDirs();
    expect(first).toBeDefined();
    const values =
      second === undefined ? [`starter/${first}`] : [`starter/${second}`, `starter/${first}`];
    const r = await resolveScenarios(values);
    expect(r.kind).toBe("scenarios");
    expect(r.source).toEqual(values);
    // In the order given, not sorted.
    expect(r.tasks.map((t) => t.id)).toEqual(values);
  });

  it("resolves <benchmark dir>/<scenario> against a directory", async () => {
    const r = await resolveScenarios(["test/fixtures/bench-mini/partial"]);
    expect(r.tasks.map((t) => t.id)).toEqual(["bench-mini/partial"]);
    expect(r.tasks[0]?.dir).toBe(join(BENCH_MINI, "partial"));
  });

  it("resolves a task directory path, naming it after its parent's benchmark.toml", async () => {
    const bench = join(root, "dir-name");
    const task = await writeTask(join(bench, "t1"));
    await writeFile(join(bench, "benchmark.toml"), 'name = "renamed"\n');
    expect((await resolveScenarios([task])).tasks.map((t) => t.id)).toEqual(["renamed/t1"]);
  });

  it("returns no tasks for no values", async () => {
    expect(await resolveScenarios([])).toEqual({ kind: "scenarios", source: [], tasks: [] });
  });

  it.each(["foo", "starter/", "/"])(
    "refuses %j, which is not <benchmark>/<scenario>",
    async (v) => {
      expect(await usageError(resolveScenarios([v]))).toBe(
        `Invalid scenario: "${v}". Use <benchmark>/<scenario> (e.g. starter/fix-csv-quoting) or a task directory path`,
      );
    },
  );

  it("refuses an unknown scenario, listing the benchmark's scenarios", async () => {
    const dirs = await taskDirsOf(BENCH_MINI);
    const list = `${dirs.slice(0, 8).join(", ")}${dirs.length > 8 ? ", …" : ""}`;
    expect(await usageError(resolveScenarios(["test/fixtures/bench-mini/nope"]))).toBe(
      `Unknown scenario: "test/fixtures/bench-mini/nope"; scenarios in "test/fixtures/bench-mini": ${list}`,
    );
  });

  it("lists a temp benchmark's scenarios exactly", async () => {
    const bench = join(root, "b");
    await writeTask(join(bench, "beta"));
    await writeTask(join(bench, "alpha"));
    expect(await usageError(resolveScenarios([`${bench}/gamma`]))).toBe(
      `Unknown scenario: "${bench}/gamma"; scenarios in "${bench}": alpha, beta`,
    );
  });

  it("refuses an unknown starter scenario, listing up to eight known ones", async () => {
    const known = await starterTaskDirs();
    const list = `${known.slice(0, 8).join(", ")}${known.length > 8 ? ", …" : ""}`;
    expect(await usageError(resolveScenarios(["starter/nope"]))).toBe(
      `Unknown scenario: "starter/nope"; scenarios in "starter": ${list}`,
    );
  });

  it("lists only the first eight scenarios, then an ellipsis", async () => {
    const bench = join(root, "big");
    for (let i = 1; i <= 9; i++) await writeTask(join(bench, `t${i}`));
    expect(await usageError(resolveScenarios([`${bench}/nope`]))).toBe(
      `Unknown scenario: "${bench}/nope"; scenarios in "${bench}": t1, t2, t3, t4, t5, t6, t7, t8, …`,
    );
  });

  it("gives no list when the benchmark has no scenarios", async () => {
    const bench = join(root, "empty");
    await mkdir(bench);
    expect(await usageError(resolveScenarios([`${bench}/x`]))).toBe(
      `Unknown scenario: "${bench}/x"`,
    );
  });

  it("refuses a scenario of an unknown benchmark", async () => {
    const builtins = await listBuiltinBenchmarks();
    expect(await usageError(resolveScenarios(["nobench/x"]))).toBe(
      `Unknown benchmark: "nobench". Use a built-in benchmark (${builtins.join(", ")}) or a directory of Harbor tasks`,
    );
  });

  it("refuses the same scenario given twice", async () => {
    expect(
      await usageError(
        resolveScenarios(["test/fixtures/bench-mini/hello", "test/fixtures/bench-mini/hello"]),
      ),
    ).toBe('Scenario given twice: "test/fixtures/bench-mini/hello" (bench-mini/hello)');
  });

  it("refuses the same scenario given once by name and once by path", async () => {
    const [first] = await starterTaskDirs();
    const byPath = join(STARTER, first ?? "");
    expect(await usageError(resolveScenarios([`starter/${first}`, byPath]))).toBe(
      `Scenario given twice: "${byPath}" (starter/${first})`,
    );
  });

  it("propagates a broken scenario's TaskLoadError (bad-toml fixture)", async () => {
    await expect(resolveScenarios(["test/fixtures/bad-toml"])).rejects.toBeInstanceOf(
      TaskLoadError,
    );
  });
});
