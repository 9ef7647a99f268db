import { describe, expect, it } from "vitest";
import {
  AgentRefSchema,
  type JobDoc,
  JobDocSchema,
  JobEventSchema,
  type JobSpec,
  JobSpecSchema,
  PHASES,
  PhaseTimingSchema,
  SCHEMA_VERSION,
  ScenarioRefSchema,
  TRIAL_STATUSES,
  TrialResultSchema,
  UNKNOWN_USAGE,
  type Usage,
  UsageSchema,
} from "../../../src/core/schemas.js";
import { JOB_ID, ORACLE, makeResult as trialResult } from "../../helpers/factories.js";

const DIGEST = `sha256:${"a".repeat(64)}`;
const T0 = "2024-05-01T12:00:00.000Z";
const T1 = "2024-05-01T12:00:05.000Z";

function makeUsage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Usage = {
    input_tokens: 100,
    cache_read_tokens: 10,
    cache_write_tokens: 5,
    output_tokens: 50,
    cost_usd: 0.0123,
    cost_source: "reported",
  };
  return { ...base, ...overrides };
}

function makeResult(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = trialResult(ORACLE, "passed", 1, {
    trial_id: "starter_hello__oracle__1",
    job_id: JOB_ID,
    scenario_id: "starter/hello",
    scenario_digest: DIGEST,
    started_at: T0,
    finished_at: T1,
    duration_ms: 5000,
    phases: {
      provision: {
        started_at: T0,
        finished_at: T1,
        duration_ms: 5000,
        timeout_ms: 600_000,
        outcome: "ok",
      },
    },
    usage: makeUsage() as Usage,
  });
  return { ...base, ...overrides };
}

function makeSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: JobSpec = {
    name: "my job",
    benchmark: { kind: "builtin", source: "starter" },
    scenarios: [{ id: "starter/hello", name: "hello", path: "/tmp/hello", digest: DIGEST }],
    agents: [{ name: "oracle", model: null }],
    n_attempts: 1,
    n_concurrent_trials: 4,
    timeout_sec: null,
    timeout_multiplier: 1,
    env_vars: { A: "1" },
    secrets: { KEY: "MY_SECRET" },
    metadata: { team: "x" },
    backend: "local",
    sandbox: "bubblewrap",
  };
  return { ...base, ...overrides };
}

function makeJobDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: JobDoc = {
    schema_version: 1,
    id: "job_20240501_120000_abcdef",
    created_at: T0,
    spec: makeSpec() as JobSpec,
    state: "running",
    finished_at: null,
    failure_reason: null,
    runner: { pid: 1234, hostname: "box", rli_version: "0.1.0" },
  };
  return { ...base, ...overrides };
}

/** The paths of every issue a failed parse reports, joined with dots. */
function issuePaths(r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  return (r.error?.issues ?? []).map((i) => i.path.map(String).join("."));
}

describe("constants", () => {
  it("SCHEMA_VERSION is 1", () => {
    expect(SCHEMA_VERSION).toBe(1);
  });

  it("TRIAL_STATUSES lists the seven statuses in order", () => {
    expect([...TRIAL_STATUSES]).toEqual([
      "passed",
      "failed",
      "agent_timeout",
      "agent_error",
      "infra_error",
      "verifier_error",
      "cancelled",
    ]);
  });

  it("PHASES lists the phases in the order they run", () => {
    expect([...PHASES]).toEqual([
      "provision",
      "agent_setup",
      "agent_run",
      "upload_tests",
      "verify",
      "collect",
      "teardown",
    ]);
  });
});

describe("TrialResultSchema", () => {
  it("accepts a complete result and returns it unchanged", () => {
    const input = makeResult();
    const r = TrialResultSchema.safeParse(input);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(input);
  });

  it("rejects score 1.5 with a 'too big' issue on score", () => {
    const r = TrialResultSchema.safeParse(makeResult({ score: 1.5 }));
    expect(r.success).toBe(false);
    expect(issuePaths(r)).toEqual(["score"]);
    expect(r.error?.issues[0]?.code).toBe("too_big");
  });

  it("rejects a negative score", () => {
    const r = TrialResultSchema.safeParse(makeResult({ score: -0.01 }));
    expect(issuePaths(r)).toEqual(["score"]);
    expect(r.error?.issues[0]?.code).toBe("too_small");
  });

  it.each([0, 0.5, 1, null])("accepts score %s", (score) => {
    expect(TrialResultSchema.safeParse(makeResult({ score })).success).toBe(true);
  });

  it("rejects schema_version 2", () => {
    const r = TrialResultSchema.safeParse(makeResult({ schema_version: 2 }));
    expect(issuePaths(r)).toEqual(["schema_version"]);
  });

  it.each([0, -1, 1.5])("rejects attempt %s (1-based integer)", (attempt) => {
    const r = TrialResultSchema.safeParse(makeResult({ attempt }));
    expect(issuePaths(r)).toEqual(["attempt"]);
  });

  it("rejects a status outside TRIAL_STATUSES", () => {
    const r = TrialResultSchema.safeParse(makeResult({ status: "timeout" }));
    expect(issuePaths(r)).toEqual(["status"]);
  });

  it.each(TRIAL_STATUSES)("accepts status %s", (status) => {
    expect(TrialResultSchema.safeParse(makeResult({ status })).success).toBe(true);
  });

  it("rejects a non-ISO timestamp", () => {
    const r = TrialResultSchema.safeParse(makeResult({ started_at: "yesterday" }));
    expect(issuePaths(r)).toEqual(["started_at"]);
  });

  it("accepts a timestamp with a numeric UTC offset", () => {
    const r = TrialResultSchema.safeParse(makeResult({ finished_at: "2024-05-01T14:00:05+02:00" }));
    expect(r.success).toBe(true);
  });

  it("rejects a negative or fractional duration_ms", () => {
    expect(issuePaths(TrialResultSchema.safeParse(makeResult({ duration_ms: -1 })))).toEqual([
      "duration_ms",
    ]);
    expect(issuePaths(TrialResultSchema.safeParse(makeResult({ duration_ms: 1.5 })))).toEqual([
      "duration_ms",
    ]);
  });

  it("accepts an empty phases map and null rewards, exit code and exception", () => {
    const r = TrialResultSchema.safeParse(
      makeResult({ phases: {}, rewards: null, agent_exit_code: null, exception: null }),
    );
    expect(r.success).toBe(true);
  });

  it("rejects a phase name that is not a Phase", () => {
    const timing = {
      started_at: T0,
      finished_at: T1,
      duration_ms: 1,
      timeout_ms: null,
      outcome: "ok",
    };
    const r = TrialResultSchema.safeParse(makeResult({ phases: { build: timing } }));
    expect(r.success).toBe(false);
  });

  it("rejects a non-numeric rewards value", () => {
    const r = TrialResultSchema.safeParse(makeResult({ rewards: { reward: "1" } }));
    expect(issuePaths(r)).toEqual(["rewards.reward"]);
  });

  it("accepts an exception and errors with a phase and time", () => {
    const info = {
      type: "AgentTimeoutError",
      message: "timed out",
      phase: "agent_run",
      occurred_at: T1,
    };
    const r = TrialResultSchema.safeParse(
      makeResult({ status: "agent_timeout", exception: info, errors: [info] }),
    );
    expect(r.success).toBe(true);
  });

  it("rejects an exception whose phase is unknown", () => {
    const info = { type: "X", message: "m", phase: "build", occurred_at: T1 };
    const r = TrialResultSchema.safeParse(makeResult({ exception: info }));
    expect(issuePaths(r)).toEqual(["exception.phase"]);
  });

  it("rejects a result with a required field missing", () => {
    const { logs_dir: _omit, ...rest } = makeResult();
    const r = TrialResultSchema.safeParse(rest);
    expect(issuePaths(r)).toEqual(["logs_dir"]);
  });
});

describe("PhaseTimingSchema", () => {
  const timing = (over: Record<string, unknown>) => ({
    started_at: T0,
    finished_at: T1,
    duration_ms: 5000,
    timeout_ms: 1000,
    outcome: "ok",
    ...over,
  });

  it("accepts a null timeout (unbounded)", () => {
    expect(PhaseTimingSchema.safeParse(timing({ timeout_ms: null })).success).toBe(true);
  });

  it("rejects a zero timeout", () => {
    expect(issuePaths(PhaseTimingSchema.safeParse(timing({ timeout_ms: 0 })))).toEqual([
      "timeout_ms",
    ]);
  });

  it.each(["ok", "timeout", "error", "cancelled"])("accepts outcome %s", (outcome) => {
    expect(PhaseTimingSchema.safeParse(timing({ outcome })).success).toBe(true);
  });

  it("rejects outcome 'skipped'", () => {
    expect(issuePaths(PhaseTimingSchema.safeParse(timing({ outcome: "skipped" })))).toEqual([
      "outcome",
    ]);
  });
});

describe("UsageSchema", () => {
  it("allows every count and the cost to be null", () => {
    const all = {
      input_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
      output_tokens: null,
      cost_usd: null,
      cost_source: "unknown",
    };
    expect(UsageSchema.safeParse(all).success).toBe(true);
  });

  it("accepts UNKNOWN_USAGE, which is all nulls with cost_source unknown", () => {
    expect(UsageSchema.safeParse(UNKNOWN_USAGE).success).toBe(true);
    expect(UNKNOWN_USAGE).toEqual({
      input_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
      output_tokens: null,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("UNKNOWN_USAGE is frozen", () => {
    expect(Object.isFrozen(UNKNOWN_USAGE)).toBe(true);
  });

  it("does not allow a missing field (null must be explicit)", () => {
    const { output_tokens: _omit, ...rest } = makeUsage();
    expect(issuePaths(UsageSchema.safeParse(rest))).toEqual(["output_tokens"]);
  });

  it("rejects negative and fractional token counts", () => {
    expect(issuePaths(UsageSchema.safeParse(makeUsage({ input_tokens: -1 })))).toEqual([
      "input_tokens",
    ]);
    expect(issuePaths(UsageSchema.safeParse(makeUsage({ output_tokens: 1.5 })))).toEqual([
      "output_tokens",
    ]);
  });

  it("accepts a fractional cost but not a negative one", () => {
    expect(UsageSchema.safeParse(makeUsage({ cost_usd: 0.000001 })).success).toBe(true);
    expect(issuePaths(UsageSchema.safeParse(makeUsage({ cost_usd: -0.01 })))).toEqual(["cost_usd"]);
  });

  it("rejects an unknown cost_source", () => {
    expect(issuePaths(UsageSchema.safeParse(makeUsage({ cost_source: "guess" })))).toEqual([
      "cost_source",
    ]);
  });
});

describe("AgentRefSchema and ScenarioRefSchema", () => {
  it("accepts an agent with a null model", () => {
    expect(AgentRefSchema.safeParse({ name: "oracle", model: null }).success).toBe(true);
  });

  it("rejects an empty model (use null instead) and an empty name", () => {
    expect(issuePaths(AgentRefSchema.safeParse({ name: "oracle", model: "" }))).toEqual(["model"]);
    expect(issuePaths(AgentRefSchema.safeParse({ name: "", model: "m" }))).toEqual(["name"]);
  });

  it("requires a lowercase sha256 digest of 64 hex digits", () => {
    const ref = { id: "b/s", name: "s", path: "/p", digest: DIGEST };
    expect(ScenarioRefSchema.safeParse(ref).success).toBe(true);
    expect(
      issuePaths(ScenarioRefSchema.safeParse({ ...ref, digest: `sha256:${"A".repeat(64)}` })),
    ).toEqual(["digest"]);
    expect(
      issuePaths(ScenarioRefSchema.safeParse({ ...ref, digest: `sha256:${"a".repeat(63)}` })),
    ).toEqual(["digest"]);
    expect(issuePaths(ScenarioRefSchema.safeParse({ ...ref, digest: "a".repeat(64) }))).toEqual([
      "digest",
    ]);
  });
});

describe("JobSpecSchema", () => {
  it("accepts a complete spec", () => {
    expect(JobSpecSchema.safeParse(makeSpec()).success).toBe(true);
  });

  it("requires at least one scenario and one agent", () => {
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ scenarios: [] })))).toEqual(["scenarios"]);
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ agents: [] })))).toEqual(["agents"]);
  });

  it("accepts a list of scenario ids as the benchmark source", () => {
    const benchmark = { kind: "scenarios", source: ["starter/a", "starter/b"] };
    expect(JobSpecSchema.safeParse(makeSpec({ benchmark })).success).toBe(true);
  });

  it("rejects an unknown benchmark kind", () => {
    const benchmark = { kind: "remote", source: "x" };
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ benchmark })))).toEqual([
      "benchmark.kind",
    ]);
  });

  it("allows a null timeout_sec but not zero", () => {
    expect(JobSpecSchema.safeParse(makeSpec({ timeout_sec: null })).success).toBe(true);
    expect(JobSpecSchema.safeParse(makeSpec({ timeout_sec: 1.5 })).success).toBe(true);
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ timeout_sec: 0 })))).toEqual([
      "timeout_sec",
    ]);
  });

  it("requires positive integer attempts and concurrency", () => {
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ n_attempts: 0 })))).toEqual([
      "n_attempts",
    ]);
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ n_concurrent_trials: 2.5 })))).toEqual([
      "n_concurrent_trials",
    ]);
  });

  it("rejects a zero timeout multiplier", () => {
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ timeout_multiplier: 0 })))).toEqual([
      "timeout_multiplier",
    ]);
  });

  it("knows the local, docker and runloop backends and bubblewrap/none sandboxes", () => {
    for (const backend of ["local", "docker", "runloop"]) {
      expect(JobSpecSchema.safeParse(makeSpec({ backend })).success).toBe(true);
    }
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ backend: "k8s" })))).toEqual(["backend"]);
    expect(JobSpecSchema.safeParse(makeSpec({ sandbox: "none" })).success).toBe(true);
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ sandbox: "docker" })))).toEqual([
      "sandbox",
    ]);
  });

  it("rejects a non-string env var value", () => {
    expect(issuePaths(JobSpecSchema.safeParse(makeSpec({ env_vars: { A: 1 } })))).toEqual([
      "env_vars.A",
    ]);
  });
});

describe("JobDocSchema", () => {
  it("accepts a complete running job", () => {
    const input = makeJobDoc();
    const r = JobDocSchema.safeParse(input);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(input);
  });

  it("requires schema_version 1", () => {
    const { schema_version: _omit, ...rest } = makeJobDoc();
    expect(issuePaths(JobDocSchema.safeParse(rest))).toEqual(["schema_version"]);
    expect(issuePaths(JobDocSchema.safeParse(makeJobDoc({ schema_version: 2 })))).toEqual([
      "schema_version",
    ]);
    expect(issuePaths(JobDocSchema.safeParse(makeJobDoc({ schema_version: "1" })))).toEqual([
      "schema_version",
    ]);
  });

  it.each(["running", "completed", "failed", "cancelled"])("accepts state %s", (state) => {
    expect(JobDocSchema.safeParse(makeJobDoc({ state, finished_at: T1 })).success).toBe(true);
  });

  it("rejects state 'timeout'", () => {
    expect(issuePaths(JobDocSchema.safeParse(makeJobDoc({ state: "timeout" })))).toEqual(["state"]);
  });

  it("rejects a fractional runner pid", () => {
    const runner = { pid: 1.5, hostname: "h", rli_version: "0" };
    expect(issuePaths(JobDocSchema.safeParse(makeJobDoc({ runner })))).toEqual(["runner.pid"]);
  });

  it("reports a nested spec problem with its full path", () => {
    const spec = makeSpec({ agents: [{ name: "oracle", model: "" }] });
    expect(issuePaths(JobDocSchema.safeParse(makeJobDoc({ spec })))).toEqual([
      "spec.agents.0.model",
    ]);
  });
});

describe("JobEventSchema", () => {
  const base = { schema_version: 1, ts: T0, seq: 3 };

  it("parses a trial_finished event", () => {
    const e = {
      ...base,
      type: "trial_finished",
      trial_id: "t",
      scenario_id: "b/s",
      agent: { name: "nop", model: null },
      status: "failed",
      score: 0,
      duration_ms: 12,
    };
    const r = JobEventSchema.safeParse(e);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(e);
  });

  it("rejects an unknown event type", () => {
    expect(JobEventSchema.safeParse({ ...base, type: "trial_paused", trial_id: "t" }).success).toBe(
      false,
    );
  });

  it("rejects a phase_finished outcome outside the phase outcomes", () => {
    const e = {
      ...base,
      type: "phase_finished",
      trial_id: "t",
      phase: "verify",
      outcome: "skipped",
      duration_ms: 1,
    };
    expect(issuePaths(JobEventSchema.safeParse(e))).toEqual(["outcome"]);
  });

  it("rejects a fractional seq", () => {
    const e = { ...base, seq: 1.5, type: "job_started", job_id: "j", n_trials: 2 };
    expect(issuePaths(JobEventSchema.safeParse(e))).toEqual(["seq"]);
  });
});
