import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UNKNOWN_USAGE } from "../core/constants.js";
import { UsageError } from "../core/errors.js";
import type { AgentDefinition, AgentRunPlan, PrepareInput, SandboxReader } from "./installed.js";

/**
 * Bring your own agent: definitions from a YAML (or JSON) file given with --agent-config. See
 * docs/agents.md. Each agent says how to install it (an npm package, cached like the built-in agents),
 * its command line as an argv list with placeholders (never a shell string), its environment, the key
 * variables it takes from the runner's environment, and which built-in agent's usage parser reads its
 * transcript.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const AGENT_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** `name@version`, where a scoped name starts with @. */
const NPM_SPEC = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+([-+][\w.+-]+)?$/i;

/** Placeholders an argv element may hold. */
export const PLACEHOLDERS = [
  "instruction",
  "instruction_file",
  "model",
  "workdir",
  "agent_root",
  "timeout_sec",
] as const;

const USAGE_PARSERS = ["none", "claude-code", "codex", "opencode", "goose", "gemini-cli"] as const;

const AgentEntrySchema = z
  .object({
    npm: z
      .string()
      .regex(NPM_SPEC, "must be package@version, e.g. my-agent@1.2.3 (a pinned version)")
      .optional(),
    command: z.array(z.string().min(1)).min(1, "must be a non-empty list of strings"),
    instruction: z.enum(["stdin", "file", "arg"]).default("stdin"),
    env: z.record(z.string().regex(ENV_NAME, "must be a variable name"), z.string()).default({}),
    keys: z.array(z.string().regex(ENV_NAME, "must be a variable name")).default([]),
    requires_key: z.boolean().default(false),
    requires_model: z.boolean().default(false),
    usage: z.enum(USAGE_PARSERS).default("none"),
    transcript: z
      .string()
      .regex(/^\/logs\/agent\/[^/]+$/, "must be a file directly under /logs/agent")
      .optional(),
  })
  .strict();

const AgentConfigSchema = z
  .object({
    agents: z.record(z.string().regex(AGENT_NAME, "must be a lower-case name"), AgentEntrySchema),
  })
  .strict();

export type AgentEntry = z.infer<typeof AgentEntrySchema>;

/** `{model}` → the model; unknown placeholders are rejected when the file is loaded. */
export function fillPlaceholders(arg: string, values: Record<string, string>): string {
  return arg.replace(/\{([a-z_]+)\}/g, (_, name: string) => values[name] ?? `{${name}}`);
}

/** The instruction file a `file` or `{instruction_file}` agent reads. */
export const INSTRUCTION_FILE = "/root/.rli/instruction.md";

function usageParser(
  name: AgentEntry["usage"],
  transcript: string,
  builtins: ReadonlyMap<string, AgentDefinition>,
): (reader: SandboxReader) => Promise<typeof UNKNOWN_USAGE> {
  if (name === "none") return async () => UNKNOWN_USAGE;
  const builtin = builtins.get(name);
  if (builtin === undefined) return async () => UNKNOWN_USAGE;
  // The built-in parser reads its own transcript path: point that path at this agent's transcript.
  return (reader) =>
    builtin.parseUsage({
      read: (path) => reader.read(path === builtin.transcript ? transcript : path),
    });
}

export function toDefinition(
  name: string,
  entry: AgentEntry,
  builtins: ReadonlyMap<string, AgentDefinition>,
): AgentDefinition {
  const transcript = entry.transcript ?? `/logs/agent/${name}.txt`;
  const spec = entry.npm;
  const at = spec === undefined ? -1 : spec.lastIndexOf("@");
  return {
    name,
    ...(spec !== undefined
      ? { package: { name: spec.slice(0, at), version: spec.slice(at + 1) } }
      : {}),
    requiresModel: entry.requires_model,
    keys: { names: entry.keys, requiresAny: entry.requires_key },
    transcript,
    prepare(input: PrepareInput): AgentRunPlan {
      const values: Record<string, string> = {
        instruction: input.instruction,
        instruction_file: INSTRUCTION_FILE,
        model: input.model ?? "",
        workdir: input.workdir,
        agent_root: input.root,
        timeout_sec: input.timeoutSec === null ? "" : String(input.timeoutSec),
      };
      const usesFile =
        entry.instruction === "file" ||
        [...entry.command, ...Object.values(entry.env)].some((a) =>
          a.includes("{instruction_file}"),
        );
      return {
        argv: entry.command.map((a) => fillPlaceholders(a, values)),
        env: Object.fromEntries(
          Object.entries(entry.env).map(([k, v]) => [k, fillPlaceholders(v, values)]),
        ),
        ...(entry.instruction === "stdin" ? { stdin: input.instruction } : {}),
        ...(usesFile ? { files: [{ path: INSTRUCTION_FILE, content: input.instruction }] } : {}),
      };
    },
    parseUsage: usageParser(entry.usage, transcript, builtins),
  };
}

function issueLine(file: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  // A bad record key: zod reports "Invalid key in record"; the key's own rule says why.
  const inner = issue.code === "invalid_key" ? issue.issues[0]?.message : undefined;
  return `${file}: ${path || "(top level)"}: ${inner ?? issue.message}`;
}

/** Read and check an agent definition file; every problem is one line naming the file and field. */
export async function loadAgentConfig(
  file: string,
  builtins: ReadonlyMap<string, AgentDefinition>,
  reserved: ReadonlySet<string>,
): Promise<AgentDefinition[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `--agent-config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split("\n")[0]?.replace(/:$/, "") ?? "";
    throw new UsageError(`${file}: not valid YAML: ${first}`);
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(issueLine(file, parsed.error.issues[0] as z.core.$ZodIssue));
  const defs: AgentDefinition[] = [];
  for (const [name, entry] of Object.entries(parsed.data.agents)) {
    if (reserved.has(name)) {
      throw new UsageError(
        `${file}: agents.${name}: a built-in agent has this name; choose another`,
      );
    }
    for (const arg of [...entry.command, ...Object.values(entry.env)]) {
      for (const m of arg.matchAll(/\{([a-z_]+)\}/g)) {
        if (!(PLACEHOLDERS as readonly string[]).includes(m[1] as string)) {
          throw new UsageError(
            `${file}: agents.${name}: unknown placeholder {${m[1]}}; allowed: ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
          );
        }
      }
    }
    if (!fillPlaceholders(entry.command[0] ?? "", { agent_root: "/rli/agent" }).startsWith("/")) {
      throw new UsageError(
        `${file}: agents.${name}.command: the program must be an absolute path in the sandbox (e.g. {agent_root}/node_modules/.bin/my-agent or /usr/bin/python3)`,
      );
    }
    defs.push(toDefinition(name, entry, builtins));
  }
  return defs;
}
