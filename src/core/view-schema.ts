import { z } from "zod";
import { ComparisonSchema } from "./compare-schema.js";
import {
  EarlierTrySchema,
  ExceptionInfoSchema,
  JobSpecSchema,
  PhaseSchema,
  PhaseTimingSchema,
  SCHEMA_VERSION,
  TrialStatusSchema,
  UsageSchema,
} from "./schemas.js";

/**
 * The public JSON shape of a job (`summary -o json`, `run -o json`): Runloop's BenchmarkJobView
 * (GET /v1/benchmark_jobs/{id}) field for field, so scripts written against Runloop's CLI work on local
 * jobs. Everything of ours sits under keys starting with `rli_`. Published as JSON Schema in schema/.
 */

/** Runloop's ScenarioOutcome.state: uppercase on the wire. */
export const OutcomeStateSchema = z.enum(["COMPLETED", "FAILED", "TIMEOUT", "CANCELED"]);

export const RliTrialSchema = z
  .object({
    trial_id: z.string(),
    status: TrialStatusSchema,
    attempt: z.number().int().positive(),
    score: z.number().nullable().describe("The verifier's reward, whatever the outcome state"),
    rewards: z.record(z.string(), z.number()).nullable(),
    started_at: z.string(),
    finished_at: z.string(),
    phases: z.partialRecord(PhaseSchema, PhaseTimingSchema),
    usage: UsageSchema,
    agent_exit_code: z.number().int().nullable(),
    exception: ExceptionInfoSchema.nullable(),
    errors: z.array(ExceptionInfoSchema),
    logs_dir: z.string().describe("Absolute path of the trial's logs on the machine that ran it"),
    earlier_tries: z
      .array(EarlierTrySchema)
      .describe(
        "Tries that ended in an infrastructure error and were run again, oldest first (logs_dir absolute)",
      ),
  })
  .describe("rli's own record of the trial");

export const ScenarioOutcomeSchema = z.object({
  scenario_definition_id: z.string(),
  scenario_name: z.string(),
  scenario_run_id: z.string().optional().describe("rli: the trial id"),
  state: OutcomeStateSchema,
  score: z.number().optional().describe("Present only when state is COMPLETED"),
  duration_ms: z.number().optional(),
  failure_reason: z
    .object({ exception_type: z.string(), exception_message: z.string() })
    .optional(),
  rli_trial: RliTrialSchema,
});

const nullableNumber = z.number().nullable();

const IntervalSchema = z.object({
  mean: z.number(),
  low: z.number(),
  high: z.number(),
  n_scenarios: z.number().int().positive(),
  method: z
    .enum(["t_over_scenarios", "cluster_bootstrap"])
    .describe(
      "A t-interval over scenario means, or (summary --bootstrap) a percentile cluster bootstrap",
    ),
  seed: z
    .number()
    .int()
    .optional()
    .describe("The bootstrap's seed: the same seed gives the same interval"),
  iterations: z.number().int().positive().optional(),
});

export const RliAgentSummarySchema = z
  .object({
    n_trials: z.number().int().nonnegative(),
    n_passed: z.number().int().nonnegative(),
    n_failed: z.number().int().nonnegative().describe("Verified with a score below 1"),
    n_errors: z.number().int().nonnegative().describe("Every outcome that was not verified"),
    by_status: z.record(TrialStatusSchema, z.number().int().nonnegative()),
    mean_score: nullableNumber.describe("Mean over trials that have a score"),
    mean_score_errors_as_zero: nullableNumber.describe("Mean with unscored trials counted as 0"),
    median_duration_ms: nullableNumber,
    input_tokens: nullableNumber.describe("Sum over trials; null when no trial reported it"),
    cache_read_tokens: nullableNumber,
    cache_write_tokens: nullableNumber,
    output_tokens: nullableNumber,
    cost_usd: nullableNumber.describe("Sum over trials with a known cost"),
    n_unknown_cost: z.number().int().nonnegative(),
    n_retried: z
      .number()
      .int()
      .nonnegative()
      .describe("Trials run again after an infrastructure error (--max-retries)"),
    n_retried_passed: z.number().int().nonnegative().describe("Of those, how many passed"),
    score_ci_95: IntervalSchema.nullable().describe(
      "Mean score (unscored as 0, cancelled left out) with its 95% interval over scenarios (attempts averaged per scenario first)",
    ),
    score_excluding_infra_ci_95: IntervalSchema.nullable().describe(
      "The same with infrastructure errors left out too; null when no trial is left",
    ),
    p90_duration_ms: nullableNumber.describe("90th percentile of trial durations (nearest rank)"),
    scenarios: z
      .object({
        n_always_pass: z.number().int().nonnegative(),
        n_always_fail: z.number().int().nonnegative(),
        flaky: z
          .array(z.string())
          .describe("Scenarios that passed on some attempts and failed on others"),
      })
      .describe("Per scenario over its attempts (cancels and infrastructure errors left out)"),
    pass_at_k: z
      .record(z.string(), z.number())
      .describe("k → pass@k (unbiased estimator), k = 1 .. the fewest attempts of any scenario"),
    pass_hat_k: z.record(z.string(), z.number()).describe("k → pass^k: all k attempts pass"),
  })
  .describe("rli's per-agent numbers");

export const BenchmarkOutcomeSchema = z.object({
  agent_name: z.string(),
  model_name: z.string().optional(),
  benchmark_run_id: z.string(),
  n_completed: z.number().int().nonnegative(),
  n_failed: z.number().int().nonnegative(),
  n_timeout: z.number().int().nonnegative(),
  average_score: z.number().optional().describe("Mean score across COMPLETED scenarios"),
  duration_ms: z.number().optional(),
  scenario_outcomes: z.array(ScenarioOutcomeSchema),
  rli_summary: RliAgentSummarySchema,
});

export const AgentConfigSchema = z.object({
  type: z.literal("job_agent"),
  name: z.string(),
  model_name: z.string().optional(),
  timeout_seconds: z.number().optional(),
  agent_environment: z
    .object({
      environment_variables: z.record(z.string(), z.string()).optional(),
      secrets: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

export const InProgressRunSchema = z.object({
  benchmark_run_id: z.string(),
  start_time_ms: z.number(),
  state: z.enum(["running", "canceled", "completed", "failed"]),
  agent_config: AgentConfigSchema.optional(),
  duration_ms: z.number().optional(),
  rli_progress: z
    .object({
      total: z.number().int().nonnegative(),
      finished: z.number().int().nonnegative(),
      running: z.number().int().nonnegative(),
      pending: z.number().int().nonnegative(),
    })
    .describe("rli: this agent's trials so far"),
  rli_scenario_outcomes: z
    .array(ScenarioOutcomeSchema)
    .describe("rli: outcomes of the trials that have finished"),
});

export const BenchmarkJobViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    create_time_ms: z.number(),
    state: z.enum([
      "initializing",
      "queued",
      "running",
      "completed",
      "failed",
      "cancelled",
      "timeout",
    ]),
    failure_reason: z.string().nullable().optional(),
    job_source: z
      .union([
        z.object({
          type: z.literal("benchmark"),
          benchmark_id: z.string(),
          benchmark_name: z.string().optional(),
        }),
        z.object({ type: z.literal("scenarios"), scenario_ids: z.array(z.string()) }),
      ])
      .optional(),
    job_spec: z
      .object({
        scenario_ids: z.array(z.string()),
        agent_configs: z.array(AgentConfigSchema),
        orchestrator_config: z
          .object({
            n_attempts: z.number().int().positive().optional(),
            n_concurrent_trials: z.number().int().positive().optional(),
            timeout_multiplier: z.number().positive().optional(),
            quiet: z.boolean().optional(),
          })
          .optional(),
      })
      .optional(),
    benchmark_outcomes: z.array(BenchmarkOutcomeSchema).optional(),
    in_progress_runs: z.array(InProgressRunSchema).optional(),
    rli_comparisons: z
      .array(ComparisonSchema)
      .optional()
      .describe(
        "Each pair of the job's agents compared by scenario (an ended job with two or more)",
      ),
    rli_scenarios: z
      .object({
        flaky_for_every_agent: z
          .array(z.string())
          .describe("Passed and failed across attempts for every agent: likely a broken scenario"),
        failed_by_every_agent: z
          .array(z.string())
          .describe("With two or more agents, scenarios no agent passed"),
      })
      .optional(),
    rli_job: z
      .object({
        schema_version: z.literal(SCHEMA_VERSION),
        created_at: z.string(),
        finished_at: z.string().nullable(),
        dir: z.string().describe("The job directory"),
        backend: JobSpecSchema.shape.backend,
        sandbox: JobSpecSchema.shape.sandbox,
        metadata: z.record(z.string(), z.string()),
        runner: z.object({
          pid: z.number().int(),
          hostname: z.string(),
          rli_version: z.string(),
          alive: z.boolean().nullable().describe("null when the runner is on another host"),
        }),
        n_trials: z.number().int().nonnegative(),
        n_finished: z.number().int().nonnegative(),
      })
      .describe("rli's own job fields"),
  })
  .describe("A benchmark job: Runloop's BenchmarkJobView plus rli_* extensions");
export type BenchmarkJobView = z.infer<typeof BenchmarkJobViewSchema>;
