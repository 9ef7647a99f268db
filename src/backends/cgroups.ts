import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The most processes one trial may have at once: a fork bomb stops here, not at the host's limit. */
export const TRIAL_PIDS_MAX = 1024;

const ROOT = "/sys/fs/cgroup";

export interface TrialLimits {
  pidsMax: number;
  /** null: no memory limit. */
  memoryBytes: number | null;
}

/** One trial's cgroups: `wrap` makes a command start inside them; `remove` kills what is left. */
export interface TrialCgroup {
  wrap(argv: readonly string[]): string[];
  remove(): Promise<void>;
}

/** This process's cgroup (v1) under a controller, from /proc/self/cgroup; null when not mounted. */
function ownPath(controller: string): string | null {
  try {
    for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
      const [, controllers, path] = line.split(":");
      if (controllers?.split(",").includes(controller) && path !== undefined) {
        const dir = join(ROOT, controller, path);
        return existsSync(join(dir, "cgroup.procs")) ? dir : null;
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

/**
 * Per-trial cgroups (v1 pids and memory controllers) under this process's own, made and removed by the
 * runner (root, or a delegated hierarchy). `detect` returns null where the machine has none to give
 * (cgroup v2 only, or read-only): the sandbox then runs without these limits and `run` says so.
 */
export class Cgroups {
  private constructor(
    private readonly pidsBase: string,
    private readonly memoryBase: string | null,
  ) {}

  static async detect(): Promise<Cgroups | null> {
    const pids = ownPath("pids");
    if (pids === null) return null;
    const memory = ownPath("memory");
    const base = (dir: string) => join(dir, `rli-${process.pid}`);
    try {
      await mkdir(base(pids), { recursive: true });
      if (memory !== null) await mkdir(base(memory), { recursive: true }).catch(() => {});
    } catch {
      return null;
    }
    const memoryBase = memory !== null && existsSync(base(memory)) ? base(memory) : null;
    return new Cgroups(base(pids), memoryBase);
  }

  /** Whether a memory limit can be applied as well as the process limit. */
  get hasMemory(): boolean {
    return this.memoryBase !== null;
  }

  async create(name: string, limits: TrialLimits): Promise<TrialCgroup> {
    const dirs: string[] = [];
    const pids = join(this.pidsBase, name);
    await mkdir(pids, { recursive: true });
    dirs.push(pids);
    await writeFile(join(pids, "pids.max"), String(limits.pidsMax));
    if (this.memoryBase !== null && limits.memoryBytes !== null) {
      const memory = join(this.memoryBase, name);
      await mkdir(memory, { recursive: true });
      dirs.push(memory);
      await writeFile(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
    }
    const procs = dirs.map((d) => join(d, "cgroup.procs"));
    return {
      // The shell joins the cgroups itself, then becomes the command: nothing runs outside them.
      wrap: (argv) => [
        "/bin/sh",
        "-c",
        'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
        "sh",
        ...procs,
        "--",
        ...argv,
      ],
      remove: async () => {
        for (const dir of dirs) await killAll(dir);
        for (const dir of dirs) await rmdirWhenEmpty(dir);
        await rmdir(this.pidsBase).catch(() => {});
        if (this.memoryBase !== null) await rmdir(this.memoryBase).catch(() => {});
      },
    };
  }
}

/** SIGKILL every process in a cgroup until none is left (a fork bomb may still be forking). */
async function killAll(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    const pids = text.split("\n").filter((l) => l !== "");
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rmdirWhenEmpty(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      // EBUSY: the killed processes are not reaped yet.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
