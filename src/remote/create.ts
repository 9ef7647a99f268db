import { UsageError } from "../core/errors.js";
import type { AgentRef } from "../core/schemas.js";
import type {
  BenchmarkJobCreateParams,
  JobAgentConfig,
  OrchestratorConfig,
  RunloopClient,
} from "../runloop/client.js";
import { isNotFound } from "../runloop/errors.js";
import type { BenchmarkJobView, BenchmarkView } from "../runloop/schemas.js";

/** Runloop's own prefix for the secrets its CLI makes from your environment (rl-cli `SECRET_PREFIX`). */
export const SECRET_PREFIX = "BMJ_";

/** The agents a server-side job can run and the variables each takes (rl-cli `SUPPORTED_AGENTS`). */
export const REMOTE_AGENTS: Readonly<
  Record<string, { vars: readonly string[]; requiresAny: boolean }>
> = {
  "claude-code": { vars: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"], requiresAny: true },
  codex: { vars: ["OPENAI_API_KEY"], requiresAny: true },
  opencode: { vars: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  goose: { vars: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  "gemini-cli": { vars: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], requiresAny: true },
};

/** Runloop's job defaults (reference/runloop.md §1.1): 2 h agents, one attempt, ten at a time. */
export const REMOTE_DEFAULT_TIMEOUT_SEC = 7200;

export interface RemoteTarget {
  kind: "benchmark" | "scenarios";
  /** A benchmark id or name, or scenario ids. */
  values: string[];
}

/** Server-side jobs run only Runloop's agents, each with a model. */
export function checkRemoteAgents(agents: readonly AgentRef[]): void {
  for (const a of agents) {
    if (!Object.hasOwn(REMOTE_AGENTS, a.name)) {
      throw new UsageError(
        `Unsupported agent for a server-side Runloop job: ${a.name}. Supported agents: ${Object.keys(REMOTE_AGENTS).join(", ")} (run oracle, nop or your own agents locally or with --backend runloop)`,
      );
    }
    if (a.model === null) {
      throw new UsageError(
        `No model specified for agent "${a.name}". Use format: --agent ${a.name}:model-name`,
      );
    }
  }
}

export interface CreateBodyInput {
  name: string | undefined;
  target: { type: "benchmark"; benchmarkId: string } | { type: "scenarios"; scenarioIds: string[] };
  agents: readonly AgentRef[];
  /** Per agent name: ENV_VAR → secret name (its own keys plus every --secrets mapping). */
  secrets: Readonly<Record<string, Record<string, string>>>;
  envVars: Readonly<Record<string, string>>;
  timeoutSec: number;
  nAttempts: number;
  nConcurrentTrials: number;
  timeoutMultiplier: number;
  metadata: Readonly<Record<string, string>>;
}

/**
 * The POST /v1/benchmark_jobs body, as Runloop's CLI builds it (§1.1): one job_agent config per agent,
 * empty maps omitted, `metadata` only when given. Pure. Unlike Runloop's CLI, each agent gets only its own
 * secrets.
 */
export function buildCreateBody(
  input: CreateBodyInput,
): BenchmarkJobCreateParams & { metadata?: Record<string, string> } {
  const agent_configs: JobAgentConfig[] = input.agents.map((a) => {
    const secrets = input.secrets[a.name] ?? {};
    const environment = {
      ...(Object.keys(input.envVars).length > 0
        ? { environment_variables: { ...input.envVars } }
        : {}),
      ...(Object.keys(secrets).length > 0 ? { secrets: { ...secrets } } : {}),
    };
    return {
      name: a.name,
      type: "job_agent",
      ...(a.model !== null ? { model_name: a.model } : {}),
      timeout_seconds: input.timeoutSec,
      ...(Object.keys(environment).length > 0 ? { agent_environment: environment } : {}),
    };
  });
  const orchestrator_config: OrchestratorConfig = {
    n_attempts: input.nAttempts,
    n_concurrent_trials: input.nConcurrentTrials,
    timeout_multiplier: input.timeoutMultiplier,
    quiet: false,
  };
  const spec =
    input.target.type === "benchmark"
      ? {
          type: "benchmark" as const,
          benchmark_id: input.target.benchmarkId,
          agent_configs,
          orchestrator_config,
        }
      : {
          type: "scenarios" as const,
          scenario_ids: input.target.scenarioIds,
          agent_configs,
          orchestrator_config,
        };
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    spec,
    ...(Object.keys(input.metadata).length > 0 ? { metadata: { ...input.metadata } } : {}),
  };
}

/** Edit distance, for "did you mean" when the server's search finds nothing. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j] as number;
      prev[j] = Math.min(
        above + 1,
        (prev[j - 1] as number) + 1,
        diag + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diag = above;
    }
  }
  return prev[b.length] as number;
}

/** Up to five names closest to `wanted` (case-insensitive edit distance, substring matches first). */
export function closestBenchmarks(
  wanted: string,
  candidates: readonly BenchmarkView[],
): BenchmarkView[] {
  const w = wanted.toLowerCase();
  return [...new Map(candidates.map((c) => [c.id, c])).values()]
    .map((c) => {
      const n = c.name.toLowerCase();
      const rank = n.includes(w) || w.includes(n) ? 0 : editDistance(w, n);
      return { c, rank };
    })
    .filter(({ rank }) => rank <= Math.max(3, Math.floor(w.length / 2)))
    .sort((x, y) => x.rank - y.rank || (x.c.name < y.c.name ? -1 : 1))
    .slice(0, 5)
    .map(({ c }) => c);
}

async function firstPage<T>(items: AsyncGenerator<T>, max: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * A benchmark id for `--benchmark`: a `bmd_` id as given; else the exact name among your benchmarks
 * (first) and the public ones, searched on the server. No exact match: a UsageError with up to five
 * suggestions, from the search or, when it found nothing, from every benchmark by edit distance.
 */
export async function resolveBenchmarkId(client: RunloopClient, value: string): Promise<string> {
  if (value.startsWith("bmd_")) return value;
  const [own, pub] = await Promise.all([
    firstPage(client.benchmarks.list({ limit: 100, search: value }), 100),
    firstPage(client.benchmarks.listPublic({ limit: 100, search: value }), 100),
  ]);
  const exact = [...own, ...pub].find((b) => b.name === value);
  if (exact !== undefined) return exact.id;
  let candidates = [...own, ...pub];
  if (candidates.length === 0) {
    const [allOwn, allPub] = await Promise.all([
      firstPage(client.benchmarks.list({ limit: 100 }), 500),
      firstPage(client.benchmarks.listPublic({ limit: 100 }), 500),
    ]);
    candidates = closestBenchmarks(value, [...allOwn, ...allPub]);
  } else {
    candidates = closestBenchmarks(value, candidates).concat(candidates).slice(0, 5);
  }
  const unique = [...new Map(candidates.map((c) => [c.id, c])).values()].slice(0, 5);
  if (unique.length === 0) {
    throw new UsageError(
      `No benchmark found with name: ${value} (neither a built-in benchmark, a directory, nor a Runloop benchmark)`,
    );
  }
  throw new UsageError(
    `No exact match for benchmark "${value}". Did you mean: ${unique.map((b) => `"${b.name}" (${b.id})`).join(", ")}`,
  );
}

export type SecretLog = (line: string) => void;

/**
 * Each agent's secrets by Runloop's BMJ_ convention, looked up by name (one GET each, not a list of
 * 5,000): an existing BMJ_<VAR> is used and, when <VAR> is set here, updated to its value; a missing one
 * is created from <VAR>. An agent that needs one of its variables and has none is a UsageError naming them.
 * `--secrets` mappings (ENV_VAR=SECRET_NAME) must name existing secrets and go to every agent.
 */
export async function resolveRemoteSecrets(
  client: RunloopClient,
  agents: readonly AgentRef[],
  env: NodeJS.ProcessEnv,
  explicit: Readonly<Record<string, string>>,
  log: SecretLog,
): Promise<Record<string, Record<string, string>>> {
  for (const [envVar, name] of Object.entries(explicit)) {
    try {
      await client.secrets.retrieve(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new UsageError(
        `Secret ${name} (for ${envVar}) does not exist on Runloop; create it in the dashboard or drop --secrets ${envVar}=${name}`,
      );
    }
  }
  // Read everything first, then write: a missing required key must not leave half the secrets made.
  const vars = [...new Set(agents.flatMap((a) => REMOTE_AGENTS[a.name]?.vars ?? []))];
  const exists = new Map<string, boolean>();
  await Promise.all(
    vars.map(async (v) => {
      try {
        await client.secrets.retrieve(`${SECRET_PREFIX}${v}`);
        exists.set(v, true);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        exists.set(v, false);
      }
    }),
  );
  const usable = (v: string) => exists.get(v) === true || Boolean(env[v]);
  for (const a of unique(agents.map((x) => x.name))) {
    const def = REMOTE_AGENTS[a];
    if (def === undefined || !def.requiresAny) continue;
    if (def.vars.some(usable) || def.vars.some((v) => Object.hasOwn(explicit, v))) continue;
    throw new UsageError(
      `Agent ${a} requires at least one of: ${def.vars.join(", ")}. Create secrets (${def.vars.map((v) => SECRET_PREFIX + v).join(", ")}) or set environment variables.`,
    );
  }
  // Like Runloop's CLI since #146: a missing variable is worth a line only for an agent that got none.
  const unresolvedAgentVars = new Set(
    unique(agents.map((x) => x.name)).flatMap((a) => {
      const own = REMOTE_AGENTS[a]?.vars ?? [];
      return own.some(usable) ? [] : own;
    }),
  );
  for (const v of vars) {
    const value = env[v];
    const name = `${SECRET_PREFIX}${v}`;
    if (!value) {
      if (exists.get(v) !== true && unresolvedAgentVars.has(v)) {
        log(`Secret ${name} not found and ${v} not set in environment`);
      }
      continue;
    }
    if (exists.get(v) === true) {
      log(`Updating secret ${name} from ${v} env var`);
      await client.secrets.update(name, value);
    } else {
      log(`Creating secret ${name} from ${v} env var`);
      await client.secrets.create(name, value);
    }
    exists.set(v, true);
  }
  const out: Record<string, Record<string, string>> = {};
  for (const a of unique(agents.map((x) => x.name))) {
    const own: Record<string, string> = {};
    for (const v of REMOTE_AGENTS[a]?.vars ?? []) {
      if (exists.get(v) === true) own[v] = `${SECRET_PREFIX}${v}`;
    }
    out[a] = { ...own, ...explicit };
  }
  return out;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** The two lines Runloop's `run` prints (§1.1). */
export function createdLines(job: BenchmarkJobView, timeoutSec: number): string {
  return `Benchmark job created: ${job.id} (agent timeout = ${timeoutSec}s)\nFollow the run with "rli benchmark-job watch ${job.id}"\n`;
}
