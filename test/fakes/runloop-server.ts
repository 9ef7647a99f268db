import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlueprintStore } from "./runloop/blueprints.js";
import {
  type BenchmarkSeed,
  type BenchmarkView,
  Catalogue,
  type ImageSeed,
  type ScenarioSeed,
  type ScenarioView,
  seedDefaults,
} from "./runloop/catalogue.js";
import { DevboxStore, type DevboxView } from "./runloop/devboxes.js";
import { type FaultCounts, FaultInjector, type FaultKind, type Faults } from "./runloop/faults.js";
import {
  ApiError,
  type Ctx,
  errorReply,
  Notifier,
  newId,
  type Reply,
  Router,
} from "./runloop/http.js";
import { defaultOutcome, type JobRequest, JobStore, type OutcomeFn } from "./runloop/jobs.js";
import { SandboxHost } from "./runloop/sandbox.js";
import { ScenarioRunStore, type ScenarioRunView } from "./runloop/scenario-runs.js";
import { SecretStore } from "./runloop/secrets.js";

export type { BenchmarkSeed, ImageSeed, ScenarioSeed } from "./runloop/catalogue.js";
export type { DevboxView, ExecutionView } from "./runloop/devboxes.js";
export type { FaultCounts, Faults } from "./runloop/faults.js";
export type { JobRequest, Outcome, OutcomeFn, OutcomeState } from "./runloop/jobs.js";
export { defaultOutcome } from "./runloop/jobs.js";
export { parseScore } from "./runloop/scenario-runs.js";

/**
 * A stateful fake of the Runloop API (reference/runloop.md §2) on 127.0.0.1 for tests and manual runs:
 * devboxes whose commands really run in bubblewrap sandboxes, secrets, a seeded benchmark catalogue,
 * scenario runs scored by really running their scorers, and benchmark jobs that progress on their own
 * (or step by step). Bearer auth, idempotent replays by x-request-id, pagination, long polls that
 * answer 408 after a hold, and seeded fault injection. Every request is recorded.
 */
export interface FakeRunloopOptions {
  apiKey: string;
  /** Keys answered 403 instead of 401. */
  forbiddenKeys?: string[];
  /** Default 0 (any free port). */
  port?: number;
  /** Time from create to `running` (default 20 ms). */
  provisionDelayMs?: number;
  /** How long wait_for_status holds before 408 (default 25000 ms). */
  longPollHoldMs?: number;
  /** Job step interval (default 50 ms); 0 = jobs move only on step()/runJob(). */
  jobStepMs?: number;
  faults?: Faults;
  /** Trial outcomes of server-side jobs (default: defaultOutcome). */
  outcome?: OutcomeFn;
  /** A returned reason makes the job fail at its first step, with no outcomes. */
  jobFailure?: (job: JobRequest) => string | null | undefined;
  /** Give server-side trials real (sandboxed) devboxes; default: lifecycle-only devboxes. */
  realJobDevboxes?: boolean;
  /** Seed the default catalogue (default true). */
  seedDefaults?: boolean;
  /** Where the per-devbox directories go (default the OS temp dir). */
  tmpDir?: string;
}

export interface RecordedRequest {
  method: string;
  /** The route template (e.g. /v1/devboxes/{id}/execute), or null when no route matched. */
  route: string | null;
  /** The raw path, without the query. */
  path: string;
  /** 0 when the socket was reset without an answer. */
  status: number;
  /** The x-request-id the client sent, if any. */
  requestId: string | null;
  fault?: FaultKind;
  /** Answered from the idempotency store, without acting again. */
  replayed?: boolean;
}

export interface ExecutionSummary {
  devboxId: string;
  executionId: string;
  command: string;
  status: "queued" | "running" | "completed";
  exitStatus?: number;
  /** Host pid of the sandbox launcher (its process group), while it runs. */
  pid?: number;
}

export interface FakeRunloop {
  baseUrl: string;
  port: number;
  /** Host directory holding every devbox's fs/ and exec/; removed by close(). */
  rootDir: string;
  requests: RecordedRequest[];
  faultCounts: FaultCounts;
  /** Requests that matched `route` (a template), optionally only with `method`. */
  count(route: string, method?: string): number;
  /** Devboxes whose status is neither shutdown nor failure. */
  liveDevboxes(): number;
  devboxes(): DevboxView[];
  executions(devboxId?: string): ExecutionSummary[];
  /** Host pids of running sandboxes (bwrap launchers, each leading its process group). */
  processIds(devboxId?: string): number[];
  setFaults(faults: Faults): void;
  seedBenchmark(seed: BenchmarkSeed): BenchmarkView;
  seedScenario(seed: ScenarioSeed): ScenarioView;
  seedBlueprint(id: string, seed?: ImageSeed): void;
  /** How many blueprint builds POST /v1/blueprints started. */
  blueprintBuilds(): number;
  seedSnapshot(id: string, seed?: ImageSeed): void;
  /** Create or update a secret without going through HTTP. */
  setSecret(name: string, value: string): void;
  secretValue(name: string): string | undefined;
  benchmarks(): BenchmarkView[];
  scenarios(): ScenarioView[];
  scenarioRun(id: string): ScenarioRunView | undefined;
  /** The job's BenchmarkJobView, as GET would answer. */
  job(id: string): Record<string, unknown> | undefined;
  /** Advance one job (or every job) by one step. */
  step(jobId?: string): void;
  /** Step the job until it ends; returns its final view. */
  runJob(jobId: string, maxSteps?: number): Record<string, unknown>;
  /** Fail a running or queued job now with `reason`. */
  failJob(jobId: string, reason: string): void;
  /** Shut every devbox down (killing its processes), end long polls, remove temp dirs, stop. */
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024 * 1024;

export async function startFakeRunloop(options: FakeRunloopOptions): Promise<FakeRunloop> {
  const root = await mkdtemp(join(options.tmpDir ?? tmpdir(), "rl-fake-"));
  const bwrap = SandboxHost.find();
  const notifier = new Notifier();
  const catalogue = new Catalogue();
  if (options.seedDefaults ?? true) seedDefaults(catalogue);
  const secrets = new SecretStore();
  const devboxes = new DevboxStore({
    root,
    host: bwrap === null ? null : new SandboxHost(bwrap),
    notifier,
    catalogue,
    secrets,
    provisionDelayMs: options.provisionDelayMs ?? 20,
    longPollHoldMs: options.longPollHoldMs ?? 25_000,
  });
  const scenarioRuns = new ScenarioRunStore(catalogue, devboxes, notifier);
  const jobs = new JobStore({
    catalogue,
    secrets,
    scenarioRuns,
    notifier,
    outcome: options.outcome ?? defaultOutcome,
    ...(options.jobFailure !== undefined ? { jobFailure: options.jobFailure } : {}),
    realJobDevboxes: options.realJobDevboxes ?? false,
    jobStepMs: options.jobStepMs ?? 50,
  });
  const blueprints = new BlueprintStore(catalogue, devboxes);
  const router = new Router();
  blueprints.routes(router);
  secrets.routes(router);
  catalogue.routes(router);
  devboxes.routes(router);
  scenarioRuns.routes(router);
  jobs.routes(router);

  const faults = new FaultInjector(options.faults);
  const requests: RecordedRequest[] = [];
  /** method + path + x-request-id → the first answer (non-GET only). */
  const idempotent = new Map<string, Promise<Reply>>();
  let closing = false;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const method = req.method ?? "GET";
    const path = url.pathname;
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && sent !== "" ? sent : null;
    const match = router.match(method, path);
    const record: RecordedRequest = {
      method,
      route: match?.template ?? null,
      path,
      status: 0,
      requestId,
    };
    requests.push(record);
    const send = (reply: Reply): void => {
      record.status = reply.status;
      res.writeHead(reply.status, {
        ...reply.headers,
        "x-request-id": requestId ?? newId("req_"),
        "content-length": String(reply.body.length),
      });
      res.end(reply.body);
    };

    const decision = faults.decide(path);
    if (decision.kind === "reset") {
      record.fault = "reset";
      req.socket.destroy();
      return;
    }
    const raw = await readBody(req);
    if (raw === null) {
      send(errorReply(413, "request body too large"));
      return;
    }
    if (decision.slowMs > 0) await new Promise((r) => setTimeout(r, decision.slowMs));
    if (closing) {
      send(errorReply(503, "the fake Runloop server is shutting down"));
      return;
    }
    if (decision.kind === "5xx") {
      record.fault = "5xx";
      send(errorReply(500, "injected fault: internal server error"));
      return;
    }
    if (decision.kind === "429") {
      record.fault = "429";
      send(errorReply(429, "injected fault: too many requests", faults.retryHeaders()));
      return;
    }

    const auth = req.headers.authorization ?? "";
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (token !== undefined && options.forbiddenKeys?.includes(token)) {
      send(errorReply(403, "this API key may not use the API"));
      return;
    }
    if (token !== options.apiKey) {
      send(
        errorReply(401, token === undefined ? "missing bearer token" : "invalid API key", {
          "www-authenticate": "Bearer",
        }),
      );
      return;
    }
    if (match === null) {
      send(errorReply(404, `no route for ${method} ${path}`));
      return;
    }

    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const ctx: Ctx = {
      method,
      path,
      params: match.params,
      query: url.searchParams,
      contentType: req.headers["content-type"] ?? "",
      raw,
      signal: abort.signal,
      body: () => {
        const text = raw.toString("utf8").trim();
        if (text === "") return {};
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw new ApiError(400, "request body is not valid JSON");
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          throw new ApiError(400, "request body must be a JSON object");
        }
        return value as Record<string, unknown>;
      },
    };
    const run = async (): Promise<Reply> => {
      try {
        return await match.handler(ctx);
      } catch (err) {
        if (err instanceof ApiError) return errorReply(err.status, err.message);
        return errorReply(500, `fake server error: ${(err as Error).message}`);
      }
    };

    const key =
      method !== "GET" && requestId !== null && !match.template.endsWith("/wait_for_status")
        ? `${method} ${path} ${requestId}`
        : null;
    let reply: Promise<Reply>;
    if (key !== null && idempotent.has(key)) {
      record.replayed = true;
      reply = idempotent.get(key)!;
    } else {
      reply = run();
      if (key !== null) {
        idempotent.set(key, reply);
        // Only final answers are kept: a retry after a 5xx, 408 or 429 acts again.
        void reply.then((r) => {
          if (r.status >= 500 || r.status === 408 || r.status === 429) idempotent.delete(key);
        });
      }
    }
    const answer = await reply;
    if (res.destroyed) {
      record.status = answer.status;
      return;
    }
    if (decision.kind === "afterCommit" && !record.replayed) {
      record.fault = "afterCommit";
      send(errorReply(500, "injected fault: failed after the work was done"));
      return;
    }
    send(answer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const execs = (devboxId?: string): ExecutionSummary[] => {
    const out: ExecutionSummary[] = [];
    for (const d of devboxes.all.values()) {
      if (devboxId !== undefined && d.id !== devboxId) continue;
      for (const e of d.executions.values()) {
        out.push({
          devboxId: d.id,
          executionId: e.id,
          command: e.command,
          status: e.status,
          ...(e.exitStatus !== undefined ? { exitStatus: e.exitStatus } : {}),
          ...(e.status !== "completed" && e.proc !== null ? { pid: e.proc.pid } : {}),
        });
      }
    }
    return out;
  };

  const fake: FakeRunloop = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    rootDir: root,
    requests,
    faultCounts: faults.counts,
    count: (route, method) =>
      requests.filter((r) => r.route === route && (method === undefined || r.method === method))
        .length,
    liveDevboxes: () => devboxes.live().length,
    devboxes: () => [...devboxes.all.values()].map((d) => devboxes.view(d)),
    executions: execs,
    processIds: (devboxId) => devboxes.pids(devboxId),
    setFaults: (f) => faults.set(f),
    seedBenchmark: (seed) => catalogue.seedBenchmark(seed),
    seedScenario: (seed) => catalogue.seedScenario(seed),
    blueprintBuilds: () => blueprints.builds,
    seedBlueprint: (id, seed = {}) => {
      catalogue.blueprints.set(id, seed);
    },
    seedSnapshot: (id, seed = {}) => {
      catalogue.snapshots.set(id, seed);
    },
    setSecret: (name, value) => {
      secrets.set(name, value);
    },
    secretValue: (name) => secrets.value(name),
    benchmarks: () => [...catalogue.benchmarks.values()],
    scenarios: () => [...catalogue.scenarios.values()].map((s) => s.view),
    scenarioRun: (id) => {
      const run = scenarioRuns.all.get(id);
      return run === undefined ? undefined : scenarioRuns.view(run);
    },
    job: (id) => {
      const job = jobs.jobs.get(id);
      return job === undefined ? undefined : jobs.view(job);
    },
    step: (jobId) => {
      if (jobId !== undefined) jobs.step(jobs.get(jobId));
      else for (const job of jobs.jobs.values()) jobs.step(job);
    },
    runJob: (jobId, maxSteps = 100_000) => {
      const job = jobs.get(jobId);
      for (let i = 0; i < maxSteps && !jobs.isTerminal(job); i++) jobs.step(job);
      if (!jobs.isTerminal(job)) throw new Error(`job ${jobId} did not end in ${maxSteps} steps`);
      return jobs.view(job);
    },
    failJob: (jobId, reason) => jobs.fail(jobs.get(jobId), reason),
    close: async () => {
      if (closing) return;
      closing = true;
      jobs.stop();
      notifier.releaseAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await devboxes.closeAll();
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
  return fake;
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
