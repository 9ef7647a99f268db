import {
  type BenchmarkJobView,
  BenchmarkJobViewSchema,
  type ScenarioRunView,
  ScenarioRunViewSchema,
} from "../../src/runloop/schemas.js";

/** Runloop API documents for tests, as the server sends them (snake_case, states as documented). */

export const CREATED_MS = Date.UTC(2026, 10, 26, 12, 0, 0);

export function scenarioOutcomeJson(
  name: string,
  state: string,
  score?: number | null,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    scenario_definition_id: `scn_${name}`,
    scenario_name: name,
    scenario_run_id: `scr_${name}`,
    state,
    ...(score === undefined ? {} : { score }),
    duration_ms: 1000,
    ...over,
  };
}

export function outcomeJson(
  agent: string,
  model: string | null,
  runId: string,
  scenarioOutcomes: Record<string, unknown>[],
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    agent_name: agent,
    ...(model === null ? {} : { model_name: model }),
    benchmark_run_id: runId,
    n_completed: scenarioOutcomes.filter((o) => String(o.state).toUpperCase() === "COMPLETED")
      .length,
    n_failed: scenarioOutcomes.filter((o) => String(o.state).toUpperCase() === "FAILED").length,
    n_timeout: scenarioOutcomes.filter((o) => String(o.state).toUpperCase() === "TIMEOUT").length,
    scenario_outcomes: scenarioOutcomes,
    ...over,
  };
}

export function inProgressJson(
  runId: string,
  agent: string | null,
  model: string | null = null,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    benchmark_run_id: runId,
    start_time_ms: CREATED_MS + 1000,
    state: "running",
    ...(agent === null
      ? { agent_config: { type: "external_api" } }
      : {
          agent_config: {
            type: "job_agent",
            name: agent,
            ...(model === null ? {} : { model_name: model }),
          },
        }),
    ...over,
  };
}

export function jobJson(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "bmj_test1",
    name: "nightly",
    create_time_ms: CREATED_MS,
    state: "running",
    job_spec: {
      scenario_ids: ["scn_a", "scn_b", "scn_c", "scn_d"],
      agent_configs: [{ type: "job_agent", name: "claude-code", model_name: "sonnet" }],
    },
    benchmark_outcomes: [],
    in_progress_runs: [],
    ...over,
  };
}

export function scenarioRunJson(
  id: string,
  state: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    scenario_id: `scn_${id}`,
    state,
    name: `run ${id}`,
    start_time_ms: CREATED_MS + 2000,
    ...over,
  };
}

export function view(json: Record<string, unknown>): BenchmarkJobView {
  return BenchmarkJobViewSchema.parse(json);
}

export function runsOf(json: Record<string, unknown>[]): ScenarioRunView[] {
  return json.map((j) => ScenarioRunViewSchema.parse(j));
}
