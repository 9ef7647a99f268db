import { spawn } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync, readlinkSync } from "node:fs";
import { lstat, mkdir, readlink, symlink } from "node:fs/promises";
import { join } from "node:path";
import { Parser, type ReadEntry } from "tar";
import { which } from "../../../src/backends/local.js";
import { badRequest } from "./http.js";

/**
 * A devbox's filesystem is one host directory (`fs/`) bound read-write as the sandbox's `/`, with the
 * host's /usr, /etc and /opt (and the /bin, /lib* links) mounted read-only over it and fresh /dev,
 * /proc and /run. Every command is its own `bwrap` over that same root, so whatever one command writes
 * anywhere writable (/home/user, /tmp, /logs, new top-level directories such as /app or /testbed) the
 * next command sees. Processes do not outlive their command: bwrap's PID namespace ends with it.
 */

export const HOME = "/home/user";
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const SYSTEM_DIRS = ["/usr", "/etc", "/opt"];
const ROOT_LINKS = ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];
/** Mount points every command gets (bwrap needs them to exist under the writable root). */
const MOUNT_POINTS = ["/usr", "/etc", "/opt", "/dev", "/proc", "/run"];
/** Directories every devbox starts with. */
const INITIAL_DIRS = [HOME, "/root", "/tmp", "/logs"];
const MAX_SYMLINKS = 40;

export interface ExitInfo {
  /** The exit code, or 128 + the signal number when a signal ended the command. */
  exitStatus: number;
}

/** A running sandboxed command. */
export interface SandboxProcess {
  /** Host pid of the bwrap launcher, which leads the process group. */
  pid: number;
  done: Promise<ExitInfo>;
  /** SIGKILL to the whole group; bwrap's death ends the sandbox's PID namespace. */
  kill(): void;
}

export interface SpawnRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  network: boolean;
  /** Host files the command's stdout / stderr are appended to. */
  stdoutFile: string;
  stderrFile: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs commands in bubblewrap sandboxes rooted at a devbox's `fs/` directory. */
export class SandboxHost {
  private readonly rootLinks: Record<string, string | "dir"> = {};
  readonly shell: string;

  constructor(readonly bwrap: string) {
    for (const name of ROOT_LINKS) {
      try {
        const st = lstatSync(name);
        if (st.isSymbolicLink()) this.rootLinks[name] = readlinkSync(name);
        else if (st.isDirectory()) this.rootLinks[name] = "dir";
      } catch {
        // absent on this host
      }
    }
    this.shell = existsSync("/usr/bin/bash") || existsSync("/bin/bash") ? "bash" : "sh";
  }

  /** The bwrap on PATH, or null. */
  static find(): string | null {
    return which("bwrap");
  }

  /** Lay out a fresh root: the initial directories, the mount points and the /bin, /lib* links. */
  async prepare(fsDir: string): Promise<void> {
    await mkdir(fsDir, { recursive: true, mode: 0o755 });
    for (const dir of [...INITIAL_DIRS, ...MOUNT_POINTS]) {
      await mkdir(join(fsDir, dir), { recursive: true, mode: dir === "/tmp" ? 0o1777 : 0o755 });
    }
    for (const [name, kind] of Object.entries(this.rootLinks)) {
      if (kind === "dir") await mkdir(join(fsDir, name), { recursive: true });
      else await symlink(kind, join(fsDir, name));
    }
  }

  /** bwrap's argument list for one command. Pure. */
  args(fsDir: string, cwd: string, network: boolean, argv: string[]): string[] {
    const args = ["--bind", fsDir, "/"];
    for (const dir of SYSTEM_DIRS) args.push("--ro-bind-try", dir, dir);
    for (const [name, kind] of Object.entries(this.rootLinks)) {
      if (kind === "dir") args.push("--ro-bind", name, name);
    }
    args.push("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run", "--unshare-all");
    if (network) args.push("--share-net");
    args.push(
      "--hostname",
      "devbox",
      "--die-with-parent",
      "--cap-drop",
      "ALL",
      "--chdir",
      cwd,
      "--",
      ...argv,
    );
    return args;
  }

  spawn(fsDir: string, req: SpawnRequest): SandboxProcess {
    const fds: number[] = [];
    let child: ReturnType<typeof spawn>;
    try {
      fds.push(openSync(req.stdoutFile, "a", 0o600), openSync(req.stderrFile, "a", 0o600));
      child = spawn(this.bwrap, this.args(fsDir, req.cwd, req.network, req.argv), {
        env: req.env,
        detached: true,
        stdio: ["ignore", fds[0], fds[1]],
      });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    const pid = child.pid ?? -1;
    const killGroup = (): void => {
      if (pid <= 0) return;
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const done = new Promise<ExitInfo>((resolve) => {
      child.once("error", () => resolve({ exitStatus: 127 }));
      child.once("close", (code, signal) => {
        killGroup();
        resolve({ exitStatus: code ?? 128 + (SIGNALS[signal ?? ""] ?? 9) });
      });
    });
    return { pid, done, kill: killGroup };
  }

  /** Run argv in the sandbox without network and collect its output (file I/O, log collection). */
  run(
    fsDir: string,
    argv: string[],
    stdin?: Buffer,
  ): Promise<{ exitStatus: number; stdout: Buffer; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bwrap, this.args(fsDir, "/", false, argv), {
        env: { PATH: DEFAULT_PATH, LANG: "C.UTF-8" },
        stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on("data", (c: Buffer) => out.push(c));
      child.stderr?.on("data", (c: Buffer) => err.push(c));
      child.once("error", reject);
      child.once("close", (code, signal) =>
        resolve({
          exitStatus: code ?? 128 + (SIGNALS[signal ?? ""] ?? 9),
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
      if (stdin !== undefined && child.stdin) {
        child.stdin.on("error", () => {
          // the command may exit without reading
        });
        child.stdin.end(stdin);
      }
    });
  }

  /** The files and directories under /logs, read inside the sandbox (no host path is ever followed). */
  async collectLogs(fsDir: string): Promise<Array<{ path: string; data?: Buffer }>> {
    const tarred = await this.run(fsDir, [
      "sh",
      "-c",
      "if [ -d /logs ]; then exec tar -C /logs -cf - .; fi",
    ]);
    if (tarred.stdout.length === 0) return [];
    return await untar(tarred.stdout);
  }
}

function untar(archive: Buffer): Promise<Array<{ path: string; data?: Buffer }>> {
  return new Promise((resolve, reject) => {
    const entries: Array<{ path: string; data?: Buffer }> = [];
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        const path = entry.path.replace(/^\.\//, "").replace(/^\.$/, "");
        if (path === "" || entry.type !== "File") {
          if (path !== "" && entry.type === "Directory") entries.push({ path });
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        entry.on("end", () => entries.push({ path, data: Buffer.concat(chunks) }));
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolve(entries));
    parser.end(archive);
  });
}

/**
 * The absolute in-devbox path for an API path: relative paths start at /home/user. A `..` that would
 * climb above / is refused (400) rather than clamped, so traversal attempts are visible.
 */
export function devboxPath(path: string): string {
  if (path === "") throw badRequest("a file path is required");
  if (path.includes("\0")) throw badRequest("a file path must not contain NUL");
  const out: string[] = [];
  for (const seg of (path.startsWith("/") ? path : `${HOME}/${path}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) throw badRequest(`path ${path} escapes the devbox filesystem`);
      out.pop();
    } else out.push(seg);
  }
  return `/${out.join("/")}`;
}

export interface Resolved {
  /** Canonical in-devbox path: symlinks resolved as the devbox sees them. */
  path: string;
  kind: "file" | "dir" | "missing" | "other";
}

/**
 * Resolve `path` (from devboxPath) inside `fsDir` the way the devbox's kernel would, reading only
 * lstat/readlink under `fsDir`: absolute link targets restart at the devbox root, never the host's.
 * Refuses (400) paths that end on a read-only system mount (/usr, /etc, /opt, /dev, /proc, /run and the
 * root links), which are not part of the devbox's own filesystem.
 */
export async function resolveIn(fsDir: string, path: string): Promise<Resolved> {
  const queue = path.split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  let kind: Resolved["kind"] = "dir";
  let missing = false;
  while (queue.length > 0) {
    const seg = queue.shift()!;
    if (seg === ".") continue;
    if (kind !== "dir" && !missing) throw badRequest(`${path}: not a directory`);
    if (seg === "..") {
      done.pop();
      continue;
    }
    done.push(seg);
    if (missing) continue;
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(join(fsDir, ...done));
    } catch {
      missing = true;
      kind = "missing";
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw badRequest(`${path}: too many levels of symbolic links`);
      const target = await readlink(join(fsDir, ...done));
      done.pop();
      if (target.startsWith("/")) done.length = 0;
      queue.unshift(...target.split("/").filter(Boolean));
      kind = "dir";
      continue;
    }
    kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
  }
  const canonical = `/${done.join("/")}`;
  const mounted = [...MOUNT_POINTS, ...ROOT_LINKS].find(
    (m) => canonical === m || canonical.startsWith(`${m}/`),
  );
  if (mounted !== undefined) {
    throw badRequest(
      `${path} resolves to ${canonical}, on the read-only ${mounted} mount, which is outside the devbox's own filesystem`,
    );
  }
  return { path: canonical, kind };
}
