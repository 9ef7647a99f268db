import { posix } from "node:path";
import type { Catalogue, ScoringFunction } from "./catalogue.js";
import type { Devbox, DevboxStore } from "./devboxes.js";
import {
  badRequest,
  bytes,
  type Ctx,
  json,
  type Notifier,
  nameFilter,
  newId,
  notFound,
  optObject,
  optString,
  page,
  type Router,
  reqString,
  stringMap,
} from "./http.js";
import { HOME } from "./sandbox.js";
import { type ZipEntry, zipBuffer } from "./zip.js";

export type ScenarioRunState =
  | "running"
  | "scoring"
  | "scored"
  | "completed"
  | "canceled"
  | "timeout"
  | "failed";

export interface ScoringFunctionResult {
  scoring_function_name: string;
  score: number;
  output: string;
  state: "unknown" | "complete" | "error";
}

export interface ScoringContractResult {
  score: number;
  scoring_function_results: ScoringFunctionResult[];
}

/** ScenarioRunView (reference §2.5). */
export interface ScenarioRunView {
  id: string;
  devbox_id: string;
  scenario_id: string;
  state: ScenarioRunState;
  metadata: Record<string, string>;
  start_time_ms: number;
  name?: string;
  benchmark_run_id?: string;
  duration_ms?: number;
  scoring_contract_result?: ScoringContractResult;
  purpose?: string;
  environment_variables?: Record<string, string>;
  secrets_provided?: Record<string, string>;
}

export interface ScenarioRun {
  id: string;
  scenarioId: string;
  devboxId: string;
  state: ScenarioRunState;
  metadata: Record<string, string>;
  startMs: number;
  endMs?: number;
  name?: string;
  benchmarkRunId?: string;
  result?: ScoringContractResult;
  purpose?: string;
  envVars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Server-side job runs: their logs are made up, since no agent really ran. */
  syntheticLogs?: Array<{ path: string; data?: Buffer }>;
}

export interface StartRun {
  scenarioId: string;
  benchmarkRunId?: string;
  metadata?: Record<string, string>;
  name?: string;
  envVars?: Record<string, string>;
  secrets?: Record<string, string>;
  purpose?: string;
  launchParameters?: Record<string, unknown>;
  /** A devbox without a sandbox (server-side job runs). */
  virtual?: boolean;
}

const TERMINAL = new Set<ScenarioRunState>(["completed", "canceled", "timeout", "failed"]);
const OUTPUT_LIMIT = 10_000;

/** Scenario runs (reference §2.5): a devbox per run, real scoring in it, logs as a ZIP. */
export class ScenarioRunStore {
  readonly all = new Map<string, ScenarioRun>();
  /** Set by the job store: whether a benchmark run id exists. */
  benchmarkRunExists: (id: string) => boolean = () => false;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly devboxes: DevboxStore,
    private readonly notifier: Notifier,
  ) {}

  start(req: StartRun): ScenarioRun {
    const scenario = this.catalogue.scenario(req.scenarioId);
    if (req.benchmarkRunId !== undefined && !this.benchmarkRunExists(req.benchmarkRunId)) {
      throw notFound(`benchmark run ${req.benchmarkRunId}`);
    }
    const id = newId("scr_");
    const env = scenario.view.environment;
    const d = this.devboxes.create({
      name: `${scenario.view.name}-${id.slice(-6)}`,
      ...(env.blueprint_id !== undefined ? { blueprintId: env.blueprint_id } : {}),
      ...(env.snapshot_id !== undefined ? { snapshotId: env.snapshot_id } : {}),
      environmentVariables: req.envVars ?? {},
      secrets: req.secrets ?? {},
      metadata: { scenario_run_id: id, scenario_id: scenario.view.id },
      launchParameters: req.launchParameters ?? {},
      files: scenario.files,
      dirs: env.working_directory !== undefined ? [env.working_directory] : [],
      initiatorType: "scenario",
      virtual: req.virtual ?? false,
    });
    const run: ScenarioRun = {
      id,
      scenarioId: scenario.view.id,
      devboxId: d.id,
      state: "running",
      metadata: req.metadata ?? {},
      startMs: Date.now(),
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.benchmarkRunId !== undefined ? { benchmarkRunId: req.benchmarkRunId } : {}),
      ...(req.purpose !== undefined ? { purpose: req.purpose } : {}),
      ...(req.envVars !== undefined ? { envVars: req.envVars } : {}),
      ...(req.secrets !== undefined ? { secrets: req.secrets } : {}),
    };
    this.all.set(id, run);
    this.notifier.notify();
    return run;
  }

  get(id: string): ScenarioRun {
    const run = this.all.get(id);
    if (run === undefined) throw notFound(`scenario run ${id}`);
    return run;
  }

  view(run: ScenarioRun): ScenarioRunView {
    const v: ScenarioRunView = {
      id: run.id,
      devbox_id: run.devboxId,
      scenario_id: run.scenarioId,
      state: run.state,
      metadata: run.metadata,
      start_time_ms: run.startMs,
    };
    if (run.name !== undefined) v.name = run.name;
    if (run.benchmarkRunId !== undefined) v.benchmark_run_id = run.benchmarkRunId;
    if (run.endMs !== undefined) v.duration_ms = run.endMs - run.startMs;
    if (run.result !== undefined) v.scoring_contract_result = run.result;
    if (run.purpose !== undefined) v.purpose = run.purpose;
    if (run.envVars !== undefined) v.environment_variables = run.envVars;
    if (run.secrets !== undefined) v.secrets_provided = run.secrets;
    return v;
  }

  isTerminal(run: ScenarioRun): boolean {
    return TERMINAL.has(run.state);
  }

  setState(run: ScenarioRun, state: ScenarioRunState): void {
    run.state = state;
    this.notifier.notify();
  }

  /** Move to a terminal state and shut the devbox down. */
  async finish(run: ScenarioRun, state: ScenarioRunState): Promise<void> {
    run.endMs ??= Date.now();
    this.setState(run, state);
    const d = this.devboxes.all.get(run.devboxId);
    if (d !== undefined) await this.devboxes.shutdown(d);
  }

  /** Score in the devbox: state `scoring` now, `scored` (with the result) once every scorer ran. */
  score(run: ScenarioRun): void {
    if (run.state !== "running") {
      throw badRequest(`scenario run ${run.id} is ${run.state}; only a running run can be scored`);
    }
    this.setState(run, "scoring");
    void this.runScorers(run).then(
      (result) => {
        if (run.state !== "scoring") return;
        run.result = result;
        this.setState(run, "scored");
      },
      () => {
        // the devbox went away mid-scoring (close()); the run stays as it is
      },
    );
  }

  private async runScorers(run: ScenarioRun): Promise<ScoringContractResult> {
    const scenario = this.catalogue.scenario(run.scenarioId).view;
    const fns = scenario.scoring_contract.scoring_function_parameters;
    const d = this.devboxes.get(run.devboxId);
    await d.ready;
    const cwd = scenario.environment.working_directory ?? HOME;
    const timeoutMs = (scenario.scorer_timeout_sec ?? 1800) * 1000;
    const results: ScoringFunctionResult[] = [];
    for (const fn of fns) {
      let result: ScoringFunctionResult;
      try {
        result = await this.scoreOne(d, fn, cwd, timeoutMs);
      } catch (err) {
        result = {
          scoring_function_name: fn.name,
          score: 0,
          output: (err as Error).message,
          state: "error",
        };
      }
      results.push(result);
    }
    const total = fns.reduce((sum, fn) => sum + Math.max(fn.weight, 0), 0);
    const score = fns.reduce(
      (sum, fn, i) =>
        sum + results[i]!.score * (total > 0 ? Math.max(fn.weight, 0) / total : 1 / fns.length),
      0,
    );
    return { score: round(score), scoring_function_results: results };
  }

  private async scoreOne(
    d: Devbox,
    fn: ScoringFunction,
    cwd: string,
    timeoutMs: number,
  ): Promise<ScoringFunctionResult> {
    const result = (score: number, output: string, state: "complete" | "error" = "complete") => ({
      scoring_function_name: fn.name,
      score,
      output: output.length > OUTPUT_LIMIT ? output.slice(-OUTPUT_LIMIT) : output,
      state,
    });
    if (d.status !== "running" || d.dir === null) {
      return result(0, `devbox ${d.id} is ${d.status}`, "error");
    }
    const run = async (command: string) => {
      const e = this.devboxes.startExecution(d, command, { cwd });
      const timer = setTimeout(() => e.proc?.kill(), timeoutMs);
      await e.done;
      clearTimeout(timer);
      const { stdout, stderr } = await this.devboxes.output(e);
      return { exitStatus: e.exitStatus!, stdout, output: stdout + stderr };
    };
    const s = fn.scorer;
    switch (s.type) {
      case "command_scorer": {
        if (!s.command) return result(0, "command_scorer without a command", "error");
        const r = await run(s.command);
        return result(r.exitStatus === 0 ? 1 : 0, r.output);
      }
      case "bash_script_scorer":
      case "python_script_scorer": {
        let command: string;
        if (s.type === "bash_script_scorer") {
          if (!s.bash_script) return result(0, "bash_script_scorer without a script", "error");
          command = s.bash_script;
        } else {
          const file = `/tmp/.scorer-${fn.name}.py`;
          await this.devboxes.writeFile(d, file, Buffer.from(s.python_script));
          command = `python3 ${file}`;
        }
        const r = await run(command);
        const score = parseScore(r.stdout);
        if (score === null) {
          return result(0, `no score in the output (exit ${r.exitStatus}):\n${r.output}`, "error");
        }
        return result(score, r.output);
      }
      case "test_based_scorer": {
        for (const file of s.test_files ?? []) {
          if (!file.file_path) continue;
          const path = file.file_path.startsWith("/")
            ? file.file_path
            : posix.join(cwd, file.file_path);
          await this.devboxes.writeFile(d, path, Buffer.from(file.file_contents ?? ""));
        }
        if (!s.test_command) return result(0, "test_based_scorer without a test_command", "error");
        const r = await run(s.test_command);
        return result(r.exitStatus === 0 ? 1 : 0, r.output);
      }
      default:
        return result(0, `scorer type ${s.type} is not supported by the fake`, "error");
    }
  }

  /** The run's logs ZIP: entries named `<runId>_…`, the devbox's /logs under `<runId>_logs/`. */
  async logsZip(run: ScenarioRun): Promise<Buffer> {
    return await zipBuffer(await this.logEntries(run));
  }

  async logEntries(run: ScenarioRun): Promise<ZipEntry[]> {
    const prefix = `${run.id}_`;
    const entries: ZipEntry[] = [{ name: `${prefix}logs/`, dir: true }];
    const d = this.devboxes.all.get(run.devboxId);
    const files = run.syntheticLogs ?? (d !== undefined ? await this.devboxes.logsDir(d) : []);
    for (const f of files) {
      entries.push(
        f.data === undefined
          ? { name: `${prefix}logs/${f.path}/`, dir: true }
          : { name: `${prefix}logs/${f.path}`, data: f.data },
      );
    }
    const execLog = (d?.logs ?? []).map(({ executionId: _, ...entry }) => JSON.stringify(entry));
    entries.push({ name: `${prefix}devbox_exec.log`, data: Buffer.from(execLog.join("\n")) });
    entries.push({
      name: `${prefix}scenario_run.json`,
      data: Buffer.from(`${JSON.stringify(this.view(run), null, 2)}\n`),
    });
    return entries;
  }

  routes(router: Router): void {
    const runOf = (ctx: Ctx) => this.get(ctx.params.id!);
    router.add("POST", "/v1/scenarios/start_run", (ctx) => {
      const body = ctx.body();
      const profile = optObject(body, "runProfile") ?? {};
      const run = this.start({
        scenarioId: reqString(body, "scenario_id"),
        benchmarkRunId: optString(body, "benchmark_run_id"),
        metadata: stringMap(body, "metadata"),
        name: optString(body, "run_name"),
        ...(profile.envVars !== undefined ? { envVars: stringMap(profile, "envVars") } : {}),
        ...(profile.secrets !== undefined ? { secrets: stringMap(profile, "secrets") } : {}),
        purpose: optString(profile, "purpose"),
        launchParameters: optObject(profile, "launchParameters") ?? {},
      });
      return json(this.view(run));
    });
    router.add("GET", "/v1/scenarios/runs", (ctx) => {
      const q = ctx.query;
      const filters: Array<[string, (r: ScenarioRun) => string | undefined]> = [
        ["benchmark_run_id", (r) => r.benchmarkRunId],
        ["scenario_id", (r) => r.scenarioId],
        ["state", (r) => r.state],
      ];
      const list = [...this.all.values()]
        .reverse()
        .filter((r) => filters.every(([key, get]) => !q.get(key) || get(r) === q.get(key)));
      return page(
        nameFilter(
          list,
          q,
          (r) => r.name ?? "",
          (r) => r.id,
        ),
        q,
        "runs",
        (r) => this.view(r),
        (r) => r.id,
      );
    });
    router.add("GET", "/v1/scenarios/runs/{id}", (ctx) => json(this.view(runOf(ctx))));
    router.add("POST", "/v1/scenarios/runs/{id}/score", (ctx) => {
      const run = runOf(ctx);
      if (run.syntheticLogs !== undefined) {
        throw badRequest(`scenario run ${run.id} belongs to a benchmark job; the job scores it`);
      }
      this.score(run);
      return json(this.view(run));
    });
    router.add("POST", "/v1/scenarios/runs/{id}/complete", async (ctx) => {
      const run = runOf(ctx);
      if (run.state !== "scored") {
        throw badRequest(`scenario run ${run.id} is ${run.state}; only a scored run can complete`);
      }
      await this.finish(run, "completed");
      return json(this.view(run));
    });
    router.add("POST", "/v1/scenarios/runs/{id}/cancel", async (ctx) => {
      const run = runOf(ctx);
      if (run.state === "canceled") return json(this.view(run));
      if (this.isTerminal(run)) throw badRequest(`scenario run ${run.id} is already ${run.state}`);
      await this.finish(run, "canceled");
      return json(this.view(run));
    });
    router.add("POST", "/v1/scenarios/runs/{id}/download_logs", async (ctx) =>
      bytes(await this.logsZip(runOf(ctx)), "application/zip", {
        "content-disposition": 'attachment; filename="scenario_run_logs.zip"',
      }),
    );
  }
}

/** `score=<x>` (last one wins) or a bare number on the last non-empty line, within [0, 1]. */
export function parseScore(stdout: string): number | null {
  const lines = stdout.split("\n").map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /score\s*[=:]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)/i.exec(lines[i]!);
    if (m) return inRange(Number(m[1]));
  }
  const last = lines.filter((l) => l !== "").at(-1);
  if (last !== undefined && /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(last)) {
    return inRange(Number(last));
  }
  return null;
}

function inRange(x: number): number | null {
  return Number.isFinite(x) && x >= 0 && x <= 1 ? x : null;
}

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
