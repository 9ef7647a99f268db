import { z } from "zod";

/** One paired comparison as `compare -o json` and the job view's `rli_comparisons` print it. */
export const ComparisonSchema = z
  .object({
    a: z.object({ agent: z.string(), job_id: z.string(), mean_score: z.number() }),
    b: z.object({ agent: z.string(), job_id: z.string(), mean_score: z.number() }),
    n_scenarios: z.number().int().positive().describe("Scenarios paired"),
    difference: z
      .object({
        mean: z
          .number()
          .describe("Mean of the per-scenario differences a − b (scores, not points)"),
        low: z.number(),
        high: z.number(),
        level: z.literal(0.95),
        method: z.enum(["t", "paired_bootstrap"]),
      })
      .describe("The paired difference with its interval, cut to [−1, 1]"),
    test: z.union([
      z.object({
        method: z.literal("mcnemar_exact"),
        only_a_passed: z.number().int().nonnegative(),
        only_b_passed: z.number().int().nonnegative(),
      }),
      z.object({
        method: z.literal("sign_flip"),
        exact: z
          .boolean()
          .describe("Every sign pattern (up to 16 differing scenarios), else sampled"),
      }),
    ]),
    p: z.number().min(0).max(1),
    p_adjusted: z
      .number()
      .min(0)
      .max(1)
      .describe("Holm-adjusted over the comparisons made together"),
    random: z
      .object({
        seed: z.number().int().nonnegative(),
        bootstrap_draws: z.number().int().positive().nullable(),
        sign_flip_samples: z.number().int().positive().nullable(),
      })
      .nullable()
      .describe("What was random and its seed; null when nothing was"),
    decisive: z.boolean().describe("p_adjusted < 0.05"),
    more_scenarios: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe("When not decisive: about how many more scenarios would make it so"),
    verdict: z.string(),
    excluded: z
      .object({ only_a: z.array(z.string()), only_b: z.array(z.string()) })
      .describe("Scenarios one side ran and the other did not (only with --common-only)"),
    scenarios: z.array(
      z.object({
        scenario_id: z.string(),
        a: z.number(),
        b: z.number(),
        difference: z.number(),
        attempts_a: z.number().int().positive(),
        attempts_b: z.number().int().positive(),
      }),
    ),
  })
  .describe("A paired comparison of two agents, scenario by scenario");

export const CompareDocumentSchema = z
  .object({
    schema_version: z.literal(1),
    alpha: z.literal(0.05),
    holm_adjusted: z.boolean(),
    comparisons: z.array(ComparisonSchema),
  })
  .describe("rli benchmark-job compare -o json");
