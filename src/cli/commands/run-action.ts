import { join, resolve } from "node:path";
import { agentCacheDir } from "../../agents/install.js";
import { resolveAgentEnv } from "../../agents/keys.js";
import { agentVersion, parseAgentSpecs, registerAgentConfig } from "../../agents/registry.js";
import { LocalBackend } from "../../backends/local.js";
import type { Backend } from "../../backends/types.js";
import { isLocalBenchmark, resolveBenchmark, resolveScenarios } from "../../benchmarks/resolve.js";
import type { Task } from "../../benchmarks/task.js";
import { EXIT, UsageError } from "../../core/errors.js";
import { agentLabel, newJobId } from "../../core/ids.js";
import { type AgentRef, type JobEvent, type JobSpec, JobSpecSchema } from "../../core/schemas.js";
import { type JobOutcome, runJob } from "../../orchestrator/job.js";
import { toBenchmarkJobView } from "../../report/runloop-view.js";
import { DEFAULT_BOOTSTRAP } from "../../report/summary-text.js";
import { resultsTable } from "../../report/text.js";
import { isJobId } from "../../store/jobs.js";
import { defaultJobsDir } from "../../store/paths.js";
import { RUNNER_JOB_ID_ENV, startDetachedRunner } from "../detach.js";
import type { Io } from "../io.js";
import { loadJob, viewOf } from "../job-context.js";
import { createProgressView } from "../live-view.js";
import { rliVersion } from "../main.js";
import { paintFor, printDocument } from "../output.js";
import {
  boundedCount,
  choice,
  envPairs,
  metadataPairs,
  type OutputFormat,
  outputFormat,
  positiveInt,
  positiveNumber,
} from "../parse.js";
import { removeJobLeftovers } from "./cleanup-action.js";
import type { RunFlags } from "./run.js";

/** Retries per trial unless --max-retries says otherwise; and the most it may say. */
const DEFAULT_MAX_RETRIES = 2;
const MAX_RETRIES_LIMIT = 10;

/** RLI_RETRY_BASE_MS: the mean backoff before a trial's first retry, in ms (default 2000). */
export function retryBaseFromEnv(env: NodeJS.ProcessEnv): number | null {
  const value = env.RLI_RETRY_BASE_MS;
  if (value === undefined) return null;
  return boundedCount("RLI_RETRY_BASE_MS", value, 600_000);
}

/** The id a detached runner was told to use (set by the process that detached it). */
function runnerJobId(env: NodeJS.ProcessEnv): string | null {
  const id = env[RUNNER_JOB_ID_ENV];
  if (id === undefined) return null;
  if (!isJobId(id)) throw new UsageError(`${RUNNER_JOB_ID_ENV} is not a job id: "${id}"`);
  return id;
}

/** `run --detach`: everything is validated; start the runner in the background and say how to follow it. */
async function detach(
  io: Io,
  jobsDir: string,
  spec: JobSpec,
  output: "text" | "json" | "yaml",
): Promise<number> {
  if (io.argv === undefined)
    throw new UsageError("--detach needs the command line it was run with");
  const jobId = newJobId();
  const dir = await startDetachedRunner({ argv: io.argv, env: io.env, jobsDir, jobId });
  if (output === "text") {
    const timeout =
      spec.timeout_sec !== null ? `${spec.timeout_sec}s` : "each task's own, else 7200s";
    io.out(
      `Benchmark job created: ${jobId} (agent timeout = ${timeout})\nFollow the run with "rli benchmark-job watch ${jobId}"\n`,
    );
    io.err(`Runner log: ${join(dir, "runner.log")}\n`);
  } else {
    await printDocument(io, output, viewOf(await loadJob(jobsDir, dir)));
  }
  return EXIT.ok;
}

/** `--backend runloop`: loaded only when asked for (the HTTP client is not needed for local runs). */
export async function runloopBackend(blueprint: string | undefined, io: Io): Promise<Backend> {
  const [{ RunloopBackend }, { clientFromEnv }] = await Promise.all([
    import("../../backends/runloop.js"),
    import("../../runloop/from-env.js"),
  ]);
  const client = clientFromEnv(io.env);
  await client.ping();
  return new RunloopBackend({
    client,
    ...(blueprint === undefined
      ? {}
      : blueprint.startsWith("bpt_")
        ? { blueprintId: blueprint }
        : { blueprintName: blueprint }),
  });
}

/**
 * Whether this run is a server-side Runloop job: `--remote`, a `bmd_` id, `scn_` scenario ids, or a
 * benchmark name that is neither built in nor a directory (a Runloop benchmark name, when a Runloop key
 * is set; otherwise the local "unknown benchmark" error stands, with a hint).
 */
async function isServerSideJob(flags: RunFlags, io: Io): Promise<boolean> {
  const scenarios = flags.scenarios ?? [];
  const remoteIds = scenarios.filter((s) => s.startsWith("scn_"));
  if (remoteIds.length > 0 && remoteIds.length < scenarios.length) {
    throw new UsageError(
      `Cannot mix Runloop scenario ids (${remoteIds[0]}) with local scenarios (${scenarios.find((s) => !s.startsWith("scn_"))}) in one job`,
    );
  }
  if (flags.benchmark !== undefined) {
    if (flags.benchmark.startsWith("bmd_")) return true;
    if (await isLocalBenchmark(flags.benchmark)) {
      if (flags.remote === true) {
        throw new UsageError(
          `--remote runs Runloop benchmarks, and "${flags.benchmark}" is a local benchmark; to run it on Runloop devboxes use --backend runloop`,
        );
      }
      return false;
    }
    if (flags.remote === true || io.env.RUNLOOP_API_KEY?.trim()) return true;
    // Neither local nor (without a key) Runloop: resolveBenchmark gives the local error with its hint.
    return false;
  }
  if (remoteIds.length > 0) return true;
  if (flags.remote === true) {
    throw new UsageError(
      "--remote runs Runloop benchmarks: pass --benchmark <bmd_ id or Runloop name> or --scenarios <scn_ ids>",
    );
  }
  return false;
}

/**
 * `--backend local` (the default): bubblewrap for host tasks and, when the job has image tasks, Docker for
 * those (a one-line error when no daemon answers); `--backend docker`: every task in Docker.
 */
export async function localBackend(
  name: "local" | "docker",
  sandboxMode: "bubblewrap" | "none",
  tasks: readonly Task[],
  io: Io,
): Promise<Backend> {
  const imageTasks = tasks.filter((t) => t.environment.kind === "image" && t.runloop === undefined);
  const docker = async () => {
    const { DockerBackend } = await import("../../backends/docker.js");
    return DockerBackend.connect({ agentCacheDir: agentCacheDir(io.env) });
  };
  if (name === "docker") return docker();
  const host = new LocalBackend(sandboxMode);
  if (imageTasks.length === 0) return host;
  const { RoutingBackend } = await import("../../backends/route.js");
  return new RoutingBackend(host, await docker());
}

/** Runloop-hosted scenarios for `--backend runloop`: each trial is a scenario run scored by Runloop. */
async function runloopTasks(
  flags: RunFlags,
  io: Io,
): Promise<{ kind: "runloop"; source: string | string[]; tasks: Task[] }> {
  const [{ runloopScenarioTasks }, { clientFromEnv }] = await Promise.all([
    import("../../remote/scenarios.js"),
    import("../../runloop/from-env.js"),
  ]);
  const target =
    flags.benchmark !== undefined
      ? { benchmark: flags.benchmark }
      : { scenarios: flags.scenarios ?? [] };
  return { kind: "runloop", ...(await runloopScenarioTasks(clientFromEnv(io.env), target)) };
}

/** Validate everything, then run the job. Nothing is written before every input has been checked. */
export async function runAction(flags: RunFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output);
  if (flags.resume !== undefined) {
    const clash = (
      [
        ["--agent", flags.agent],
        ["--benchmark", flags.benchmark],
        ["--scenarios", flags.scenarios],
        ["--agent-config", flags.agentConfig],
        ["--detach", flags.detach],
        ["--remote", flags.remote],
        ["--fail-under", flags.failUnder],
        ["--fail-if-worse-than", flags.failIfWorseThan],
      ] as const
    ).find(([, v]) => v !== undefined);
    if (clash !== undefined) {
      throw new UsageError(
        `--resume continues a job with its own agents and scenarios; drop ${clash[0]}`,
      );
    }
    const { resumeAction } = await import("./resume-action.js");
    return resumeAction(
      flags.resume,
      { output: flags.output, ...(flags.jobsDir !== undefined ? { jobsDir: flags.jobsDir } : {}) },
      io,
    );
  }
  const agentConfig = flags.agentConfig === undefined ? null : resolve(flags.agentConfig);
  if (agentConfig !== null) await registerAgentConfig(agentConfig);
  const agents = parseAgentSpecs(flags.agent ?? []);
  const envVars = envPairs(flags.envVars ?? [], "env");
  const secretRefs = envPairs(flags.secrets ?? [], "secret");
  const timeoutSec =
    flags.timeout === undefined ? null : positiveNumber("--timeout", flags.timeout);
  const nAttempts = positiveInt("--n-attempts", flags.nAttempts);
  const nConcurrent = positiveInt("--n-concurrent-trials", flags.nConcurrentTrials);
  const multiplier = positiveNumber("--timeout-multiplier", flags.timeoutMultiplier);
  const maxRetries =
    flags.maxRetries === undefined
      ? DEFAULT_MAX_RETRIES
      : boundedCount("--max-retries", flags.maxRetries, MAX_RETRIES_LIMIT);
  const retryBaseMs = retryBaseFromEnv(io.env);
  const metadata = metadataPairs(flags.metadata);
  const sandboxMode = choice("--sandbox", flags.sandbox, ["bubblewrap", "none"] as const);
  const backendName = choice("--backend", flags.backend, ["local", "docker", "runloop"] as const);
  if (flags.benchmark === undefined && flags.scenarios === undefined) {
    throw new UsageError("Either --benchmark or --scenarios must be specified");
  }
  if (flags.benchmark !== undefined && flags.scenarios !== undefined) {
    throw new UsageError("Cannot specify both --benchmark and --scenarios");
  }
  const hosted = await isServerSideJob(flags, io);
  const gated = flags.failUnder !== undefined || flags.failIfWorseThan !== undefined;
  if (gated && (flags.detach === true || (hosted && backendName !== "runloop"))) {
    throw new UsageError(
      `--fail-under and --fail-if-worse-than wait for the job to end: with ${flags.detach === true ? "--detach" : "a server-side job"}, run rli bmj summary <id> with them once it has`,
    );
  }
  const jobsDir = flags.jobsDir ?? defaultJobsDir(io.env);
  // Checked, and the baseline job read, before anything runs.
  const gates = gated
    ? await (await import("../gates.js")).gatesOf(flags, jobsDir, DEFAULT_BOOTSTRAP)
    : undefined;
  if (hosted && backendName !== "runloop") {
    if (flags.maxRetries !== undefined) {
      throw new UsageError(
        "--max-retries applies to jobs run from here; a server-side Runloop job (--remote) has no retry setting",
      );
    }
    const { runRemote } = await import("./run-remote.js");
    return runRemote(
      {
        flags,
        agents,
        envVars,
        secretRefs,
        timeoutSec,
        nAttempts,
        nConcurrent,
        multiplier,
        metadata,
        output,
      },
      io,
    );
  }
  const secretValues = secretValuesFrom(secretRefs, io.env);

  // Each agent's own keys and base URLs from this environment; a missing required key stops here.
  const agentEnv = resolveAgentEnv(
    agents,
    io.env,
    new Set([...Object.keys(envVars), ...Object.keys(secretRefs)]),
  );

  const resolved = hosted
    ? await runloopTasks(flags, io)
    : flags.benchmark !== undefined
      ? await resolveBenchmark(flags.benchmark)
      : await resolveScenarios(flags.scenarios ?? []);
  const backend =
    backendName === "runloop"
      ? await runloopBackend(flags.runloopBlueprint, io)
      : await localBackend(backendName, sandboxMode, resolved.tasks, io);
  const unsupported = resolved.tasks.flatMap((t) => {
    const reason = backend.unsupportedReason(t);
    return reason === null ? [] : [reason];
  });
  if (unsupported.length > 0) {
    const more = unsupported.length > 1 ? ` (and ${unsupported.length - 1} more)` : "";
    throw new UsageError(`${unsupported[0]}${more}`);
  }
  await printWarnings(backend, resolved.tasks, io);
  if (sandboxMode === "none" && backendName === "local") {
    io.err(
      "Warning: --sandbox none: agents and tests run unconfined on this machine, as root, with its network and files (task paths such as /app are mapped in a private mount namespace; their empty mount points are created on the host)\n",
    );
  }

  const benchLabel = Array.isArray(resolved.source) ? "scenarios" : resolved.source;
  const spec: JobSpec = JobSpecSchema.parse({
    name: flags.jobName ?? `${benchLabel}: ${agents.map(agentLabel).join(", ")}`,
    benchmark: { kind: resolved.kind, source: resolved.source },
    scenarios: resolved.tasks.map((t) => ({
      id: t.id,
      name: t.name,
      path: t.dir,
      digest: t.digest,
    })),
    agents,
    n_attempts: nAttempts,
    n_concurrent_trials: nConcurrent,
    timeout_sec: timeoutSec,
    timeout_multiplier: multiplier,
    max_retries: maxRetries,
    env_vars: envVars,
    secrets: secretRefs,
    ...(Object.values(agentEnv.names).some((n) => n.length > 0)
      ? { agent_env: agentEnv.names }
      : {}),
    metadata,
    agent_versions: Object.fromEntries(agents.map((a) => [a.name, agentVersion(a.name)])),
    ...(agentConfig !== null ? { agent_config: agentConfig } : {}),
    backend: backendName,
    sandbox: sandboxMode,
    ...(flags.runloopBlueprint !== undefined ? { runloop_blueprint: flags.runloopBlueprint } : {}),
  });

  if (flags.detach === true) return detach(io, jobsDir, spec, output);
  const jobId = runnerJobId(io.env) ?? newJobId();
  io.claimInterrupt("Cancelling: stopping running trials and tearing down sandboxes", () =>
    removeJobLeftovers(io, jobId, whereSandboxesLive(backendName, resolved.tasks)),
  );
  const nTrials = resolved.tasks.length * agents.length * nAttempts;
  return runWithProgress(
    io,
    output,
    { jobId, name: spec.name, agents, nTrials, history: [] },
    (onEvent) =>
      runJob({
        jobId,
        jobsDir,
        spec,
        tasks: resolved.tasks,
        ...runtimeOptions(io, backend, secretValues, agentEnv.values, retryBaseMs),
        onEvent,
      }),
    gates === undefined
      ? undefined
      : async (outcome) =>
          (await import("../gates.js")).checkGates(outcome.job, outcome.results, gates, io),
  );
}

/**
 * Run a job (new or resumed) with its progress on stderr, then print it as `run` does; the exit code
 * says how it ended.
 */
export async function runWithProgress(
  io: Io,
  output: OutputFormat,
  job: {
    jobId: string;
    name: string;
    agents: readonly AgentRef[];
    nTrials: number;
    /** Events of the job so far (a resumed job's), folded in before the view shows anything. */
    history: readonly JobEvent[];
  },
  run: (onEvent: (e: JobEvent) => void) => Promise<JobOutcome>,
  /** CI gates over a completed job: their exit code (EXIT.ok when they pass). */
  gate?: (outcome: JobOutcome) => Promise<number>,
): Promise<number> {
  const view = await createProgressView(
    io,
    { jobId: job.jobId, name: job.name },
    job.agents,
    job.nTrials,
    output === "text" && io.stderrIsTTY,
    job.history,
  );
  let outcome: JobOutcome;
  try {
    outcome = await run((e) => view.onEvent(e));
  } finally {
    view.stop();
  }
  if (output === "text") {
    io.out(resultsTable(outcome.job, outcome.results, await paintFor(io, "out")));
    io.err(`\nJob directory: ${outcome.dir}\n`);
  } else {
    const doc = toBenchmarkJobView({
      dir: outcome.dir,
      job: outcome.job,
      results: outcome.results,
      runnerAlive: true,
    });
    await printDocument(io, output, doc);
  }
  if (outcome.job.state === "cancelled") return EXIT.interrupted;
  if (outcome.job.state !== "completed") return EXIT.failure;
  return gate === undefined ? EXIT.ok : gate(outcome);
}

/** What a job needs from this process besides its spec: where and with what it runs. */
export function runtimeOptions(
  io: Io,
  backend: Backend,
  secretValues: Record<string, string>,
  agentEnv: Record<string, Record<string, string>>,
  retryBaseMs: number | null,
) {
  return {
    backend,
    secretValues,
    agentEnv,
    agentCacheDir: agentCacheDir(io.env),
    signal: io.interrupt,
    ...(retryBaseMs !== null ? { retryBaseMs } : {}),
    rliVersion: rliVersion(),
  };
}

/** The values of --secrets ENV=NAME from this environment; a missing one is a one-line error. */
export function secretValuesFrom(
  refs: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [envName, source] of Object.entries(refs)) {
    const value = env[source];
    if (value === undefined) {
      throw new UsageError(
        `Secret ${source} (for ${envName}) is not set in this environment; export ${source} or drop --secrets ${envName}=${source}`,
      );
    }
    values[envName] = value;
  }
  return values;
}

/** Where a job's sandboxes live besides this machine's processes: Docker containers, Runloop devboxes. */
export function whereSandboxesLive(
  backend: "local" | "docker" | "runloop",
  tasks: readonly Task[],
): { docker: boolean; runloop: boolean } {
  return {
    docker:
      backend === "docker" ||
      (backend === "local" && tasks.some((t) => t.environment.kind === "image")),
    runloop: backend === "runloop",
  };
}

/** What the backend will not honour for these tasks, as warnings on stderr. */
export async function printWarnings(
  backend: Backend,
  tasks: readonly Task[],
  io: Io,
): Promise<void> {
  for (const warning of (await backend.warnings?.(tasks)) ?? []) {
    io.err(`Warning: ${warning}\n`);
  }
}
