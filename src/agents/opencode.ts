import { UNKNOWN_USAGE } from "../core/constants.js";
import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import {
  type AgentDefinition,
  type AgentRunPlan,
  type PrepareInput,
  SANDBOX_HOME,
  type SandboxReader,
} from "./installed.js";
import { jsonObjects, shorten, tokenCount } from "./transcript.js";
import { AgentSetupError } from "./types.js";

/**
 * opencode (opencode-ai): `opencode run --format json` with the instruction on stdin, run by the native
 * binary the package's postinstall picked for this CPU (bin/opencode.exe: x64 or x64-baseline, glibc or
 * musl). Not as an argv message: `run` wraps every argv element that holds a space in double quotes
 * and escapes the quotes inside, so the model would see `"create hello.txt"`; stdin arrives verbatim.
 *
 * The provider's base URL (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL, for gateways)
 * and the model go into OPENCODE_CONFIG_CONTENT; keys stay in the environment, where opencode's built-in
 * providers read them (ANTHROPIC_API_KEY, OPENAI_API_KEY; GOOGLE_API_KEY through an `{env:…}` reference
 * in the config), so no file or config string holds one. opencode's database (sessions, messages, per-session token totals) lands under /logs/agent.
 */

/** XDG_DATA_HOME and XDG_STATE_HOME go here: opencode.db and its state are collected with the logs. */
export const OPENCODE_LOGS = "/logs/agent/opencode";
const TRANSCRIPT = "/logs/agent/opencode.txt";
/** Where the postinstall links the platform binary (the package's `opencode` bin). */
const BINARY = "node_modules/opencode-ai/bin/opencode.exe";
/**
 * Given as --title: opencode then skips its title request, a call to a small model (claude-haiku-4-5
 * for anthropic) whose usage it never reports. Every model call left is a step of the session.
 */
const TITLE = "rli trial";

/**
 * The providers built into the binary: the variable that sets a base URL, the API version path, and
 * the key variable the config must name because the provider's SDK does not read it itself (opencode
 * lists GOOGLE_API_KEY for google, but @ai-sdk/google reads only GOOGLE_GENERATIVE_AI_API_KEY).
 */
const PROVIDERS: Readonly<Record<string, { baseUrl: string; version: string; key?: string }>> = {
  anthropic: { baseUrl: "ANTHROPIC_BASE_URL", version: "/v1" },
  openai: { baseUrl: "OPENAI_BASE_URL", version: "/v1" },
  google: { baseUrl: "GOOGLE_GEMINI_BASE_URL", version: "/v1beta", key: "GOOGLE_API_KEY" },
};

/**
 * opencode's provider and model from the name as users type it on Runloop: `anthropic/claude-sonnet-4-5`
 * (split at the first slash, so `openrouter/anthropic/claude-sonnet-4-5` keeps its model path).
 */
export function opencodeModel(model: string): { provider: string; model: string } {
  const slash = model.indexOf("/");
  const provider = model.slice(0, Math.max(slash, 0)).trim();
  const name = model.slice(slash + 1).trim();
  if (slash <= 0 || name === "" || !/^[A-Za-z0-9._-]+$/.test(provider)) {
    throw new AgentSetupError(
      `opencode needs a model as provider/model (e.g. opencode:anthropic/claude-sonnet-4-5); got "${model}"`,
    );
  }
  return { provider, model: name };
}

/**
 * The baseURL opencode's provider takes from a base URL as the provider's other clients take it:
 * ANTHROPIC_BASE_URL and GOOGLE_GEMINI_BASE_URL without the version path (the SDKs add it), OPENAI_BASE_URL
 * with it. A URL that already ends in a version path is kept.
 */
export function opencodeBaseUrl(name: string, value: string, version: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new AgentSetupError(`${name} is not a URL: ${value}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AgentSetupError(`${name} must be http(s): ${value}`);
  }
  const text = url.toString().replace(/\/+$/, "");
  return /\/v\d+(alpha|beta)?\d*$/.test(url.pathname.replace(/\/+$/, ""))
    ? text
    : `${text}${version}`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `over` merged into `base`, objects recursively; `over` wins. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? merge(b, v) : v;
  }
  return out;
}

/**
 * The OPENCODE_CONFIG_CONTENT of a trial: the model registered with its provider (so names missing from
 * opencode's built-in catalogue work; known ones keep the catalogue's limits and prices), the provider's
 * base URL when its variable is set, its key as an `{env:NAME}` reference where the SDK would not find
 * it, every permission allowed, sharing and autoupdate off. An OPENCODE_CONFIG_CONTENT the user gave
 * (--env-vars) is merged over it.
 */
export function opencodeConfig(model: string, env: Readonly<Record<string, string>>): string {
  const { provider, model: name } = opencodeModel(model);
  const options: Json = {};
  const known = PROVIDERS[provider];
  const baseUrl = known === undefined ? undefined : env[known.baseUrl];
  if (known !== undefined && baseUrl !== undefined && baseUrl.trim() !== "") {
    options.baseURL = opencodeBaseUrl(known.baseUrl, baseUrl, known.version);
  }
  // A reference opencode resolves from its environment: the config never holds the key itself.
  if (known?.key !== undefined && (env[known.key] ?? "") !== "") {
    options.apiKey = `{env:${known.key}}`;
  }
  let config: Json = {
    $schema: "https://opencode.ai/config.json",
    provider: {
      [provider]: {
        ...(Object.keys(options).length > 0 ? { options } : {}),
        models: { [name]: {} },
      },
    },
    permission: "allow",
    share: "disabled",
    autoupdate: false,
  };
  const extra = env.OPENCODE_CONFIG_CONTENT;
  if (extra !== undefined && extra.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(extra);
    } catch (err) {
      throw new AgentSetupError(
        `OPENCODE_CONFIG_CONTENT is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (!isObject(parsed))
      throw new AgentSetupError("OPENCODE_CONFIG_CONTENT must be a JSON object");
    config = merge(config, parsed);
  }
  return JSON.stringify(config);
}

function prepare(input: PrepareInput): AgentRunPlan {
  if (input.model === null) {
    throw new AgentSetupError("opencode needs a model: opencode:<provider>/<model>");
  }
  const { provider, model } = opencodeModel(input.model);
  const config = opencodeConfig(input.model, input.env);
  return {
    argv: [
      `${input.root}/${BINARY}`,
      "run",
      "--format",
      "json",
      "--model",
      `${provider}/${model}`,
      "--dir",
      input.workdir,
      "--title",
      TITLE,
      // Approve any permission request the config leaves open; a headless run would reject it.
      "--auto",
      // Reasoning blocks as `reasoning` events in the transcript.
      "--thinking",
      // opencode's own warnings and errors (the cause of an "Unexpected server error") on stderr, in
      // the transcript; its log file would not get them before the process exits.
      "--print-logs",
      "--log-level",
      "WARN",
    ],
    env: {
      OPENCODE_CONFIG_CONTENT: config,
      // The built-in model catalogue, not a download from models.dev; no self-update.
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      XDG_DATA_HOME: `${OPENCODE_LOGS}/data`,
      XDG_STATE_HOME: `${OPENCODE_LOGS}/state`,
      XDG_CONFIG_HOME: `${SANDBOX_HOME}/.config`,
      XDG_CACHE_HOME: `${SANDBOX_HOME}/.cache`,
    },
    stdin: input.instruction,
  };
}

interface StreamEvent {
  type?: unknown;
  error?: unknown;
  part?: {
    id?: unknown;
    tokens?: {
      input?: unknown;
      output?: unknown;
      reasoning?: unknown;
      cache?: { read?: unknown; write?: unknown };
    };
    cost?: unknown;
  };
}

/** The JSON events of a `--format json` transcript (log lines on stderr skipped). */
function events(transcript: string): StreamEvent[] {
  return jsonObjects(transcript) as StreamEvent[];
}

function add(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/**
 * Usage summed over the `step_finish` events (one per model call of the session), each counted once by
 * its part id. opencode's `input` is the uncached prompt (cache reads and writes are apart), and its
 * `output` leaves out `reasoning`, which the provider bills as output: ours is their sum. The cost is
 * opencode's own, from its catalogue's prices; a total of 0 for tokens spent means it has no price for
 * the model (a name missing from its catalogue), so the cost is unknown, not 0. Not counted: steps of
 * subagents (the task tool), whose events opencode does not print (their totals are in opencode.db),
 * and a step cut off by the deadline.
 */
export function parseOpencodeUsage(transcript: string): Usage {
  const steps = new Map<string, NonNullable<StreamEvent["part"]>>();
  let anonymous = 0;
  for (const e of events(transcript)) {
    if (e.type !== "step_finish" || !isObject(e.part)) continue;
    const id = typeof e.part.id === "string" ? e.part.id : `#${anonymous++}`;
    steps.set(id, e.part);
  }
  if (steps.size === 0) return UNKNOWN_USAGE;
  let input: number | null = 0;
  let cacheRead: number | null = 0;
  let cacheWrite: number | null = 0;
  let output: number | null = 0;
  let cost: number | null = 0;
  for (const part of steps.values()) {
    const t = isObject(part.tokens) ? part.tokens : {};
    const cache = isObject(t.cache) ? t.cache : {};
    input = add(input, tokenCount(t.input));
    cacheRead = add(cacheRead, tokenCount(cache.read));
    cacheWrite = add(cacheWrite, tokenCount(cache.write));
    output = add(output, add(tokenCount(t.output), tokenCount(t.reasoning) ?? 0));
    const c = part.cost;
    cost = cost !== null && typeof c === "number" && Number.isFinite(c) && c >= 0 ? cost + c : null;
  }
  const spent = (input ?? 0) + (output ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0) > 0;
  if (cost === 0 && spent) cost = null;
  return {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: output,
    cost_usd: cost,
    cost_source: cost === null ? "unknown" : "reported",
  };
}

/**
 * The error an `error` event of the JSON stream reports (a model API error after opencode's retries,
 * an unknown model...), classified by its status code and message; null when the stream has none.
 * opencode 1.18 exits 1 after one; older versions exited 0, so an error event is a failure either way.
 */
export function opencodeFailure(transcript: string): AgentFailure | null {
  const error = events(transcript)
    .filter((e) => e.type === "error")
    .pop();
  if (error === undefined) return null;
  const err = isObject(error.error) ? error.error : {};
  const data = isObject(err.data) ? err.data : {};
  const name = typeof err.name === "string" ? err.name : "Error";
  const status = typeof data.statusCode === "number" ? ` (HTTP ${data.statusCode})` : "";
  const text = typeof data.message === "string" ? data.message : JSON.stringify(err);
  const line = `${name}${status}: ${text}`.replace(/\s+/g, " ").trim();
  const message = shorten(line);
  const classified = classifyAgentFailure(line);
  return { type: classified?.type ?? "AgentReportedError", message };
}

/**
 * Why opencode exited non-zero: its last `error` event when that names the cause (an API status, a
 * context overflow); otherwise (an "Unexpected server error", the event's text for anything opencode did
 * not expect, such as an unknown model) the generic patterns over the tail, which hold opencode's own
 * ERROR log lines (--print-logs), and failing those the event itself.
 */
export function opencodeExitFailure(tail: string): AgentFailure | null {
  const reported = opencodeFailure(tail);
  if (reported !== null && reported.type !== "AgentReportedError") return reported;
  return classifyAgentFailure(tail) ?? reported;
}

/** opencode-ai, pinned; keys per Runloop (none required: the provider in the model name decides). */
export const opencode: AgentDefinition = {
  name: "opencode",
  package: { name: "opencode-ai", version: "1.18.33" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  passEnv: ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"],
  transcript: TRANSCRIPT,
  checkModel(model: string) {
    opencodeModel(model);
  },
  prepare,
  reportedFailure: opencodeFailure,
  classifyFailure: opencodeExitFailure,
  async parseUsage(reader: SandboxReader) {
    return parseOpencodeUsage((await reader.read(TRANSCRIPT)) ?? "");
  },
};
