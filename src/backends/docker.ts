import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import type Dockerode from "dockerode";
import * as tar from "tar";
import type { Task } from "../benchmarks/task.js";
import { EnvironmentError, errorMessage } from "../core/errors.js";
import { cancelledResult, execResultOf, execScript, parseExecReport } from "./exec-script.js";
import { npmInstallIn } from "./npm-in-sandbox.js";
import {
  type Backend,
  type ExecRequest,
  type ExecResult,
  type ProvisionRequest,
  type Sandbox,
  SandboxError,
} from "./types.js";

const LOGS = "/logs";
/** Where rli keeps each exec's script and stdin inside a container. */
const RLI_DIR = "/tmp/rli";
/** Labels every rli container carries, so leftovers can be found and removed. */
export const LABEL_JOB = "rli.job_id";
export const LABEL_TRIAL = "rli.trial_id";

export const DOCKER_HINT =
  "no Docker engine answers (install docker.io and start dockerd, or run scripts/setup-docker.sh as root), or run image tasks with --backend runloop";

export interface DockerBackendOptions {
  docker: Dockerode;
  /** The host directory of installed agents; mounted read-only so agents run without a copy. */
  agentCacheDir?: string;
}

/** A task environment's content digest: the Dockerfile and every file of its build context. */
export async function contextDigest(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const e of entries) {
      const full = join(d, e.name);
      hash.update(`${relative(dir, full)}\0`);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) hash.update(await readFile(full));
      hash.update("\0");
    }
  };
  await walk(dir);
  return hash.digest("hex");
}

/** The image tag a task's environment builds to: the same context always maps to the same image. */
export function imageTag(digest: string): string {
  return `rli-task:${digest.slice(0, 24)}`;
}

/**
 * Runs image tasks in Docker containers through the Engine API (dockerode). Each task's
 * environment/Dockerfile is built once per content digest and shared by every trial (the build log goes
 * to the trial's logs on failure); a docker_image must be present locally. One container per trial,
 * labelled with its job and trial, kept alive by `sleep infinity`, with /logs bound to the trial's logs
 * directory and the agent cache read-only at /rli/cache. Every exec runs a generated script (environment
 * in the script, stdin from a file, a coreutils deadline); the container's network is connected only for
 * execs that ask for it. Teardown force-removes the container and its volumes.
 */
export class DockerBackend implements Backend {
  readonly name = "docker";
  private readonly images = new Map<string, Promise<string>>();
  /** Per image: its C library is musl (agents are then installed inside). */
  private readonly musl = new Map<string, Promise<boolean>>();
  /** Per build context directory: its content digest (hashing a large context once, not per trial). */
  private readonly digests = new Map<string, Promise<string>>();

  constructor(readonly options: DockerBackendOptions) {}

  /** Whether the daemon can cap a container's disk (asked once). */
  private quotas: Promise<boolean> | null = null;

  private storageQuotas(): Promise<boolean> {
    this.quotas ??= this.options.docker
      .info()
      .then((info: Parameters<typeof storageQuotaSupported>[0]) => storageQuotaSupported(info))
      .catch(() => false);
    return this.quotas;
  }

  async warnings(tasks: readonly Task[]): Promise<string[]> {
    const capped = tasks.filter((t) => t.resources?.storageMb);
    if (capped.length === 0 || (await this.storageQuotas())) return [];
    const info = (await this.options.docker.info().catch(() => ({}))) as {
      Driver?: string;
      DriverStatus?: [string, string][];
    };
    const backing = info.DriverStatus?.find(([k]) => k === "Backing Filesystem")?.[1];
    const driver = `${info.Driver ?? "unknown"}${backing ? ` on ${backing}` : ""}`;
    const more = capped.length > 1 ? ` and ${capped.length - 1} more` : "";
    return [
      `storage_mb of ${capped[0]?.id}${more} is not enforced: Docker's storage driver (${driver}) has no per-container disk quota (overlay2 needs xfs with pquota); cpus and memory_mb are`,
    ];
  }

  /** Rejects with a one-line EnvironmentError when no daemon answers. */
  static async connect(options: Omit<DockerBackendOptions, "docker">): Promise<DockerBackend> {
    const { default: Docker } = await import("dockerode");
    const docker = new Docker();
    try {
      await docker.ping();
    } catch (err) {
      throw new EnvironmentError(`${DOCKER_HINT} (${errorMessage(err).split("\n")[0]})`);
    }
    return new DockerBackend({ docker, ...options });
  }

  unsupportedReason(task: Task): string | null {
    if (task.runloop !== undefined) {
      return `scenario ${task.id} is hosted on Runloop; run it with --backend runloop`;
    }
    if (task.environment.kind === "host") {
      return `scenario ${task.id} declares [environment.rli] sandbox = "host"; run it with --backend local`;
    }
    return null;
  }

  async provision(req: ProvisionRequest): Promise<Sandbox> {
    const reason = this.unsupportedReason(req.task);
    if (reason !== null) throw new SandboxError(reason, { retryable: false });
    const image = await this.imageFor(req);
    const { docker } = this.options;
    const workdir = await this.workdirOf(req.task, image);
    await mkdir(req.logsDir, { recursive: true, mode: 0o700 });
    for (const sub of ["agent", "verifier", "artifacts"]) {
      await mkdir(join(req.logsDir, sub), { recursive: true, mode: 0o700 });
    }
    const binds = [`${req.logsDir}:${LOGS}`, `${hostNode()}:${NODE_IN_CONTAINER}:ro`];
    if (this.options.agentCacheDir !== undefined) {
      await mkdir(this.options.agentCacheDir, { recursive: true });
      binds.push(`${this.options.agentCacheDir}:/rli/cache:ro`);
    }
    let container: Dockerode.Container;
    try {
      container = await docker.createContainer({
        Image: image,
        name: `rli-${req.trialId}`.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 120),
        Entrypoint: ["sleep", "infinity"],
        Cmd: [],
        WorkingDir: workdir,
        Labels: { [LABEL_JOB]: req.jobId, [LABEL_TRIAL]: req.trialId },
        HostConfig: {
          Binds: binds,
          NetworkMode: "bridge",
          Init: true,
          ...limits(req.task, await this.storageQuotas()),
        },
      });
    } catch (err) {
      const message = errorMessage(err);
      throw new SandboxError(
        `cannot create a container from ${image}: ${message}${isDiskFull(message) ? ` (the disk under ${await this.dataRoot()} is full: free space with docker system prune or rli bmj cleanup)` : ""}`,
      );
    }
    const sandbox = new DockerSandbox(this, container, req, workdir);
    try {
      await container.start();
      // The workdir may not exist in the image; the workspace seed is copied in.
      // Docker creates the working directory at start; the image's libc is asked once per image.
      let musl = this.musl.get(image);
      if (musl === undefined) {
        musl = sandbox.isMusl();
        this.musl.set(image, musl);
      }
      if (await musl) sandbox.installInside();
      const seed = join(req.task.dir, "environment", "workspace");
      if (await isDir(seed)) await sandbox.upload(seed, workdir, false);
    } catch (err) {
      await sandbox.teardown().catch(() => {});
      throw err instanceof SandboxError
        ? err
        : new SandboxError(`container for ${req.trialId} did not start: ${errorMessage(err)}`);
    }
    return sandbox;
  }

  /** task.toml's workdir when it names one, else the image's WORKDIR, else the default (/app). */
  private async workdirOf(task: Task, image: string): Promise<string> {
    const env = task.environment;
    if (env.kind === "image" && env.workdirSet !== true) {
      const info = await this.options.docker
        .getImage(image)
        .inspect()
        .catch(() => null);
      const fromImage = info?.Config?.WorkingDir;
      if (fromImage) return fromImage;
    }
    return env.workdir;
  }

  /** The task's image: its docker_image (present locally), or its Dockerfile built once per digest. */
  private async imageFor(req: ProvisionRequest): Promise<string> {
    const env = req.task.environment;
    if (env.kind !== "image") throw new SandboxError(`scenario ${req.task.id} has no image`);
    const { docker } = this.options;
    if (env.dockerfile === null) {
      const name = env.dockerImage ?? "";
      try {
        await docker.getImage(name).inspect();
      } catch {
        throw new SandboxError(
          `image ${name} is not present locally and no registry is reachable to pull it: load it with docker load or build it, or give the task an environment/Dockerfile`,
          { retryable: false },
        );
      }
      return name;
    }
    const contextDir = join(req.task.dir, "environment");
    let digest = this.digests.get(contextDir);
    if (digest === undefined) {
      digest = contextDigest(contextDir);
      this.digests.set(contextDir, digest);
    }
    const tag = imageTag(await digest);
    let pending = this.images.get(tag);
    if (pending === undefined) {
      pending = this.build(contextDir, tag);
      this.images.set(tag, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof BuildError) {
        await writeFile(join(req.logsDir, "build.log"), err.log).catch(() => {});
        // The failed build is remembered for the job: running the trial again would fail the same way.
        const why = isDiskFull(`${err.message}\n${err.log}`)
          ? `the disk is full (no space left on device; Docker keeps images under ${await this.dataRoot()}): free space (docker system prune, rli bmj cleanup) and run the job again`
          : err.message;
        throw new SandboxError(
          `the image of ${req.task.id} failed to build: ${why} (build log: logs/build.log)`,
          { retryable: false },
        );
      }
      throw err;
    }
  }

  /** Where the daemon keeps images and containers (for messages about a full disk). */
  private async dataRoot(): Promise<string> {
    const info = (await this.options.docker.info().catch(() => null)) as {
      DockerRootDir?: string;
    } | null;
    return info?.DockerRootDir ?? "its data root";
  }

  private async build(contextDir: string, tag: string): Promise<string> {
    const { docker } = this.options;
    try {
      await docker.getImage(tag).inspect();
      return tag;
    } catch {
      // not built yet
    }
    const entries = await readdir(contextDir);
    const stream = await docker.buildImage(
      { context: contextDir, src: entries },
      { t: tag, rm: true, forcerm: true },
    );
    const log: string[] = [];
    const failure = await new Promise<string | null>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
          if (err) return reject(err);
          const bad = output.find((o) => o.error !== undefined || o.errorDetail !== undefined);
          resolve(bad ? (bad.errorDetail?.message ?? bad.error ?? "build failed") : null);
        },
        (event: { stream?: string; error?: string }) => {
          if (event.stream) log.push(event.stream);
          if (event.error) log.push(`${event.error}\n`);
        },
      );
    });
    if (failure !== null)
      throw new BuildError(failure.trim().split("\n").at(-1) ?? failure, log.join(""));
    return tag;
  }
}

/** The real path of the node running rli (a symlink cannot be bind-mounted as itself). */
const hostNode = (() => {
  let path: string | null = null;
  return (): string => {
    path ??= realpathSync(process.execPath);
    return path;
  };
})();

/**
 * Whether the daemon can cap a container's writable layer (`--storage-opt size`): btrfs, zfs and
 * devicemapper can; overlay2 only on xfs (mounted with pquota, which the create then checks); vfs, and
 * overlay2 on anything else, cannot.
 */
export function storageQuotaSupported(info: {
  Driver?: string;
  DriverStatus?: [string, string][] | null;
}): boolean {
  const driver = info.Driver ?? "";
  if (["btrfs", "zfs", "devicemapper"].includes(driver)) return true;
  const backing = info.DriverStatus?.find(([k]) => k === "Backing Filesystem")?.[1];
  return driver === "overlay2" && backing === "xfs";
}

/** The task's cpus, memory_mb and (where the daemon has quotas) storage_mb as container limits. */
export function limits(
  task: Task,
  quotas = false,
): {
  NanoCpus?: number;
  Memory?: number;
  MemorySwap?: number;
  StorageOpt?: Record<string, string>;
} {
  const r = task.resources;
  return {
    ...(quotas && r?.storageMb ? { StorageOpt: { size: `${r.storageMb}M` } } : {}),
    ...(r?.cpus ? { NanoCpus: Math.round(r.cpus * 1e9) } : {}),
    ...(r?.memoryMb
      ? { Memory: r.memoryMb * 1024 * 1024, MemorySwap: r.memoryMb * 1024 * 1024 }
      : {}),
  };
}

/** The error or log says a write failed for want of space (ENOSPC, as the kernel and Docker word it). */
export function isDiskFull(text: string): boolean {
  return /no space left on device/i.test(text);
}

class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

/** Where the host's Node.js binary is mounted read-only (JavaScript agents run on it; glibc images). */
export const NODE_IN_CONTAINER = "/rli/node/bin/node";

class DockerSandbox implements Sandbox {
  readonly workdir: string;
  /** The host's node (mounted) on glibc images; on musl images the image's own, if it has one. */
  nodePath = NODE_IN_CONTAINER;
  private execs = 0;
  private tornDown = false;
  private connected = true;

  /**
   * Set for images whose C library is not the host's (musl: Alpine and the like): the host's agent
   * cache holds glibc binaries, so agents are npm-installed inside the container instead.
   */
  installPackage?: (
    pkg: { name: string; version: string },
    root: string,
    signal?: AbortSignal,
  ) => Promise<void>;

  constructor(
    private readonly backend: DockerBackend,
    private readonly container: Dockerode.Container,
    private readonly req: ProvisionRequest,
    workdir: string,
  ) {
    this.workdir = workdir;
  }

  /** Whether the image's C library is musl (the host's agent cache holds glibc binaries). */
  isMusl(): Promise<boolean> {
    return this.run(["sh", "-c", "ls /lib/ld-musl-* >/dev/null 2>&1"]).then(
      () => true,
      () => false,
    );
  }

  /** Agents are npm-installed inside this container (its image is musl; the host's cache is glibc). */
  installInside(): void {
    this.installPackage = (pkg, root, signal) => this.npmInstall(pkg, root, signal);
    this.nodePath = "/usr/bin/node";
  }

  private npmInstall(
    pkg: { name: string; version: string },
    root: string,
    signal?: AbortSignal,
  ): Promise<void> {
    return npmInstallIn(this, pkg, root, "in a musl container", {}, signal);
  }

  /** Runs argv in the container as root and waits; rejects with SandboxError on a non-zero exit. */
  async run(argv: string[]): Promise<void> {
    const exec = await this.container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const output = await drain(stream);
    const info = await exec.inspect();
    if (info.ExitCode !== 0) {
      throw new SandboxError(
        `${argv.join(" ")} exited with ${info.ExitCode}: ${output.trim().split("\n").at(-1) ?? ""}`,
      );
    }
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    if (this.tornDown) throw new SandboxError("sandbox already torn down");
    const started = performance.now();
    for (const p of [req.stdoutPath, req.stderrPath]) {
      if (p !== undefined && !posix.normalize(p).startsWith(`${LOGS}/`)) {
        throw new SandboxError(`output path must be under ${LOGS}: ${p}`);
      }
    }
    if (req.signal?.aborted) return cancelledResult(started);
    await this.setNetwork(req.network);
    const dir = `${RLI_DIR}/${++this.execs}`;
    const files: { path: string; content: string; mode: number }[] = [];
    if (req.stdin !== undefined)
      files.push({ path: `${dir}/stdin`, content: req.stdin, mode: 0o600 });
    files.push({
      path: `${dir}/run.sh`,
      mode: 0o700,
      content: execScript({
        argv: req.argv,
        cwd: req.cwd ?? this.workdir,
        env: req.env,
        timeoutMs: req.timeoutMs,
        graceMs: req.graceMs,
        stdinPath: req.stdin === undefined ? null : `${dir}/stdin`,
        stdoutPath: req.stdoutPath,
        stderrPath: req.stderrPath,
        prelude: [],
        inheritEnv: true,
      }),
    });
    await this.putFiles(files);
    let stream: NodeJS.ReadWriteStream;
    try {
      const exec = await this.container.exec({
        Cmd: ["sh", `${dir}/run.sh`],
        AttachStdout: true,
        AttachStderr: true,
      });
      stream = await exec.start({ hijack: true, stdin: false });
    } catch (err) {
      throw new SandboxError(
        `container ${this.container.id.slice(0, 12)}: exec failed: ${errorMessage(err)}`,
      );
    }
    // A cancel or a deadline that the in-container `timeout` did not enforce (a stuck container) ends the
    // wait; teardown then removes the container and everything running in it.
    const slackMs = req.timeoutMs === null ? null : req.timeoutMs + req.graceMs + 30_000;
    const outcome = await Promise.race([
      drain(stream).then((out) => ({ kind: "done" as const, out })),
      abortOf(req.signal).then(() => ({ kind: "cancelled" as const })),
      ...(slackMs === null ? [] : [delay(slackMs).then(() => ({ kind: "stuck" as const }))]),
    ]);
    if (outcome.kind === "cancelled") {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      return cancelledResult(started);
    }
    if (outcome.kind === "stuck") {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      return {
        exitCode: null,
        signal: "SIGKILL",
        timedOut: true,
        cancelled: false,
        durationMs: performance.now() - started,
      };
    }
    const report = parseExecReport(outcome.out);
    if (report === null) {
      // The exec stream can end before dockerd marks a killed container exited: give it a moment.
      await Promise.race([
        this.container.wait({ condition: "not-running" }).catch(() => {}),
        delay(2000),
      ]);
      const running = await this.container.inspect().then(
        (i) => i.State.Running,
        () => false,
      );
      throw new SandboxError(
        running
          ? `container ${this.container.id.slice(0, 12)}: the command wrapper did not finish: ${outcome.out.trim().split("\n").at(-1) ?? ""}`
          : `container ${this.container.id.slice(0, 12)} stopped while the command ran`,
      );
    }
    if (report.kind === "prelude")
      throw new SandboxError(`preparing the command failed: ${report.step}`);
    return execResultOf(report, req.timeoutMs, performance.now() - started);
  }

  /** Connects the container to the default bridge for execs that need network, disconnects otherwise. */
  private async setNetwork(wanted: boolean): Promise<void> {
    if (wanted === this.connected) return;
    const bridge = this.backend.options.docker.getNetwork("bridge");
    try {
      if (wanted) await bridge.connect({ Container: this.container.id });
      else await bridge.disconnect({ Container: this.container.id, Force: true });
      this.connected = wanted;
    } catch (err) {
      throw new SandboxError(
        `cannot ${wanted ? "connect" : "disconnect"} the network: ${errorMessage(err)}`,
      );
    }
  }

  /** Files into the container through one tar (putArchive at /), parents created, modes kept. */
  private async putFiles(files: { path: string; content: string; mode: number }[]): Promise<void> {
    const staging = join(this.req.scratchDir, `put-${this.execs}-${Date.now()}`);
    try {
      for (const f of files) {
        const target = join(staging, f.path);
        await mkdir(join(target, ".."), { recursive: true, mode: 0o755 });
        await writeFile(target, f.content, { mode: f.mode });
      }
      await this.container.putArchive(
        tar.c({ cwd: staging, portable: true }, ["."]) as unknown as NodeJS.ReadableStream,
        { path: "/" },
      );
    } catch (err) {
      throw new SandboxError(`cannot copy files into the container: ${errorMessage(err)}`);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async upload(hostDir: string, sandboxPath: string, readOnly = true): Promise<void> {
    if (!posix.isAbsolute(sandboxPath))
      throw new SandboxError(`not an absolute path: ${sandboxPath}`);
    if (!(await isDir(hostDir))) throw new SandboxError(`not a directory: ${hostDir}`);
    const cache = this.backend.options.agentCacheDir;
    if (cache !== undefined && hostDir.startsWith(`${cache}/`)) {
      // An installed agent: link to the read-only cache mount instead of copying hundreds of MB.
      const inCache = posix.join("/rli/cache", relative(cache, hostDir));
      await this.run([
        "sh",
        "-c",
        `mkdir -p "$(dirname "$1")" && rm -rf "$1" && ln -s "$2" "$1"`,
        "sh",
        sandboxPath,
        inCache,
      ]);
      return;
    }
    try {
      // One archive unpacked at /: the prefix puts it at sandboxPath (docker makes the parents), and a
      // read-only upload carries its modes in the headers (root-owned, no write bits): no extra execs.
      const archive = tar.c(
        {
          cwd: hostDir,
          prefix: posix.normalize(sandboxPath).slice(1),
          onWriteEntry: (entry) => {
            entry.portable = false;
            entry.noMtime = false;
            if (entry.stat) {
              entry.stat.uid = 0;
              entry.stat.gid = 0;
              if (readOnly) entry.stat.mode &= ~0o222;
            }
          },
        },
        ["."],
      );
      await this.container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/" });
    } catch (err) {
      throw err instanceof SandboxError
        ? err
        : new SandboxError(`cannot copy ${hostDir} to ${sandboxPath}: ${errorMessage(err)}`);
    }
  }

  async writeFile(sandboxPath: string, content: string, mode = 0o600): Promise<void> {
    if (!posix.isAbsolute(sandboxPath))
      throw new SandboxError(`not an absolute path: ${sandboxPath}`);
    await this.putFiles([{ path: posix.normalize(sandboxPath), content, mode }]);
  }

  async clearDir(sandboxPath: string): Promise<void> {
    const p = posix.normalize(sandboxPath);
    if (!p.startsWith(`${LOGS}/`))
      throw new SandboxError(`can clear only under ${LOGS}: ${sandboxPath}`);
    const host = join(this.req.logsDir, p.slice(LOGS.length + 1));
    await rm(host, { recursive: true, force: true });
    await mkdir(host, { recursive: true, mode: 0o700 });
  }

  async readFile(sandboxPath: string): Promise<string | null> {
    const p = posix.normalize(sandboxPath);
    if (p.startsWith(`${LOGS}/`)) {
      try {
        return await readFile(join(this.req.logsDir, p.slice(LOGS.length + 1)), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new SandboxError(`cannot read ${sandboxPath}: ${errorMessage(err)}`);
      }
    }
    let archive: NodeJS.ReadableStream;
    try {
      archive = await this.container.getArchive({ path: p });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw new SandboxError(`cannot read ${sandboxPath}: ${errorMessage(err)}`);
    }
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        onReadEntry: (entry) => {
          if (entry.type === "File" && chunks.length === 0) {
            entry.on("data", (c: Buffer) => chunks.push(c));
          } else entry.resume();
        },
      });
      parser.on("end", () => resolve());
      parser.on("error", reject);
      archive.on("error", reject);
      archive.pipe(parser as unknown as NodeJS.WritableStream);
    });
    return Buffer.concat(chunks).toString("utf8");
  }

  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    try {
      await this.container.remove({ force: true, v: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) {
        throw new SandboxError(
          `cannot remove container ${this.container.id.slice(0, 12)}: ${errorMessage(err)}`,
        );
      }
    } finally {
      await rm(this.req.scratchDir, { recursive: true, force: true });
    }
  }
}

/** Reads a hijacked exec stream (docker's multiplexed frames) to its end; returns stdout and stderr text. */
function drain(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      // Frames: [stream type, 0, 0, 0, size (4 bytes big-endian)] + payload.
      while (buffer.length >= 8) {
        const size = buffer.readUInt32BE(4);
        if (buffer.length < 8 + size) break;
        text += buffer.subarray(8, 8 + size).toString("utf8");
        buffer = buffer.subarray(8 + size);
      }
    });
    stream.on("end", () => resolve(text));
    stream.on("close", () => resolve(text));
    stream.on("error", reject);
  });
}

function abortOf(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
