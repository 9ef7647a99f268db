import { describe, expect, it } from "vitest";
import { isPatch, referenceArgv } from "../../../src/agents/oracle.js";
import { scenarioTask, slug } from "../../../src/remote/scenarios.js";
import type { ScenarioView } from "../../../src/runloop/schemas.js";

const PATCH = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";

describe("oracle reference_output", () => {
  it.each([
    [PATCH, true],
    ["--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", true],
    ["sed -i 's/a/b/' x", false],
    ["echo '--- not a patch'", false],
    ["", false],
  ])("isPatch(%j) = %s", (text, expected) => {
    expect(isPatch(text)).toBe(expected);
  });

  it("a patch is applied with git apply (patch -p1 as fallback); commands run as a script", () => {
    expect(referenceArgv(PATCH).join(" ")).toMatch(/git apply .*reference\.patch \|\| patch -p1/);
    expect(referenceArgv("make fix")).toEqual(["bash", "/tmp/rli-oracle/reference.sh"]);
  });
});

describe("scenarioTask", () => {
  const view = {
    id: "scn_1",
    name: "fix-it",
    input_context: { problem_statement: "Fix it." },
    environment: { working_directory: "/testbed" },
    scoring_contract: { scoring_function_parameters: [] },
    reference_output: "make fix",
    scorer_timeout_sec: 900,
  } as unknown as ScenarioView;

  it("maps a Runloop scenario to a Task scored by Runloop", () => {
    const task = scenarioTask("swe-bench-verified", view);
    expect(task).toMatchObject({
      id: "swe-bench-verified/scn_1",
      name: "fix-it",
      instruction: "Fix it.",
      environment: { kind: "host", workdir: "/testbed" },
      verifier: { timeoutSec: 900 },
      solution: { dir: null, reference: "make fix" },
      runloop: { scenarioId: "scn_1" },
    });
    expect(task.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("the digest changes with what defines the scenario, not with its name", () => {
    const a = scenarioTask("b", view).digest;
    expect(scenarioTask("b", { ...view, name: "renamed" }).digest).toBe(a);
    const changed = {
      ...view,
      input_context: { problem_statement: "Fix it better." },
    } as unknown as ScenarioView;
    expect(scenarioTask("b", changed).digest).not.toBe(a);
  });

  it("defaults: /home/user and a 1800 s scorer", () => {
    const bare = { id: "scn_2", name: "bare" } as ScenarioView;
    expect(scenarioTask("b", bare)).toMatchObject({
      environment: { workdir: "/home/user" },
      verifier: { timeoutSec: 1800 },
      instruction: "",
    });
  });

  it.each([
    ["SWE-bench Verified", "swe-bench-verified"],
    ["Laude Institute/Terminal-Bench-2.0", "laude-institute-terminal-bench-2.0"],
    ["///", "runloop"],
  ])("slug(%j) = %s", (name, expected) => {
    expect(slug(name)).toBe(expected);
  });
});
