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
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
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

  readonly benchmarkRuns = {
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
  };

  readonly secrets = {
    retrieve: async (name: string, options: CallOptions = {}): Promise<SecretView> =>
      this.http.request("GET", `/v1/secrets/${segment(name)}`, {
        schema: SecretViewSchema,
        signal: options.signal,
      }),
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
  return { limit: options.limit, signal: options.signal, query: { name: options.name } };
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
