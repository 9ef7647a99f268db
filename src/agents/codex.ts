import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { UNKNOWN_USAGE } from "../core/constants.js";
import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import type { AgentDefinition, AgentRunPlan, PrepareInput, SandboxReader } from "./installed.js";
import { jsonObjects, shorten, tokenCount } from "./transcript.js";
import { AgentSetupError } from "./types.js";

/**
 * codex (@openai/codex): `codex exec --json` with the instruction on stdin, run by its native binary.
 *
 * codex ignores OPENAI_BASE_URL, so each trial gets its own CODEX_HOME under /logs/agent (collected with
 * the logs: config, session rollouts) whose config.toml declares a model provider for the Responses API
 * at $OPENAI_BASE_URL (default https://api.openai.com/v1) that reads its key from OPENAI_API_KEY: the key
 * stays in the environment, no file holds it. RLI_CODEX_CONFIG (TOML, e.g. from --env-vars) is merged
 * over that config, e.g. `model_providers.rli-openai.request_max_retries = 0`.
 */

/** The per-trial CODEX_HOME: sessions/**\/rollout-*.jsonl land here and are collected. */
export const CODEX_HOME = "/logs/agent/codex-home";
/** The id of the model provider the generated config declares. */
export const CODEX_PROVIDER = "rli-openai";
/** Extra codex configuration (TOML), merged over the generated config.toml. */
export const CODEX_CONFIG_ENV = "RLI_CODEX_CONFIG";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const PACKAGE = "@openai/codex";

/** The native binary's platform package and target, as the npm launcher (bin/codex.js) picks them. */
const TARGETS: Record<string, { pkg: string; triple: string }> = {
  x64: { pkg: "@openai/codex-linux-x64", triple: "x86_64-unknown-linux-musl" },
  arm64: { pkg: "@openai/codex-linux-arm64", triple: "aarch64-unknown-linux-musl" },
};

/**
 * The native codex binary under the installed package. Run directly rather than through the Node
 * launcher, which on Node < 22 spawns it as a child: the deadline's SIGTERM then reaches codex itself.
 */
export function codexBinary(root: string, arch: string = process.arch): string {
  const target = TARGETS[arch];
  if (target === undefined) {
    throw new AgentSetupError(
      `codex has no Linux binary for ${arch}; supported: ${Object.keys(TARGETS).join(", ")}`,
    );
  }
  return `${root}/node_modules/${target.pkg}/vendor/${target.triple}/bin/codex`;
}

/** The model name codex takes: `openai/gpt-5` → `gpt-5` (a provider prefix is dropped). */
export function codexModel(model: string): string {
  const name = model.slice(model.lastIndexOf("/") + 1).trim();
  if (name === "") throw new AgentSetupError(`codex needs a model name, got "${model}"`);
  return name;
}

/**
 * The provider's base URL: OPENAI_BASE_URL as given (with its version path, as OpenAI's SDKs take it);
 * a bare origin such as http://127.0.0.1:8080 gets the API's /v1.
 */
export function codexBaseUrl(value: string | undefined): string {
  if (value === undefined || value.trim() === "") return DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new AgentSetupError(`OPENAI_BASE_URL is not a URL: ${value}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AgentSetupError(`OPENAI_BASE_URL must be http(s): ${value}`);
  }
  const text = url.toString().replace(/\/+$/, "");
  return url.pathname === "/" || url.pathname === "" ? `${text}/v1` : text;
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** `over` merged into `base`, tables recursively; `over` wins. */
function merge(base: Table, over: Table): Table {
  const out: Table = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTable(b) && isTable(v) ? merge(b, v) : v;
  }
  return out;
}

/** The config.toml codex reads: our provider, then RLI_CODEX_CONFIG over it. No secret is written. */
export function codexConfig(env: Readonly<Record<string, string>>): string {
  let config: Table = {
    model_provider: CODEX_PROVIDER,
    model_providers: {
      [CODEX_PROVIDER]: {
        name: "OpenAI (rli)",
        base_url: codexBaseUrl(env.OPENAI_BASE_URL),
        env_key: "OPENAI_API_KEY",
        wire_api: "responses",
        // Plain HTTPS streaming: no WebSocket attempt first (gateways and mocks rarely speak it).
        supports_websockets: false,
      },
    },
  };
  const extra = env[CODEX_CONFIG_ENV];
  if (extra !== undefined && extra.trim() !== "") {
    let parsed: Table;
    try {
      parsed = parseToml(extra) as Table;
    } catch (err) {
      const first = ((err as Error).message.split("\n")[0] ?? "").trim();
      throw new AgentSetupError(`${CODEX_CONFIG_ENV} is not valid TOML: ${first}`);
    }
    config = merge(config, parsed);
  }
  return `# Written by rli for this trial. The API key is read from the environment variable env_key.\n${stringifyToml(config)}\n`;
}

function prepare(input: PrepareInput): AgentRunPlan {
  if (input.model === null) throw new AgentSetupError("codex needs a model: codex:<model>");
  return {
    argv: [
      codexBinary(input.root),
      "exec",
      "--json",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--cd",
      input.workdir,
      "--model",
      codexModel(input.model),
      // The prompt comes from stdin.
      "-",
    ],
    env: {
      CODEX_HOME,
      // What the npm launcher tells the binary about its install.
      CODEX_MANAGED_BY_NPM: "1",
      CODEX_MANAGED_PACKAGE_ROOT: `${input.root}/node_modules/${PACKAGE}`,
    },
    stdin: input.instruction,
    files: [{ path: `${CODEX_HOME}/config.toml`, content: codexConfig(input.env) }],
  };
}

interface TurnUsage {
  input_tokens?: unknown;
  cached_input_tokens?: unknown;
  cache_write_input_tokens?: unknown;
  output_tokens?: unknown;
}

/** a + b where a null (unknown) stays unknown. */
function add(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/**
 * Token usage from the `--json` event stream in the transcript: the sum of every `turn.completed`
 * usage (one per `codex exec` turn, covering each model request of the turn). codex's input_tokens
 * counts the whole prompt, cached reads and cache writes included, so the uncached input is the
 * difference. Reasoning tokens are part of output_tokens. codex reports no cost. A run with no completed
 * turn (a timeout, a failed turn) reports unknown usage.
 */
export function parseCodexUsage(transcript: string): Usage {
  let turns = 0;
  let input: number | null = 0;
  let cacheRead: number | null = 0;
  let cacheWrite: number | null = 0;
  let output: number | null = 0;
  for (const event of events(transcript)) {
    if (event.type !== "turn.completed" || !isTable(event.usage)) continue;
    const u = event.usage as TurnUsage;
    const total = tokenCount(u.input_tokens);
    const read = tokenCount(u.cached_input_tokens);
    const write = tokenCount(u.cache_write_input_tokens);
    turns++;
    input = add(input, total === null ? null : Math.max(0, total - (read ?? 0) - (write ?? 0)));
    cacheRead = add(cacheRead, read);
    cacheWrite = add(cacheWrite, write);
    output = add(output, tokenCount(u.output_tokens));
  }
  if (turns === 0) return UNKNOWN_USAGE;
  return {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: output,
    cost_usd: null,
    cost_source: "unknown",
  };
}

/**
 * The JSON events of a `codex exec --json` transcript, skipping the other lines (stderr): only objects
 * with a string `type` count.
 */
function events(transcript: string): Table[] {
  return jsonObjects(transcript).filter((e) => typeof e.type === "string");
}

/** The error of the last failed turn (codex's `turn.failed` event), or null when no turn failed. */
function failedTurn(all: Table[]): AgentFailure | null {
  const last = all.filter((e) => e.type === "turn.failed" || e.type === "turn.completed").pop();
  if (last?.type !== "turn.failed") return null;
  const error = isTable(last.error) ? last.error : {};
  const message = shorten(
    typeof error.message === "string" ? error.message : JSON.stringify(error),
  );
  return { type: classifyAgentFailure(message)?.type ?? "AgentReportedError", message };
}

/**
 * Why codex exited non-zero: the error of its failed turn (the model API's status after codex's
 * retries, a missing key...), else the error it printed on stderr (a bad config.toml...). codex's
 * warnings in the event stream ("Model metadata for `x` not found", reconnect notices) are not reasons.
 */
export function codexFailure(transcript: string): AgentFailure {
  const turn = failedTurn(events(transcript));
  if (turn !== null) return turn;
  const fatal = events(transcript)
    .filter((e) => e.type === "error" && typeof e.message === "string")
    .pop();
  const stderr = transcript
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("{") && !l.startsWith("WARNING:"));
  const line =
    stderr.filter((l) => /\berror\b/i.test(l)).pop() ??
    stderr.pop() ??
    (fatal?.message as string | undefined);
  if (line === undefined)
    return { type: "NonZeroAgentExitCodeError", message: "codex printed no error" };
  const message = shorten(line);
  return { type: classifyAgentFailure(message)?.type ?? "NonZeroAgentExitCodeError", message };
}

export const codex: AgentDefinition = {
  name: "codex",
  package: { name: PACKAGE, version: "0.171.0" },
  requiresModel: true,
  keys: { names: ["OPENAI_API_KEY"], requiresAny: true },
  passEnv: ["OPENAI_BASE_URL", CODEX_CONFIG_ENV],
  transcript: "/logs/agent/codex.txt",
  prepare,
  classifyFailure: codexFailure,
  // codex exits 1 after a failed turn; should it ever exit 0 after one, that is still a failure.
  reportedFailure: (transcript) => failedTurn(events(transcript)),
  async parseUsage(reader: SandboxReader) {
    return parseCodexUsage((await reader.read(codex.transcript)) ?? "");
  },
};
