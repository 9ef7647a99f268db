import { UsageError } from "../core/errors.js";
import type { AgentRef } from "../core/schemas.js";
import { claudeCode } from "./claude-code.js";
import { codex } from "./codex.js";
import { geminiCli } from "./gemini-cli.js";
import { goose } from "./goose.js";
import { type AgentDefinition, installedAgent } from "./installed.js";
import { nop } from "./nop.js";
import { opencode } from "./opencode.js";
import { oracle } from "./oracle.js";
import type { AgentAdapter } from "./types.js";

/** The agent CLIs installed from npm, in Runloop's order. */
const DEFINITIONS: ReadonlyMap<string, AgentDefinition> = new Map(
  [claudeCode, codex, opencode, goose, geminiCli].map((d) => [d.name, d]),
);

const ADAPTERS: Map<string, AgentAdapter> = new Map([
  ...[...DEFINITIONS.values()].map((d) => [d.name, installedAgent(d)] as const),
  ...[oracle, nop].map((a) => [a.name, a] as const),
]);

/** Agents from --agent-config, registered for this process. */
const CUSTOM = new Map<string, AgentDefinition>();

/** The definition of an installed or custom agent, or null for built-ins (oracle, nop). */
export function agentDefinition(name: string): AgentDefinition | null {
  return DEFINITIONS.get(name) ?? CUSTOM.get(name) ?? null;
}

/** Load --agent-config and make its agents available to --agent (one-line errors, exit 2). */
export async function registerAgentConfig(file: string): Promise<string[]> {
  const { loadAgentConfig } = await import("./custom.js");
  const defs = await loadAgentConfig(file, DEFINITIONS, new Set(ADAPTERS.keys()));
  for (const def of defs) {
    CUSTOM.set(def.name, def);
    ADAPTERS.set(def.name, installedAgent(def));
  }
  return defs.map((d) => d.name);
}

/** What an agent runs as: `<npm package>@<version>`, `builtin` (oracle, nop) or `preinstalled`. */
export function agentVersion(name: string): string {
  const def = agentDefinition(name);
  if (def === null) return "builtin";
  return def.package ? `${def.package.name}@${def.package.version}` : "preinstalled";
}

export function supportedAgents(): string[] {
  return [...ADAPTERS.keys()];
}

export function getAdapter(name: string): AgentAdapter {
  const adapter = ADAPTERS.get(name);
  if (adapter === undefined) throw unsupported(name);
  return adapter;
}

function unsupported(name: string): UsageError {
  return new UsageError(
    `Unsupported agent: ${name}. Supported agents: ${supportedAgents().join(", ")}`,
  );
}

/** Parse `--agent` values (`agent[:model]`, split at the first colon) with Runloop's error texts. */
export function parseAgentSpecs(values: readonly string[]): AgentRef[] {
  if (values.length === 0) {
    throw new UsageError(
      "At least one --agent is required. Format: --agent agent:model (e.g., --agent claude-code:claude-sonnet-4)",
    );
  }
  const refs: AgentRef[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    const value = raw.trim();
    const colon = value.indexOf(":");
    const name = colon === -1 ? value : value.slice(0, colon);
    const model = colon === -1 ? null : value.slice(colon + 1);
    if (name === "" || model === "" || /\s/.test(value)) {
      throw new UsageError(
        `Invalid agent format: "${raw}". Use format: agent:model (e.g., claude-code:claude-sonnet-4)`,
      );
    }
    const adapter = ADAPTERS.get(name);
    if (adapter === undefined) throw unsupported(name);
    if (adapter.requiresModel && model === null) {
      throw new UsageError(
        `No model specified for agent "${name}". Use format: --agent ${name}:model-name`,
      );
    }
    if (model !== null) {
      try {
        agentDefinition(name)?.checkModel?.(model);
      } catch (err) {
        throw new UsageError(`Invalid model for ${name}: ${(err as Error).message}`);
      }
    }
    const key = `${name}:${model ?? ""}`;
    if (seen.has(key)) throw new UsageError(`Agent given twice: "${raw}"`);
    seen.add(key);
    refs.push({ name, model });
  }
  return refs;
}
