import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { TaskLoadError } from "../core/errors.js";

/** Where a task's sandbox comes from. `host` is our extension: no image, the host's system directories. */
export type TaskEnvironment =
  | { kind: "host"; workdir: string }
  | {
      kind: "image";
      workdir: string;
      /** task.toml named the workdir; otherwise a backend may use the image's own WORKDIR. */
      workdirSet?: boolean;
      dockerfile: string | null;
      dockerImage: string | null;
    };

export type NetworkMode = "public" | "no-network" | "allowlist";

/** A Harbor task directory, loaded and validated. */
export interface Task {
  /** `<benchmark>/<dir name>`. */
  id: string;
  /** The task.toml `[task] name`, or the directory name. */
  name: string;
  dir: string;
  instruction: string;
  environment: TaskEnvironment;
  agent: { timeoutSec: number | null; network: NetworkMode };
  verifier: { timeoutSec: number; network: NetworkMode; env: Record<string, string> };
  /**
   * The reference solution: a directory with solve.sh (Harbor), or for Runloop-hosted scenarios their
   * reference_output (shell commands, or a patch applied with git apply) in `reference`.
   */
  solution: { dir: string | null; env: Record<string, string>; reference?: string };
  buildTimeoutSec: number;
  /** `[environment] cpus, memory_mb, storage_mb`; null = the backend's default. */
  resources?: { cpus: number | null; memoryMb: number | null; storageMb: number | null };
  testsDir: string;
  metadata: Record<string, unknown>;
  /** `sha256:<hex>` over every file's relative path and content. */
  digest: string;
  /**
   * A scenario hosted on Runloop (no task directory): its devbox comes from a scenario run and Runloop's
   * scorer decides the score. Only `--backend runloop` runs it.
   */
  runloop?: { scenarioId: string };
}

const DEFAULT_WORKDIR = "/app";
const DEFAULT_VERIFIER_TIMEOUT_SEC = 600;
const DEFAULT_BUILD_TIMEOUT_SEC = 600;

const positiveSeconds = z.number().positive().finite();
const envTable = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string());
const networkMode = z.enum(["public", "no-network", "allowlist"]);
const absPath = z.string().regex(/^\/[^\0]*$/, "must be an absolute path");

// Harbor's task.toml (schema 1.0-1.4); unknown keys are kept, known keys are type-checked.
const TaskTomlSchema = z
  .object({
    version: z.string().optional(),
    schema_version: z.string().optional(),
    task: z
      .object({ name: z.string().min(1).optional() })
      .loose()
      .optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    agent: z
      .object({
        timeout_sec: positiveSeconds.nullable().optional(),
        network_mode: networkMode.optional(),
      })
      .loose()
      .optional(),
    verifier: z
      .object({
        timeout_sec: positiveSeconds.optional(),
        env: envTable.optional(),
        network_mode: networkMode.optional(),
      })
      .loose()
      .optional(),
    solution: z.object({ env: envTable.optional() }).loose().optional(),
    environment: z
      .object({
        docker_image: z.string().min(1).nullable().optional(),
        build_timeout_sec: positiveSeconds.optional(),
        network_mode: networkMode.optional(),
        allow_internet: z.boolean().optional(),
        workdir: absPath.optional(),
        cpus: z.number().positive().finite().nullable().optional(),
        memory_mb: z.number().int().positive().nullable().optional(),
        storage_mb: z.number().int().positive().nullable().optional(),
        rli: z
          .object({ sandbox: z.literal("host"), workdir: absPath.optional() })
          .strict()
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Load and validate one task directory. Throws TaskLoadError (`file: field: problem`). */
export async function loadTask(dir: string, id: string): Promise<Task> {
  const root = resolve(dir);
  const tomlPath = join(root, "task.toml");
  let raw: string;
  try {
    raw = await readFile(tomlPath, "utf8");
  } catch {
    throw new TaskLoadError(tomlPath, "(file)", "missing; a task directory needs task.toml");
  }
  let parsed: unknown;
  try {
    parsed = parseToml(raw);
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
    throw new TaskLoadError(tomlPath, "(syntax)", `invalid TOML: ${msg}`);
  }
  const result = TaskTomlSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new TaskLoadError(tomlPath, issue.path.join(".") || "(root)", issue.message);
  }
  const toml = result.data;

  const instructionPath = join(root, "instruction.md");
  if (!(await isFile(instructionPath))) {
    throw new TaskLoadError(instructionPath, "(file)", "missing; the task's prompt goes here");
  }
  const instruction = await readFile(instructionPath, "utf8");
  if (instruction.trim() === "") {
    throw new TaskLoadError(instructionPath, "(file)", "empty");
  }
  const testsDir = join(root, "tests");
  if (!(await isFile(join(testsDir, "test.sh")))) {
    throw new TaskLoadError(
      join(testsDir, "test.sh"),
      "(file)",
      "missing; the verifier must write /logs/verifier/reward.txt or reward.json",
    );
  }
  const solutionDir = (await isFile(join(root, "solution", "solve.sh")))
    ? join(root, "solution")
    : null;

  const env = toml.environment ?? {};
  const dockerfile = join(root, "environment", "Dockerfile");
  const hasDockerfile = await isFile(dockerfile);
  const hasCompose =
    (await exists(join(root, "environment", "docker-compose.yaml"))) ||
    (await exists(join(root, "environment", "docker-compose.yml")));
  let environment: TaskEnvironment;
  if (env.rli) {
    if (env.docker_image || hasDockerfile || hasCompose) {
      throw new TaskLoadError(
        tomlPath,
        "environment.rli.sandbox",
        '"host" cannot be combined with a docker_image, Dockerfile or docker-compose file',
      );
    }
    environment = { kind: "host", workdir: env.rli.workdir ?? env.workdir ?? DEFAULT_WORKDIR };
  } else if (env.docker_image || hasDockerfile || hasCompose) {
    environment = {
      kind: "image",
      workdir: env.workdir ?? DEFAULT_WORKDIR,
      ...(env.workdir !== undefined ? { workdirSet: true } : {}),
      dockerfile: hasDockerfile ? dockerfile : null,
      dockerImage: env.docker_image ?? null,
    };
  } else {
    throw new TaskLoadError(
      tomlPath,
      "environment",
      'no environment: add environment/Dockerfile, [environment] docker_image, or [environment.rli] sandbox = "host"',
    );
  }

  const envNetwork: NetworkMode =
    env.network_mode ?? (env.allow_internet === false ? "no-network" : "public");
  return {
    id,
    name: toml.task?.name ?? id,
    dir: root,
    instruction,
    environment,
    agent: {
      timeoutSec: toml.agent?.timeout_sec ?? null,
      network: toml.agent?.network_mode ?? envNetwork,
    },
    verifier: {
      timeoutSec: toml.verifier?.timeout_sec ?? DEFAULT_VERIFIER_TIMEOUT_SEC,
      // The verifier gets no network unless the task asks for it explicitly.
      network: toml.verifier?.network_mode ?? "no-network",
      env: toml.verifier?.env ?? {},
    },
    solution: { dir: solutionDir, env: toml.solution?.env ?? {} },
    buildTimeoutSec: env.build_timeout_sec ?? DEFAULT_BUILD_TIMEOUT_SEC,
    resources: {
      cpus: env.cpus ?? null,
      memoryMb: env.memory_mb ?? null,
      storageMb: env.storage_mb ?? null,
    },
    testsDir,
    metadata: toml.metadata ?? {},
    digest: await digestDir(root),
  };
}

/**
 * Content digest of a directory: sorted relative paths with file bytes and symlink targets.
 * Refuses symlinks that point outside the directory.
 */
export async function digestDir(dir: string): Promise<string> {
  const root = resolve(dir);
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const rel = relative(root, full);
      if (entry.isSymbolicLink()) {
        const target = await readlink(full);
        const resolved = resolve(dir, target);
        if (resolved !== root && !resolved.startsWith(root + sep)) {
          throw new TaskLoadError(
            full,
            "(symlink)",
            `points outside the task directory (${target})`,
          );
        }
        hash.update(`L\0${rel}\0${target}\0`);
      } else if (entry.isDirectory()) {
        hash.update(`D\0${rel}\0`);
        await walk(full);
      } else if (entry.isFile()) {
        const st = await lstat(full);
        hash.update(`F\0${rel}\0${st.mode & 0o111 ? "x" : "-"}\0${st.size}\0`);
        hash.update(await readFile(full));
      }
    }
  };
  await walk(root);
  return `sha256:${hash.digest("hex")}`;
}
