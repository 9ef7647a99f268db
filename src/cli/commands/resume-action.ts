import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { resolveAgentEnv } from "../../agents/keys.js";
import { agentVersion, registerAgentConfig } from "../../agents/registry.js";
import type { Backend } from "../../backends/types.js";
import { loadTask, type Task } from "../../benchmarks/task.js";
import { TRIAL_STATUSES } from "../../core/constants.js";
import { EnvironmentError, EXIT, errorMessage, UsageError } from "../../core/errors.js";
import type { JobDoc, TrialStatus } from "../../core/schemas.js";
import { resumeJob } from "../../orchestrator/job.js";
import { planTrials } from "../../orchestrator/plan.js";
import { planResume, resumeConflicts } from "../../orchestrator/resume.js";
import { resolveJobDir } from "../../store/jobs.js";
import { runnerAlive } from "../../store/runner.js";
import { EVENTS_FILE, parseEvents, readJob, readResults } from "../../store/store.js";
import type { Io } from "../io.js";
import { jobsDirOf } from "../job-context.js";
import { outputFormat } from "../parse.js";
import { isRemoteJobId } from "../remote.js";
import { removeJobLeftovers } from "./cleanup-action.js";
import type { ResumeFlags } from "./resume.js";
import {
  localBackend,
  printWarnings,
  retryBaseFromEnv,
  runloopBackend,
  runtimeOptions,
  runWithProgress,
  secretValuesFrom,
  whereSandboxesLive,
} from "./run-action.js";

/** `--rerun a,b`: trial statuses, each one we know. */
export function rerunStatuses(value: string): Set<TrialStatus> {
  const known: readonly string[] = TRIAL_STATUSES;
  const out = new Set<TrialStatus>();
  for (const raw of value.split(",")) {
    const s = raw.trim();
    if (s === "") continue;
    if (!known.includes(s)) {
      throw new UsageError(`--rerun: unknown status "${s}"; allowed: ${TRIAL_STATUSES.join(", ")}`);
    }
    out.add(s as TrialStatus);
  }
  return out;
}

/** Refuse a job whose runner is alive (here or elsewhere): only one process writes a job. */
function checkNotRunning(job: JobDoc): void {
  if (job.state !== "running") return;
  const alive = runnerAlive(job.runner);
  if (alive === true) {
    throw new EnvironmentError(
      `Benchmark job ${job.id} is still running (runner pid ${job.runner.pid}); follow it with "rli bmj watch ${job.id}" or stop it with "rli bmj cancel ${job.id}" first`,
    );
  }
  if (alive === null) {
    throw new EnvironmentError(
      `Benchmark job ${job.id} runs on ${job.runner.hostname} (pid ${job.runner.pid}); resume it there`,
    );
  }
}

/** The job's scenarios as they are now, loaded from where the job found them. */
async function currentTasks(job: JobDoc, io: Io): Promise<{ tasks: Task[]; gone: string[] }> {
  if (job.spec.benchmark.kind === "runloop") {
    const [{ runloopScenarioTasks }, { clientFromEnv }] = await Promise.all([
      import("../../remote/scenarios.js"),
      import("../../runloop/from-env.js"),
    ]);
    const source = job.spec.benchmark.source;
    const target = Array.isArray(source) ? { scenarios: source } : { benchmark: source };
    return { tasks: (await runloopScenarioTasks(clientFromEnv(io.env), target)).tasks, gone: [] };
  }
  const tasks: Task[] = [];
  const gone: string[] = [];
  for (const s of job.spec.scenarios) {
    try {
      tasks.push(await loadTask(s.path, s.id));
    } catch (err) {
      gone.push(`scenario ${s.id} cannot be loaded from ${s.path}: ${errorMessage(err)}`);
    }
  }
  return { tasks, gone };
}

/** Validate, clear the stopped runner's leftovers, then run the job's missing trials. */
export async function resumeAction(id: string, flags: ResumeFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output);
  const rerun = rerunStatuses(flags.rerun ?? "cancelled,infra_error");
  if (isRemoteJobId(id)) {
    throw new UsageError(
      `resume continues jobs run from this machine; ${id} is a server-side Runloop job`,
    );
  }
  const dir = await resolveJobDir(jobsDirOf(flags.jobsDir, io), id);
  const job = await readJob(dir);
  checkNotRunning(job);
  const { spec } = job;
  if (spec.agent_config !== undefined) await registerAgentConfig(spec.agent_config);

  const { tasks, gone } = await currentTasks(job, io);
  const versions = Object.fromEntries(spec.agents.map((a) => [a.name, agentVersion(a.name)]));
  const problems = [...gone, ...resumeConflicts(spec, tasks, versions)];
  if (problems.length > 0 && flags.force !== true) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new UsageError(
      `Cannot resume ${job.id}: ${problems[0]}${more}; --force resumes anyway, with the scenarios and agents as they are now`,
    );
  }
  if (gone.length > 0) {
    throw new UsageError(`Cannot resume ${job.id}: ${gone[0]}`);
  }

  const nTrials = tasks.length * spec.agents.length * spec.n_attempts;
  const plan = planResume(
    planTrials(tasks, spec.agents, spec.n_attempts),
    await readResults(dir),
    rerun,
  );
  // A job whose runner died after its last trial still needs its end recorded: that runs no trial.
  if (plan.run.length === 0 && job.state !== "running") {
    io.err(
      `Nothing to resume: all ${nTrials} trial(s) of ${job.id} have results that stand (--rerun ${[...rerun].join(",") || "''"}); --rerun with more statuses runs those again\n`,
    );
    return EXIT.ok;
  }

  const secretValues = secretValuesFrom(spec.secrets, io.env);
  const agentEnv = resolveAgentEnv(
    spec.agents,
    io.env,
    new Set([...Object.keys(spec.env_vars), ...Object.keys(spec.secrets)]),
  );
  const retryBaseMs = retryBaseFromEnv(io.env);
  const backend: Backend =
    spec.backend === "runloop"
      ? await runloopBackend(spec.runloop_blueprint, io)
      : await localBackend(spec.backend, spec.sandbox, tasks, io);
  const unsupported = tasks.flatMap((t) => backend.unsupportedReason(t) ?? []);
  if (unsupported.length > 0) throw new UsageError(unsupported[0] as string);
  await printWarnings(backend, tasks, io);

  // The stopped runner's containers and devboxes: nobody else will remove them.
  const where = whereSandboxesLive(spec.backend, tasks);
  const removed = await removeJobLeftovers(io, job.id, where);
  const kept = plan.keep.length;
  io.err(
    `Resuming ${job.id}: ${kept} of ${nTrials} trial(s) kept, ${plan.run.length} to run${removed > 0 ? `; removed ${removed} leftover sandbox(es) of the stopped runner` : ""}\n`,
  );

  io.claimInterrupt("Cancelling: stopping running trials and tearing down sandboxes", () =>
    removeJobLeftovers(io, job.id, where),
  );
  const history = parseEvents(await readFile(join(dir, EVENTS_FILE), "utf8").catch(() => ""));
  return runWithProgress(
    io,
    output,
    { jobId: job.id, name: spec.name, agents: spec.agents, nTrials, history },
    (onEvent) =>
      resumeJob({
        dir,
        job,
        rerun,
        tasks,
        ...runtimeOptions(io, backend, secretValues, agentEnv.values, retryBaseMs),
        onEvent,
      }),
  );
}
