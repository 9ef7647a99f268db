import { createHash } from "node:crypto";
import type { Task } from "../benchmarks/task.js";
import { UsageError } from "../core/errors.js";
import type { RunloopClient } from "../runloop/client.js";
import { isNotFound } from "../runloop/errors.js";
import type { ScenarioView } from "../runloop/schemas.js";
import { resolveBenchmarkId } from "./create.js";

/** Where a Runloop scenario's agent works when the scenario names no working directory. */
const DEFAULT_WORKDIR = "/home/user";
const DEFAULT_SCORER_TIMEOUT_SEC = 1800;

/**
 * A Runloop-hosted scenario as a Task for `--backend runloop`: the instruction is its problem statement,
 * the workdir its working directory, the verifier Runloop's scorer (scorer_timeout_sec), and the digest a
 * hash of what defines it (statement, scoring contract, environment), so a changed scenario is noticed.
 */
export function scenarioTask(benchmark: string, s: ScenarioView): Task {
  const view = s as ScenarioView & {
    scoring_contract?: unknown;
    scorer_timeout_sec?: number | null;
    reference_output?: string | null;
    metadata?: Record<string, unknown> | null;
  };
  const digest = createHash("sha256")
    .update(
      JSON.stringify({
        input_context: s.input_context ?? null,
        scoring_contract: view.scoring_contract ?? null,
        environment: s.environment ?? null,
      }),
    )
    .digest("hex");
  return {
    id: `${benchmark}/${s.id}`,
    name: s.name,
    dir: `runloop:${s.id}`,
    instruction: s.input_context?.problem_statement ?? "",
    environment: { kind: "host", workdir: s.environment?.working_directory || DEFAULT_WORKDIR },
    agent: { timeoutSec: null, network: "public" },
    verifier: {
      timeoutSec: view.scorer_timeout_sec ?? DEFAULT_SCORER_TIMEOUT_SEC,
      network: "public",
      env: {},
    },
    solution: {
      dir: null,
      env: {},
      ...(view.reference_output ? { reference: view.reference_output } : {}),
    },
    buildTimeoutSec: 600,
    testsDir: "",
    metadata: view.metadata ?? {},
    digest: `sha256:${digest}`,
    runloop: { scenarioId: s.id },
  };
}

/** A benchmark (bmd_ id or name) or scenario ids on Runloop → tasks for `--backend runloop`. */
export async function runloopScenarioTasks(
  client: RunloopClient,
  target: { benchmark: string } | { scenarios: string[] },
): Promise<{ source: string | string[]; tasks: Task[] }> {
  if ("benchmark" in target) {
    const id = await resolveBenchmarkId(client, target.benchmark);
    const tasks: Task[] = [];
    for await (const s of client.benchmarks.definitions(id, { limit: 100 })) {
      tasks.push(scenarioTask(slug(target.benchmark), s));
    }
    if (tasks.length === 0)
      throw new UsageError(`Runloop benchmark ${target.benchmark} has no scenarios`);
    return { source: target.benchmark, tasks };
  }
  const ids = [...new Set(target.scenarios)];
  const views = await Promise.all(
    ids.map(async (id) => {
      try {
        return await client.scenarios.retrieve(id);
      } catch (err) {
        if (isNotFound(err)) throw new UsageError(`Unknown Runloop scenario: ${id}`);
        throw err;
      }
    }),
  );
  return { source: ids, tasks: views.map((v) => scenarioTask("runloop", v)) };
}

/** A benchmark name as an id segment: `SWE-bench Verified` → `swe-bench-verified`. */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "runloop"
  );
}
