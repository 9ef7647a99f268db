import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CompareDocumentSchema } from "../../../src/core/compare-schema.js";
import { trialId } from "../../../src/core/ids.js";
import {
  type AgentRef,
  type ExceptionInfo,
  type JobDoc,
  type JobEvent,
  JobEventSchema,
  type Phase,
  type PhaseTiming,
  type TrialResult,
  type TrialStatus,
  UNKNOWN_USAGE,
} from "../../../src/core/schemas.js";
import { BenchmarkJobViewSchema } from "../../../src/core/view-schema.js";
import { toBenchmarkJobView } from "../../../src/report/runloop-view.js";
import { CLAUDE, JOB_ID, makeJob, makeResult, ORACLE } from "../../helpers/factories.js";
import { committedSchema, expectValid, schemaValidator } from "../../helpers/schema.js";
import { REPO_ROOT } from "../../helpers/tasks.js";

interface Generator {
  schemaDocuments(schemas: {
    BenchmarkJobViewSchema: unknown;
    JobEventSchema: unknown;
    CompareDocumentSchema: unknown;
  }): Record<string, Record<string, unknown>>;
}

const VIEW_FILE = "benchmark-job-view.schema.json";
const EVENT_FILE = "job-event.schema.json";
const COMPARE_FILE = "compare.schema.json";

/**
 * Draft 2020-12, ajv's strict defaults plus strictTypes (strictRequired stays off: it rejects
 * `required` keys that sit under propertyNames, which is how zod writes an enum-keyed record).
 * ajv-formats is not installed, so `format` is not asserted (validateFormats: false); every date-time
 * field also carries zod's ISO 8601 pattern, which is. allowUnionTypes: nullable fields are
 * `type: ["number", "null"]`.
 */
const validateView = schemaValidator(VIEW_FILE, { strictTypes: true });
const validateEvent = schemaValidator(EVENT_FILE, { strictTypes: true });

/** A plain JSON copy: what a consumer parses from `-o json`. */
function wire<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const T0 = Date.parse("2024-05-01T12:00:00.000Z");
const iso = (sec: number): string => new Date(T0 + sec * 1000).toISOString();
const SCENARIOS = ["starter/a", "starter/b", "starter/c", "starter/d"];
const DIR = "/home/u/.local/share/rli/jobs/job_20240501_120000_abcdef";

function job(over: Partial<JobDoc> = {}, spec: Partial<JobDoc["spec"]> = {}): JobDoc {
  return makeJob(
    [ORACLE, CLAUDE],
    {
      created_at: iso(0),
      finished_at: iso(120),
      runner: {
        pid: 4242,
        hostname: "bench-1",
        rli_version: "0.1.0",
        boot_id: "0b6c2f1e",
        start_ticks: 1234,
      },
      ...over,
    },
    {
      name: "starter: oracle, claude-code:claude-sonnet-4-5",
      scenarios: SCENARIOS.map((id, i) => ({
        id,
        name: id.split("/")[1]!,
        path: `/repo/fixtures/benchmarks/${id}`,
        digest: `sha256:${String(i).repeat(64)}`,
      })),
      n_concurrent_trials: 4,
      timeout_sec: 600,
      timeout_multiplier: 1.5,
      env_vars: { DEBUG: "1" },
      secrets: { ANTHROPIC_API_KEY: "MY_ANTHROPIC_KEY" },
      metadata: { team: "evals", commit: "abc123" },
      sandbox: "bubblewrap",
      ...spec,
    },
  );
}

const PHASE_ORDER: Phase[] = ["provision", "agent_setup", "agent_run", "upload_tests", "verify"];

function phases(upTo: Phase, last: PhaseTiming["outcome"]): TrialResult["phases"] {
  const out: TrialResult["phases"] = {};
  for (const [i, p] of PHASE_ORDER.entries()) {
    out[p] = {
      started_at: iso(i),
      finished_at: iso(i + 1),
      duration_ms: 1000,
      timeout_ms: p === "agent_run" ? 900_000 : null,
      outcome: p === upTo ? last : "ok",
    };
    if (p === upTo) break;
  }
  out.teardown = {
    started_at: iso(6),
    finished_at: iso(7),
    duration_ms: 1000,
    timeout_ms: 60_000,
    outcome: "ok",
  };
  return out;
}

function exception(type: string, phase: Phase): ExceptionInfo {
  return { type, message: `${type} in ${phase}`, phase, occurred_at: iso(5) };
}

/** A trial as the orchestrator writes it, with the phases and failure its status implies. */
function trial(agent: AgentRef, scenario: string, status: TrialStatus, attempt = 1): TrialResult {
  const verified = status === "passed" || status === "failed" || status === "agent_timeout";
  const score = status === "passed" ? 1 : verified ? 0.25 : null;
  const failure: Record<TrialStatus, [Phase, PhaseTiming["outcome"], ExceptionInfo | null]> = {
    passed: ["verify", "ok", null],
    failed: ["verify", "ok", null],
    agent_timeout: ["agent_run", "timeout", exception("AgentTimeoutError", "agent_run")],
    agent_error: ["agent_run", "error", exception("AgentExitError", "agent_run")],
    infra_error: ["provision", "error", exception("SandboxError", "provision")],
    verifier_error: ["verify", "error", exception("RewardFileNotFoundError", "verify")],
    cancelled: ["agent_run", "cancelled", exception("CancelledError", "agent_run")],
  };
  const [upTo, outcome, exc] = failure[status];
  return makeResult(agent, status, score, {
    trial_id: trialId(scenario, agent, attempt),
    job_id: JOB_ID,
    scenario_id: scenario,
    attempt,
    rewards: score === null ? null : { reward: score, tests_passed: score * 4 },
    started_at: iso(0),
    finished_at: iso(30 + attempt),
    duration_ms: 7000,
    phases: phases(upTo, outcome),
    agent_exit_code: status === "agent_error" ? 2 : status === "infra_error" ? null : 0,
    usage:
      agent.model === null
        ? UNKNOWN_USAGE
        : {
            input_tokens: 1200,
            cache_read_tokens: 300,
            cache_write_tokens: 0,
            output_tokens: 450,
            cost_usd: 0.0123,
            cost_source: "estimated",
          },
    exception: exc,
    errors: status === "infra_error" ? [exception("SandboxError", "teardown")] : [],
  });
}

function finishedResults(): TrialResult[] {
  return [
    trial(ORACLE, "starter/a", "passed"),
    trial(ORACLE, "starter/b", "passed"),
    trial(ORACLE, "starter/c", "agent_timeout"),
    trial(ORACLE, "starter/d", "cancelled"),
    trial(CLAUDE, "starter/a", "failed"),
    trial(CLAUDE, "starter/b", "agent_error"),
    trial(CLAUDE, "starter/c", "infra_error"),
    trial(CLAUDE, "starter/d", "verifier_error"),
  ];
}

describe("schema/ files", () => {
  it("equal what scripts/gen-schemas.js generates from src/core now (npm run schema)", async () => {
    const gen = (await import(
      pathToFileURL(join(REPO_ROOT, "scripts", "gen-schemas.js")).href
    )) as Generator;
    const docs = gen.schemaDocuments({
      BenchmarkJobViewSchema,
      JobEventSchema,
      CompareDocumentSchema,
    });
    expect(Object.keys(docs).sort()).toEqual([VIEW_FILE, EVENT_FILE, COMPARE_FILE].sort());
    for (const [file, doc] of Object.entries(docs)) {
      // Key order too: compare serialisations. Layout is biome's business (npm run format:check).
      expect(JSON.stringify(committedSchema(file)), `${file} is stale: run npm run schema`).toBe(
        JSON.stringify(doc),
      );
    }
  });

  it("name themselves and allow keys they do not list", () => {
    for (const file of [VIEW_FILE, EVENT_FILE, COMPARE_FILE]) {
      const doc = committedSchema(file);
      expect(doc.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(doc.$id).toBe(`https://rli.dev/schema/${file}`);
      expect(doc.title).toEqual(expect.any(String));
      expect(JSON.stringify(doc)).not.toContain('"additionalProperties":false');
    }
  });
});

describe("benchmark-job-view.schema.json", () => {
  it("accepts a finished job with passed, failed, timed-out, errored and cancelled trials", () => {
    const view = wire(
      toBenchmarkJobView({ dir: DIR, job: job(), results: finishedResults(), runnerAlive: false }),
    );
    const states = view.benchmark_outcomes.flatMap((o) => o.scenario_outcomes.map((s) => s.state));
    expect(new Set(states)).toEqual(new Set(["COMPLETED", "TIMEOUT", "CANCELED", "FAILED"]));
    expectValid(validateView, view);
  });

  it("accepts a running job whose agents are still in progress", () => {
    const running = job(
      { state: "running", finished_at: null },
      {
        benchmark: { kind: "scenarios", source: ["starter/a", "starter/b"] },
        n_attempts: 2,
        timeout_sec: null,
        env_vars: {},
        secrets: {},
      },
    );
    const view = wire(
      toBenchmarkJobView({
        dir: DIR,
        job: running,
        results: [
          trial(ORACLE, "starter/a", "passed", 1),
          trial(ORACLE, "starter/a", "failed", 2),
          trial(CLAUDE, "starter/b", "agent_timeout", 1),
        ],
        runnerAlive: true,
        running: new Map([
          ["oracle", 2],
          ["claude-code:claude-sonnet-4-5", 1],
        ]),
        nowMs: T0 + 45_000,
      }),
    );
    expect(view.in_progress_runs).toHaveLength(2);
    expect(view.in_progress_runs[0]?.rli_scenario_outcomes).toHaveLength(2);
    expectValid(validateView, view);
  });

  it("accepts jobs with no results yet, and failed before any trial ran", () => {
    const fresh = toBenchmarkJobView({
      dir: DIR,
      job: job({ state: "running", finished_at: null }),
      results: [],
      runnerAlive: null,
    });
    expect(fresh.benchmark_outcomes).toEqual([]);
    expectValid(validateView, wire(fresh));
    const failed = toBenchmarkJobView({
      dir: DIR,
      job: job({ state: "failed", failure_reason: "bubblewrap is not installed" }),
      results: [],
      runnerAlive: false,
    });
    expect(failed.benchmark_outcomes[0]?.scenario_outcomes).toEqual([]);
    expectValid(validateView, wire(failed));
  });

  it("accepts fields it does not list, as Runloop may add them", () => {
    const view = wire(
      toBenchmarkJobView({ dir: DIR, job: job(), results: finishedResults(), runnerAlive: false }),
    );
    const extended = {
      ...view,
      new_top_level_field: { anything: true },
      benchmark_outcomes: view.benchmark_outcomes.map((o) => ({
        ...o,
        scenario_outcomes: o.scenario_outcomes.map((s) => ({ ...s, scenario_version: 3 })),
      })),
    };
    expectValid(validateView, extended);
  });

  it("rejects an unknown scenario outcome state and a missing id", () => {
    const view = wire(
      toBenchmarkJobView({ dir: DIR, job: job(), results: finishedResults(), runnerAlive: false }),
    );
    const badState = structuredClone(view) as {
      benchmark_outcomes: { scenario_outcomes: { state: string }[] }[];
    };
    badState.benchmark_outcomes[0]!.scenario_outcomes[0]!.state = "DONE";
    expect(validateView(badState)).toBe(false);
    expect(validateView.errors).toContainEqual(
      expect.objectContaining({
        instancePath: "/benchmark_outcomes/0/scenario_outcomes/0/state",
        keyword: "enum",
      }),
    );

    const { id: _id, ...noId } = view;
    expect(validateView(noId)).toBe(false);
    expect(validateView.errors).toContainEqual(
      expect.objectContaining({ keyword: "required", params: { missingProperty: "id" } }),
    );
  });

  it("agrees with the zod schema the CLI is typed against", () => {
    const view = wire(
      toBenchmarkJobView({ dir: DIR, job: job(), results: finishedResults(), runnerAlive: false }),
    );
    expect(BenchmarkJobViewSchema.safeParse(view).success).toBe(true);
  });
});

describe("job-event.schema.json", () => {
  const base = { schema_version: 1 as const, ts: iso(1) };
  const id = trialId("starter/a", CLAUDE, 1);
  const events: JobEvent[] = [
    { ...base, seq: 0, type: "job_started", job_id: "job_1", n_trials: 8 },
    {
      ...base,
      seq: 1,
      type: "trial_started",
      trial_id: id,
      scenario_id: "starter/a",
      agent: CLAUDE,
      attempt: 1,
    },
    { ...base, seq: 2, type: "phase_started", trial_id: id, phase: "provision" },
    {
      ...base,
      seq: 3,
      type: "phase_finished",
      trial_id: id,
      phase: "agent_run",
      outcome: "timeout",
      duration_ms: 600_000,
    },
    {
      ...base,
      seq: 4,
      type: "job_resumed",
      job_id: "job_1",
      n_trials: 4,
      n_kept: 3,
      rerun: [id],
    },
    {
      ...base,
      seq: 4,
      type: "trial_retrying",
      trial_id: id,
      try: 1,
      delay_ms: 2100,
      reason: "container 0123456789ab stopped while the command ran",
    },
    {
      ...base,
      seq: 4,
      type: "trial_finished",
      trial_id: id,
      scenario_id: "starter/a",
      agent: ORACLE,
      status: "verifier_error",
      score: null,
      duration_ms: 12_345,
    },
    {
      ...base,
      ts: "2024-05-01T14:00:00+02:00",
      seq: 5,
      type: "job_finished",
      job_id: "job_1",
      state: "cancelled",
    },
  ];

  it.each(events.map((e) => [e.type, e] as const))("accepts a %s event", (_type, event) => {
    expect(JobEventSchema.safeParse(event).success).toBe(true);
    expectValid(validateEvent, wire(event));
  });

  it("covers every event type the zod schema knows", () => {
    const known = JobEventSchema.options.map((o) => o.shape.type.value).sort();
    expect(events.map((e) => e.type).sort()).toEqual(known);
  });

  it("rejects an unknown type, a bad phase and a timestamp that is not ISO 8601", () => {
    const [started, , phase] = events;
    expect(validateEvent({ ...started, type: "job_exploded" })).toBe(false);
    expect(validateEvent({ ...phase, phase: "warmup" })).toBe(false);
    expect(validateEvent({ ...started, ts: "yesterday" })).toBe(false);
  });
});
