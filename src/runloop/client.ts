import { randomUUID } from "node:crypto";
import { setTimeout as sleepFor } from "node:timers/promises";
import { z } from "zod";
import {
  apiErrorMessage,
  oneLine,
  RunloopApiError,
  RunloopConnectionError,
  RunloopResponseError,
} from "./errors.js";
import type { RunloopHttp } from "./http.js";
import {
  type BenchmarkJobView,
  BenchmarkJobViewSchema,
  type BenchmarkRunView,
  BenchmarkRunViewSchema,
  type BenchmarkView,
  BenchmarkViewSchema,
  type BlueprintView,
  BlueprintViewSchema,
  type DevboxExecutionView,
  DevboxExecutionViewSchema,
  type DevboxLogs,
  DevboxLogsSchema,
  type DevboxView,
  DevboxViewSchema,
  type ScenarioRunView,
  ScenarioRunViewSchema,
  type ScenarioView,
  ScenarioViewSchema,
  type SecretView,
  SecretViewSchema,
} from "./schemas.js";

/** AgentConfig (`type: "job_agent"`); reference/runloop.md §2.1. */
export interface JobAgentConfig {
  type: "job_agent";
  name: string;
  agent_id?: string;
  model_name?: string;
  timeout_seconds?: number;
  kwargs?: Record<string, string>;
  agent_environment?: {
    environment_variables?: Record<string, string>;
    /** ENV_VAR → secret name. */
    secrets?: Record<string, string>;
  };
}

export interface OrchestratorConfig {
  n_attempts?: number;
  n_concurrent_trials?: number;
  quiet?: boolean;
  timeout_multiplier?: number;
}

export type BenchmarkJobSpec =
  | { type: "harbor"; inline_yaml: string }
  | {
      type: "benchmark";
      benchmark_id: string;
      agent_configs: JobAgentConfig[];
      orchestrator_config?: OrchestratorConfig;
    }
  | {
      type: "scenarios";
      scenario_ids: string[];
      agent_configs: JobAgentConfig[];
      orchestrator_config?: OrchestratorConfig;
    };

export interface BenchmarkJobCreateParams {
  name?: string | null;
  spec?: BenchmarkJobSpec;
}

/** `limit` is the page size; the iterator still yields every item. */
export interface ListOptions {
  limit?: number;
  name?: string;
  /** Server-side substring search (benchmarks, jobs, scenarios). */
  search?: string;
  signal?: AbortSignal;
}

/** POST /v1/devboxes; every field optional (reference/runloop.md §2.6). */
export interface DevboxCreateParams {
  name?: string;
  blueprint_id?: string;
  blueprint_name?: string;
  snapshot_id?: string;
  entrypoint?: string;
  environment_variables?: Record<string, string>;
  /** ENV_VAR → secret name. */
  secrets?: Record<string, string>;
  metadata?: Record<string, string>;
  file_mounts?: Record<string, string>;
  launch_parameters?: {
    keep_alive_time_seconds?: number;
    after_idle?: { idle_time_seconds: number; on_idle: "shutdown" | "suspend" };
    launch_commands?: string[];
    resource_size_request?: string;
    custom_cpu_cores?: number;
    custom_gb_memory?: number;
    custom_disk_size?: number;
    architecture?: "x86_64" | "arm64";
    [key: string]: unknown;
  };
}

export interface ExecuteParams {
  command: string;
  /** Idempotency of the command itself; default a fresh uuid. */
  command_id?: string;
  /** Seconds the server waits for completion before answering (≤ 25). */
  optimistic_timeout?: number;
  shell_name?: string;
}

export interface WaitOptions {
  /** Overall; default none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** POST /v1/scenarios/start_run. */
export interface ScenarioStartRunParams {
  scenario_id: string;
  benchmark_run_id?: string;
  metadata?: Record<string, string>;
  run_name?: string;
  runProfile?: {
    envVars?: Record<string, string>;
    secrets?: Record<string, string>;
    launchParameters?: DevboxCreateParams["launch_parameters"];
    purpose?: string;
  };
}

/** Scenario run states that will never become scored (anything else unknown counts as on the way). */
const SCENARIO_RUN_FAILED_STATES: ReadonlySet<string> = new Set([
  "canceled",
  "cancelled",
  "failed",
  "timeout",
  "error",
]);

/** Devbox states after which it never runs again. */
export const DEVBOX_FINAL_STATES: ReadonlySet<string> = new Set(["failure", "shutdown"]);
/** Devbox states on the way to running; awaitRunning keeps waiting through them. */
const DEVBOX_STARTING_STATES = new Set([
  "scheduled",
  "queued",
  "provisioning",
  "initializing",
  "resuming",
]);

export interface CallOptions {
  signal?: AbortSignal;
  /** Retries after the first attempt for this call (default: the transport's, 5). */
  maxRetries?: number;
  /** x-request-id for a POST; the same on every retry. */
  idempotencyKey?: string;
}

/**
 * Typed Runloop endpoints (reference/runloop.md §2.1–§2.7) over RunloopHttp: every answer is
 * zod-parsed, every id is one encoded path segment, errors are the Runloop*Error classes. A secret's
 * value is sent only in a request body and never appears in an error.
 */
export class RunloopClient {
  constructor(readonly http: RunloopHttp) {}

  /**
   * One cheap authenticated call (GET /v1/devboxes?limit=1) with few retries, so a bad key or an
   * unreachable base URL is reported in seconds, before a job starts, instead of once per trial.
   */
  async ping(options: CallOptions = {}): Promise<void> {
    await this.http.request("GET", "/v1/devboxes", {
      schema: z.unknown(),
      query: { limit: 1 },
      maxRetries: 2,
      timeoutMs: 15_000,
      signal: options.signal,
    });
  }

  readonly benchmarkJobs = {
    create: (
      body: BenchmarkJobCreateParams,
      options: CallOptions = {},
    ): Promise<BenchmarkJobView> =>
      this.http.request("POST", "/v1/benchmark_jobs", {
        schema: BenchmarkJobViewSchema,
        body,
        ...options,
      }),
    retrieve: async (id: string, options: CallOptions = {}): Promise<BenchmarkJobView> =>
      this.http.request("GET", `/v1/benchmark_jobs/${segment(id)}`, {
        schema: BenchmarkJobViewSchema,
        signal: options.signal,
      }),
    list: (options: ListOptions = {}): AsyncGenerator<BenchmarkJobView, void, undefined> =>
      this.http.paginate(
        "/v1/benchmark_jobs",
        "jobs",
        BenchmarkJobViewSchema,
        listOptions(options),
      ),
  };

  readonly benchmarks = {
    retrieve: async (id: string, options: CallOptions = {}): Promise<BenchmarkView> =>
      this.http.request("GET", `/v1/benchmarks/${segment(id)}`, {
        schema: BenchmarkViewSchema,
        signal: options.signal,
      }),
    list: (options: ListOptions = {}): AsyncGenerator<BenchmarkView, void, undefined> =>
      this.http.paginate("/v1/benchmarks", "benchmarks", BenchmarkViewSchema, listOptions(options)),
    listPublic: (options: ListOptions = {}): AsyncGenerator<BenchmarkView, void, undefined> =>
      this.http.paginate(
        "/v1/benchmarks/list_public",
        "benchmarks",
        BenchmarkViewSchema,
        listOptions(options),
      ),
    /** The benchmark's scenarios. */
    definitions: (
      id: string,
      options: Omit<ListOptions, "name"> = {},
    ): AsyncGenerator<ScenarioView, void, undefined> =>
      lazy(() =>
        this.http.paginate(
          `/v1/benchmarks/${segment(id)}/definitions`,
          "scenarios",
          ScenarioViewSchema,
          listOptions(options),
        ),
      ),
  };

  readonly devboxes = {
    create: (body: DevboxCreateParams, options: CallOptions = {}): Promise<DevboxView> =>
      this.http.request("POST", "/v1/devboxes", { schema: DevboxViewSchema, body, ...options }),
    retrieve: async (id: string, options: CallOptions = {}): Promise<DevboxView> =>
      this.http.request("GET", `/v1/devboxes/${segment(id)}`, {
        schema: DevboxViewSchema,
        signal: options.signal,
      }),
    list: (
      options: Omit<ListOptions, "name"> & { status?: string } = {},
    ): AsyncGenerator<DevboxView, void, undefined> =>
      this.http.paginate("/v1/devboxes", "devboxes", DevboxViewSchema, {
        limit: options.limit,
        signal: options.signal,
        query: { status: options.status },
      }),
    /**
     * Long-polls wait_for_status until the devbox is running (resolves) or ends in failure/shutdown
     * (throws a one-line Error naming the status and the failure reason). Unlike the SDK, queued and
     * scheduled count as on the way.
     */
    awaitRunning: async (id: string, options: WaitOptions = {}): Promise<DevboxView> => {
      const view = await this.http.longPoll("POST", `/v1/devboxes/${segment(id)}/wait_for_status`, {
        schema: DevboxViewSchema,
        body: { statuses: ["running", "failure", "shutdown"] },
        shouldStop: (v) => !DEVBOX_STARTING_STATES.has(v.status),
        ...options,
      });
      if (view.status !== "running") {
        const why = view.failure_reason ?? view.shutdown_reason;
        throw new Error(
          oneLine(`devbox ${id} is ${view.status}${why ? ` (${why})` : ""}, not running`),
        );
      }
      return view;
    },
    /** Runs a shell command; answers once it completed or after `optimistic_timeout` seconds. */
    execute: async (
      id: string,
      params: ExecuteParams,
      options: CallOptions & { lastN?: number } = {},
    ): Promise<DevboxExecutionView> =>
      this.http.request("POST", `/v1/devboxes/${segment(id)}/execute`, {
        schema: DevboxExecutionViewSchema,
        body: { ...params, command_id: params.command_id ?? randomUUID() },
        query: { last_n: options.lastN },
        // The server may hold the call for the optimistic wait; the usual timeout comes on top of it.
        timeoutMs: (params.optimistic_timeout ?? 0) * 1000 + this.http.timeoutMs,
        signal: options.signal,
        idempotencyKey: options.idempotencyKey,
      }),
    executions: {
      retrieve: async (
        devboxId: string,
        executionId: string,
        options: CallOptions & { lastN?: number } = {},
      ): Promise<DevboxExecutionView> =>
        this.http.request(
          "GET",
          `/v1/devboxes/${segment(devboxId)}/executions/${segment(executionId)}`,
          {
            schema: DevboxExecutionViewSchema,
            query: { last_n: options.lastN },
            signal: options.signal,
          },
        ),
      /** Long-polls until the execution completed; throws RunloopPollTimeoutError at `timeoutMs`. */
      awaitCompleted: async (
        devboxId: string,
        executionId: string,
        options: WaitOptions & { lastN?: number } = {},
      ): Promise<DevboxExecutionView> =>
        this.http.longPoll(
          "POST",
          `/v1/devboxes/${segment(devboxId)}/executions/${segment(executionId)}/wait_for_status`,
          {
            schema: DevboxExecutionViewSchema,
            body: { statuses: ["completed"] },
            query: { last_n: options.lastN },
            shouldStop: (v) => v.status === "completed",
            timeoutMs: options.timeoutMs,
            signal: options.signal,
          },
        ),
      kill: async (
        devboxId: string,
        executionId: string,
        options: CallOptions = {},
      ): Promise<DevboxExecutionView> =>
        this.http.request(
          "POST",
          `/v1/devboxes/${segment(devboxId)}/executions/${segment(executionId)}/kill`,
          { schema: DevboxExecutionViewSchema, body: { kill_process_group: true }, ...options },
        ),
    },
    /** Idempotent from the caller's view: shutting down a devbox that is already shut down succeeds. */
    shutdown: async (
      id: string,
      options: CallOptions & { force?: boolean } = {},
    ): Promise<DevboxView> =>
      this.http.request("POST", `/v1/devboxes/${segment(id)}/shutdown`, {
        schema: DevboxViewSchema,
        query: { force: options.force },
        signal: options.signal,
        idempotencyKey: options.idempotencyKey,
      }),
    /** UTF-8 text; the server creates missing directories. */
    writeFileContents: async (
      id: string,
      filePath: string,
      contents: string,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.http.request("POST", `/v1/devboxes/${segment(id)}/write_file_contents`, {
        schema: z.unknown(),
        body: { file_path: filePath, contents },
        timeoutMs: FILE_TIMEOUT_MS,
        ...options,
      });
    },
    readFileContents: async (
      id: string,
      filePath: string,
      options: CallOptions = {},
    ): Promise<string> =>
      this.http.requestText("POST", `/v1/devboxes/${segment(id)}/read_file_contents`, {
        body: { file_path: filePath },
        timeoutMs: FILE_TIMEOUT_MS,
        ...options,
      }),
    /** multipart/form-data `path` + `file`. */
    uploadFile: async (
      id: string,
      filePath: string,
      data: Uint8Array,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.http.request("POST", `/v1/devboxes/${segment(id)}/upload_file`, {
        schema: z.unknown(),
        form: () => {
          const form = new FormData();
          form.set("path", filePath);
          form.set("file", new Blob([data]), filePath.split("/").pop() || "file");
          return form;
        },
        timeoutMs: FILE_TIMEOUT_MS,
        ...options,
      });
    },
    /** Streams the file to `destFile`; resolves to its size. */
    downloadFile: async (
      id: string,
      filePath: string,
      destFile: string,
      options: CallOptions = {},
    ): Promise<number> =>
      this.http.download("POST", `/v1/devboxes/${segment(id)}/download_file`, {
        body: { path: filePath },
        destFile,
        ...options,
      }),
    logs: async (
      id: string,
      options: CallOptions & { executionId?: string } = {},
    ): Promise<DevboxLogs> =>
      this.http.request("GET", `/v1/devboxes/${segment(id)}/logs`, {
        schema: DevboxLogsSchema,
        query: { execution_id: options.executionId },
        signal: options.signal,
      }),
  };

  readonly blueprints = {
    /** Starts an image build from a Dockerfile; the view's status moves to build_complete or failed. */
    create: (
      body: { name: string; dockerfile: string; system_setup_commands?: string[] },
      options: CallOptions = {},
    ): Promise<BlueprintView> =>
      this.http.request("POST", "/v1/blueprints", {
        schema: BlueprintViewSchema,
        body,
        ...options,
      }),
    retrieve: async (id: string, options: CallOptions = {}): Promise<BlueprintView> =>
      this.http.request("GET", `/v1/blueprints/${segment(id)}`, {
        schema: BlueprintViewSchema,
        signal: options.signal,
      }),
    list: (options: ListOptions = {}): AsyncGenerator<BlueprintView, void, undefined> =>
      this.http.paginate("/v1/blueprints", "blueprints", BlueprintViewSchema, listOptions(options)),
    /**
     * Polls (every `intervalMs`, default 2 s) until the build ends: resolves when build_complete, throws a
     * one-line Error with the failure reason when failed.
     */
    awaitBuilt: async (
      id: string,
      options: WaitOptions & { intervalMs?: number } = {},
    ): Promise<BlueprintView> => {
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      for (;;) {
        const view = await this.blueprints.retrieve(id, { signal: options.signal });
        if (view.status === "build_complete") return view;
        if (view.status === "failed") {
          throw new Error(
            oneLine(
              `blueprint ${view.name} (${id}) failed to build: ${view.failure_reason ?? "no reason given"}`,
            ),
          );
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `blueprint ${view.name} (${id}) still ${view.status} after ${options.timeoutMs} ms`,
          );
        }
        await sleepFor(options.intervalMs ?? 2000, undefined, { signal: options.signal });
      }
    },
  };

  readonly benchmarkRuns = {
    retrieve: async (id: string, options: CallOptions = {}): Promise<BenchmarkRunView> =>
      this.http.request("GET", `/v1/benchmark_runs/${segment(id)}`, {
        schema: BenchmarkRunViewSchema,
        signal: options.signal,
      }),
    /** A ZIP of every scenario run's logs (OAS only). */
    downloadLogs: async (
      id: string,
      destFile: string,
      options: CallOptions = {},
    ): Promise<number> =>
      this.http.download("POST", `/v1/benchmark_runs/${segment(id)}/download_logs`, {
        destFile,
        accept: "application/zip",
        ...options,
      }),
    scenarioRuns: (
      runId: string,
      options: Omit<ListOptions, "name"> & { state?: ScenarioRunView["state"] } = {},
    ): AsyncGenerator<ScenarioRunView, void, undefined> =>
      lazy(() =>
        this.http.paginate(
          `/v1/benchmark_runs/${segment(runId)}/scenario_runs`,
          "runs",
          ScenarioRunViewSchema,
          { limit: options.limit, signal: options.signal, query: { state: options.state } },
        ),
      ),
    cancel: async (runId: string, options: CallOptions = {}): Promise<BenchmarkRunView> =>
      this.http.request("POST", `/v1/benchmark_runs/${segment(runId)}/cancel`, {
        schema: BenchmarkRunViewSchema,
        ...options,
      }),
  };

  readonly scenarios = {
    retrieve: async (id: string, options: CallOptions = {}): Promise<ScenarioView> =>
      this.http.request("GET", `/v1/scenarios/${segment(id)}`, {
        schema: ScenarioViewSchema,
        signal: options.signal,
      }),
    startRun: async (
      body: ScenarioStartRunParams,
      options: CallOptions = {},
    ): Promise<ScenarioRunView> =>
      this.http.request("POST", "/v1/scenarios/start_run", {
        schema: ScenarioRunViewSchema,
        body,
        ...options,
      }),
    runs: {
      retrieve: async (id: string, options: CallOptions = {}): Promise<ScenarioRunView> =>
        this.http.request("GET", `/v1/scenarios/runs/${segment(id)}`, {
          schema: ScenarioRunViewSchema,
          signal: options.signal,
        }),
      score: (id: string, options: CallOptions = {}): Promise<ScenarioRunView> =>
        this.#runAction(id, "score", options),
      complete: (id: string, options: CallOptions = {}): Promise<ScenarioRunView> =>
        this.#runAction(id, "complete", options),
      cancel: (id: string, options: CallOptions = {}): Promise<ScenarioRunView> =>
        this.#runAction(id, "cancel", options),
      /**
       * Polls (GET every `intervalMs`, default 1 s) while the run is scoring; resolves with the scored run,
       * throws a one-line Error when it ends in any other state.
       */
      awaitScored: async (
        id: string,
        options: WaitOptions & { intervalMs?: number } = {},
      ): Promise<ScenarioRunView> => {
        const deadline =
          options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
        for (;;) {
          const run = await this.scenarios.runs.retrieve(id, { signal: options.signal });
          if (run.state === "scored" || run.state === "completed") return run;
          if (SCENARIO_RUN_FAILED_STATES.has(run.state)) {
            throw new Error(oneLine(`scenario run ${id} ended ${run.state} instead of scored`));
          }
          if (Date.now() >= deadline) {
            throw new Error(`scenario run ${id} still ${run.state} after ${options.timeoutMs} ms`);
          }
          await sleepFor(options.intervalMs ?? 1000, undefined, { signal: options.signal });
        }
      },
      /** The run's logs as a ZIP (entries prefixed `<id>_`), streamed to `destFile`. */
      downloadLogs: async (
        id: string,
        destFile: string,
        options: CallOptions = {},
      ): Promise<number> =>
        this.http.download("POST", `/v1/scenarios/runs/${segment(id)}/download_logs`, {
          destFile,
          accept: "application/zip",
          ...options,
        }),
    },
  };

  #runAction(
    id: string,
    action: "score" | "complete" | "cancel",
    options: CallOptions,
  ): Promise<ScenarioRunView> {
    return this.http.request("POST", `/v1/scenarios/runs/${segment(id)}/${action}`, {
      schema: ScenarioRunViewSchema,
      ...options,
    });
  }

  readonly secrets = {
    retrieve: async (name: string, options: CallOptions = {}): Promise<SecretView> =>
      this.http.request("GET", `/v1/secrets/${segment(name)}`, {
        schema: SecretViewSchema,
        signal: options.signal,
      }),
    /** A new value for an existing secret; errors never contain the value. */
    update: async (name: string, value: string, options: CallOptions = {}): Promise<SecretView> => {
      try {
        return await this.http.request("POST", `/v1/secrets/${segment(name)}`, {
          schema: SecretViewSchema,
          body: { value },
          ...options,
        });
      } catch (err) {
        throw withoutSecret(err, value);
      }
    },
    /** Errors are rewritten so the value never appears, even when the server echoes it back. */
    create: async (name: string, value: string, options: CallOptions = {}): Promise<SecretView> => {
      try {
        return await this.http.request("POST", "/v1/secrets", {
          schema: SecretViewSchema,
          body: { name, value },
          ...options,
        });
      } catch (err) {
        throw withoutSecret(err, value);
      }
    },
  };
}

/** The SDK lets file calls run up to 10 minutes; a large upload over a slow link needs it. */
const FILE_TIMEOUT_MS = 600_000;

/** Defers `make` to the first next(), so a bad id rejects there like every other failure. */
async function* lazy<T>(
  make: () => AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  yield* make();
}

function segment(id: string): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`Expected an id to be a non-empty string, got ${JSON.stringify(id)}`);
  }
  return encodeURIComponent(id);
}

function listOptions(options: ListOptions) {
  return {
    limit: options.limit,
    signal: options.signal,
    query: { name: options.name, search: options.search },
  };
}

const REDACTED = "[redacted]";

/** The same error with every occurrence of `value` (raw or whitespace-collapsed) replaced. */
function withoutSecret(err: unknown, value: string): unknown {
  if (value === "") return err;
  const forms = [...new Set([value, oneLine(value), value.replace(/\s+/g, " ")])].filter(
    (form) => form !== "",
  );
  const hide = (text: string) => forms.reduce((out, form) => out.split(form).join(REDACTED), text);
  if (err instanceof RunloopApiError) {
    const body = hideDeep(err.body, hide);
    return new RunloopApiError(
      err.status,
      body,
      err.requestId,
      err.method,
      err.path,
      hide(apiErrorMessage(err.status, body)),
    );
  }
  if (err instanceof RunloopResponseError) {
    return new RunloopResponseError(err.method, err.path, err.status, hide(err.message));
  }
  if (err instanceof RunloopConnectionError) {
    return new RunloopConnectionError(err.baseUrl, err.timedOut, err.attempts, hide(err.message), {
      cause: err.cause,
    });
  }
  if (err instanceof Error && err.message !== hide(err.message)) {
    return new Error(hide(err.message), { cause: err.cause });
  }
  return err;
}

function hideDeep(body: unknown, hide: (text: string) => string): unknown {
  if (typeof body === "string") return hide(body);
  if (Array.isArray(body)) return body.map((item) => hideDeep(item, hide));
  if (body !== null && typeof body === "object") {
    return Object.fromEntries(
      Object.entries(body).map(([key, item]) => [hide(key), hideDeep(item, hide)]),
    );
  }
  return body;
}
