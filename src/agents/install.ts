import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../backends/process.js";
import { safeSegment } from "../core/ids.js";
import { AgentSetupError } from "./types.js";

/** An agent CLI published on npm, pinned to one version. */
export interface NpmPackage {
  name: string;
  version: string;
}

/**
 * Where agent installs are cached: $RLI_AGENT_CACHE, else $XDG_CACHE_HOME/rli/agents, else
 * ~/.cache/rli/agents. One directory per package and version, shared by every job on the machine.
 */
export function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RLI_AGENT_CACHE) return env.RLI_AGENT_CACHE;
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "rli", "agents");
}

/** The cache directory of one package version: `<cache>/<name>@<version>` with `/` made safe. */
export function installDir(cacheDir: string, pkg: NpmPackage): string {
  return join(cacheDir, `${safeSegment(pkg.name)}@${safeSegment(pkg.version)}`);
}

/** Written last into a finished install: an install without it is incomplete and never used. */
const MARKER = ".rli-installed.json";

async function isInstalled(dir: string, pkg: NpmPackage): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), "utf8")) as NpmPackage;
    return marker.name === pkg.name && marker.version === pkg.version;
  } catch {
    return false;
  }
}

export interface InstallOptions {
  cacheDir: string;
  /** The npm executable (default: `npm` on PATH). */
  npm?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The line of npm's output that says why it failed (not the "complete log" pointer). */
export function npmReason(log: string): string {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const errors = lines.filter(
    (l) =>
      /^npm (error|ERR!)/.test(l) &&
      !/complete log of this run|^npm (error|ERR!) (code|errno|syscall|file|path|dest)\b/.test(l),
  );
  return (errors[0] ?? lines.at(-1) ?? "").replace(/^npm (error|ERR!)\s*/, "");
}

/** In-flight and finished installs of this process: concurrent trials share one install. */
const inFlight = new Map<string, Promise<InstallResult>>();

export interface InstallResult {
  dir: string;
  /** false when the cache already held this version. */
  installed: boolean;
  durationMs: number;
}

/**
 * Install `pkg` into the cache once per machine and version. The install goes to a private temporary
 * directory that is renamed into place when complete, so concurrent installers (other jobs) never see
 * half an install; the loser of a race discards its copy. Trials of this process share one promise.
 */
export function ensureInstalled(pkg: NpmPackage, opts: InstallOptions): Promise<InstallResult> {
  const dir = installDir(opts.cacheDir, pkg);
  let pending = inFlight.get(dir);
  if (pending === undefined) {
    pending = install(pkg, dir, opts);
    inFlight.set(dir, pending);
    // A failed install may be retried by a later trial.
    pending.catch(() => inFlight.delete(dir));
  }
  return pending;
}

async function install(pkg: NpmPackage, dir: string, opts: InstallOptions): Promise<InstallResult> {
  const started = performance.now();
  if (await isInstalled(dir, pkg)) {
    return { dir, installed: false, durationMs: performance.now() - started };
  }
  await mkdir(opts.cacheDir, { recursive: true, mode: 0o755 });
  const tmp = `${dir}.tmp-${randomBytes(4).toString("hex")}`;
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  try {
    const logFile = join(tmp, ".npm-install.log");
    const result = await runProcess(
      [
        opts.npm ?? "npm",
        "install",
        "--prefix",
        tmp,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        `${pkg.name}@${pkg.version}`,
      ],
      {
        env: { ...(opts.env ?? process.env), npm_config_update_notifier: "false" },
        timeoutMs: opts.timeoutMs ?? 600_000,
        graceMs: 5000,
        ...(opts.signal ? { signal: opts.signal } : {}),
        stdoutFile: logFile,
        stderrFile: logFile,
      },
    );
    if (result.exitCode !== 0) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      const last = npmReason(log);
      const why = result.timedOut
        ? "timed out"
        : result.cancelled
          ? "was cancelled"
          : `exited with ${result.exitCode ?? result.signal}`;
      throw new AgentSetupError(
        `npm install ${pkg.name}@${pkg.version} ${why}${last ? `: ${last}` : ""}`,
      );
    }
    await writeFile(join(tmp, MARKER), `${JSON.stringify(pkg)}\n`);
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another process finished first: use its install, drop ours.
      if (!(await isInstalled(dir, pkg))) {
        if ((await stat(dir).catch(() => null)) === null) throw err;
        // A stale incomplete directory is in the way: replace it.
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir, installed: true, durationMs: performance.now() - started };
}
