import { UsageError } from "../core/errors.js";
import type { AgentRef } from "../core/schemas.js";
import { agentDefinition } from "./registry.js";

export interface AgentEnvPlan {
  /** Per agent name: the values of its own keys and base URLs found in the host environment. */
  values: Record<string, Record<string, string>>;
  /** The same, names only: what the job records. */
  names: Record<string, string[]>;
}

/**
 * Each agent gets its own credentials and base URLs from this environment (only its own: a codex trial
 * never sees ANTHROPIC_API_KEY). `given` are the variables --env-vars and --secrets already provide.
 * An agent that needs a key and has none is an error naming every such agent, before anything starts.
 */
export function resolveAgentEnv(
  agents: readonly AgentRef[],
  hostEnv: NodeJS.ProcessEnv,
  given: ReadonlySet<string>,
): AgentEnvPlan {
  const values: Record<string, Record<string, string>> = {};
  const names: Record<string, string[]> = {};
  const missing: string[] = [];
  for (const name of new Set(agents.map((a) => a.name))) {
    const def = agentDefinition(name);
    if (def === null) continue;
    const mine: Record<string, string> = {};
    for (const key of [...def.keys.names, ...(def.passEnv ?? [])]) {
      const value = hostEnv[key];
      if (value !== undefined && value !== "" && !given.has(key)) mine[key] = value;
    }
    const hasKey = def.keys.names.some((k) => k in mine || given.has(k));
    if (def.keys.requiresAny && !hasKey) {
      missing.push(`${name} needs ${def.keys.names.join(" or ")}`);
    }
    Object.defineProperty(values, name, { value: mine, enumerable: true });
    Object.defineProperty(names, name, { value: Object.keys(mine).sort(), enumerable: true });
  }
  if (missing.length > 0) {
    throw new UsageError(
      `Missing API key: ${missing.join("; ")}. Export it, or pass --secrets ENV_VAR=NAME to take it from another variable`,
    );
  }
  return { values, names };
}
