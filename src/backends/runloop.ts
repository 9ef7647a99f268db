import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { cp, lstat, mkdir, readFile as readHostFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as tar from "tar";
import type { Task } from "../benchmarks/task.js";
import { errorMessage } from "../core/errors.js";
import { extractTarGz } from "../core/untar.js";
import type { RunloopClient } from "../runloop/client.js";
import { isNotFound, RunloopApiError, RunloopPollTimeoutError } from "../runloop/errors.js";
import type { BlueprintView } from "../runloop/schemas.js";
import {
  cancelledResult,
  execResultOf,
  execScript,
  parseExecReport,
  shellQuote,
} from "./exec-script.js";
import { npmInstallIn } from "./npm-in-sandbox.js";
import {
  type Backend,
  type ExecRequest,
  type ExecResult,
  type ProvisionRequest,
  type Sandbox,
  SandboxError,
} from "./types.js";

/** Where rli keeps its per-exec bundles and scripts on a devbox. */
const RLI_DIR = "/tmp/rli";
const LOGS = "/logs";
/** The server holds an execute this long before answering "still running" (the API's maximum). */
const OPTIMISTIC_TIMEOUT_SEC = 25;
/** Beyond an exec's own deadline and grace, how long we wait for the devbox to report it ended. */
const EXEC_SLACK_MS = 60_000;
const MAX_KEEP_ALIVE_SEC = 172_800;

export interface RunloopBackendOptions {
  client: RunloopClient;
  /** Blueprint (id or name) every devbox starts from; default Runloop's default image. */
  blueprintId?: string;
  blueprintName?: string;
  /** Overall wait for a devbox to be running; default 10 minutes. */
  provisionTimeoutMs?: number;
  /** How often a blueprint build is polled; default 2 s. */
  buildPollMs?: number;
}

/**
 * Runs trials on Runloop devboxes, one per trial, through the API only: create and long-poll until
 * running, then every exec is one upload (a tar bundle of the files queued since the last exec plus a
 * generated script) and one execute, long-polled when it outlasts the optimistic wait. Writes, uploads and
 * directory clears are queued into the next bundle, so a starter trial costs about ten API calls. The
 * script holds the exec's environment (never the execute command line, which Runloop logs) and deletes
 * itself when it starts. Teardown brings /logs back as a tarball and shuts the devbox down on every path.
 */
export class RunloopBackend implements Backend {
  readonly name = "runloop";

  constructor(readonly options: RunloopBackendOptions) {}

  unsupportedReason(task: Task): string | null {
    const image = imageOf(task);
    if (image.kind === "error") return `scenario ${task.id}: ${image.reason}`;
    return null;
  }

  async provision(req: ProvisionRequest): Promise<Sandbox> {
    const reason = this.unsupportedReason(req.task);
    if (reason !== null) throw new SandboxError(reason, { retryable: false });
    const { client } = this.options;
    if (req.task.runloop !== undefined) {
      const { runId, devboxId } = await startScenarioRun(client, req, req.task.runloop.scenarioId);
      return this.started(new RunloopSandbox(client, devboxId, req, runId), req);
    }
    const image = imageOf(req.task);
    if (image.kind === "error") throw new SandboxError(image.reason, { retryable: false });
    const blueprint =
      image.kind === "dockerfile"
        ? { blueprint_id: await this.blueprintFor(image.dockerfile, req.signal) }
        : {
            ...(this.options.blueprintId ? { blueprint_id: this.options.blueprintId } : {}),
            ...(this.options.blueprintName ? { blueprint_name: this.options.blueprintName } : {}),
          };
    // Not aborted by the signal: a create cut off in flight may still make a devbox we could never shut
    // down. It is quick; a cancel is honoured right after it.
    let devboxId: string;
    try {
      const view = await client.devboxes.create({
        name: `rli-${req.trialId}`.slice(0, 100),
        ...blueprint,
        metadata: { rli_job_id: req.jobId, rli_trial_id: req.trialId, rli_scenario: req.task.id },
        launch_parameters: {
          keep_alive_time_seconds: keepAliveSec(req.task),
          ...devboxSize(req.task),
        },
      });
      devboxId = view.id;
    } catch (err) {
      throw new SandboxError(`cannot create a devbox: ${errorMessage(err)}`);
    }
    const env = req.task.environment;
    const workdir =
      image.kind === "dockerfile" && env.kind === "image" && env.workdirSet !== true
        ? (dockerfileWorkdir(image.dockerfile) ?? env.workdir)
        : env.workdir;
    return this.started(new RunloopSandbox(client, devboxId, req, undefined, workdir), req);
  }

  private readonly blueprints = new Map<string, Promise<string>>();

  /**
   * The blueprint built from `dockerfile`, named by its content digest, so every trial of a job (and
   * every later job) shares one build: an existing build_complete blueprint of that name is reused, one
   * still building is awaited, otherwise it is built once per process. A failed build fails every trial
   * that needs it, as an infrastructure error naming the reason.
   */
  private blueprintFor(dockerfile: string, signal?: AbortSignal): Promise<string> {
    const name = blueprintName(dockerfile);
    let pending = this.blueprints.get(name);
    if (pending === undefined) {
      pending = this.buildBlueprint(name, dockerfile);
      this.blueprints.set(name, pending);
    }
    return abortable(pending, signal);
  }

  private async buildBlueprint(name: string, dockerfile: string): Promise<string> {
    const { client } = this.options;
    try {
      let found: BlueprintView | undefined;
      for await (const b of client.blueprints.list({ name, limit: 50 })) {
        if (b.name !== name || b.status === "failed") continue;
        if (b.status === "build_complete") return b.id;
        found ??= b;
      }
      const view = found ?? (await client.blueprints.create({ name, dockerfile }));
      return (
        await client.blueprints.awaitBuilt(view.id, {
          intervalMs: this.options.buildPollMs ?? 2000,
        })
      ).id;
    } catch (err) {
      throw new SandboxError(
        `cannot build the task's image as blueprint ${name}: ${errorMessage(err)}`,
      );
    }
  }

  /** Waits until the sandbox's devbox runs and queues its preparation; on any failure tears it down. */
  private async started(sandbox: RunloopSandbox, req: ProvisionRequest): Promise<Sandbox> {
    try {
      if (req.signal?.aborted) throw new SandboxError("cancelled while the devbox was starting");
      await this.options.client.devboxes.awaitRunning(sandbox.devboxId, {
        timeoutMs: this.options.provisionTimeoutMs ?? 600_000,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      await sandbox.prepare();
    } catch (err) {
      await sandbox.teardown().catch(() => {});
      throw err instanceof SandboxError
        ? err
        : new SandboxError(`${sandbox.label} did not start: ${errorMessage(err)}`);
    }
    return sandbox;
  }
}

/** A Runloop-hosted scenario: start_run makes the devbox; Runloop's scorer scores it. */
async function startScenarioRun(
  client: RunloopClient,
  req: ProvisionRequest,
  scenarioId: string,
): Promise<{ runId: string; devboxId: string }> {
  try {
    const run = await client.scenarios.startRun({
      scenario_id: scenarioId,
      run_name: `rli-${req.trialId}`.slice(0, 100),
      metadata: { rli_job_id: req.jobId, rli_trial_id: req.trialId },
    });
    if (!run.devbox_id) throw new Error(`scenario run ${run.id} has no devbox`);
    return { runId: run.id, devboxId: run.devbox_id };
  } catch (err) {
    throw new SandboxError(`cannot start a run of scenario ${scenarioId}: ${errorMessage(err)}`);
  }
}

/** What a task's devbox starts from: Runloop's default image, or a Dockerfile to build as a blueprint. */
export function imageOf(
  task: Task,
):
  | { kind: "default" }
  | { kind: "dockerfile"; dockerfile: string }
  | { kind: "error"; reason: string } {
  const env = task.environment;
  if (env.kind === "host") return { kind: "default" };
  if (env.dockerfile !== null) {
    let text: string;
    try {
      text = readFileSync(env.dockerfile, "utf8");
    } catch (err) {
      return { kind: "error", reason: `cannot read ${env.dockerfile}: ${errorMessage(err)}` };
    }
    const context = buildContextInstruction(text);
    if (context !== null) {
      return {
        kind: "error",
        reason: `environment/Dockerfile uses its build context (${context}); --backend runloop builds Dockerfiles without a context, so use RUN steps, a docker_image, or the docker backend`,
      };
    }
    return { kind: "dockerfile", dockerfile: text };
  }
  if (env.dockerImage !== null)
    return { kind: "dockerfile", dockerfile: `FROM ${env.dockerImage}\n` };
  return { kind: "default" };
}

/** The first COPY/ADD that reads the build context (COPY --from=<stage> does not), or null. */
export function buildContextInstruction(dockerfile: string): string | null {
  const lines = dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    const m = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (m === null) continue;
    if (/(^|\s)--from=/i.test(m[2] ?? "")) continue;
    return line.length > 60 ? `${line.slice(0, 57)}...` : line;
  }
  return null;
}

/** The Dockerfile's last absolute WORKDIR (where Harbor runs commands when task.toml names none), or null. */
export function dockerfileWorkdir(dockerfile: string): string | null {
  let workdir: string | null = null;
  for (const line of dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
    const m = /^\s*WORKDIR\s+(\S+)\s*$/i.exec(line);
    if (m?.[1]?.startsWith("/")) workdir = m[1];
  }
  return workdir;
}

/** A blueprint name from the Dockerfile's content: the same Dockerfile always maps to the same build. */
export function blueprintName(dockerfile: string): string {
  return `rli-${createHash("sha256").update(dockerfile).digest("hex").slice(0, 20)}`;
}

/** `promise`, or the signal's abort reason first; the promise itself keeps running (it is shared). */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** The task's cpus, memory_mb and storage_mb as a custom devbox size (Harbor's mapping); none: default. */
export function devboxSize(task: Task): {
  resource_size_request?: string;
  custom_cpu_cores?: number;
  custom_gb_memory?: number;
  custom_disk_size?: number;
} {
  const r = task.resources;
  if (!r || (r.cpus === null && r.memoryMb === null && r.storageMb === null)) return {};
  return {
    resource_size_request: "CUSTOM_SIZE",
    custom_cpu_cores: Math.max(1, Math.ceil(r.cpus ?? 1)),
    custom_gb_memory: Math.max(1, Math.ceil((r.memoryMb ?? 2048) / 1024)),
    ...(r.storageMb !== null
      ? { custom_disk_size: Math.max(1, Math.ceil(r.storageMb / 1024)) }
      : {}),
  };
}

/** keep_alive_time_seconds: a safety net that shuts a forgotten devbox down after the trial could have ended. */
function keepAliveSec(task: Task): number {
  const total = (task.agent.timeoutSec ?? 7200) + task.verifier.timeoutSec + 1800;
  return Math.min(MAX_KEEP_ALIVE_SEC, Math.ceil(total));
}

interface Pending {
  /** host path → sandbox path, copied into the next bundle. */
  dirs: { host: string; sandbox: string; readOnly: boolean }[];
  files: { sandbox: string; content: string; mode: number }[];
  /** Shell commands run before the next exec's command, in order. */
  prelude: string[];
  /** Sandbox directories the next bundle replaces: removed before it is unpacked. */
  replace: string[];
}

class RunloopSandbox implements Sandbox {
  readonly workdir: string;
  private pending: Pending = { dirs: [], files: [], prelude: [], replace: [] };
  private execs = 0;
  private tornDown = false;
  private readonly running = new Set<string>();

  /** Set once Runloop's scorer scored the run: teardown then completes it instead of cancelling. */
  private scored = false;
  /** Present for Runloop-hosted scenarios (the devbox belongs to a scenario run). */
  readonly score?: (
    signal?: AbortSignal,
  ) => Promise<{ score: number; rewards: Record<string, number> | null }>;

  /** How errors name this sandbox: `devbox dbx_…`, with its scenario run when it has one. */
  readonly label: string;

  constructor(
    private readonly client: RunloopClient,
    readonly devboxId: string,
    private readonly req: ProvisionRequest,
    private readonly scenarioRunId?: string,
    workdir: string = req.task.environment.workdir,
  ) {
    this.workdir = workdir;
    this.label =
      scenarioRunId === undefined
        ? `devbox ${devboxId}`
        : `scenario run ${scenarioRunId}: devbox ${devboxId}`;
    if (scenarioRunId !== undefined) this.score = (signal) => this.scoreRun(scenarioRunId, signal);
  }

  /** Runloop's scorer: score, then poll until scored; the rewards are the scoring functions' scores. */
  private async scoreRun(
    runId: string,
    signal?: AbortSignal,
  ): Promise<{ score: number; rewards: Record<string, number> | null }> {
    await this.flushPending();
    await this.client.scenarios.runs.score(runId);
    const run = await this.client.scenarios.runs.awaitScored(runId, {
      intervalMs: 1000,
      ...(signal ? { signal } : {}),
    });
    this.scored = true;
    const result = run.scoring_contract_result;
    if (result === null || result === undefined) {
      throw new Error(`scenario run ${runId} was scored without a scoring result`);
    }
    const rewards: Record<string, number> = {};
    for (const f of result.scoring_function_results ?? []) {
      if (f.scoring_function_name && typeof f.score === "number") {
        rewards[f.scoring_function_name] = f.score;
      }
    }
    return { score: result.score, rewards: Object.keys(rewards).length > 0 ? rewards : null };
  }

  /** Runs what is queued (writes, clears) with a no-op exec, so the scorer sees it. */
  private async flushPending(): Promise<void> {
    const { files, dirs, prelude } = this.pending;
    if (files.length + dirs.length + prelude.length === 0) {
      return;
    }
    await this.exec({ argv: ["true"], env: {}, timeoutMs: 60_000, graceMs: 1000, network: false });
  }

  /** Queues the workspace seed and the standard directories; they go with the first exec's bundle. */
  async prepare(): Promise<void> {
    this.pending.prelude.push(
      `mkdir -p -- ${[this.workdir, `${LOGS}/agent`, `${LOGS}/verifier`, `${LOGS}/artifacts`].map(shellQuote).join(" ")}`,
    );
    const seed = join(this.req.task.dir, "environment", "workspace");
    if (await isDir(seed)) {
      this.pending.dirs.push({ host: seed, sandbox: this.workdir, readOnly: false });
    }
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    if (this.tornDown) throw new SandboxError("sandbox already torn down");
    const started = performance.now();
    const n = ++this.execs;
    const execDir = `${RLI_DIR}/${n}`;
    if (req.stdoutPath !== undefined) this.checkLogPath(req.stdoutPath);
    if (req.stderrPath !== undefined) this.checkLogPath(req.stderrPath);
    const stdinPath = req.stdin === undefined ? null : `${execDir}/stdin`;
    if (req.stdin !== undefined) {
      this.pending.files.push({ sandbox: `${execDir}/stdin`, content: req.stdin, mode: 0o600 });
    }
    const script = execScript({
      argv: req.argv,
      cwd: req.cwd ?? this.workdir,
      env: req.env,
      timeoutMs: req.timeoutMs,
      graceMs: req.graceMs,
      stdinPath,
      stdoutPath: req.stdoutPath,
      stderrPath: req.stderrPath,
      prelude: this.pending.prelude,
      inheritEnv: this.req.task.environment.kind === "image",
    });
    this.pending.prelude = [];
    this.pending.files.push({ sandbox: `${execDir}/run.sh`, content: script, mode: 0o700 });
    const bundle = await this.flushBundle(n);
    const command = `${bundle} && bash ${shellQuote(`${execDir}/run.sh`)}`;
    if (req.signal?.aborted) return cancelledResult(started);

    let view: Awaited<ReturnType<RunloopClient["devboxes"]["execute"]>>;
    try {
      // Cancellable: the server may hold this call for the whole optimistic wait. Whatever the command
      // was doing when it is cut off ends with the devbox at teardown.
      view = await this.client.devboxes.execute(
        this.devboxId,
        { command, optimistic_timeout: OPTIMISTIC_TIMEOUT_SEC },
        { lastN: 20, ...(req.signal ? { signal: req.signal } : {}) },
      );
    } catch (err) {
      if (req.signal?.aborted) return cancelledResult(started);
      throw new SandboxError(`devbox ${this.devboxId}: execute failed: ${errorMessage(err)}`);
    }
    if (view.status !== "completed") {
      this.running.add(view.execution_id);
      const waitMs =
        req.timeoutMs === null ? undefined : req.timeoutMs + req.graceMs + EXEC_SLACK_MS;
      try {
        view = await this.client.devboxes.executions.awaitCompleted(
          this.devboxId,
          view.execution_id,
          {
            lastN: 20,
            ...(waitMs !== undefined ? { timeoutMs: waitMs } : {}),
            ...(req.signal ? { signal: req.signal } : {}),
          },
        );
      } catch (err) {
        const eid = view.execution_id;
        if (req.signal?.aborted) {
          await this.kill(eid);
          return cancelledResult(started);
        }
        if (err instanceof RunloopPollTimeoutError) {
          await this.kill(eid);
          return {
            exitCode: null,
            signal: "SIGKILL",
            timedOut: true,
            cancelled: false,
            durationMs: performance.now() - started,
          };
        }
        throw new SandboxError(
          `devbox ${this.devboxId}: lost execution ${eid}: ${errorMessage(err)}`,
        );
      } finally {
        this.running.delete(view.execution_id);
      }
    }
    const report = parseExecReport(view.stdout ?? "");
    if (report === null) {
      const why = (view.stderr ?? "").trim().split("\n").at(-1) ?? "";
      throw new SandboxError(
        `devbox ${this.devboxId}: the command wrapper did not finish (exit ${view.exit_status ?? "?"}${why ? `: ${why}` : ""})`,
      );
    }
    if (report.kind === "prelude") {
      throw new SandboxError(
        `devbox ${this.devboxId}: preparing the command failed: ${report.step}`,
      );
    }
    return execResultOf(report, req.timeoutMs, performance.now() - started);
  }

  /**
   * Uploads what is queued as one tar.gz and returns the shell command that unpacks it at /. Always at
   * least the exec script, so every exec is exactly one upload.
   */
  private async flushBundle(n: number): Promise<string> {
    const staging = join(this.req.scratchDir, `bundle-${n}`);
    const root = join(staging, "root");
    const readOnly: string[] = [];
    try {
      await mkdir(root, { recursive: true, mode: 0o700 });
      for (const d of this.pending.dirs) {
        const target = join(root, d.sandbox);
        await mkdir(target, { recursive: true, mode: 0o755 });
        await cp(d.host, target, {
          recursive: true,
          verbatimSymlinks: true,
          preserveTimestamps: true,
        });
        if (d.readOnly) readOnly.push(d.sandbox);
      }
      for (const f of this.pending.files) {
        const target = join(root, f.sandbox);
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await writeFile(target, f.content, { mode: f.mode });
      }
      const archive = join(staging, "bundle.tgz");
      // node:zlib rather than tar's own gzip: that one's compressor state is freed only by a later GC,
      // about 140 KB a bundle, which adds up at hundreds of trials.
      await pipeline(
        tar.c({ cwd: root, portable: true }, ["."]),
        createGzip(),
        createWriteStream(archive, { mode: 0o600 }),
      );
      const remote = `${RLI_DIR}/bundle-${n}.tgz`;
      await this.client.devboxes.uploadFile(this.devboxId, remote, await readHostFile(archive));
      // An uploaded directory replaces what was there (made writable first: earlier uploads are locked).
      const clear = this.pending.replace
        .map(shellQuote)
        .map((p) => `{ chmod -R u+w -- ${p} 2>/dev/null; rm -rf -- ${p}; } && `)
        .join("");
      this.pending.dirs = [];
      this.pending.files = [];
      this.pending.replace = [];
      const lock = readOnly.map((p) => ` && chmod -R a-w -- ${shellQuote(p)}`).join("");
      return `${clear}tar -xzf ${shellQuote(remote)} -C / --no-same-owner && rm -f -- ${shellQuote(remote)}${lock}`;
    } catch (err) {
      throw new SandboxError(`devbox ${this.devboxId}: upload failed: ${errorMessage(err)}`);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private checkLogPath(path: string): void {
    const p = posix.normalize(path);
    if (!p.startsWith(`${LOGS}/`))
      throw new SandboxError(`output path must be under ${LOGS}: ${path}`);
  }

  private async kill(executionId: string): Promise<void> {
    try {
      await this.client.devboxes.executions.kill(this.devboxId, executionId);
    } catch {
      // The devbox shuts down at teardown, which ends every process anyway.
    }
  }

  /** npm install on the devbox itself (agent packages are hundreds of MB: never uploaded). */
  async installPackage(
    pkg: { name: string; version: string },
    root: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/root" };
    await npmInstallIn(this, pkg, root, `on devbox ${this.devboxId}`, env, signal);
  }

  async upload(hostDir: string, sandboxPath: string): Promise<void> {
    if (!posix.isAbsolute(sandboxPath))
      throw new SandboxError(`not an absolute path: ${sandboxPath}`);
    if (!(await isDir(hostDir))) throw new SandboxError(`not a directory: ${hostDir}`);
    this.pending.replace.push(posix.normalize(sandboxPath));
    this.pending.dirs.push({
      host: hostDir,
      sandbox: posix.normalize(sandboxPath),
      readOnly: true,
    });
  }

  async writeFile(sandboxPath: string, content: string, mode = 0o600): Promise<void> {
    if (!posix.isAbsolute(sandboxPath))
      throw new SandboxError(`not an absolute path: ${sandboxPath}`);
    this.pending.files.push({ sandbox: posix.normalize(sandboxPath), content, mode });
  }

  async clearDir(sandboxPath: string): Promise<void> {
    this.checkLogPath(sandboxPath);
    const p = shellQuote(posix.normalize(sandboxPath));
    this.pending.prelude.push(`rm -rf -- ${p} && mkdir -p -- ${p}`);
  }

  async readFile(sandboxPath: string): Promise<string | null> {
    // A file still queued for the next bundle is not on the devbox yet.
    const queued = this.pending.files.find((f) => f.sandbox === posix.normalize(sandboxPath));
    if (queued !== undefined) return queued.content;
    try {
      return await this.client.devboxes.readFileContents(this.devboxId, sandboxPath);
    } catch (err) {
      if (isNotFound(err) || (err instanceof RunloopApiError && err.status === 400)) return null;
      throw new SandboxError(
        `devbox ${this.devboxId}: cannot read ${sandboxPath}: ${errorMessage(err)}`,
      );
    }
  }

  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    const problems: string[] = [];
    try {
      await this.collectLogs();
    } catch (err) {
      problems.push(`logs not collected: ${errorMessage(err)}`);
    }
    let shutDown = false;
    if (this.scenarioRunId !== undefined) {
      // complete (scored) or cancel (not scored) ends the run and shuts its devbox down.
      try {
        if (this.scored) await this.client.scenarios.runs.complete(this.scenarioRunId);
        else await this.client.scenarios.runs.cancel(this.scenarioRunId);
        shutDown = true;
      } catch (err) {
        problems.push(`scenario run ${this.scenarioRunId} not closed: ${errorMessage(err)}`);
      }
    }
    if (!shutDown) {
      try {
        await this.client.devboxes.shutdown(this.devboxId);
      } catch (err) {
        problems.push(`shutdown failed: ${errorMessage(err)}`);
      }
    }
    await rm(this.req.scratchDir, { recursive: true, force: true });
    if (problems.length > 0)
      throw new SandboxError(`devbox ${this.devboxId}: ${problems.join("; ")}`);
  }

  /** /logs comes back as one tarball, unpacked into the trial's logs directory (regular files and dirs only). */
  private async collectLogs(): Promise<void> {
    if (this.execs === 0) return;
    const remote = `${RLI_DIR}/logs-${randomUUID()}.tgz`;
    const view = await this.client.devboxes.execute(
      this.devboxId,
      {
        command: `tar -czf ${shellQuote(remote)} -C ${LOGS} .`,
        optimistic_timeout: OPTIMISTIC_TIMEOUT_SEC,
      },
      { lastN: 5 },
    );
    if (view.status !== "completed" || view.exit_status !== 0) {
      throw new Error(`tar of ${LOGS} ended ${view.status} ${view.exit_status ?? ""}`.trim());
    }
    await mkdir(this.req.scratchDir, { recursive: true, mode: 0o700 });
    const local = join(this.req.scratchDir, "logs.tgz");
    await this.client.devboxes.downloadFile(this.devboxId, remote, local);
    // What an agent left in /logs is not trusted: links, devices and escaping paths are skipped.
    await extractTarGz(local, this.req.logsDir);
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
