import type { Catalogue, ScenarioView } from "./catalogue.js";
import {
  badRequest,
  bytes,
  type Ctx,
  json,
  type Notifier,
  nameFilter,
  newId,
  notFound,
  optNumber,
  optObject,
  optString,
  page,
  type Router,
  reqString,
  stableHash,
  stringArray,
  stringMap,
} from "./http.js";
import type { ScenarioRun, ScenarioRunState, ScenarioRunStore } from "./scenario-runs.js";
import type { SecretStore } from "./secrets.js";
import { type ZipEntry, zipBuffer } from "./zip.js";

export type JobState =
  | "initializing"
  | "queued"
  | "running"
  | "completed"
  | "failed"
  | "cancelled"
  | "timeout";
export type RunState = "running" | "canceled" | "completed" | "failed";
export type OutcomeState = "COMPLETED" | "FAILED" | "TIMEOUT" | "CANCELED";

export interface FailureReason {
  exception_type: string;
  exception_message: string;
}

/** What one trial (agent × scenario × attempt) of a server-side job comes to. */
export interface Outcome {
  state: OutcomeState;
  /** In [0, 1]; used only when COMPLETED (default 0). */
  score?: number;
  failure?: FailureReason;
}

/** Decides each trial's outcome. `attempt` counts from 0. */
export type OutcomeFn = (
  agentName: string,
  modelName: string | undefined,
  scenario: ScenarioView,
  attempt: number,
) => Outcome;

/**
 * The default outcomes: agent "oracle" passes everything, "nop" scores 0 everywhere; any other agent
 * gets a stable hash of (agent, model, scenario id, attempt) mod 10: 0 FAILED, 1 TIMEOUT, 2–5 score 1,
 * 6–8 score 0, 9 score 0.5.
 */
export const defaultOutcome: OutcomeFn = (agentName, modelName, scenario, attempt) => {
  if (agentName === "oracle") return { state: "COMPLETED", score: 1 };
  if (agentName === "nop") return { state: "COMPLETED", score: 0 };
  const h = stableHash(`${agentName}\0${modelName ?? ""}\0${scenario.id}\0${attempt}`) % 10;
  if (h === 0) {
    return {
      state: "FAILED",
      failure: { exception_type: "AgentError", exception_message: "agent exited with status 1" },
    };
  }
  if (h === 1) {
    return {
      state: "TIMEOUT",
      failure: { exception_type: "AgentTimeoutError", exception_message: "agent timed out" },
    };
  }
  if (h <= 5) return { state: "COMPLETED", score: 1 };
  if (h <= 8) return { state: "COMPLETED", score: 0 };
  return { state: "COMPLETED", score: 0.5 };
};

export interface AgentConfig {
  type: "job_agent";
  name: string;
  agent_id?: string;
  model_name?: string;
  timeout_seconds?: number;
  kwargs?: Record<string, string>;
  agent_environment?: {
    environment_variables?: Record<string, string>;
    secrets?: Record<string, string>;
  };
}

export interface OrchestratorConfig {
  n_attempts?: number;
  n_concurrent_trials?: number;
  quiet?: boolean;
  timeout_multiplier?: number;
}

/** What the jobFailure option sees of a job being created. */
export interface JobRequest {
  name: string;
  scenarioIds: string[];
  agentConfigs: AgentConfig[];
  metadata: Record<string, string>;
}

interface Trial {
  scenario: ScenarioView;
  attempt: number;
  outcome?: Outcome;
  run?: ScenarioRun;
  final?: OutcomeState;
  failure?: FailureReason;
  startMs?: number;
  endMs?: number;
}

interface BenchmarkRun {
  id: string;
  jobId: string;
  benchmarkId?: string;
  name: string;
  agent: AgentConfig;
  metadata: Record<string, string>;
  startMs: number;
  endMs?: number;
  state: RunState;
  trials: Trial[];
  concurrency: number;
}

interface Job {
  id: string;
  name: string;
  createMs: number;
  state: JobState;
  failureReason?: string;
  source: Record<string, unknown>;
  spec: { scenario_ids: string[]; agent_configs: AgentConfig[]; orchestrator_config?: unknown };
  metadata?: Record<string, string>;
  runs: BenchmarkRun[];
  failAtStart?: string;
  nAttempts: number;
  concurrency: number;
}

export interface JobStoreOptions {
  catalogue: Catalogue;
  secrets: SecretStore;
  scenarioRuns: ScenarioRunStore;
  notifier: Notifier;
  outcome: OutcomeFn;
  /** A reason makes the job fail when it is first processed, with no outcomes. */
  jobFailure?: (job: JobRequest) => string | null | undefined;
  /** Give every trial a real devbox (default: a devbox with a lifecycle but no sandbox). */
  realJobDevboxes: boolean;
  /** Step interval; 0 = only step() moves jobs. */
  jobStepMs: number;
}

const RUN_STATE: Record<OutcomeState, ScenarioRunState> = {
  COMPLETED: "completed",
  FAILED: "failed",
  TIMEOUT: "timeout",
  CANCELED: "canceled",
};

/**
 * Server-side benchmark jobs (reference §2.1, §2.3). Each step: queued → running (one benchmark run per
 * agent config); then per run every started trial advances one state (running → scoring → scored →
 * completed, or running → failed/timeout), free slots (n_concurrent_trials per run) start the next
 * trials (n_attempts × scenarios, in order), and a run whose trials are all done moves from
 * in_progress_runs to benchmark_outcomes. The job ends when no run is running: `cancelled` if every
 * run was canceled, else `completed`.
 */
export class JobStore {
  readonly jobs = new Map<string, Job>();
  readonly runs = new Map<string, BenchmarkRun>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: JobStoreOptions) {
    o.scenarioRuns.benchmarkRunExists = (id) => this.runs.has(id);
    if (o.jobStepMs > 0) {
      this.timer = setInterval(() => {
        for (const job of this.jobs.values()) this.step(job);
      }, o.jobStepMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (job === undefined) throw notFound(`benchmark job ${id}`);
    return job;
  }

  private run(id: string): BenchmarkRun {
    const run = this.runs.get(id);
    if (run === undefined) throw notFound(`benchmark run ${id}`);
    return run;
  }

  isTerminal(job: Job): boolean {
    return !["initializing", "queued", "running"].includes(job.state);
  }

  create(body: Record<string, unknown>): Job {
    const spec = optObject(body, "spec");
    if (spec === undefined) throw badRequest("spec is required");
    const type = reqString(spec, "type");
    let scenarioIds: string[];
    let source: Record<string, unknown>;
    let benchmarkId: string | undefined;
    if (type === "benchmark") {
      benchmarkId = reqString(spec, "benchmark_id");
      const benchmark = this.o.catalogue.benchmark(benchmarkId);
      scenarioIds = [...benchmark.scenarioIds];
      source = { type, benchmark_id: benchmark.id, benchmark_name: benchmark.name };
    } else if (type === "scenarios") {
      scenarioIds = stringArray(spec, "scenario_ids") ?? [];
      if (scenarioIds.length === 0) throw badRequest("spec.scenario_ids must not be empty");
      for (const id of scenarioIds) this.o.catalogue.scenario(id);
      source = { type, scenario_ids: scenarioIds };
    } else if (type === "harbor") {
      throw badRequest("spec.type harbor is not supported by this server");
    } else {
      throw badRequest(`unknown spec.type ${type}: expected benchmark, scenarios or harbor`);
    }
    if (scenarioIds.length === 0) throw badRequest(`benchmark ${benchmarkId} has no scenarios`);
    const rawAgents = spec.agent_configs;
    if (!Array.isArray(rawAgents) || rawAgents.length === 0) {
      throw badRequest("spec.agent_configs must be a non-empty array");
    }
    const agents = rawAgents.map((raw, i) => this.agentConfig(raw, i));
    const orchestrator = optObject(spec, "orchestrator_config") ?? {};
    const attempts = optNumber(orchestrator, "n_attempts");
    const concurrency = optNumber(orchestrator, "n_concurrent_trials");
    const multiplier = optNumber(orchestrator, "timeout_multiplier");
    if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 0)) {
      throw badRequest("orchestrator_config.n_attempts must be a non-negative integer");
    }
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw badRequest("orchestrator_config.n_concurrent_trials must be a positive integer");
    }
    if (multiplier !== undefined && !(multiplier > 0)) {
      throw badRequest("orchestrator_config.timeout_multiplier must be positive");
    }
    const metadata = stringMap(body, "metadata");
    const id = newId("bmj_");
    const createMs = Date.now();
    const name =
      optString(body, "name") ||
      `${type === "benchmark" ? source.benchmark_name : "scenarios"}-${new Date(createMs)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\..*/, "")}-${id.slice(-4)}`;
    const job: Job = {
      id,
      name: name as string,
      createMs,
      state: "queued",
      source,
      spec: {
        scenario_ids: scenarioIds,
        agent_configs: agents,
        ...(spec.orchestrator_config !== undefined ? { orchestrator_config: orchestrator } : {}),
      },
      ...(body.metadata !== undefined ? { metadata } : {}),
      runs: [],
      nAttempts: Math.max(1, attempts ?? 1),
      concurrency: concurrency ?? 1,
    };
    if (benchmarkId !== undefined) job.source.benchmark_id = benchmarkId;
    const failure = this.o.jobFailure?.({
      name: job.name,
      scenarioIds,
      agentConfigs: agents,
      metadata,
    });
    if (failure) job.failAtStart = failure;
    this.jobs.set(id, job);
    this.o.notifier.notify();
    return job;
  }

  private agentConfig(raw: unknown, i: number): AgentConfig {
    const where = `spec.agent_configs[${i}]`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw badRequest(`${where} must be an object`);
    }
    const a = raw as Record<string, unknown>;
    if (a.type !== "job_agent") throw badRequest(`${where}.type must be job_agent`);
    const name = optString(a, "name");
    if (!name) throw badRequest(`${where}.name is required`);
    const timeout = optNumber(a, "timeout_seconds");
    if (timeout !== undefined && !(timeout > 0)) {
      throw badRequest(`${where}.timeout_seconds must be positive`);
    }
    optString(a, "model_name");
    const env = optObject(a, "agent_environment") ?? {};
    stringMap(env, "environment_variables");
    this.o.secrets.resolve(stringMap(env, "secrets"));
    return a as unknown as AgentConfig;
  }

  /** Advance `job` one step (see the class comment). No-op once it has ended. */
  step(job: Job): void {
    if (this.isTerminal(job)) return;
    if (job.state === "queued" || job.state === "initializing") {
      if (job.failAtStart !== undefined) {
        job.state = "failed";
        job.failureReason = job.failAtStart;
      } else {
        job.state = "running";
        for (const agent of job.spec.agent_configs) this.startRun(job, agent);
      }
      this.o.notifier.notify();
      return;
    }
    for (const run of job.runs) if (run.state === "running") this.stepRun(run);
    this.settle(job);
  }

  private startRun(job: Job, agent: AgentConfig): void {
    const trials: Trial[] = [];
    for (let attempt = 0; attempt < job.nAttempts; attempt++) {
      for (const id of job.spec.scenario_ids) {
        trials.push({ scenario: this.o.catalogue.scenario(id).view, attempt });
      }
    }
    const benchmarkId =
      job.source.type === "benchmark" ? String(job.source.benchmark_id) : undefined;
    const run: BenchmarkRun = {
      id: newId("bmr_"),
      jobId: job.id,
      ...(benchmarkId !== undefined ? { benchmarkId } : {}),
      name: `${job.name} ${agent.name}${agent.model_name ? `:${agent.model_name}` : ""}`,
      agent,
      metadata: { benchmark_job_id: job.id },
      startMs: Date.now(),
      state: "running",
      trials,
      concurrency: job.concurrency,
    };
    job.runs.push(run);
    this.runs.set(run.id, run);
  }

  private stepRun(run: BenchmarkRun): void {
    const sr = this.o.scenarioRuns;
    for (const trial of run.trials) {
      if (trial.run === undefined || trial.final !== undefined) continue;
      const outcome = trial.outcome!;
      switch (trial.run.state) {
        case "running":
          if (outcome.state === "COMPLETED") sr.setState(trial.run, "scoring");
          else this.finishTrial(trial, outcome.state, outcome.failure);
          break;
        case "scoring":
          trial.run.result = this.scoringResult(trial);
          sr.setState(trial.run, "scored");
          break;
        default:
          this.finishTrial(trial, "COMPLETED");
      }
    }
    let active = run.trials.filter((t) => t.run !== undefined && t.final === undefined).length;
    for (const trial of run.trials) {
      if (active >= run.concurrency) break;
      if (trial.run !== undefined || trial.final !== undefined) continue;
      this.startTrial(run, trial);
      active++;
    }
    if (run.trials.every((t) => t.final !== undefined)) {
      run.state = "completed";
      run.endMs = Date.now();
      this.o.notifier.notify();
    }
  }

  private startTrial(run: BenchmarkRun, trial: Trial): void {
    trial.startMs = Date.now();
    const outcome = this.o.outcome(
      run.agent.name,
      run.agent.model_name,
      trial.scenario,
      trial.attempt,
    );
    trial.outcome = outcome;
    try {
      trial.run = this.o.scenarioRuns.start({
        scenarioId: trial.scenario.id,
        benchmarkRunId: run.id,
        metadata: { benchmark_job_id: run.jobId, attempt: String(trial.attempt) },
        name: trial.scenario.name,
        envVars: run.agent.agent_environment?.environment_variables ?? {},
        secrets: run.agent.agent_environment?.secrets ?? {},
        purpose: "benchmark_job",
        virtual: !this.o.realJobDevboxes,
      });
      trial.run.syntheticLogs = this.syntheticLogs(run, trial);
    } catch (err) {
      // Setup failed before a scenario run existed: an outcome without scenario_run_id.
      trial.final = "FAILED";
      trial.failure = { exception_type: "SetupError", exception_message: (err as Error).message };
      trial.endMs = Date.now();
    }
  }

  private scoringResult(trial: Trial) {
    const score = clamp(trial.outcome?.score ?? 0);
    const fns = trial.scenario.scoring_contract.scoring_function_parameters;
    return {
      score,
      scoring_function_results: fns.map((fn) => ({
        scoring_function_name: fn.name,
        score,
        output: `fake score ${score}`,
        state: "complete" as const,
      })),
    };
  }

  private finishTrial(trial: Trial, state: OutcomeState, failure?: FailureReason): void {
    trial.final = state;
    if (failure !== undefined) trial.failure = failure;
    trial.endMs = Date.now();
    if (trial.run !== undefined) {
      const score = state === "COMPLETED" ? ` score=${clamp(trial.outcome?.score ?? 0)}` : "";
      trial.run.syntheticLogs?.push(
        { path: "verifier" },
        { path: "verifier/output.txt", data: Buffer.from(`verifier: ${state}${score}\n`) },
      );
      void this.o.scenarioRuns.finish(trial.run, RUN_STATE[state]);
    }
  }

  private syntheticLogs(run: BenchmarkRun, trial: Trial): Array<{ path: string; data?: Buffer }> {
    const model = run.agent.model_name ?? "default";
    const text = `agent ${run.agent.name} (model ${model}) on ${trial.scenario.name}, attempt ${trial.attempt}\n`;
    // Like a careless agent, it prints the environment it was given, keys included.
    const env = Object.entries(run.agent.agent_environment?.secrets ?? {})
      .map(([variable, secret]) => `${variable}=${this.o.secrets.value(secret) ?? ""}\n`)
      .join("");
    return [
      { path: "agent" },
      { path: "agent/output.txt", data: Buffer.from(text) },
      { path: "agent/env.txt", data: Buffer.from(env) },
    ];
  }

  /** Job end: when no run is still running. */
  private settle(job: Job): void {
    if (job.state !== "running" || job.runs.some((r) => r.state === "running")) return;
    job.state = job.runs.every((r) => r.state === "canceled") ? "cancelled" : "completed";
    this.o.notifier.notify();
  }

  /** Cancel a run: its unfinished scenario runs become canceled (outcome CANCELED), unstarted trials
   * are dropped, the run becomes canceled and its job ends if nothing else runs. */
  cancelRun(run: BenchmarkRun): void {
    if (run.state === "canceled") return;
    if (run.state !== "running")
      throw badRequest(`benchmark run ${run.id} is already ${run.state}`);
    for (const trial of run.trials) {
      if (trial.run !== undefined && trial.final === undefined) this.finishTrial(trial, "CANCELED");
    }
    run.state = "canceled";
    run.endMs = Date.now();
    this.o.notifier.notify();
    this.settle(this.get(run.jobId));
  }

  /** Fail a job now: started trials fail with `reason`, running runs become failed. */
  fail(job: Job, reason: string): void {
    if (this.isTerminal(job)) throw new Error(`job ${job.id} already ended (${job.state})`);
    for (const run of job.runs) {
      if (run.state !== "running") continue;
      for (const trial of run.trials) {
        if (trial.run !== undefined && trial.final === undefined) {
          this.finishTrial(trial, "FAILED", {
            exception_type: "JobFailed",
            exception_message: reason,
          });
        }
      }
      run.state = "failed";
      run.endMs = Date.now();
    }
    job.state = "failed";
    job.failureReason = reason;
    this.o.notifier.notify();
  }

  view(job: Job) {
    const v: Record<string, unknown> = {
      id: job.id,
      name: job.name,
      create_time_ms: job.createMs,
      state: job.state,
      job_source: job.source,
      job_spec: job.spec,
      benchmark_outcomes: job.runs.filter((r) => r.state !== "running").map((r) => this.outcome(r)),
      in_progress_runs: job.runs
        .filter((r) => r.state === "running")
        .map((r) => ({
          benchmark_run_id: r.id,
          start_time_ms: r.startMs,
          state: r.state,
          agent_config: r.agent,
        })),
    };
    if (job.failureReason !== undefined) v.failure_reason = job.failureReason;
    if (job.metadata !== undefined) v.metadata = job.metadata;
    return v;
  }

  private outcome(run: BenchmarkRun) {
    const done = run.trials.filter((t) => t.final !== undefined);
    const scores = done
      .filter((t) => t.final === "COMPLETED")
      .map((t) => clamp(t.outcome?.score ?? 0));
    const out: Record<string, unknown> = {
      agent_name: run.agent.name,
      benchmark_run_id: run.id,
      n_completed: scores.length,
      n_failed: done.filter((t) => t.final === "FAILED").length,
      n_timeout: done.filter((t) => t.final === "TIMEOUT").length,
      duration_ms: (run.endMs ?? Date.now()) - run.startMs,
      scenario_outcomes: done.map((t) => {
        const o: Record<string, unknown> = {
          scenario_definition_id: t.scenario.id,
          scenario_name: t.scenario.name,
          state: t.final,
          duration_ms: (t.endMs ?? Date.now()) - (t.startMs ?? t.endMs ?? Date.now()),
        };
        if (t.run !== undefined) o.scenario_run_id = t.run.id;
        if (t.final === "COMPLETED") o.score = clamp(t.outcome?.score ?? 0);
        if (t.failure !== undefined) o.failure_reason = t.failure;
        return o;
      }),
    };
    if (run.agent.model_name !== undefined) out.model_name = run.agent.model_name;
    if (scores.length > 0) out.average_score = scores.reduce((a, b) => a + b, 0) / scores.length;
    return out;
  }

  runView(run: BenchmarkRun) {
    const started = run.trials.filter((t) => t.run !== undefined || t.final !== undefined);
    const sum = started.reduce(
      (acc, t) => acc + (t.final === "COMPLETED" ? clamp(t.outcome?.score ?? 0) : 0),
      0,
    );
    const v: Record<string, unknown> = {
      id: run.id,
      name: run.name,
      metadata: run.metadata,
      start_time_ms: run.startMs,
      state: run.state,
      purpose: "benchmark_job",
    };
    if (run.benchmarkId !== undefined) v.benchmark_id = run.benchmarkId;
    if (run.endMs !== undefined) v.duration_ms = run.endMs - run.startMs;
    if (started.length > 0) v.score = sum / started.length;
    const env = run.agent.agent_environment;
    if (env?.environment_variables) v.environment_variables = env.environment_variables;
    if (env?.secrets) v.secrets_provided = env.secrets;
    return v;
  }

  routes(router: Router): void {
    router.add("POST", "/v1/benchmark_jobs", (ctx) => json(this.view(this.create(ctx.body()))));
    router.add("GET", "/v1/benchmark_jobs", (ctx) =>
      page(
        nameFilter(
          [...this.jobs.values()].reverse(),
          ctx.query,
          (j) => j.name,
          (j) => j.id,
        ),
        ctx.query,
        "jobs",
        (j) => this.view(j),
        (j) => j.id,
      ),
    );
    router.add("GET", "/v1/benchmark_jobs/{id}", (ctx) =>
      json(this.view(this.get(ctx.params.id!))),
    );
    router.add("GET", "/v1/benchmark_runs", (ctx) => {
      const q = ctx.query;
      const list = [...this.runs.values()]
        .reverse()
        .filter(
          (r) =>
            (!q.get("benchmark_id") || r.benchmarkId === q.get("benchmark_id")) &&
            (!q.get("state") || r.state === q.get("state")),
        );
      return page(
        nameFilter(
          list,
          q,
          (r) => r.name,
          (r) => r.id,
        ),
        q,
        "runs",
        (r) => this.runView(r),
        (r) => r.id,
      );
    });
    router.add("GET", "/v1/benchmark_runs/{id}", (ctx) =>
      json(this.runView(this.run(ctx.params.id!))),
    );
    router.add("POST", "/v1/benchmark_runs/{id}/cancel", (ctx) => {
      const run = this.run(ctx.params.id!);
      this.cancelRun(run);
      return json(this.runView(run));
    });
    const scenarioRuns = (ctx: Ctx): ScenarioRun[] => {
      const run = this.run(ctx.params.id!);
      return [...this.o.scenarioRuns.all.values()].filter((r) => r.benchmarkRunId === run.id);
    };
    router.add("GET", "/v1/benchmark_runs/{id}/scenario_runs", (ctx) => {
      const state = ctx.query.get("state");
      const list = scenarioRuns(ctx).filter((r) => !state || r.state === state);
      return page(
        nameFilter(
          list,
          ctx.query,
          (r) => r.name ?? "",
          (r) => r.id,
        ),
        ctx.query,
        "runs",
        (r) => this.o.scenarioRuns.view(r),
        (r) => r.id,
      );
    });
    router.add("POST", "/v1/benchmark_runs/{id}/download_logs", async (ctx) => {
      const entries: ZipEntry[] = [];
      for (const r of scenarioRuns(ctx)) entries.push(...(await this.o.scenarioRuns.logEntries(r)));
      return bytes(await zipBuffer(entries), "application/zip", {
        "content-disposition": 'attachment; filename="benchmark_run_logs.zip"',
      });
    });
  }
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
