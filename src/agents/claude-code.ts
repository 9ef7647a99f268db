import { UNKNOWN_USAGE } from "../core/constants.js";
import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import type { AgentDefinition, PrepareInput, SandboxReader } from "./installed.js";
import { jsonObjects, shorten, tokenCount } from "./transcript.js";
import { AgentSetupError } from "./types.js";

/**
 * claude-code (@anthropic-ai/claude-code), headless as Harbor runs it: `claude --print --output-format
 * stream-json --verbose --permission-mode bypassPermissions` with the instruction on stdin, the model in
 * ANTHROPIC_MODEL, IS_SANDBOX=1 (bypassPermissions as root), no non-essential traffic, and its config
 * dir under /logs/agent so the session JSONL is collected. Keys stay in the environment.
 */

const PACKAGE = "@anthropic-ai/claude-code";
const TRANSCRIPT = "/logs/agent/claude-code.txt";
/** CLAUDE_CONFIG_DIR: sessions land in projects/<cwd slug>/<session id>.jsonl (Harbor's layout). */
export const CLAUDE_CONFIG_DIR = "/logs/agent/sessions";

/** claude's default retry budget (CLAUDE_CODE_MAX_RETRIES). */
const DEFAULT_RETRIES = 10;

/**
 * The native binary of the platform package npm installed (as the package's postinstall would copy it
 * over bin/claude.exe): run directly, so it does not depend on install scripts having run and the
 * deadline's SIGTERM reaches claude itself.
 */
export function claudeBinary(
  root: string,
  arch: string = process.arch,
  musl: boolean = isMusl(),
): string {
  if (arch !== "x64" && arch !== "arm64") {
    throw new AgentSetupError(`claude-code has no Linux binary for ${arch}; supported: x64, arm64`);
  }
  return `${root}/node_modules/${PACKAGE}-linux-${arch}${musl ? "-musl" : ""}/claude`;
}

let hostIsMusl: boolean | undefined;

/** As npm decides which libc package to install: no glibc runtime version means musl. */
function isMusl(): boolean {
  if (hostIsMusl === undefined) {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
    hostIsMusl = process.platform === "linux" && report?.header?.glibcVersionRuntime === undefined;
  }
  return hostIsMusl;
}

/** The model name claude takes: `anthropic/claude-sonnet-4-5` → `claude-sonnet-4-5`; others as typed. */
export function claudeModel(model: string): string {
  const name = model.trim().replace(/^anthropic\//i, "");
  if (name === "") throw new AgentSetupError(`claude-code needs a model name, got "${model}"`);
  return name;
}

/**
 * How many times claude retries a failed request (CLAUDE_CODE_MAX_RETRIES). Its default (10) backs off
 * for up to ~200 s (0.5 s doubling to 32 s, +25% jitter), so under a short deadline a rate-limited or
 * failing agent would be killed mid-backoff and end as a timeout. The budget is the most retries whose
 * worst-case backoff fits in half the deadline, so persistent API errors surface as claude's own error.
 */
export function retryBudget(timeoutSec: number | null): number {
  if (timeoutSec === null) return DEFAULT_RETRIES;
  let waited = 0;
  let retries = 0;
  while (retries < DEFAULT_RETRIES) {
    waited += Math.min(0.5 * 2 ** retries, 32) * 1.25;
    if (waited > timeoutSec / 2) break;
    retries++;
  }
  return retries;
}

function prepare({ model, instruction, env, root, timeoutSec }: PrepareInput) {
  if (model === null) {
    throw new AgentSetupError("claude-code needs a model, e.g. claude-sonnet-4-5");
  }
  const name = claudeModel(model);
  const planEnv: Record<string, string> = {
    ANTHROPIC_MODEL: name,
    IS_SANDBOX: "1",
    CLAUDE_CONFIG_DIR,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  // A gateway may serve only the chosen model: background, subagent and fallback calls use it too
  // (as Harbor does with a custom base URL). Values given with --env-vars win.
  if (env.ANTHROPIC_BASE_URL) {
    for (const key of [
      "ANTHROPIC_DEFAULT_OPUS_MODEL",
      "ANTHROPIC_DEFAULT_SONNET_MODEL",
      "ANTHROPIC_DEFAULT_HAIKU_MODEL",
      "CLAUDE_CODE_SUBAGENT_MODEL",
    ]) {
      if (!env[key]) planEnv[key] = name;
    }
  }
  if (!/^\d+$/.test(env.CLAUDE_CODE_MAX_RETRIES ?? "")) {
    planEnv.CLAUDE_CODE_MAX_RETRIES = String(retryBudget(timeoutSec));
  }
  return {
    argv: [
      claudeBinary(root),
      "--print",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "bypassPermissions",
      // Also in ANTHROPIC_MODEL (subagents and resumes read it); on argv it shows in process lists.
      "--model",
      name,
    ],
    env: planEnv,
    stdin: instruction,
  };
}

type Json = Record<string, unknown>;

function cost(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

function add(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

/**
 * Totals from claude's per-model accounting (`modelUsage` of a result line or a cost-state entry):
 * the whole session, subagents and side requests included. The cost is claude's own, unless it priced
 * a model it does not know (costBasis "unknown"), whose price it guessed.
 */
function fromModelUsage(
  modelUsage: unknown,
  totalCost: unknown,
  unknownCost: boolean,
): Usage | null {
  if (modelUsage === null || typeof modelUsage !== "object") return null;
  // An empty object is a session without a successful request: zero tokens, as claude counts them.
  const usage: Usage = {
    input_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    cost_usd: null,
    cost_source: "unknown",
  };
  let guessed = unknownCost;
  for (const m of Object.values(modelUsage as Record<string, Json>)) {
    usage.input_tokens = add(usage.input_tokens, tokenCount(m?.inputTokens));
    usage.cache_read_tokens = add(usage.cache_read_tokens, tokenCount(m?.cacheReadInputTokens));
    usage.cache_write_tokens = add(
      usage.cache_write_tokens,
      tokenCount(m?.cacheCreationInputTokens),
    );
    usage.output_tokens = add(usage.output_tokens, tokenCount(m?.outputTokens));
    if (m?.costBasis === "unknown") guessed = true;
  }
  const usd = guessed ? null : cost(totalCost);
  if (usd !== null) {
    usage.cost_usd = usd;
    usage.cost_source = "reported";
  }
  return usage;
}

/** Claude's directory name for a project: the cwd with every non-alphanumeric character as `-`. */
export function projectSlug(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, "-");
}

/** Per-message usage of a session JSONL, de-duplicated by message id (the last entry of each wins). */
function fromMessages(entries: Json[]): Usage | null {
  const byId = new Map<string, Json>();
  for (const e of entries) {
    if (e.type !== "assistant") continue;
    const message = e.message as Json | undefined;
    if (typeof message?.id !== "string" || message.model === "<synthetic>") continue;
    if (message.usage !== null && typeof message.usage === "object") {
      byId.set(message.id, message.usage as Json);
    }
  }
  if (byId.size === 0) return null;
  const usage: Usage = { ...UNKNOWN_USAGE };
  for (const u of byId.values()) {
    usage.input_tokens = add(usage.input_tokens, tokenCount(u.input_tokens));
    usage.cache_read_tokens = add(usage.cache_read_tokens, tokenCount(u.cache_read_input_tokens));
    usage.cache_write_tokens = add(
      usage.cache_write_tokens,
      tokenCount(u.cache_creation_input_tokens),
    );
    usage.output_tokens = add(usage.output_tokens, tokenCount(u.output_tokens));
  }
  return usage;
}

/**
 * Token usage and cost, from claude's own accounting: the last `result` line of the transcript
 * (`modelUsage` summed over models, `total_cost_usd`: reported); when there is none (killed at the
 * deadline), the session JSONL's last cost-state entry when claude wrote one on its way out; else the
 * session's assistant messages de-duplicated by id (main thread only, cost unknown).
 */
export async function claudeUsage(reader: SandboxReader): Promise<Usage> {
  const events = jsonObjects((await reader.read(TRANSCRIPT)) ?? "");
  const result = events.findLast((e) => e.type === "result");
  if (result !== undefined) {
    const usage = fromModelUsage(result.modelUsage, result.total_cost_usd, false);
    if (usage !== null) return usage;
  }
  const init = events.find((e) => e.type === "system" && e.subtype === "init");
  if (typeof init?.session_id !== "string" || typeof init.cwd !== "string") return UNKNOWN_USAGE;
  if (!/^[\w-]+$/.test(init.session_id)) return UNKNOWN_USAGE;
  const session = await reader.read(
    `${CLAUDE_CONFIG_DIR}/projects/${projectSlug(init.cwd)}/${init.session_id}.jsonl`,
  );
  if (session === null) return UNKNOWN_USAGE;
  const entries = jsonObjects(session);
  const state = entries.findLast((e) => e.type === "cost-state");
  if (state !== undefined) {
    const usage = fromModelUsage(
      state.modelUsage,
      state.totalCostUSD,
      state.hasUnknownModelCost === true,
    );
    if (usage !== null && Object.keys(state.modelUsage as Json).length > 0) return usage;
  }
  return fromMessages(entries) ?? UNKNOWN_USAGE;
}

/** Exception types by the API error claude reports (`api_error_status`, `api_error_type`). */
function apiErrorType(status: number | null, type: unknown, api: unknown): string | undefined {
  if (status === 429 || type === "rate_limit_error") return "ApiRateLimitError";
  if (status === 529 || type === "overloaded_error") return "ApiOverloadedError";
  if (status === 401 || status === 403) return "ApiAuthenticationError";
  if (type === "authentication_error" || type === "permission_error") {
    return "ApiAuthenticationError";
  }
  if (status === 413 || type === "request_too_large") return "ContextWindowExceededError";
  if (status !== null && status >= 500) return "ApiInternalServerError";
  if (type === "api_error") return "ApiInternalServerError";
  if (api === "connection_failed") return "NetworkConnectionError";
  return undefined;
}

/**
 * Why claude exited non-zero: the text of its final `result` when that is an error (e.g. "429
 * rate_limit_error: API Error: Request rejected (429) · …"), typed by the API error status and type it
 * reports, else by the generic patterns; null when it wrote no error result (the generic patterns then
 * read the transcript).
 */
export function classifyClaudeFailure(transcript: string): AgentFailure | null {
  const result = jsonObjects(transcript).findLast((e) => e.type === "result");
  if (result === undefined || result.is_error !== true) return null;
  const text =
    typeof result.result === "string" && result.result.trim() !== ""
      ? result.result
      : Array.isArray(result.errors) && result.errors.length > 0
        ? result.errors.map(String).join("; ")
        : String(result.subtype ?? "error");
  const status = tokenCount(result.api_error_status);
  const type =
    apiErrorType(status, result.api_error_type, result.api_error) ??
    classifyAgentFailure(text)?.type ??
    "AgentReportedError";
  // The API's status and error type lead, so the message names the cause whatever the server's wording.
  const apiType = typeof result.api_error_type === "string" ? result.api_error_type : "";
  const prefix = [status === null ? "" : String(status), apiType].filter(Boolean).join(" ");
  return { type, message: shorten(prefix === "" ? text : `${prefix}: ${text}`) };
}

/** claude-code against the Anthropic API, or a gateway through ANTHROPIC_BASE_URL. */
export const claudeCode: AgentDefinition = {
  name: "claude-code",
  package: { name: PACKAGE, version: "2.1.332" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"], requiresAny: true },
  passEnv: ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"],
  transcript: TRANSCRIPT,
  prepare,
  parseUsage: claudeUsage,
  classifyFailure: classifyClaudeFailure,
};
