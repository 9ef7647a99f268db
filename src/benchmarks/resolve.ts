import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pLimit from "p-limit";
import { parse as parseToml } from "smol-toml";
import { UsageError } from "../core/errors.js";
import { loadTask, type Task } from "./task.js";

/** Directory holding the built-in benchmarks (fixtures/benchmarks in the package). */
export const BUILTIN_DIR = fileURLToPath(new URL("../../fixtures/benchmarks/", import.meta.url));

export interface ResolvedBenchmark {
  kind: "builtin" | "path" | "scenarios";
  source: string | string[];
  tasks: Task[];
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function hasTaskToml(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, "task.toml"))).isFile();
  } catch {
    return false;
  }
}

export async function listBuiltinBenchmarks(): Promise<string[]> {
  try {
    const entries = await readdir(BUILTIN_DIR, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** An absolute path, with a leading `~` (quoted past the shell) meaning the home directory. */
function toPath(s: string): string {
  if (s === "~") return homedir();
  if (s.startsWith("~/")) return join(homedir(), s.slice(2));
  return resolve(s);
}

function looksLikePath(s: string): boolean {
  return s.startsWith(".") || s.startsWith("/") || s.startsWith("~") || s.includes("/");
}

async function benchmarkName(dir: string): Promise<string> {
  try {
    const toml = parseToml(await readFile(join(dir, "benchmark.toml"), "utf8")) as {
      name?: unknown;
    };
    if (typeof toml.name === "string" && toml.name.trim() !== "") return toml.name.trim();
  } catch {
    // no benchmark.toml: the directory name names the benchmark
  }
  return basename(dir);
}

/** Locate a benchmark by built-in name or directory path. */
async function locateBenchmark(value: string): Promise<{ dir: string; kind: "builtin" | "path" }> {
  if (!looksLikePath(value)) {
    const builtin = join(BUILTIN_DIR, value);
    if (/^[A-Za-z0-9._-]+$/.test(value) && (await isDir(builtin)))
      return { dir: builtin, kind: "builtin" };
  }
  const dir = toPath(value);
  if (await isDir(dir)) return { dir, kind: "path" };
  const builtins = await listBuiltinBenchmarks();
  throw new UsageError(
    `Unknown benchmark: "${value}". Use a built-in benchmark (${builtins.join(", ") || "none installed"}) or a directory of Harbor tasks`,
  );
}

/** True when `value` names a built-in benchmark or an existing directory (a local benchmark). */
export async function isLocalBenchmark(value: string): Promise<boolean> {
  try {
    await locateBenchmark(value);
    return true;
  } catch {
    return false;
  }
}

/** Every task directory of a benchmark, sorted by name; a directory that is itself a task counts as one. */
async function taskDirs(dir: string): Promise<string[]> {
  if (await hasTaskToml(dir)) return [dir];
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs: string[] = [];
  for (const e of entries
    .filter((x) => x.isDirectory())
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (await hasTaskToml(join(dir, e.name))) dirs.push(join(dir, e.name));
  }
  return dirs;
}

/** `--benchmark <name|dir>`: every task of the benchmark. */
export async function resolveBenchmark(value: string): Promise<ResolvedBenchmark> {
  let located: { dir: string; kind: "builtin" | "path" };
  try {
    located = await locateBenchmark(value);
  } catch (err) {
    // Without a Runloop key an unknown name stops here; say how it could be a Runloop benchmark.
    if (err instanceof UsageError && !looksLikePath(value)) {
      throw new UsageError(
        `${err.message}, or export RUNLOOP_API_KEY to run the Runloop benchmark of that name`,
      );
    }
    throw err;
  }
  const { dir, kind } = located;
  const dirs = await taskDirs(dir);
  if (dirs.length === 0) {
    throw new UsageError(
      `Benchmark "${value}" has no tasks: no subdirectory of ${dir} holds a task.toml`,
    );
  }
  // A task directory given on its own belongs to the benchmark around it, as with --scenarios.
  const name = await benchmarkName(dirs.length === 1 && dirs[0] === dir ? dirname(dir) : dir);
  // Load (and digest) tasks a few at a time: large benchmarks have hundreds.
  const limit = pLimit(16);
  const tasks = await Promise.all(
    dirs.map((d) => limit(() => loadTask(d, `${name}/${basename(d)}`))),
  );
  return { kind, source: value, tasks };
}

/**
 * What is wrong with a task directory path that has no task.toml, when the benchmark-and-scenario
 * reading cannot say better: null when its parent is a directory (then the parent's scenarios are
 * listed as a hint).
 */
async function pathProblem(path: string): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  if (st?.isDirectory()) return "Not a task directory (no task.toml in it)";
  if (st !== null) return "Not a task directory (a file)";
  const parent = await stat(dirname(path)).catch(() => null);
  return parent?.isDirectory() ? null : "Unknown scenario: no such file or directory";
}

/** `--scenarios <benchmark>/<scenario>…` (or task directory paths). */
export async function resolveScenarios(values: string[]): Promise<ResolvedBenchmark> {
  const tasks: Task[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    let task: Task;
    if (looksLikePath(value) && (await hasTaskToml(toPath(value)))) {
      const dir = toPath(value);
      task = await loadTask(dir, `${await benchmarkName(dirname(dir))}/${basename(dir)}`);
    } else if (/^(\/.|\.\.?\/|~)/.test(value) && (await pathProblem(toPath(value))) !== null) {
      // Written as a path: say what is wrong with that path, not with a benchmark of that name.
      throw new UsageError(`${await pathProblem(toPath(value))}: "${value}"`);
    } else {
      const slash = value.lastIndexOf("/");
      if (slash <= 0 || slash === value.length - 1) {
        throw new UsageError(
          `Invalid scenario: "${value}". Use <benchmark>/<scenario> (e.g. starter/fix-csv-quoting) or a task directory path`,
        );
      }
      const benchPart = value.slice(0, slash);
      const scenarioPart = value.slice(slash + 1);
      const { dir } = await locateBenchmark(benchPart);
      const taskDir = join(dir, scenarioPart);
      if (!(await hasTaskToml(taskDir))) {
        const known = (await taskDirs(dir)).map((d) => basename(d));
        const hint =
          known.length > 0
            ? `; scenarios in "${benchPart}": ${known.slice(0, 8).join(", ")}${known.length > 8 ? ", …" : ""}`
            : "";
        throw new UsageError(`Unknown scenario: "${value}"${hint}`);
      }
      task = await loadTask(taskDir, `${await benchmarkName(dir)}/${scenarioPart}`);
    }
    if (seen.has(task.id)) throw new UsageError(`Scenario given twice: "${value}" (${task.id})`);
    seen.add(task.id);
    tasks.push(task);
  }
  return { kind: "scenarios", source: values, tasks };
}
