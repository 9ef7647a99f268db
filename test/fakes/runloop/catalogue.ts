import { json, nameFilter, newId, notFound, page, type Router } from "./http.js";

export type Scorer =
  | { type: "command_scorer"; command?: string }
  | { type: "bash_script_scorer"; bash_script?: string }
  | { type: "python_script_scorer"; python_script: string; python_version_constraint?: string }
  | {
      type: "test_based_scorer";
      test_command?: string;
      test_files?: Array<{ file_path?: string; file_contents?: string }>;
    }
  | { type: "ast_grep_scorer"; pattern: string; search_directory: string; lang?: string }
  | { type: "custom_scorer"; custom_scorer_type: string; scorer_params?: unknown };

export interface ScoringFunction {
  name: string;
  weight: number;
  scorer: Scorer;
}

/** ScenarioView (reference §2.4); the create field environment_parameters is `environment` here. */
export interface ScenarioView {
  id: string;
  name: string;
  input_context: { problem_statement: string; additional_context?: unknown };
  scoring_contract: { scoring_function_parameters: ScoringFunction[] };
  environment: { blueprint_id?: string; snapshot_id?: string; working_directory?: string };
  metadata: Record<string, string>;
  status: "active" | "archived";
  is_public: boolean;
  reference_output?: string;
  scorer_timeout_sec?: number;
  required_environment_variables: string[];
  required_secret_names: string[];
}

/** BenchmarkView (reference §2.2): `scenarioIds` is camelCase on the wire. */
export interface BenchmarkView {
  id: string;
  name: string;
  metadata: Record<string, string>;
  scenarioIds: string[];
  status: "active" | "archived";
  is_public: boolean;
  description?: string;
  attribution?: string;
  required_environment_variables: string[];
  required_secret_names: string[];
}

export interface ScenarioSeed {
  /** Default: derived from the name, so the same seed always gets the same id. */
  id?: string;
  name: string;
  problemStatement?: string;
  /** Default: one command_scorer running `true`. Weights are normalized when scoring. */
  scoringFunctions?: ScoringFunction[];
  workingDirectory?: string;
  blueprintId?: string;
  /** Fake-only: files (devbox path → contents) placed when a run of the scenario starts. */
  files?: Record<string, string>;
  metadata?: Record<string, string>;
  isPublic?: boolean;
  referenceOutput?: string;
  scorerTimeoutSec?: number;
}

export interface BenchmarkSeed {
  id?: string;
  name: string;
  isPublic?: boolean;
  /** Scenario seeds (seeded too) or ids of scenarios already seeded. */
  scenarios?: Array<ScenarioSeed | string>;
  metadata?: Record<string, string>;
  description?: string;
  requiredSecretNames?: string[];
}

/** A blueprint or snapshot a devbox can start from: files (devbox path → contents) preinstalled. */
export interface ImageSeed {
  name?: string;
  files?: Record<string, string>;
  /** Run (as setup commands) in every devbox made from the image: the RUN steps of a built blueprint. */
  setupCommands?: string[];
  /** Environment of every devbox made from the image (a built blueprint's ENV). */
  env?: Record<string, string>;
}

export interface Scenario {
  view: ScenarioView;
  files: Record<string, string>;
}

/** Benchmarks, scenarios, blueprints and snapshots: seeded by tests, read through the API. */
export class Catalogue {
  readonly benchmarks = new Map<string, BenchmarkView>();
  readonly scenarios = new Map<string, Scenario>();
  readonly blueprints = new Map<string, ImageSeed>();
  readonly snapshots = new Map<string, ImageSeed>();

  seedScenario(seed: ScenarioSeed): ScenarioView {
    const id = seed.id ?? newId("scn_", seed.name);
    const environment: ScenarioView["environment"] = {};
    if (seed.blueprintId !== undefined) environment.blueprint_id = seed.blueprintId;
    if (seed.workingDirectory !== undefined) environment.working_directory = seed.workingDirectory;
    const view: ScenarioView = {
      id,
      name: seed.name,
      input_context: { problem_statement: seed.problemStatement ?? `Solve ${seed.name}.` },
      scoring_contract: {
        scoring_function_parameters: seed.scoringFunctions ?? [
          { name: "default", weight: 1, scorer: { type: "command_scorer", command: "true" } },
        ],
      },
      environment,
      metadata: seed.metadata ?? {},
      status: "active",
      is_public: seed.isPublic ?? false,
      required_environment_variables: [],
      required_secret_names: [],
    };
    if (seed.referenceOutput !== undefined) view.reference_output = seed.referenceOutput;
    if (seed.scorerTimeoutSec !== undefined) view.scorer_timeout_sec = seed.scorerTimeoutSec;
    this.scenarios.set(id, { view, files: seed.files ?? {} });
    return view;
  }

  seedBenchmark(seed: BenchmarkSeed): BenchmarkView {
    const isPublic = seed.isPublic ?? false;
    const scenarioIds = (seed.scenarios ?? []).map((s) => {
      if (typeof s !== "string") return this.seedScenario({ isPublic, ...s }).id;
      if (!this.scenarios.has(s)) throw new Error(`seedBenchmark: unknown scenario ${s}`);
      return s;
    });
    const view: BenchmarkView = {
      id: seed.id ?? newId("bmd_", seed.name),
      name: seed.name,
      metadata: seed.metadata ?? {},
      scenarioIds,
      status: "active",
      is_public: isPublic,
      required_environment_variables: [],
      required_secret_names: seed.requiredSecretNames ?? [],
    };
    if (seed.description !== undefined) view.description = seed.description;
    this.benchmarks.set(view.id, view);
    return view;
  }

  scenario(id: string): Scenario {
    const scenario = this.scenarios.get(id);
    if (scenario === undefined) throw notFound(`scenario ${id}`);
    return scenario;
  }

  benchmark(id: string): BenchmarkView {
    const benchmark = this.benchmarks.get(id);
    if (benchmark === undefined) throw notFound(`benchmark ${id}`);
    return benchmark;
  }

  routes(router: Router): void {
    const benchmarks = (isPublic: boolean) => (ctx: { query: URLSearchParams }) =>
      page(
        nameFilter(
          [...this.benchmarks.values()].filter((b) => b.is_public === isPublic),
          ctx.query,
          (b) => b.name,
          (b) => b.id,
        ),
        ctx.query,
        "benchmarks",
        (b) => b,
        (b) => b.id,
      );
    router.add("GET", "/v1/benchmarks", benchmarks(false));
    router.add("GET", "/v1/benchmarks/list_public", benchmarks(true));
    router.add("GET", "/v1/benchmarks/{id}", (ctx) => json(this.benchmark(ctx.params.id!)));
    router.add("GET", "/v1/benchmarks/{id}/definitions", (ctx) => {
      const benchmark = this.benchmark(ctx.params.id!);
      const scenarios = benchmark.scenarioIds.map((id) => this.scenario(id).view);
      return page(
        scenarios,
        ctx.query,
        "scenarios",
        (s) => s,
        (s) => s.id,
      );
    });
    const scenarios = (isPublic: boolean) => (ctx: { query: URLSearchParams }) => {
      const benchmarkId = ctx.query.get("benchmark_id");
      const inBenchmark =
        benchmarkId === null || benchmarkId === ""
          ? null
          : new Set(this.benchmark(benchmarkId).scenarioIds);
      const list = [...this.scenarios.values()]
        .map((s) => s.view)
        .filter((s) => s.is_public === isPublic && (inBenchmark === null || inBenchmark.has(s.id)));
      return page(
        nameFilter(
          list,
          ctx.query,
          (s) => s.name,
          (s) => s.id,
        ),
        ctx.query,
        "scenarios",
        (s) => s,
        (s) => s.id,
      );
    };
    router.add("GET", "/v1/scenarios", scenarios(false));
    router.add("GET", "/v1/scenarios/list_public", scenarios(true));
    router.add("GET", "/v1/scenarios/{id}", (ctx) => json(this.scenario(ctx.params.id!).view));
  }
}

const cmd = (name: string, command: string, weight = 1): ScoringFunction => ({
  name,
  weight,
  scorer: { type: "command_scorer", command },
});

/**
 * The default catalogue. Public: "SWE-bench Verified" (3 scenarios), "SWE-bench Lite", "SWE-Bench Pro"
 * and "SWE-bench Multimodal" (near names, for "did you mean"), "Terminal-Bench 2.0" (3 scenarios, one
 * per scorer type). Private: "my-bench" (2 scenarios). Every scorer really runs in the devbox; the
 * reference_output of each scenario is a command that makes it pass.
 */
export function seedDefaults(catalogue: Catalogue): void {
  const django = catalogue.seedScenario({
    name: "django__django-11099",
    isPublic: true,
    problemStatement:
      "UsernameValidator allows a trailing newline in usernames: use \\A and \\Z instead of ^ and $.",
    workingDirectory: "/testbed",
    files: { "/testbed/django/validators.py": "regex = r'^[\\w.@+-]+$'\n" },
    scoringFunctions: [cmd("tests", "grep -qF '\\A' /testbed/django/validators.py")],
    referenceOutput: "sed -i 's/\\^/\\\\A/; s/\\$/\\\\Z/' /testbed/django/validators.py",
  });
  const astropy = catalogue.seedScenario({
    name: "astropy__astropy-12907",
    isPublic: true,
    problemStatement:
      "separability_matrix does not compute separability correctly for nested models.",
    workingDirectory: "/testbed",
    files: { "/testbed/astropy/modeling/separable.py": "BUG = True\n" },
    scoringFunctions: [
      cmd("tests", "grep -q 'BUG = False' /testbed/astropy/modeling/separable.py"),
    ],
    referenceOutput: "sed -i 's/BUG = True/BUG = False/' /testbed/astropy/modeling/separable.py",
  });
  const sympy = catalogue.seedScenario({
    name: "sympy__sympy-20590",
    isPublic: true,
    problemStatement: "Symbol instances have __dict__ since 1.7.",
    workingDirectory: "/testbed",
    scoringFunctions: [
      {
        name: "tests",
        weight: 1,
        scorer: {
          type: "bash_script_scorer",
          bash_script: "if [ -f /testbed/FIXED ]; then echo score=1.0; else echo score=0.0; fi",
        },
      },
    ],
    referenceOutput: "touch /testbed/FIXED",
  });
  catalogue.seedBenchmark({
    name: "SWE-bench Verified",
    isPublic: true,
    description: "Human-validated subset of SWE-bench",
    scenarios: [django.id, astropy.id, sympy.id],
  });
  catalogue.seedBenchmark({ name: "SWE-bench Lite", isPublic: true, scenarios: [django.id] });
  catalogue.seedBenchmark({ name: "SWE-Bench Pro", isPublic: true, scenarios: [astropy.id] });
  catalogue.seedBenchmark({ name: "SWE-bench Multimodal", isPublic: true, scenarios: [sympy.id] });
  catalogue.seedBenchmark({
    name: "Terminal-Bench 2.0",
    isPublic: true,
    scenarios: [
      {
        name: "hello-world",
        problemStatement: 'Create /app/hello.txt containing "Hello, world!".',
        workingDirectory: "/app",
        scoringFunctions: [cmd("hello", "grep -qx 'Hello, world!' /app/hello.txt")],
        referenceOutput: "echo 'Hello, world!' > /app/hello.txt",
      },
      {
        name: "fix-permissions",
        problemStatement: "Make /app/run.sh executable.",
        workingDirectory: "/app",
        files: { "/app/run.sh": "#!/bin/sh\necho ok\n" },
        scoringFunctions: [
          {
            name: "tests",
            weight: 1,
            scorer: {
              type: "test_based_scorer",
              test_command: "sh tests/test.sh",
              test_files: [{ file_path: "tests/test.sh", file_contents: "test -x /app/run.sh\n" }],
            },
          },
        ],
        referenceOutput: "chmod +x /app/run.sh",
      },
      {
        name: "count-lines",
        problemStatement: "Write the number of lines of /app/data.txt to /app/count.txt.",
        workingDirectory: "/app",
        files: { "/app/data.txt": "a\nb\nc\n" },
        scoringFunctions: [
          cmd("exists", "test -f /app/count.txt", 1),
          {
            name: "value",
            weight: 3,
            scorer: {
              type: "bash_script_scorer",
              bash_script: 'test "$(cat /app/count.txt 2>/dev/null)" = 3 && echo 1 || echo 0',
            },
          },
        ],
        referenceOutput: "wc -l < /app/data.txt | tr -d ' ' > /app/count.txt",
      },
    ],
  });
  catalogue.seedBenchmark({
    name: "my-bench",
    isPublic: false,
    scenarios: [
      {
        name: "my-scenario-1",
        workingDirectory: "/home/user/project",
        scoringFunctions: [cmd("check", "test -f /home/user/project/done")],
        referenceOutput: "touch /home/user/project/done",
      },
      {
        name: "my-scenario-2",
        scoringFunctions: [cmd("check", "true")],
      },
    ],
  });
}
