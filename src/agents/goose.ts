import { UNKNOWN_USAGE } from "../core/constants.js";
import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import type { AgentDefinition, PrepareInput } from "./installed.js";
import { jsonObjects, tokenCount } from "./transcript.js";
import { AgentSetupError } from "./types.js";

const BINARY = "node_modules/@aaif/goose-binary-linux-x64/bin/goose";
const TRANSCRIPT = "/logs/agent/goose.txt";
/** A file, not argv: no length limit, and never parsed as a recipe template. */
const INSTRUCTION_FILE = "/root/.rli/goose-instruction.md";
/** goose's session database, llm_request logs and CLI logs land here and are collected with the trial. */
const GOOSE_LOGS = "/logs/agent/goose";

/** The key each built-in provider reads; other goose providers take theirs from --env-vars/--secrets. */
const PROVIDER_KEYS: Readonly<Record<string, string>> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  google: "GOOGLE_API_KEY",
};

/** The provider a model name without a `provider/` prefix belongs to, by its family. */
const FAMILIES: readonly [RegExp, string][] = [
  [/^claude-/i, "anthropic"],
  [/^(gpt-|chatgpt-|codex-|o\d)/i, "openai"],
  [/^gemini-/i, "google"],
];

/**
 * goose's provider and model from the name as users type it on Runloop: `anthropic/claude-sonnet-4-5`,
 * `openai/gpt-5` (split at the first slash, so `openrouter/anthropic/claude-sonnet-4-5` works), or a bare
 * `claude-…`, `gpt-…`/`o3…` or `gemini-…` name whose provider is its family's.
 */
export function gooseProvider(model: string): { provider: string; model: string } {
  const slash = model.indexOf("/");
  if (slash > 0 && slash < model.length - 1) {
    const provider = model.slice(0, slash).toLowerCase();
    if (/^[a-z0-9_-]+$/.test(provider)) return { provider, model: model.slice(slash + 1) };
  }
  const family = FAMILIES.find(([re]) => re.test(model));
  if (family !== undefined && slash === -1) return { provider: family[1], model };
  throw new AgentSetupError(
    `goose needs a model as provider/model (e.g. goose:anthropic/claude-sonnet-4-5 or goose:openai/gpt-5); got "${model}"`,
  );
}

interface StreamEvent {
  type?: unknown;
  error?: unknown;
  message?: {
    role?: unknown;
    content?: unknown;
    metadata?: { inference?: unknown };
  };
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_read_input_tokens?: unknown;
  cache_write_input_tokens?: unknown;
  cost_usd?: unknown;
}

/**
 * The JSON events of a `--output-format stream-json` transcript (the banner and stderr lines skipped).
 * Unlike the other agents' transcripts, lines are not trimmed: an event starts at a line's first character.
 */
function events(transcript: string): StreamEvent[] {
  return jsonObjects(transcript, { trim: false }) as StreamEvent[];
}

/** The texts of a message's content items (text, and the `error` items goose writes itself). */
function texts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const item of content as { type?: unknown; text?: unknown; message?: unknown }[]) {
    if (item?.type === "text" && typeof item.text === "string") out.push(item.text);
    if (item?.type === "error" && typeof item.message === "string") out.push(item.message);
  }
  return out;
}

function failureFrom(text: string): AgentFailure {
  const first = text.split("\n").find((l) => l.trim() !== "") ?? text;
  const classified = classifyAgentFailure(text);
  if (classified !== null) return classified;
  const message = first.trim();
  return {
    type: "AgentReportedError",
    message: message.length > 300 ? `${message.slice(0, 297)}...` : message,
  };
}

/** How goose words the errors it reports as assistant messages. */
const GOOSE_ERROR = /^(Ran into this error\b|[A-Z][A-Za-z ]{0,40} error: )/;

/**
 * The error that ended a goose run, from its stream-json transcript: an `error` event, or a last
 * assistant message that goose wrote itself (no inference metadata) in its error wording ("Ran into
 * this error: …", "Network error: …"). goose exits 0 after the errors it considers recoverable (429,
 * 5xx, no connection, failed compaction).
 */
export function gooseFailure(transcript: string): AgentFailure | null {
  const all = events(transcript);
  const error = all.find((e) => e.type === "error" && typeof e.error === "string");
  if (error !== undefined) return failureFrom(error.error as string);
  const last = all.filter((e) => e.type === "message" && e.message?.role === "assistant").pop();
  if (last?.message === undefined || last.message.metadata?.inference !== undefined) return null;
  const own = texts(last.message.content).find((t) => GOOSE_ERROR.test(t));
  return own === undefined ? null : failureFrom(own);
}

/**
 * Usage from the `complete` event. goose counts every prompt token in `input_tokens` (cached ones
 * too); ours are the uncached ones, so the cache reads and writes are taken out. `cost_usd` is goose's
 * own figure from its price table (absent for models it does not know). Zero tokens after a model
 * reply means goose got no usage from the provider: unknown, not 0.
 */
export function gooseUsage(transcript: string): Usage {
  const all = events(transcript);
  const done = all.filter((e) => e.type === "complete").pop();
  if (done === undefined) return UNKNOWN_USAGE;
  const prompt = tokenCount(done.input_tokens);
  const output = tokenCount(done.output_tokens);
  const cacheRead = tokenCount(done.cache_read_input_tokens);
  const cacheWrite = tokenCount(done.cache_write_input_tokens);
  const replied = all.some(
    (e) => e.type === "message" && e.message?.metadata?.inference !== undefined,
  );
  if (replied && !prompt && !output) return UNKNOWN_USAGE;
  const uncached = prompt === null ? null : prompt - (cacheRead ?? 0) - (cacheWrite ?? 0);
  const cost =
    typeof done.cost_usd === "number" && Number.isFinite(done.cost_usd) && done.cost_usd >= 0
      ? done.cost_usd
      : null;
  return {
    input_tokens: uncached !== null && uncached >= 0 ? uncached : null,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: output,
    cost_usd: cost,
    cost_source: cost === null ? "unknown" : "reported",
  };
}

/**
 * goose (the native binary from npm): `goose run --no-session -i <file> --output-format stream-json`,
 * headless and without approvals (GOOSE_MODE=auto), provider and model from `provider/model`, keys from
 * the environment (never the keyring), provider hosts (ANTHROPIC_HOST, OPENAI_HOST + OPENAI_BASE_PATH,
 * GOOGLE_HOST) passed through for gateways.
 */
export const goose: AgentDefinition = {
  name: "goose",
  package: { name: "@aaif/goose-binary-linux-x64", version: "1.52.0" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  passEnv: ["ANTHROPIC_HOST", "OPENAI_HOST", "OPENAI_BASE_PATH", "GOOGLE_HOST"],
  transcript: TRANSCRIPT,
  checkModel(model: string) {
    gooseProvider(model);
  },
  prepare(input: PrepareInput) {
    const { provider, model } = gooseProvider(input.model ?? "");
    const key = PROVIDER_KEYS[provider];
    if (key !== undefined && !input.env[key]) {
      throw new AgentSetupError(
        `goose:${input.model} uses the ${provider} provider, which needs ${key}: export it or pass --secrets ${key}=NAME`,
      );
    }
    return {
      argv: [
        `${input.root}/${BINARY}`,
        "run",
        "--no-session",
        "-i",
        INSTRUCTION_FILE,
        "--output-format",
        "stream-json",
      ],
      env: {
        GOOSE_PROVIDER: provider,
        GOOSE_MODEL: model,
        GOOSE_MODE: "auto",
        GOOSE_DISABLE_KEYRING: "true",
        // The title request is one more model call, and its usage is missing from the `complete` event.
        GOOSE_DISABLE_SESSION_NAMING: "true",
        XDG_CONFIG_HOME: "/root/.config",
        XDG_CACHE_HOME: "/root/.cache",
        XDG_DATA_HOME: `${GOOSE_LOGS}/data`,
        XDG_STATE_HOME: `${GOOSE_LOGS}/state`,
      },
      files: [{ path: INSTRUCTION_FILE, content: input.instruction }],
    };
  },
  reportedFailure: gooseFailure,
  async parseUsage(reader) {
    return gooseUsage((await reader.read(TRANSCRIPT)) ?? "");
  },
};
