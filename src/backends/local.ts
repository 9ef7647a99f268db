import { accessSync, constants, lstatSync, readlinkSync } from "node:fs";
import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { delimiter, dirname, join, posix } from "node:path";
import type { Task } from "../benchmarks/task.js";
import { EnvironmentError } from "../core/errors.js";
import { Cgroups, TRIAL_PIDS_MAX, type TrialCgroup } from "./cgroups.js";
import { runProcess } from "./process.js";
import {
  type Backend,
  type ExecRequest,
  type ExecResult,
  type ProvisionRequest,
  type Sandbox,
  SandboxError,
} from "./types.js";

export type SandboxMode = "bubblewrap" | "none";

/** Host system directories mirrored read-only into every sandbox. */
const SYSTEM_DIRS = ["/usr", "/etc", "/opt"];
/** Top-level names that are symlinks into /usr on merged-/usr systems, directories elsewhere. */
const ROOT_LINKS = ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];
const LOGS = "/logs";
/** The sandbox user's home: one writable directory per trial that lives as long as the sandbox. */
export const HOME = "/root";

export const BWRAP_INSTALL_HINT =
  "bubblewrap (bwrap) is not installed: install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) or pass --sandbox none to run unconfined";

/** Find an executable on PATH, or null. */
export function which(name: string, path = process.env.PATH ?? ""): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

export interface Mount {
  host: string;
  sandbox: string;
  writable: boolean;
}

export interface BwrapPlan {
  mounts: Mount[];
  network: boolean;
  cwd: string;
  argv: string[];
}

/** The bubblewrap command line for one exec. Pure: the host layout is passed in. */
export function bwrapArgs(plan: BwrapPlan, rootLinks: Record<string, string | "dir">): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) args.push("--ro-bind-try", dir, dir);
  for (const [name, kind] of Object.entries(rootLinks)) {
    if (kind === "dir") args.push("--ro-bind", name, name);
    else args.push("--symlink", kind, name);
  }
  args.push("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run");
  for (const m of plan.mounts) args.push(m.writable ? "--bind" : "--ro-bind", m.host, m.sandbox);
  args.push("--unshare-all");
  if (plan.network) args.push("--share-net");
  args.push(
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--cap-drop",
    "ALL",
    "--chdir",
    plan.cwd,
    "--",
    ...plan.argv,
  );
  return args;
}

function hostRootLinks(): Record<string, string | "dir"> {
  const links: Record<string, string | "dir"> = {};
  for (const name of ROOT_LINKS) {
    try {
      const st = lstatSync(name);
      if (st.isSymbolicLink()) links[name] = readlinkSync(name);
      else if (st.isDirectory()) links[name] = "dir";
    } catch {
      // absent on this host
    }
  }
  return links;
}

/**
 * Runs host-image tasks (`[environment.rli] sandbox = "host"`) on this machine. In `bubblewrap` mode each
 * exec is a fresh bwrap with read-only system directories, a writable workspace and /logs, private /tmp,
 * /proc and network, and no capabilities. In `none` mode commands run unconfined in a private mount
 * namespace (root only), which is how the task's absolute paths (/app, /logs, …) exist.
 */
export class LocalBackend implements Backend {
  readonly name = "local";
  private readonly launcher: string;
  private readonly rootLinks = hostRootLinks();
  /** Per-trial cgroups (process and memory limits), asked for once; null where the machine has none. */
  private cgroups: Promise<Cgroups | null> | null = null;

  private trialCgroups(): Promise<Cgroups | null> {
    this.cgroups ??= Cgroups.detect();
    return this.cgroups;
  }

  async warnings(tasks: readonly Task[]): Promise<string[]> {
    if (tasks.length === 0) return [];
    const cg = await this.trialCgroups();
    if (cg === null) {
      return [
        `no cgroups for rli on this machine (cgroup v1 pids controller, writable): a trial's processes are not limited to ${TRIAL_PIDS_MAX}, and memory_mb is not enforced`,
      ];
    }
    const capped = tasks.filter((t) => t.resources?.memoryMb);
    if (!cg.hasMemory && capped.length > 0) {
      return [`memory_mb of ${capped[0]?.id} is not enforced: no memory cgroup for rli here`];
    }
    return [];
  }

  constructor(readonly mode: SandboxMode) {
    if (mode === "bubblewrap") {
      const bwrap = which("bwrap");
      if (bwrap === null) throw new EnvironmentError(BWRAP_INSTALL_HINT);
      this.launcher = bwrap;
    } else {
      const unshare = which("unshare");
      if (unshare === null || process.getuid?.() !== 0) {
        throw new EnvironmentError(
          "--sandbox none needs root and util-linux unshare (it maps the task's paths in a private mount namespace); install bubblewrap instead",
        );
      }
      this.launcher = unshare;
    }
  }

  unsupportedReason(task: Task): string | null {
    if (task.runloop !== undefined) {
      return `scenario ${task.id} is hosted on Runloop; run it with --backend runloop, or as a server-side job`;
    }
    if (task.environment.kind === "host") return null;
    const what = task.environment.dockerfile
      ? "environment/Dockerfile"
      : `image ${task.environment.dockerImage ?? ""}`;
    return `scenario ${task.id} needs a container image (${what}); the local backend runs only tasks with [environment.rli] sandbox = "host" (run it with the default routing, --backend docker, or --backend runloop)`;
  }

  async provision(req: ProvisionRequest): Promise<Sandbox> {
    const reason = this.unsupportedReason(req.task);
    if (reason !== null) throw new SandboxError(reason, { retryable: false });
    const workspace = join(req.scratchDir, "workspace");
    try {
      await mkdir(workspace, { recursive: true, mode: 0o700 });
      await mkdir(join(req.scratchDir, "home"), { recursive: true, mode: 0o700 });
      for (const sub of ["agent", "verifier", "artifacts"]) {
        await mkdir(join(req.logsDir, sub), { recursive: true, mode: 0o700 });
      }
      const seed = join(req.task.dir, "environment", "workspace");
      if (await isDir(seed)) {
        await cp(seed, workspace, {
          recursive: true,
          preserveTimestamps: true,
          verbatimSymlinks: true,
        });
      }
    } catch (err) {
      throw new SandboxError(`cannot prepare the sandbox: ${(err as Error).message}`);
    }
    let cgroup: TrialCgroup | null = null;
    const cgroups = await this.trialCgroups();
    if (cgroups !== null) {
      const memoryMb = req.task.resources?.memoryMb ?? null;
      try {
        cgroup = await cgroups.create(req.trialId.replace(/[^A-Za-z0-9_.-]/g, "_"), {
          pidsMax: TRIAL_PIDS_MAX,
          memoryBytes: memoryMb === null ? null : memoryMb * 1024 * 1024,
        });
      } catch (err) {
        throw new SandboxError(`cannot make the trial's cgroup: ${(err as Error).message}`);
      }
    }
    return new LocalSandbox(this, req, workspace, cgroup);
  }

  /** argv that runs `plan.argv` under this backend's confinement. */
  launch(plan: BwrapPlan): string[] {
    if (this.mode === "bubblewrap") return [this.launcher, ...bwrapArgs(plan, this.rootLinks)];
    // unshare: bind each mount over its path (creating empty mount points) in a private namespace.
    const script = [
      "set -e",
      'while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do mkdir -p "$2"; mount --bind "$1" "$2"; [ "$3" = ro ] && mount -o remount,bind,ro "$2"; shift 3; done',
      'shift; cd "$RLI_CWD"; unset RLI_CWD; exec "$@"',
    ].join("\n");
    const mountArgs = plan.mounts.flatMap((m) => [m.host, m.sandbox, m.writable ? "rw" : "ro"]);
    return [
      this.launcher,
      "--mount",
      "--propagation",
      "private",
      "--fork",
      "/bin/sh",
      "-c",
      script,
      "sh",
      ...mountArgs,
      "--",
      ...plan.argv,
    ];
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

class LocalSandbox implements Sandbox {
  readonly workdir: string;
  private readonly extraMounts: Mount[] = [];
  private readonly running = new Map<AbortController, Promise<unknown>>();
  private tornDown = false;

  constructor(
    private readonly backend: LocalBackend,
    private readonly req: ProvisionRequest,
    private readonly workspace: string,
    private readonly cgroup: TrialCgroup | null,
  ) {
    this.workdir = req.task.environment.workdir;
  }

  private hostPath(sandboxPath: string): string | null {
    const p = posix.normalize(sandboxPath);
    const under = (root: string): string | null =>
      p === root ? "" : p.startsWith(`${root}/`) ? p.slice(root.length + 1) : null;
    const inLogs = under(LOGS);
    if (inLogs !== null) return join(this.req.logsDir, inLogs);
    const inWork = under(this.workdir);
    if (inWork !== null) return join(this.workspace, inWork);
    const inHome = under(HOME);
    if (inHome !== null) return join(this.req.scratchDir, "home", inHome);
    return null;
  }

  private logFile(sandboxPath: string | undefined): string | undefined {
    if (sandboxPath === undefined) return undefined;
    const host = this.hostPath(sandboxPath);
    if (host === null || !posix.normalize(sandboxPath).startsWith(`${LOGS}/`)) {
      throw new SandboxError(`output path must be under ${LOGS}: ${sandboxPath}`);
    }
    return host;
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    if (this.tornDown) throw new SandboxError("sandbox already torn down");
    const mounts: Mount[] = [
      { host: this.workspace, sandbox: this.workdir, writable: true },
      { host: this.req.logsDir, sandbox: LOGS, writable: true },
      { host: join(this.req.scratchDir, "home"), sandbox: HOME, writable: true },
      ...this.extraMounts,
    ];
    const cwd = req.cwd ?? this.workdir;
    const launched = this.backend.launch({ mounts, network: req.network, cwd, argv: req.argv });
    const argv = this.cgroup === null ? launched : this.cgroup.wrap(launched);
    const env = this.backend.mode === "none" ? { ...req.env, RLI_CWD: cwd } : req.env;
    const stdoutFile = this.logFile(req.stdoutPath);
    const stderrFile = this.logFile(req.stderrPath);
    const local = new AbortController();
    const onAbort = (): void => local.abort();
    req.signal?.addEventListener("abort", onAbort, { once: true });
    if (req.signal?.aborted) local.abort();
    const run = runProcess(argv, {
      env,
      timeoutMs: req.timeoutMs,
      graceMs: req.graceMs,
      signal: local.signal,
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      ...(stdoutFile !== undefined ? { stdoutFile } : {}),
      ...(stderrFile !== undefined ? { stderrFile } : {}),
    });
    this.running.set(local, run);
    try {
      return await run;
    } finally {
      this.running.delete(local);
      req.signal?.removeEventListener("abort", onAbort);
    }
  }

  async upload(hostDir: string, sandboxPath: string): Promise<void> {
    if (!posix.isAbsolute(sandboxPath))
      throw new SandboxError(`not an absolute path: ${sandboxPath}`);
    if (!(await isDir(hostDir))) throw new SandboxError(`not a directory: ${hostDir}`);
    this.extraMounts.push({ host: hostDir, sandbox: sandboxPath, writable: false });
  }

  async writeFile(sandboxPath: string, content: string, mode = 0o600): Promise<void> {
    const host = this.hostPath(sandboxPath);
    if (host === null || posix.normalize(sandboxPath) === HOME) {
      throw new SandboxError(
        `can write only under ${HOME}, ${this.workdir} and ${LOGS}: ${sandboxPath}`,
      );
    }
    try {
      await mkdir(dirname(host), { recursive: true, mode: 0o700 });
      await writeFile(host, content, { mode });
    } catch (err) {
      throw new SandboxError(`cannot write ${sandboxPath}: ${(err as Error).message}`);
    }
  }

  async clearDir(sandboxPath: string): Promise<void> {
    const host = this.logFile(sandboxPath);
    if (host === undefined) return;
    await rm(host, { recursive: true, force: true });
    await mkdir(host, { recursive: true, mode: 0o700 });
  }

  async readFile(sandboxPath: string): Promise<string | null> {
    const host = this.hostPath(sandboxPath);
    if (host === null)
      throw new SandboxError(
        `cannot read outside ${this.workdir}, ${HOME} and ${LOGS}: ${sandboxPath}`,
      );
    try {
      return await readFile(host, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new SandboxError(`cannot read ${sandboxPath}: ${(err as Error).message}`);
    }
  }

  async teardown(): Promise<void> {
    this.tornDown = true;
    for (const c of this.running.keys()) c.abort();
    await Promise.allSettled(this.running.values());
    // Whatever escaped the process groups (a daemonized child, a fork bomb's last forks) ends here.
    await this.cgroup?.remove();
    await rm(this.req.scratchDir, { recursive: true, force: true });
  }
}
