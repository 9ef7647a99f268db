import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Catalogue, ImageSeed } from "./catalogue.js";
import {
  ApiError,
  badRequest,
  bytes,
  type Ctx,
  json,
  type Notifier,
  newId,
  notFound,
  optNumber,
  optObject,
  optString,
  page,
  type Router,
  reqString,
  stringArray,
  stringMap,
} from "./http.js";
import { parseMultipart } from "./multipart.js";
import {
  DEFAULT_PATH,
  devboxPath,
  HOME,
  resolveIn,
  type SandboxHost,
  type SandboxProcess,
} from "./sandbox.js";
import type { SecretStore } from "./secrets.js";

export type DevboxStatus =
  | "provisioning"
  | "initializing"
  | "running"
  | "suspending"
  | "suspended"
  | "resuming"
  | "failure"
  | "shutdown";

export type ShutdownReason = "api_shutdown" | "keep_alive_timeout" | "entrypoint_exit";

/** DevboxView (reference §2.6). */
export interface DevboxView {
  id: string;
  name?: string;
  status: DevboxStatus;
  create_time_ms: number;
  end_time_ms: number | null;
  launch_parameters: Record<string, unknown>;
  metadata: Record<string, string>;
  state_transitions: Array<{ status: DevboxStatus; transition_time_ms: number }>;
  capabilities: string[];
  initiator_type: "api" | "scenario";
  blueprint_id?: string;
  snapshot_id?: string;
  shutdown_reason?: ShutdownReason;
  failure_reason?: "execution_failed";
}

/** DevboxAsyncExecutionDetailView; stdout/stderr (last_n lines) only once completed. */
export interface ExecutionView {
  devbox_id: string;
  execution_id: string;
  status: "queued" | "running" | "completed";
  exit_status?: number;
  stdout?: string;
  stderr?: string;
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
  shell_name?: string;
}

export interface LogEntry {
  level: "info" | "error";
  source: "setup_commands" | "exec" | "files";
  timestamp_ms: number;
  cmd?: string;
  cmd_id?: string;
  exit_code?: number | null;
  message: string;
  shell_name?: string;
}

interface Execution {
  id: string;
  devboxId: string;
  command: string;
  commandId: string;
  shellName?: string;
  status: ExecutionView["status"];
  exitStatus?: number;
  stdoutFile: string;
  stderrFile: string;
  proc: SandboxProcess | null;
  done: Promise<void>;
}

export interface Devbox {
  id: string;
  name?: string;
  status: DevboxStatus;
  createMs: number;
  endMs: number | null;
  launchParameters: Record<string, unknown>;
  metadata: Record<string, string>;
  initiatorType: "api" | "scenario";
  blueprintId?: string;
  snapshotId?: string;
  shutdownReason?: ShutdownReason;
  failureReason?: "execution_failed";
  transitions: DevboxView["state_transitions"];
  /** Environment of its commands: PATH, HOME, its environment_variables and resolved secrets. */
  env: Record<string, string>;
  /** Host directory holding fs/ (the root) and exec/ (command output); null for a virtual devbox. */
  dir: string | null;
  executions: Map<string, Execution>;
  byCommandId: Map<string, Execution>;
  logs: Array<LogEntry & { executionId?: string }>;
  keepAliveMs: number;
  idleTimer?: NodeJS.Timeout;
  ready: Promise<void>;
  /** /logs as it was at shutdown (the fs is gone after). */
  finalLogs?: Array<{ path: string; data?: Buffer }>;
  /** Resolves when shutdown has killed every process and removed the fs. */
  stopped?: Promise<void>;
}

export interface CreateDevbox {
  name?: string;
  blueprintId?: string;
  blueprintName?: string;
  snapshotId?: string;
  environmentVariables?: Record<string, string>;
  /** ENV → secret name. */
  secrets?: Record<string, string>;
  metadata?: Record<string, string>;
  launchParameters?: Record<string, unknown>;
  /** Devbox path → contents, written before the devbox runs. */
  files?: Record<string, string>;
  /** Directories created before the devbox runs. */
  dirs?: string[];
  initiatorType?: "api" | "scenario";
  /** No sandbox: the devbox only has a lifecycle (server-side benchmark job runs). */
  virtual?: boolean;
}

export interface DevboxStoreOptions {
  root: string;
  host: SandboxHost | null;
  notifier: Notifier;
  catalogue: Catalogue;
  secrets: SecretStore;
  provisionDelayMs: number;
  longPollHoldMs: number;
}

const DEFAULT_KEEP_ALIVE_S = 3600;
const MAX_OPTIMISTIC_S = 25;
const EXECUTION_STATUSES = new Set(["queued", "running", "completed"]);

/** Devboxes backed by bubblewrap sandboxes, their executions, files and logs (reference §2.6). */
export class DevboxStore {
  readonly all = new Map<string, Devbox>();

  constructor(private readonly o: DevboxStoreOptions) {}

  /** The record is returned at once in `provisioning`; it becomes `running` after provisionDelayMs. */
  create(req: CreateDevbox): Devbox {
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOME,
      LANG: "C.UTF-8",
      ...(req.environmentVariables ?? {}),
      ...this.o.secrets.resolve(req.secrets ?? {}),
    };
    let image: ImageSeed | undefined;
    let blueprintId = req.blueprintId;
    if (req.blueprintId !== undefined) {
      image = this.o.catalogue.blueprints.get(req.blueprintId);
      if (image === undefined) throw badRequest(`blueprint ${req.blueprintId} not found`);
    } else if (req.blueprintName !== undefined) {
      const found = [...this.o.catalogue.blueprints].find(([, b]) => b.name === req.blueprintName);
      if (found === undefined) throw badRequest(`no blueprint named ${req.blueprintName}`);
      [blueprintId, image] = found;
    }
    if (req.snapshotId !== undefined) {
      const snapshot = this.o.catalogue.snapshots.get(req.snapshotId);
      if (snapshot === undefined) throw badRequest(`snapshot ${req.snapshotId} not found`);
      image = { ...image, files: { ...(image?.files ?? {}), ...(snapshot.files ?? {}) } };
    }
    Object.assign(env, image?.env ?? {}, req.environmentVariables ?? {});
    const launch = req.launchParameters ?? {};
    const keepAlive = launch.keep_alive_time_seconds;
    if (keepAlive !== undefined && (typeof keepAlive !== "number" || !(keepAlive > 0))) {
      throw badRequest("launch_parameters.keep_alive_time_seconds must be a positive number");
    }
    const launchCommands = launch.launch_commands;
    if (
      launchCommands !== undefined &&
      (!Array.isArray(launchCommands) || launchCommands.some((c) => typeof c !== "string"))
    ) {
      throw badRequest("launch_parameters.launch_commands must be an array of strings");
    }
    if (!req.virtual && this.o.host === null) {
      throw new ApiError(500, "the fake has no bubblewrap (bwrap) to run devboxes with");
    }
    const id = newId("dbx_");
    const now = Date.now();
    const d: Devbox = {
      id,
      ...(req.name !== undefined ? { name: req.name } : {}),
      status: "provisioning",
      createMs: now,
      endMs: null,
      launchParameters: launch,
      metadata: req.metadata ?? {},
      initiatorType: req.initiatorType ?? "api",
      ...(blueprintId !== undefined ? { blueprintId } : {}),
      ...(req.snapshotId !== undefined ? { snapshotId: req.snapshotId } : {}),
      transitions: [{ status: "provisioning", transition_time_ms: now }],
      env,
      dir: req.virtual ? null : join(this.o.root, id),
      executions: new Map(),
      byCommandId: new Map(),
      logs: [],
      keepAliveMs: ((keepAlive as number | undefined) ?? DEFAULT_KEEP_ALIVE_S) * 1000,
      ready: Promise.resolve(),
    };
    this.all.set(id, d);
    if (req.virtual) {
      this.setStatus(d, "running");
      return d;
    }
    const files = { ...(image?.files ?? {}), ...(req.files ?? {}) };
    d.ready = this.provision(d, files, req.dirs ?? [], [
      ...(image?.setupCommands ?? []),
      ...((launchCommands as string[] | undefined) ?? []),
    ]);
    return d;
  }

  private async provision(
    d: Devbox,
    files: Record<string, string>,
    dirs: string[],
    launchCommands: string[],
  ): Promise<void> {
    try {
      const fs = join(d.dir!, "fs");
      await this.o.host!.prepare(fs);
      await mkdir(join(d.dir!, "exec"), { recursive: true });
      // Nothing has run in this root yet, so writing through host paths is safe here.
      for (const dir of dirs) {
        const r = await resolveIn(fs, devboxPath(dir));
        await mkdir(join(fs, r.path), { recursive: true });
      }
      for (const [path, contents] of Object.entries(files)) {
        const r = await resolveIn(fs, devboxPath(path));
        await mkdir(dirname(join(fs, r.path)), { recursive: true });
        await writeFile(join(fs, r.path), contents);
      }
      const wait = d.createMs + this.o.provisionDelayMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Read through a function: a concurrent shutdown changes the status while this awaits.
      const status = (): DevboxStatus => d.status;
      if (status() !== "provisioning") return;
      if (launchCommands.length > 0) {
        this.setStatus(d, "initializing");
        for (const command of launchCommands) {
          const e = this.startExecution(d, command, { source: "setup_commands" });
          await e.done;
          if (status() !== "initializing") return;
          if (e.exitStatus !== 0) {
            d.failureReason = "execution_failed";
            void this.stop(d, "failure");
            return;
          }
        }
      }
      if (status() !== "provisioning" && status() !== "initializing") return;
      this.setStatus(d, "running");
      this.touch(d);
    } catch (err) {
      if (d.status === "shutdown" || d.status === "failure") return;
      d.failureReason = "execution_failed";
      d.logs.push({
        level: "error",
        source: "setup_commands",
        timestamp_ms: Date.now(),
        message: `provisioning failed: ${(err as Error).message}`,
      });
      void this.stop(d, "failure");
    }
  }

  get(id: string): Devbox {
    const d = this.all.get(id);
    if (d === undefined) throw notFound(`devbox ${id}`);
    return d;
  }

  view(d: Devbox): DevboxView {
    const v: DevboxView = {
      id: d.id,
      status: d.status,
      create_time_ms: d.createMs,
      end_time_ms: d.endMs,
      launch_parameters: d.launchParameters,
      metadata: d.metadata,
      state_transitions: d.transitions.map((t) => ({ ...t })),
      capabilities: [],
      initiator_type: d.initiatorType,
    };
    if (d.name !== undefined) v.name = d.name;
    if (d.blueprintId !== undefined) v.blueprint_id = d.blueprintId;
    if (d.snapshotId !== undefined) v.snapshot_id = d.snapshotId;
    if (d.shutdownReason !== undefined) v.shutdown_reason = d.shutdownReason;
    if (d.failureReason !== undefined) v.failure_reason = d.failureReason;
    return v;
  }

  live(): Devbox[] {
    return [...this.all.values()].filter((d) => d.status !== "shutdown" && d.status !== "failure");
  }

  /** Host pids of the sandboxes running right now (bwrap launchers, each leading its group). */
  pids(devboxId?: string): number[] {
    const out: number[] = [];
    for (const d of this.all.values()) {
      if (devboxId !== undefined && d.id !== devboxId) continue;
      for (const e of d.executions.values()) {
        if (e.status !== "completed" && e.proc !== null) out.push(e.proc.pid);
      }
    }
    return out;
  }

  private setStatus(d: Devbox, status: DevboxStatus): void {
    d.status = status;
    d.transitions.push({ status, transition_time_ms: Date.now() });
    this.o.notifier.notify();
  }

  /** Activity: restart the idle clock (keep_alive_time_seconds). */
  touch(d: Devbox): void {
    if (d.idleTimer !== undefined) clearTimeout(d.idleTimer);
    d.idleTimer = undefined;
    if (d.status !== "running") return;
    d.idleTimer = setTimeout(() => {
      d.idleTimer = undefined;
      const busy = [...d.executions.values()].some((e) => e.status !== "completed");
      if (busy) this.touch(d);
      else void this.shutdown(d, "keep_alive_timeout");
    }, d.keepAliveMs);
    d.idleTimer.unref();
  }

  private requireRunning(d: Devbox): void {
    if (d.status !== "running") {
      throw badRequest(`devbox ${d.id} is not running (status: ${d.status})`);
    }
    if (d.dir === null) {
      throw badRequest(
        `devbox ${d.id} belongs to a server-side benchmark job and has no sandbox (start the fake with realJobDevboxes to get one)`,
      );
    }
  }

  /** Start `command` in the devbox (running or initializing). Never throws for the command's failure. */
  startExecution(
    d: Devbox,
    command: string,
    opts: {
      commandId?: string;
      shellName?: string;
      cwd?: string;
      source?: LogEntry["source"];
      env?: Record<string, string>;
    } = {},
  ): Execution {
    if (d.dir === null || (d.status !== "running" && d.status !== "initializing")) {
      throw badRequest(`devbox ${d.id} cannot run commands (status: ${d.status})`);
    }
    const id = newId("exe_");
    const commandId = opts.commandId ?? randomUUID();
    const base = join(d.dir!, "exec", id);
    const e: Execution = {
      id,
      devboxId: d.id,
      command,
      commandId,
      ...(opts.shellName !== undefined ? { shellName: opts.shellName } : {}),
      status: "running",
      stdoutFile: `${base}.stdout`,
      stderrFile: `${base}.stderr`,
      proc: null,
      done: Promise.resolve(),
    };
    const source = opts.source ?? "exec";
    const log = (entry: Partial<LogEntry> & { message: string }): void => {
      d.logs.push({
        level: "info",
        source,
        timestamp_ms: Date.now(),
        cmd: command,
        cmd_id: commandId,
        ...(opts.shellName !== undefined ? { shell_name: opts.shellName } : {}),
        executionId: id,
        ...entry,
      });
    };
    log({ exit_code: null, message: `running: ${command}` });
    const proc = this.o.host!.spawn(join(d.dir!, "fs"), {
      argv: [this.o.host!.shell, "-c", command],
      cwd: opts.cwd ?? HOME,
      env: { ...d.env, ...(opts.env ?? {}) },
      network: true,
      stdoutFile: e.stdoutFile,
      stderrFile: e.stderrFile,
    });
    e.proc = proc;
    e.done = proc.done.then(({ exitStatus }) => {
      e.status = "completed";
      e.exitStatus = exitStatus;
      log({
        level: exitStatus === 0 ? "info" : "error",
        exit_code: exitStatus,
        message: `exited with status ${exitStatus}`,
      });
      this.touch(d);
      this.o.notifier.notify();
    });
    d.executions.set(id, e);
    d.byCommandId.set(commandId, e);
    this.o.notifier.notify();
    return e;
  }

  /** The execution's output, whole. */
  async output(e: Execution): Promise<{ stdout: string; stderr: string }> {
    const read = (file: string) => readFile(file, "utf8").catch(() => "");
    return { stdout: await read(e.stdoutFile), stderr: await read(e.stderrFile) };
  }

  async execView(e: Execution, lastN: number): Promise<ExecutionView> {
    const v: ExecutionView = { devbox_id: e.devboxId, execution_id: e.id, status: e.status };
    if (e.shellName !== undefined) v.shell_name = e.shellName;
    if (e.status === "completed") {
      const { stdout, stderr } = await this.output(e);
      const out = tail(stdout, lastN);
      const err = tail(stderr, lastN);
      v.exit_status = e.exitStatus!;
      v.stdout = out.text;
      v.stderr = err.text;
      v.stdout_truncated = out.truncated;
      v.stderr_truncated = err.truncated;
    }
    return v;
  }

  /** Shut down: kill every process, keep /logs, remove the fs. Idempotent; resolves when done. */
  shutdown(d: Devbox, reason: ShutdownReason = "api_shutdown"): Promise<void> {
    if (d.status === "shutdown" || d.status === "failure") return d.stopped ?? Promise.resolve();
    d.shutdownReason = reason;
    return this.stop(d, "shutdown");
  }

  private stop(d: Devbox, status: "shutdown" | "failure"): Promise<void> {
    d.endMs = Date.now();
    this.setStatus(d, status);
    if (d.idleTimer !== undefined) clearTimeout(d.idleTimer);
    d.idleTimer = undefined;
    d.stopped = (async () => {
      const killAll = async () => {
        const running = [...d.executions.values()].filter((e) => e.status !== "completed");
        for (const e of running) e.proc?.kill();
        await Promise.all(running.map((e) => e.done));
      };
      await killAll();
      // Provisioning may still be writing the root or running a launch command; it stops at its
      // next status check.
      await d.ready.catch(() => {});
      await killAll();
      if (d.dir === null) return;
      const fs = join(d.dir, "fs");
      try {
        d.finalLogs = await this.o.host!.collectLogs(fs);
      } catch {
        d.finalLogs = [];
      }
      await rm(fs, { recursive: true, force: true });
    })();
    return d.stopped;
  }

  /** /logs of the devbox: live from its sandbox, or as kept at shutdown. */
  async logsDir(d: Devbox): Promise<Array<{ path: string; data?: Buffer }>> {
    if (d.dir === null) return [];
    if (d.status === "shutdown" || d.status === "failure") {
      await d.stopped;
      return d.finalLogs ?? [];
    }
    await d.ready;
    if (d.status !== "running" && d.status !== "initializing") return d.finalLogs ?? [];
    return await this.o.host!.collectLogs(join(d.dir, "fs"));
  }

  /** Write inside the sandbox (so no host path is ever followed), creating parent directories. */
  async writeFile(d: Devbox, path: string, data: Buffer): Promise<string> {
    const fs = join(d.dir!, "fs");
    const target = devboxPath(path);
    const r = await resolveIn(fs, target);
    if (r.kind === "dir") throw badRequest(`${target} is a directory`);
    if (r.kind === "other") throw badRequest(`${target} is not a regular file`);
    const res = await this.o.host!.run(
      fs,
      ["sh", "-c", 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', "sh", r.path],
      data,
    );
    if (res.exitStatus !== 0) throw badRequest(`cannot write ${target}: ${res.stderr.trim()}`);
    d.logs.push({
      level: "info",
      source: "files",
      timestamp_ms: Date.now(),
      message: `wrote ${data.length} bytes to ${r.path}`,
    });
    return r.path;
  }

  /**
   * Read inside the sandbox. A missing file is 404 `{message: "file <path> not found"}`: the API
   * reference is silent, and a missing resource is 404 everywhere else in the API.
   */
  async readFile(d: Devbox, path: string): Promise<Buffer> {
    const fs = join(d.dir!, "fs");
    const target = devboxPath(path);
    const r = await resolveIn(fs, target);
    if (r.kind === "missing") throw notFound(`file ${target}`);
    if (r.kind === "dir") throw badRequest(`${target} is a directory`);
    if (r.kind === "other") throw badRequest(`${target} is not a regular file`);
    const res = await this.o.host!.run(fs, ["cat", "--", r.path]);
    if (res.exitStatus !== 0) throw badRequest(`cannot read ${target}: ${res.stderr.trim()}`);
    return res.stdout;
  }

  /** Kill everything and forget the timers (close()). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.all.values()].map((d) => this.shutdown(d)));
    await Promise.all([...this.all.values()].map((d) => d.stopped));
    for (const d of this.all.values()) if (d.idleTimer) clearTimeout(d.idleTimer);
  }

  routes(router: Router): void {
    const lastN = (ctx: Ctx): number => {
      const text = ctx.query.get("last_n");
      if (text === null || text === "") return 100;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) throw badRequest(`last_n must be a positive integer`);
      return n;
    };
    /** Reads and long polls are not activity; commands, file transfers and keep_alive are. */
    const devbox = (ctx: Ctx, activity = false): Devbox => {
      const d = this.get(ctx.params.id!);
      if (activity) this.touch(d);
      return d;
    };
    const execution = (ctx: Ctx): Execution => {
      const d = devbox(ctx);
      const e = d.executions.get(ctx.params.eid!);
      if (e === undefined) throw notFound(`execution ${ctx.params.eid} of devbox ${d.id}`);
      return e;
    };
    const statuses = (body: Record<string, unknown>, allowed?: Set<string>): Set<string> => {
      const list = stringArray(body, "statuses");
      if (list === undefined || list.length === 0) throw badRequest("statuses is required");
      const bad = allowed === undefined ? undefined : list.find((s) => !allowed.has(s));
      if (bad !== undefined) throw badRequest(`unknown status ${bad}`);
      return new Set(list);
    };
    const hold = (body: Record<string, unknown>): number => {
      const timeout = optNumber(body, "timeout_seconds");
      return Math.min(this.o.longPollHoldMs, timeout === undefined ? Infinity : timeout * 1000);
    };

    router.add("POST", "/v1/devboxes", (ctx) => {
      const body = ctx.body();
      const d = this.create({
        name: optString(body, "name"),
        blueprintId: optString(body, "blueprint_id"),
        blueprintName: optString(body, "blueprint_name"),
        snapshotId: optString(body, "snapshot_id"),
        environmentVariables: stringMap(body, "environment_variables"),
        secrets: stringMap(body, "secrets"),
        metadata: stringMap(body, "metadata"),
        launchParameters: optObject(body, "launch_parameters") ?? {},
        files: stringMap(body, "file_mounts"),
      });
      return json(this.view(d));
    });
    router.add("GET", "/v1/devboxes", (ctx) => {
      const status = ctx.query.get("status");
      const list = [...this.all.values()]
        .reverse()
        .filter((d) => status === null || status === "" || d.status === status);
      return page(
        list,
        ctx.query,
        "devboxes",
        (d) => this.view(d),
        (d) => d.id,
      );
    });
    router.add("GET", "/v1/devboxes/{id}", (ctx) => json(this.view(devbox(ctx))));
    router.add("POST", "/v1/devboxes/{id}/wait_for_status", async (ctx) => {
      const d = devbox(ctx);
      const body = ctx.body();
      const want = statuses(body);
      const ok = await this.o.notifier.waitUntil(() => want.has(d.status), hold(body), ctx.signal);
      if (!ok) {
        throw new ApiError(408, `devbox ${d.id} is ${d.status}, not in [${[...want].join(", ")}]`);
      }
      return json(this.view(d));
    });
    router.add("POST", "/v1/devboxes/{id}/keep_alive", (ctx) => {
      devbox(ctx, true);
      return json({});
    });
    router.add("POST", "/v1/devboxes/{id}/shutdown", async (ctx) => {
      const d = devbox(ctx);
      await this.shutdown(d);
      return json(this.view(d));
    });

    const execute = async (ctx: Ctx, waitMs: (body: Record<string, unknown>) => number) => {
      const d = devbox(ctx, true);
      const body = ctx.body();
      const command = reqString(body, "command");
      const commandId = optString(body, "command_id");
      const shellName = optString(body, "shell_name");
      this.requireRunning(d);
      const n = lastN(ctx);
      const e =
        (commandId !== undefined ? d.byCommandId.get(commandId) : undefined) ??
        this.startExecution(d, command, {
          ...(commandId !== undefined ? { commandId } : {}),
          ...(shellName !== undefined ? { shellName } : {}),
        });
      await this.o.notifier.waitUntil(() => e.status === "completed", waitMs(body), ctx.signal);
      return json(await this.execView(e, n));
    };
    router.add("POST", "/v1/devboxes/{id}/execute", (ctx) =>
      execute(ctx, (body) => {
        const optimistic = optNumber(body, "optimistic_timeout");
        // Default 25 s per the SDK docs, shortened to the long-poll hold so tests stay quick.
        if (optimistic === undefined)
          return Math.min(MAX_OPTIMISTIC_S * 1000, this.o.longPollHoldMs);
        return Math.max(0, Math.min(optimistic, MAX_OPTIMISTIC_S)) * 1000;
      }),
    );
    router.add("POST", "/v1/devboxes/{id}/execute_async", (ctx) => execute(ctx, () => 0));
    router.add("POST", "/v1/devboxes/{id}/execute_sync", async (ctx) => {
      const d = devbox(ctx, true);
      const body = ctx.body();
      const command = reqString(body, "command");
      const shellName = optString(body, "shell_name");
      this.requireRunning(d);
      const e = this.startExecution(d, command, shellName !== undefined ? { shellName } : {});
      await e.done;
      const { stdout, stderr } = await this.output(e);
      return json({
        devbox_id: d.id,
        exit_status: e.exitStatus,
        stdout,
        stderr,
        ...(shellName !== undefined ? { shell_name: shellName } : {}),
      });
    });
    router.add("GET", "/v1/devboxes/{id}/executions/{eid}", async (ctx) =>
      json(await this.execView(execution(ctx), lastN(ctx))),
    );
    router.add("POST", "/v1/devboxes/{id}/executions/{eid}/wait_for_status", async (ctx) => {
      const e = execution(ctx);
      const body = ctx.body();
      const want = statuses(body, EXECUTION_STATUSES);
      const ok = await this.o.notifier.waitUntil(() => want.has(e.status), hold(body), ctx.signal);
      if (!ok) {
        throw new ApiError(
          408,
          `execution ${e.id} is ${e.status}, not in [${[...want].join(", ")}]`,
        );
      }
      return json(await this.execView(e, lastN(ctx)));
    });
    router.add("POST", "/v1/devboxes/{id}/executions/{eid}/kill", async (ctx) => {
      const e = execution(ctx);
      ctx.body();
      if (e.status !== "completed") {
        e.proc?.kill();
        await e.done;
      }
      return json(await this.execView(e, lastN(ctx)));
    });

    router.add("POST", "/v1/devboxes/{id}/write_file_contents", async (ctx) => {
      const d = devbox(ctx, true);
      const body = ctx.body();
      const path = reqString(body, "file_path");
      if (typeof body.contents !== "string") throw badRequest("contents must be a string");
      this.requireRunning(d);
      await this.writeFile(d, path, Buffer.from(body.contents, "utf8"));
      return json({ devbox_id: d.id, exit_status: 0, stdout: "", stderr: "" });
    });
    router.add("POST", "/v1/devboxes/{id}/read_file_contents", async (ctx) => {
      const d = devbox(ctx, true);
      const path = reqString(ctx.body(), "file_path");
      this.requireRunning(d);
      return bytes(await this.readFile(d, path), "text/plain; charset=utf-8");
    });
    router.add("POST", "/v1/devboxes/{id}/upload_file", async (ctx) => {
      const d = devbox(ctx, true);
      const parts = parseMultipart(ctx.contentType, ctx.raw);
      const path = parts.find((p) => p.name === "path")?.data.toString("utf8");
      const file = parts.find((p) => p.name === "file");
      if (path === undefined || path === "") throw badRequest("path is required");
      if (file === undefined) throw badRequest("file is required");
      this.requireRunning(d);
      await this.writeFile(d, path, file.data);
      return json({});
    });
    router.add("POST", "/v1/devboxes/{id}/download_file", async (ctx) => {
      const d = devbox(ctx, true);
      const path = reqString(ctx.body(), "path");
      this.requireRunning(d);
      return bytes(await this.readFile(d, path), "application/octet-stream");
    });
    router.add("GET", "/v1/devboxes/{id}/logs", (ctx) => {
      const d = devbox(ctx);
      const executionId = ctx.query.get("execution_id");
      const shellName = ctx.query.get("shell_name");
      const logs = d.logs
        .filter(
          (l) =>
            (executionId === null || l.executionId === executionId) &&
            (shellName === null || l.shell_name === shellName),
        )
        .map(({ executionId: _, ...entry }) => entry);
      return json({ logs });
    });
  }
}

/** The last `n` lines of `text` (a trailing newline kept) and whether lines were dropped. */
export function tail(text: string, n: number): { text: string; truncated: boolean } {
  if (text === "") return { text, truncated: false };
  const endsWithNewline = text.endsWith("\n");
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split("\n");
  if (lines.length <= n) return { text, truncated: false };
  return { text: lines.slice(-n).join("\n") + (endsWithNewline ? "\n" : ""), truncated: true };
}
