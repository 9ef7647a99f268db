import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Backend,
  type ExecRequest,
  type ExecResult,
  type Sandbox,
  SandboxError,
} from "../../../src/backends/types.js";
import { loadTask, type Task } from "../../../src/benchmarks/task.js";
import type { JobEventInput, TrialResult } from "../../../src/core/schemas.js";
import { runJob } from "../../../src/orchestrator/job.js";
import { runTrial, type TrialDeps } from "../../../src/orchestrator/trial.js";
import { readResults } from "../../../src/store/store.js";
import { FIXTURES, tempDir } from "../../helpers/tasks.js";

/** What a scripted sandbox does for each command; `files` is what readFile returns. */
interface Script {
  provisionError?: Error;
  /** Thrown by the first provisions, one each, before `provisionError` applies. */
  provisionErrors?: Error[];
  onExec?: (req: ExecRequest) => ExecResult | Promise<ExecResult>;
  teardownError?: Error;
  files?: Record<string, string>;
}

const okExec: ExecResult = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  cancelled: false,
  durationMs: 1,
};

class ScriptedBackend implements Backend {
  readonly name = "scripted";
  readonly calls: string[] = [];
  constructor(private readonly script: Script) {}
  unsupportedReason(): string | null {
    return null;
  }
  async provision(): Promise<Sandbox> {
    this.calls.push("provision");
    const once = this.script.provisionErrors?.shift();
    if (once) throw once;
    if (this.script.provisionError) throw this.script.provisionError;
    const { calls, script } = this;
    return {
      workdir: "/app",
      async exec(req) {
        calls.push(`exec ${req.argv.join(" ")}`);
        return script.onExec ? script.onExec(req) : okExec;
      },
      async upload(_host, path) {
        calls.push(`upload ${path}`);
      },
      async writeFile(path) {
        calls.push(`write ${path}`);
      },
      async clearDir(path) {
        calls.push(`clear ${path}`);
      },
      async readFile(path) {
        return script.files?.[path] ?? null;
      },
      async teardown() {
        calls.push("teardown");
        if (script.teardownError) throw script.teardownError;
      },
    };
  }
}

let task: Task;
let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  task = await loadTask(join(FIXTURES, "bench-mini", "hello"), "mini/hello");
  tmp = await tempDir();
});
afterEach(() => tmp.cleanup());

function deps(
  backend: Backend,
  overrides: Partial<TrialDeps> = {},
): TrialDeps & { events: JobEventInput[]; written: TrialResult[] } {
  const events: JobEventInput[] = [];
  const written: TrialResult[] = [];
  return {
    events,
    written,
    jobId: "job_test",
    backend,
    emit: (e) => events.push(e),
    prepareTrial: async (id) => ({
      logsDir: join(tmp.dir, id, "logs"),
      scratchDir: join(tmp.dir, id, "s"),
    }),
    writeResult: async (r) => {
      written.push(r);
      return r;
    },
    agentTimeoutSec: null,
    timeoutMultiplier: 1,
    envVars: {},
    secretValues: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

const planned = (agent = "oracle") => ({
  trialId: "mini_hello__oracle__1",
  scenario: task,
  agent: { name: agent, model: null },
  attempt: 1,
});

describe("trial lifecycle", () => {
  it("runs the phases in order, uploads tests after the agent, and passes on reward 1", async () => {
    const backend = new ScriptedBackend({ files: { "/logs/verifier/reward.txt": "1\n" } });
    const d = deps(backend);
    const r = await runTrial(planned(), d);
    expect(r.status).toBe("passed");
    expect(r.score).toBe(1);
    expect(backend.calls).toEqual([
      "provision",
      "upload /solution",
      "exec bash /solution/solve.sh",
      "clear /logs/verifier",
      "upload /tests",
      "exec bash /tests/test.sh",
      "teardown",
    ]);
    const phases = d.events
      .filter((e) => e.type === "phase_started")
      .map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual([
      "provision",
      "agent_setup",
      "agent_run",
      "upload_tests",
      "verify",
      "collect",
      "teardown",
    ]);
    expect(d.events.at(-1)).toMatchObject({ type: "trial_finished", status: "passed", score: 1 });
    expect(d.written).toEqual([r]);
  });

  it("a provisioning failure is an infra_error, not the agent's failure", async () => {
    const backend = new ScriptedBackend({
      provisionError: new SandboxError("no space left on device"),
    });
    const r = await runTrial(planned(), deps(backend));
    expect(r.status).toBe("infra_error");
    expect(r.exception).toMatchObject({
      type: "SandboxError",
      phase: "provision",
      message: "no space left on device",
    });
    expect(r.score).toBeNull();
    expect(backend.calls).toEqual(["provision"]);
    expect(r.phases.provision?.outcome).toBe("error");
  });

  it("a sandbox that dies during verification is an infra_error and is still torn down", async () => {
    const backend = new ScriptedBackend({
      onExec: (req) => {
        if (req.argv.includes("/tests/test.sh")) throw new SandboxError("sandbox crashed");
        return okExec;
      },
    });
    const r = await runTrial(planned(), deps(backend));
    expect(r.status).toBe("infra_error");
    expect(r.exception?.phase).toBe("verify");
    expect(backend.calls.at(-1)).toBe("teardown");
  });

  it("an agent that exits non-zero is an agent_error and is still verified", async () => {
    const backend = new ScriptedBackend({
      onExec: (req) =>
        req.argv.includes("/solution/solve.sh") ? { ...okExec, exitCode: 3 } : okExec,
      files: { "/logs/verifier/reward.txt": "0" },
    });
    const r = await runTrial(planned(), deps(backend));
    expect(r.status).toBe("agent_error");
    expect(r.agent_exit_code).toBe(3);
    expect(r.score).toBe(0);
    expect(r.exception?.type).toBe("NonZeroAgentExitCodeError");
  });

  it("an agent that cannot be set up is an agent_error and skips the verifier", async () => {
    const noSolution = { ...task, solution: { dir: null, env: {} } };
    const backend = new ScriptedBackend({});
    const r = await runTrial({ ...planned(), scenario: noSolution }, deps(backend));
    expect(r.status).toBe("agent_error");
    expect(r.exception).toMatchObject({ type: "AgentSetupError", phase: "agent_setup" });
    expect(backend.calls).toEqual(["provision", "teardown"]);
  });

  it("a teardown failure is recorded without changing the outcome", async () => {
    const backend = new ScriptedBackend({
      files: { "/logs/verifier/reward.txt": "1" },
      teardownError: new SandboxError("busy"),
    });
    const r = await runTrial(planned(), deps(backend));
    expect(r.status).toBe("passed");
    expect(r.errors).toEqual([expect.objectContaining({ phase: "teardown", message: "busy" })]);
  });

  it("a trial of a cancelled job is recorded as cancelled without provisioning", async () => {
    const ctl = new AbortController();
    ctl.abort();
    const backend = new ScriptedBackend({});
    const r = await runTrial(planned(), deps(backend, { signal: ctl.signal }));
    expect(r.status).toBe("cancelled");
    expect(backend.calls).toEqual([]);
  });

  it("passes --env-vars and secrets to the agent only, and the deadline to both", async () => {
    const seen: Record<string, Record<string, string>> = {};
    const backend = new ScriptedBackend({
      onExec: (req) => {
        seen[req.argv.at(-1)!] = req.env;
        return okExec;
      },
      files: { "/logs/verifier/reward.txt": "1" },
    });
    await runTrial(
      planned(),
      deps(backend, { envVars: { PLAIN: "p" }, secretValues: { KEY: "s" }, agentTimeoutSec: 30 }),
    );
    expect(seen["/solution/solve.sh"]).toMatchObject({
      PLAIN: "p",
      KEY: "s",
      RLI_AGENT_TIMEOUT_SEC: "30",
    });
    expect(seen["/tests/test.sh"]).not.toHaveProperty("KEY");
    expect(seen["/tests/test.sh"]).not.toHaveProperty("PLAIN");
  });
});

describe("a full disk", () => {
  it("turns a verifier or agent failure into an infra_error (DiskFullError), not retried", async () => {
    // No reward file: the verifier could not write it.
    const backend = new ScriptedBackend({});
    const r = await runTrial(
      planned(),
      deps(backend, {
        diskFull: async () => true,
        maxRetries: 2,
        archiveTry: async () => {
          throw new Error("not retried");
        },
      }),
    );
    expect(r.status).toBe("infra_error");
    expect(r.exception?.type).toBe("DiskFullError");
    expect(r.exception?.message).toMatch(
      /^the disk holding the trial's logs is full, so its outcome says nothing about the agent \(RewardFileNotFoundError: /,
    );
    expect(backend.calls.filter((c) => c === "provision")).toHaveLength(1);
  });

  it("leaves a trial alone when the disk has room, or when it passed", async () => {
    const failing = await runTrial(
      planned(),
      deps(new ScriptedBackend({}), { diskFull: async () => false }),
    );
    expect(failing.status).toBe("verifier_error");
    const passing = await runTrial(
      planned(),
      deps(new ScriptedBackend({ files: { "/logs/verifier/reward.txt": "1" } }), {
        diskFull: async () => true,
      }),
    );
    expect(passing.status).toBe("passed");
  });
});

describe("job scheduling", () => {
  it("never runs more trials at once than --n-concurrent-trials and records every one", async () => {
    let active = 0;
    let peak = 0;
    const backend = new ScriptedBackend({
      onExec: async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        return okExec;
      },
      files: { "/logs/verifier/reward.txt": "1" },
    });
    const tasks = Array.from({ length: 12 }, (_, i) => ({ ...task, id: `mini/t${i}` }));
    const outcome = await runJob({
      jobId: "job_sched",
      jobsDir: tmp.dir,
      spec: {
        name: "sched",
        benchmark: { kind: "path", source: "x" },
        scenarios: tasks.map((t) => ({ id: t.id, name: t.name, path: t.dir, digest: t.digest })),
        agents: [
          { name: "oracle", model: null },
          { name: "nop", model: null },
        ],
        n_attempts: 2,
        n_concurrent_trials: 3,
        timeout_sec: null,
        timeout_multiplier: 1,
        env_vars: {},
        secrets: {},
        metadata: {},
        backend: "local",
        sandbox: "bubblewrap",
      },
      tasks,
      backend,
      secretValues: {},
      signal: new AbortController().signal,
      rliVersion: "test",
    });
    expect(outcome.job.state).toBe("completed");
    expect(outcome.results).toHaveLength(48);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(await readResults(outcome.dir)).toHaveLength(48);
  });
});

describe("infra retries", () => {
  /** Deps whose writer keeps logs in a real directory and archives them per try, as the store does. */
  const retrying = (backend: Backend, overrides: Partial<TrialDeps> = {}) => {
    const d = deps(backend, { maxRetries: 2, retryBaseMs: 1, ...overrides });
    const archived: number[] = [];
    d.prepareTrial = async (id) => {
      const logsDir = join(tmp.dir, id, "logs");
      await mkdir(logsDir, { recursive: true });
      await writeFile(join(logsDir, "marker"), `try ${archived.length + 1}`);
      return { logsDir, scratchDir: join(tmp.dir, id, "s") };
    };
    d.archiveTry = async (id, record) => {
      const n = archived.length + 1;
      archived.push(n);
      const rel = join("tries", String(n), "logs");
      await mkdir(join(tmp.dir, id, "tries", String(n)), { recursive: true });
      await rename(join(tmp.dir, id, "logs"), join(tmp.dir, id, rel));
      return { ...record, try: n, logs_dir: rel };
    };
    return Object.assign(d, { archived });
  };

  it("runs a trial again after a retryable infra_error and keeps the failed try with its logs", async () => {
    const backend = new ScriptedBackend({
      provisionErrors: [new SandboxError("daemon restarted")],
      files: { "/logs/verifier/reward.txt": "1" },
    });
    const d = retrying(backend);
    const r = await runTrial(planned(), d);
    expect(r.status).toBe("passed");
    expect(r.exception).toBeNull();
    expect(backend.calls.filter((c) => c === "provision")).toHaveLength(2);
    expect(r.earlier_tries).toHaveLength(1);
    expect(r.earlier_tries?.[0]).toMatchObject({
      try: 1,
      status: "infra_error",
      exception: { type: "SandboxError", phase: "provision", message: "daemon restarted" },
      logs_dir: "tries/1/logs",
    });
    expect(r.earlier_tries?.[0]?.backoff_ms).toBeGreaterThanOrEqual(0);
    expect(
      await readFile(join(tmp.dir, "mini_hello__oracle__1", "tries/1/logs/marker"), "utf8"),
    ).toBe("try 1");
    expect(await readFile(join(tmp.dir, "mini_hello__oracle__1", "logs/marker"), "utf8")).toBe(
      "try 2",
    );
    // One trial: started once, finished once, with the retry in between; one result written.
    const types = d.events.map((e) => e.type).filter((t) => t.startsWith("trial_"));
    expect(types).toEqual(["trial_started", "trial_retrying", "trial_finished"]);
    expect(d.events.find((e) => e.type === "trial_retrying")).toMatchObject({
      try: 1,
      reason: "daemon restarted",
    });
    expect(d.written).toEqual([r]);
  });

  it("stops after --max-retries retries and records every try", async () => {
    const backend = new ScriptedBackend({ provisionError: new SandboxError("no devbox capacity") });
    const r = await runTrial(planned(), retrying(backend, { maxRetries: 2 }));
    expect(r.status).toBe("infra_error");
    expect(backend.calls).toEqual(["provision", "provision", "provision"]);
    expect(r.earlier_tries?.map((t) => t.try)).toEqual([1, 2]);
    expect(r.exception?.message).toBe("no devbox capacity");
  });

  it("never retries agent errors, agent timeouts, low scores or infra errors marked final", async () => {
    const cases: [string, Script][] = [
      [
        "agent_error",
        {
          onExec: (req) =>
            req.argv.includes("/solution/solve.sh") ? { ...okExec, exitCode: 3 } : okExec,
          files: { "/logs/verifier/reward.txt": "0" },
        },
      ],
      [
        "agent_timeout",
        {
          onExec: (req) =>
            req.argv.includes("/solution/solve.sh") ? { ...okExec, timedOut: true } : okExec,
          files: { "/logs/verifier/reward.txt": "0" },
        },
      ],
      ["failed", { files: { "/logs/verifier/reward.txt": "0" } }],
      [
        "infra_error",
        {
          provisionError: new SandboxError("the image failed to build", { retryable: false }),
        },
      ],
    ];
    for (const [status, script] of cases) {
      const backend = new ScriptedBackend(script);
      const r = await runTrial(planned(), retrying(backend));
      expect(r.status, status).toBe(status);
      expect(r.earlier_tries, status).toBeUndefined();
      expect(
        backend.calls.filter((c) => c === "provision"),
        status,
      ).toHaveLength(1);
    }
  });

  it("with --max-retries 0 an infra_error is final", async () => {
    const backend = new ScriptedBackend({ provisionError: new SandboxError("lost") });
    const r = await runTrial(planned(), retrying(backend, { maxRetries: 0 }));
    expect(r.status).toBe("infra_error");
    expect(backend.calls).toEqual(["provision"]);
  });

  it("a job cancelled during the backoff keeps the failed try as the result and starts no other", async () => {
    const ctl = new AbortController();
    const backend = new ScriptedBackend({ provisionError: new SandboxError("lost") });
    const d = retrying(backend, { signal: ctl.signal, retryBaseMs: 60_000 });
    const emit = d.emit;
    d.emit = (e) => {
      emit(e);
      if (e.type === "trial_retrying") ctl.abort();
    };
    const r = await runTrial(planned(), d);
    expect(r.status).toBe("infra_error");
    expect(r.earlier_tries).toBeUndefined();
    expect(backend.calls).toEqual(["provision"]);
    expect(d.archived).toEqual([]);
  });
});
