import { describe, expect, it } from "vitest";
import { normalState, remoteListRow } from "../../../src/remote/list.js";
import * as api from "../../helpers/runloop-views.js";

const twoAgents = {
  scenario_ids: ["a", "b", "c", "d"],
  agent_configs: [
    { type: "job_agent", name: "claude-code", model_name: "sonnet" },
    { type: "job_agent", name: "codex", model_name: "gpt-5" },
  ],
};

describe("remoteListRow", () => {
  it("counts DONE over scenarios × agents, ERRORS without cancels, SCORE as the mean of run averages", () => {
    const v = api.view(
      api.jobJson({
        job_spec: twoAgents,
        benchmark_outcomes: [
          api.outcomeJson(
            "claude-code",
            "sonnet",
            "bmr_1",
            [
              api.scenarioOutcomeJson("a", "COMPLETED", 1),
              api.scenarioOutcomeJson("b", "FAILED"),
              api.scenarioOutcomeJson("c", "TIMEOUT"),
              api.scenarioOutcomeJson("d", "CANCELED"),
            ],
            { average_score: 0.8 },
          ),
        ],
        in_progress_runs: [
          api.inProgressJson("bmr_1", "claude-code", "sonnet"),
          api.inProgressJson("bmr_2", "codex", "gpt-5"),
        ],
      }),
    );
    const runs = new Map([
      [
        "bmr_2",
        api.runsOf([
          api.scenarioRunJson("s1", "scored", { scoring_contract_result: { score: 0.4 } }),
          api.scenarioRunJson("s2", "failed"),
          api.scenarioRunJson("s3", "canceled"),
          api.scenarioRunJson("s4", "running"),
          api.scenarioRunJson("s1", "scored", { scoring_contract_result: { score: 0.4 } }),
        ]),
      ],
      ["bmr_1", api.runsOf([api.scenarioRunJson("never-counted", "completed")])],
    ]);
    expect(remoteListRow(v, runs)).toEqual({
      id: "bmj_test1",
      name: "nightly",
      state: "running",
      create_time_ms: api.CREATED_MS,
      n_finished: 7,
      n_trials: 8,
      n_errors: 3,
      score: (0.8 + 0.4) / 2,
    });
  });

  it("falls back to the outcome's counters and its completed scores when it lists no scenarios", () => {
    const v = api.view(
      api.jobJson({
        state: "completed",
        benchmark_outcomes: [
          api.outcomeJson("a", null, "bmr_1", [], { n_completed: 3, n_failed: 1, n_timeout: 1 }),
          api.outcomeJson("b", null, "bmr_2", [
            api.scenarioOutcomeJson("a", "COMPLETED", 1),
            api.scenarioOutcomeJson("b", "COMPLETED", 0),
          ]),
        ],
      }),
    );
    expect(remoteListRow(v, new Map())).toMatchObject({
      n_finished: 7,
      n_errors: 2,
      score: 0.5,
    });
  });

  it("has no score (N/A) when nothing was scored, and never fewer trials than done", () => {
    const v = api.view(
      api.jobJson({
        job_spec: null,
        benchmark_outcomes: [
          api.outcomeJson("a", null, "bmr_1", [api.scenarioOutcomeJson("a", "FAILED")]),
        ],
      }),
    );
    expect(remoteListRow(v, new Map())).toMatchObject({
      n_finished: 1,
      n_trials: 1,
      n_errors: 1,
      score: null,
    });
  });

  it("lowercases the state for the STATUS column", () => {
    expect(remoteListRow(api.view(api.jobJson({ state: "RUNNING" })), new Map()).state).toBe(
      "running",
    );
  });
});

describe("normalState", () => {
  it("reads canceled and CANCELLED as cancelled", () => {
    expect(normalState("canceled")).toBe("cancelled");
    expect(normalState("CANCELLED")).toBe("cancelled");
    expect(normalState("Running")).toBe("running");
  });
});
