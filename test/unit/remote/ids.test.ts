import { describe, expect, it } from "vitest";
import { isRemoteJobId } from "../../../src/remote/ids.js";
import {
  isJobFinal,
  isRunFinal,
  isScenarioRunError,
  jobEnd,
  scenarioRunPhase,
} from "../../../src/remote/states.js";

describe("isRemoteJobId", () => {
  it.each(["bmj_31dYgHn3cCnyRMrGrqpEG", "bmj_x"])("%s is a Runloop job", (id) => {
    expect(isRemoteJobId(id)).toBe(true);
  });

  it.each([
    "bmj_",
    "job_20261126_101500_3fa2c1",
    "latest",
    "./bmj_x",
    "jobs/bmj_x",
    "BMJ_x",
    "x\\bmj_",
  ])("%s is not", (id) => {
    expect(isRemoteJobId(id)).toBe(false);
  });
});

describe("states", () => {
  it("reads every spelling of the final job states", () => {
    for (const s of ["completed", "failed", "canceled", "cancelled", "timeout", "COMPLETED"]) {
      expect(isJobFinal(s)).toBe(true);
    }
    expect(isJobFinal("running")).toBe(false);
    expect(jobEnd("CANCELED")).toBe("cancelled");
    expect(jobEnd("cancelled")).toBe("cancelled");
    expect(jobEnd("timeout")).toBe("timeout");
    expect(jobEnd("completed")).toBe("completed");
    expect(jobEnd("failed")).toBe("failed");
  });

  it("sorts scenario run states into phases", () => {
    expect(scenarioRunPhase("scored")).toBe("finished");
    expect(scenarioRunPhase("ERROR")).toBe("finished");
    expect(scenarioRunPhase("scoring")).toBe("scoring");
    expect(scenarioRunPhase("running")).toBe("running");
    expect(scenarioRunPhase("pending")).toBe("pending");
    expect(scenarioRunPhase("provisioning")).toBe("starting");
  });

  it("counts failures and timeouts as errors, not cancels", () => {
    expect(["failed", "TIMEOUT", "error"].map(isScenarioRunError)).toEqual([true, true, true]);
    expect(["canceled", "cancelled", "completed", "scored"].map(isScenarioRunError)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("knows which benchmark runs cannot be cancelled any more", () => {
    expect(isRunFinal("canceled")).toBe(true);
    expect(isRunFinal("completed")).toBe(true);
    expect(isRunFinal("running")).toBe(false);
    expect(isRunFinal(null)).toBe(false);
  });
});
