import { getAdapter } from "../agents/registry.js";
import type { AgentContext, AgentRunOutcome } from "../agents/types.js";
import { type Backend, type Sandbox, SandboxError } from "../backends/types.js";
import type { Task } from "../benchmarks/task.js";
import type {
  EarlierTry,
  ExceptionInfo,
  JobEventInput,
  Phase,
  PhaseTiming,
  TrialResult,
  TrialStatus,
  TryRecord,
  Usage,
} from "../core/schemas.js";
import { SCHEMA_VERSION, UNKNOWN_USAGE } from "../core/schemas.js";
import type { PlannedTrial } from "./plan.js";
import { RETRY_BASE_MS, retryDelayMs } from "./retry.js";
import { parseReward } from "./reward.js";
import { killGraceMs, phaseTimeouts } from "./timeouts.js";

/** The environment every sandboxed process starts from; nothing else leaks in from the host. */
export const BASE_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
});

/** What a trial needs from the job: where to write, what to run on, and the job's settings. */
export interface TrialDeps {
  jobId: string;
  backend: Backend;
  emit(event: JobEventInput): void;
  prepareTrial(trialId: string): Promise<{ logsDir: string; scratchDir: string }>;
  /** Records the result; returns it as stored (secrets masked), when the store changes it. */
  writeResult(result: TrialResult): Promise<TrialResult | undefined>;
  agentTimeoutSec: number | null;
  timeoutMultiplier: number;
  envVars: Readonly<Record<string, string>>;
  /** Resolved secret values by env var name; passed to the agent only, never stored. */
  secretValues: Readonly<Record<string, string>>;
  /**
   * Per agent name: its own keys and base URLs taken from the host environment (only that agent's;
   * never stored). --env-vars and --secrets override them.
   */
  agentEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Where installed agents are cached on this machine. */
  agentCacheDir?: string;
  /** Aborted when the job is cancelled. */
  signal: AbortSignal;
  /** How many times a retryable infra_error is run again (default 0). */
  maxRetries?: number;
  /** The first retry's mean backoff; each later one doubles it (default RETRY_BASE_MS). */
  retryBaseMs?: number;
  /** Whether the disk the trial's logs go to is (nearly) full; a failure then is the disk's. */
  diskFull?(): Promise<boolean>;
  /** Files the trial's last try (logs to tries/<n>/logs, its record beside them) before the next one. */
  archiveTry?(trialId: string, record: TryRecord): Promise<EarlierTry>;
}

/** Which status a failure in a phase implies. */
type FailureKind = "infra_error" | "agent_error" | "agent_timeout" | "verifier_error" | "cancelled";

/** The status of a finished trial: the first failure wins; otherwise passed iff the score is exactly 1. */
export function decideStatus(firstFailure: FailureKind | null, score: number | null): TrialStatus {
  if (firstFailure !== null) return firstFailure;
  if (score === null) return "verifier_error";
  return score === 1 ? "passed" : "failed";
}

class PhaseTimeoutError extends Error {
  override readonly name = "PhaseTimeoutError";
}

/** Run `fn`, but give up after `ms` (the operation is expected to honour `signal` too). */
async function withDeadline<T>(
  ms: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(ctl.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ctl.abort();
          reject(new PhaseTimeoutError(`timed out after ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Run one trial: its tries until one ends other than in a retryable infra_error or `maxRetries` retries
 * are spent, waiting a jittered, doubling backoff between them. Agent errors, timeouts and low scores are
 * never retried. Earlier tries are kept in the result (their logs under tries/<n>/logs); the result is
 * written and trial_finished emitted once, for the last try. Never rejects for a trial's own failure.
 */
export async function runTrial(
  planned: PlannedTrial<Task>,
  deps: TrialDeps,
  previous: readonly EarlierTry[] = [],
): Promise<TrialResult> {
  const { trialId, scenario: task, agent, attempt } = planned;
  deps.emit({ type: "trial_started", trial_id: trialId, scenario_id: task.id, agent, attempt });
  // Tries of an earlier run of the job (resume) count for the record, not against --max-retries.
  const earlier: EarlierTry[] = [...previous];
  for (let n = 1; ; n++) {
    const { result, retryable } = await runTry(planned, deps);
    const retry =
      result.status === "infra_error" &&
      retryable &&
      n <= (deps.maxRetries ?? 0) &&
      deps.archiveTry !== undefined &&
      !deps.signal.aborted;
    let delayMs = 0;
    if (retry) {
      delayMs = retryDelayMs(n, deps.retryBaseMs ?? RETRY_BASE_MS, Math.random());
      deps.emit({
        type: "trial_retrying",
        trial_id: trialId,
        try: n,
        delay_ms: delayMs,
        reason: result.exception?.message ?? "infrastructure error",
      });
    }
    // A job cancelled during the backoff keeps this try as the trial's result.
    if (!retry || !(await sleepUnlessAborted(delayMs, deps.signal))) {
      const whole = earlier.length > 0 ? { ...result, earlier_tries: earlier } : result;
      const final = (await deps.writeResult(whole)) ?? whole;
      deps.emit({
        type: "trial_finished",
        trial_id: trialId,
        scenario_id: task.id,
        agent,
        status: final.status,
        score: final.score,
        duration_ms: final.duration_ms,
      });
      return final;
    }
    const archive = deps.archiveTry as NonNullable<TrialDeps["archiveTry"]>;
    earlier.push(await archive(trialId, { ...tryRecordOf(result), backoff_ms: delayMs }));
  }
}

/** What an earlier try's record keeps of its result (the store adds its number and logs path). */
export function tryRecordOf(result: TrialResult): TryRecord {
  return {
    status: result.status,
    started_at: result.started_at,
    finished_at: result.finished_at,
    duration_ms: result.duration_ms,
    phases: result.phases,
    exception: result.exception,
    errors: result.errors,
    backoff_ms: 0,
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * One try of a trial through its lifecycle: provision → agent setup → agent run → upload tests →
 * verify → collect → teardown. A timed-out or failed agent is still verified; teardown always runs.
 * `retryable` tells whether an infra_error could go differently on another try.
 */
async function runTry(
  planned: PlannedTrial<Task>,
  deps: TrialDeps,
): Promise<{ result: TrialResult; retryable: boolean }> {
  const { trialId, scenario: task, agent, attempt } = planned;
  const startedAt = new Date();
  const startedMono = performance.now();
  const phases: Partial<Record<Phase, PhaseTiming>> = {};
  const errors: ExceptionInfo[] = [];
  let exception: ExceptionInfo | null = null;
  let failure: FailureKind | null = null;
  let retryable = true;
  let score: number | null = null;
  let rewards: Record<string, number> | null = null;
  let agentExitCode: number | null = null;
  let usage: Usage = UNKNOWN_USAGE;
  const timeouts = phaseTimeouts(task, {
    agentTimeoutSec: deps.agentTimeoutSec,
    multiplier: deps.timeoutMultiplier,
  });

  const fail = (kind: FailureKind, phase: Phase, type: string, message: string): void => {
    const info: ExceptionInfo = { type, message, phase, occurred_at: new Date().toISOString() };
    if (exception === null) {
      exception = info;
      failure = kind;
    } else {
      errors.push(info);
    }
  };
  /** Record a failure that does not decide the status (usage parsing, teardown). */
  const noteError = (phase: Phase, err: unknown): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    errors.push({ type: e.name, message: e.message, phase, occurred_at: new Date().toISOString() });
  };
  const failFromError = (phase: Phase, err: unknown, kindForPhase: FailureKind): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    if (deps.signal.aborted) fail("cancelled", phase, "CancelledError", "the job was cancelled");
    else if (e instanceof SandboxError) {
      if (exception === null) retryable = e.retryable;
      fail("infra_error", phase, e.name, e.message);
    } else fail(kindForPhase, phase, e.name === "Error" ? "UnexpectedError" : e.name, e.message);
  };

  /** Time a phase and emit its events. `fn` reports the outcome; a throw counts as "error". */
  const phase = async <T>(
    name: Phase,
    fn: () => Promise<{ value: T; outcome: PhaseTiming["outcome"] }>,
  ): Promise<T> => {
    deps.emit({ type: "phase_started", trial_id: trialId, phase: name });
    const start = new Date();
    const startMono = performance.now();
    let outcome: PhaseTiming["outcome"] = "error";
    try {
      const r = await fn();
      outcome = r.outcome;
      return r.value;
    } catch (err) {
      outcome = deps.signal.aborted
        ? "cancelled"
        : err instanceof PhaseTimeoutError
          ? "timeout"
          : "error";
      throw err;
    } finally {
      const end = new Date();
      // Durations come from the monotonic clock: a wall-clock step cannot make them negative.
      const durationMs = Math.round(performance.now() - startMono);
      phases[name] = {
        started_at: start.toISOString(),
        finished_at: end.toISOString(),
        duration_ms: durationMs,
        timeout_ms: timeouts[name],
        outcome,
      };
      deps.emit({
        type: "phase_finished",
        trial_id: trialId,
        phase: name,
        outcome,
        duration_ms: durationMs,
      });
    }
  };
  const ok = <T>(value: T) => ({ value, outcome: "ok" as const });

  let sandbox: Sandbox | null = null;
  try {
    const adapter = getAdapter(agent.name);
    if (deps.signal.aborted) {
      fail(
        "cancelled",
        "provision",
        "CancelledError",
        "the job was cancelled before the trial started",
      );
      return await finish();
    }
    const dirs = await deps.prepareTrial(trialId);

    try {
      sandbox = await phase("provision", async () =>
        ok(
          await withDeadline(timeouts.provision, deps.signal, (signal) =>
            deps.backend.provision({
              jobId: deps.jobId,
              trialId,
              task,
              logsDir: dirs.logsDir,
              scratchDir: dirs.scratchDir,
              signal,
            }),
          ),
        ),
      );
    } catch (err) {
      failFromError("provision", err, "infra_error");
      return await finish();
    }

    const ctx: AgentContext = {
      agent,
      task,
      sandbox,
      env: {
        ...BASE_ENV,
        ...(Object.hasOwn(deps.agentEnv ?? {}, agent.name) ? deps.agentEnv?.[agent.name] : {}),
        ...deps.envVars,
        ...deps.secretValues,
        RLI_AGENT_TIMEOUT_SEC: String(Math.round(timeouts.agent_run / 1000)),
      },
      timeoutMs: timeouts.agent_run,
      graceMs: killGraceMs(timeouts.agent_run),
      signal: deps.signal,
      ...(deps.agentCacheDir !== undefined ? { agentCacheDir: deps.agentCacheDir } : {}),
    };

    try {
      await phase("agent_setup", async () =>
        ok(await withDeadline(timeouts.agent_setup, deps.signal, () => adapter.setup(ctx))),
      );
    } catch (err) {
      failFromError("agent_setup", err, "agent_error");
      return await finish();
    }

    let run: AgentRunOutcome;
    // The deadline the agent is told counts from the start of its run, as its timeout does.
    ctx.env.RLI_AGENT_DEADLINE = new Date(Date.now() + timeouts.agent_run).toISOString();
    try {
      run = await phase("agent_run", async () => {
        const r = await adapter.run(ctx);
        return { value: r, outcome: r.cancelled ? "cancelled" : r.timedOut ? "timeout" : "ok" };
      });
    } catch (err) {
      failFromError("agent_run", err, "agent_error");
      return await finish();
    }
    agentExitCode = run.exitCode;
    if (run.cancelled) {
      fail("cancelled", "agent_run", "CancelledError", "the job was cancelled while the agent ran");
      return await finish();
    }
    if (run.timedOut) {
      fail(
        "agent_timeout",
        "agent_run",
        "AgentTimeoutError",
        `the agent did not finish within ${timeouts.agent_run / 1000} s`,
      );
    } else if (run.exitCode !== 0 || run.failure !== undefined) {
      const exit =
        run.exitCode === 0
          ? "the agent exited with 0 after an error"
          : `the agent exited with ${run.exitCode ?? "a signal"}`;
      fail(
        "agent_error",
        "agent_run",
        run.failure?.type ?? "NonZeroAgentExitCodeError",
        run.failure ? `${exit}: ${run.failure.message}` : exit,
      );
    }

    const box = sandbox;
    try {
      await phase("upload_tests", async () =>
        ok(
          await withDeadline(timeouts.upload_tests, deps.signal, async () => {
            // A sandbox with its own scorer (a Runloop scenario run) has no tests to upload.
            if (box.score !== undefined) return;
            // Anything the agent wrote where the verifier's results go is discarded.
            await box.clearDir("/logs/verifier");
            await box.upload(task.testsDir, "/tests");
          }),
        ),
      );
    } catch (err) {
      failFromError("upload_tests", err, "infra_error");
      return await finish();
    }

    try {
      const verified = await phase("verify", async () => {
        if (box.score !== undefined) {
          const scoreBox = box.score.bind(box);
          const scored = await withDeadline(timeouts.verify, deps.signal, (signal) =>
            scoreBox(signal),
          );
          score = scored.score;
          rewards = scored.rewards;
          return {
            value: { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 0 },
            outcome: "ok" as const,
          };
        }
        const r = await box.exec({
          argv: ["bash", "/tests/test.sh"],
          env: { ...BASE_ENV, ...task.verifier.env },
          timeoutMs: timeouts.verify,
          graceMs: killGraceMs(timeouts.verify),
          network: task.verifier.network !== "no-network",
          stdoutPath: "/logs/verifier/test-stdout.txt",
          stderrPath: "/logs/verifier/test-stderr.txt",
          signal: deps.signal,
        });
        return { value: r, outcome: r.cancelled ? "cancelled" : r.timedOut ? "timeout" : "ok" };
      });
      if (verified.cancelled) {
        fail(
          "cancelled",
          "verify",
          "CancelledError",
          "the job was cancelled while the verifier ran",
        );
      } else if (verified.timedOut) {
        fail(
          "verifier_error",
          "verify",
          "VerifierTimeoutError",
          `the verifier did not finish within ${timeouts.verify / 1000} s`,
        );
      } else if (box.score === undefined) {
        const reward = parseReward(
          await box.readFile("/logs/verifier/reward.json"),
          await box.readFile("/logs/verifier/reward.txt"),
        );
        if (reward.ok) {
          score = reward.score;
          rewards = reward.rewards;
        } else {
          fail("verifier_error", "verify", reward.type, reward.message);
        }
      }
    } catch (err) {
      failFromError("verify", err, "verifier_error");
    }

    // A trial whose logs disk filled up failed for want of space, not for anything the agent did.
    if (
      (failure === "verifier_error" || failure === "agent_error") &&
      (await deps.diskFull?.().catch(() => false))
    ) {
      const first = exception as ExceptionInfo | null;
      exception = {
        type: "DiskFullError",
        message: `the disk holding the trial's logs is full, so its outcome says nothing about the agent${first ? ` (${first.type}: ${first.message})` : ""}`,
        phase: first?.phase ?? "verify",
        occurred_at: new Date().toISOString(),
      };
      failure = "infra_error";
      retryable = false;
    }

    try {
      usage = await phase("collect", async () => ok(await adapter.usage(ctx)));
    } catch (err) {
      noteError("collect", err);
    }
    return await finish();
  } catch (err) {
    // A bug in the lifecycle itself: still record a result rather than lose the trial.
    failFromError("provision", err, "infra_error");
    return await finish();
  }

  async function finish(): Promise<{ result: TrialResult; retryable: boolean }> {
    if (sandbox !== null) {
      const box = sandbox;
      sandbox = null;
      try {
        await phase("teardown", async () =>
          ok(
            await withDeadline(timeouts.teardown, new AbortController().signal, () =>
              box.teardown(),
            ),
          ),
        );
      } catch (err) {
        noteError("teardown", err);
      }
    }
    const finishedAt = new Date();
    const status = decideStatus(failure, score);
    const result: TrialResult = {
      schema_version: SCHEMA_VERSION,
      trial_id: trialId,
      job_id: deps.jobId,
      scenario_id: task.id,
      scenario_digest: task.digest,
      agent,
      attempt,
      status,
      score,
      rewards,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: Math.round(performance.now() - startedMono),
      phases,
      agent_exit_code: agentExitCode,
      usage,
      exception,
      errors,
      logs_dir: "logs",
    };
    return { result, retryable };
  }
}
