import { UNKNOWN_USAGE } from "../core/constants.js";
import type { Usage } from "../core/schemas.js";
import { type AgentFailure, classifyAgentFailure } from "./classify.js";
import type { AgentDefinition, SandboxReader } from "./installed.js";
import { jsonObjects, shorten } from "./transcript.js";
import { AgentSetupError } from "./types.js";

/**
 * gemini-cli (@google/gemini-cli, a Node bundle) run headless:
 *
 *   node .../bundle/gemini.js --yolo --model <model> --output-format stream-json   (instruction on stdin)
 *
 * - Its state directory (GEMINI_CLI_HOME) is /logs/agent/gemini, so its settings, chat sessions and tool
 *   outputs are collected with the trial's logs. The settings pin API-key auth (headless mode cannot show
 *   the auth dialog) and turn off auto-update, usage statistics, telemetry and IDE integration.
 * - GEMINI_CLI_TRUST_WORKSPACE=true (otherwise --yolo is ignored in an untrusted folder) and
 *   GEMINI_CLI_NO_RELAUNCH=true (otherwise a wrapper process that ignores SIGTERM relaunches the CLI in a
 *   child, costing a second Node start).
 * - An explicit model always: without one the "auto" router makes extra classifier calls.
 * - Its retry budget for one request (general.maxAttempts, 10 by default, backoff 5 s doubling to 30 s)
 *   is cut when the agent timeout is short, so persistent 429s end the run as a rate-limit error with
 *   its reason rather than as a bare timeout.
 *
 * Usage comes from the stream-json `result` event (every API response it logged, side calls included);
 * without one (killed at the deadline), from the session file it keeps as it goes.
 */

const PACKAGE = "@google/gemini-cli";
/** GEMINI_CLI_HOME: gemini keeps everything in `${STATE_HOME}/.gemini`. */
export const STATE_HOME = "/logs/agent/gemini";
const GEMINI_DIR = `${STATE_HOME}/.gemini`;
const TRANSCRIPT = "/logs/agent/gemini-cli.txt";

/** gemini-cli's own limit on general.maxAttempts. */
const MAX_ATTEMPTS = 10;

/**
 * The model name gemini-cli expects: the last segment of what the user typed, so `google/gemini-2.5-pro`,
 * `gemini/gemini-2.5-pro` and `models/gemini-2.5-pro` all mean `gemini-2.5-pro`.
 */
export function geminiModel(model: string): string {
  const name = model.slice(model.lastIndexOf("/") + 1).trim();
  if (name === "") throw new AgentSetupError(`gemini-cli: no model name in "${model}"`);
  return name;
}

/**
 * How many attempts gemini may make for one request within `timeoutSec`: the most (up to its limit of 10)
 * whose worst-case backoff (5 s doubling to 30 s, +30 % jitter) fits in half the agent's time.
 */
export function maxAttempts(timeoutSec: number | null): number {
  if (timeoutSec === null) return MAX_ATTEMPTS;
  const budgetMs = (timeoutSec * 1000) / 2;
  let attempts = 1;
  let waitedMs = 0;
  let delayMs = 5000;
  while (attempts < MAX_ATTEMPTS) {
    waitedMs += delayMs * 1.3;
    if (waitedMs > budgetMs) break;
    attempts++;
    delayMs = Math.min(30_000, delayMs * 2);
  }
  return attempts;
}

/** The user settings gemini reads from `${GEMINI_DIR}/settings.json`. No secrets: keys stay in env. */
export function geminiSettings(timeoutSec: number | null): Record<string, unknown> {
  return {
    security: { auth: { selectedType: "gemini-api-key" } },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      maxAttempts: maxAttempts(timeoutSec),
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
  };
}

type Json = Record<string, unknown>;

/** A count to sum: 0 when absent or not positive, rounded (unlike tokenCount, no unknown here). */
function count(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

function usageOf(input: number, cacheRead: number, output: number): Usage {
  return {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    // The Gemini API reports no cache writes (implicit caching has none; gemini-cli creates no caches).
    cache_write_tokens: null,
    output_tokens: output,
    cost_usd: null,
    cost_source: "unknown",
  };
}

/**
 * Usage from the stream-json `result` event's stats, summed over models: `input_tokens` is the prompt
 * (cached included), `cached` the cached part, `output_tokens` the candidates only, and `total_tokens`
 * adds thoughts and tool-use prompts, which count as output here (as Harbor counts them).
 */
function usageFromResult(events: readonly Json[]): Usage | null {
  const result = events.findLast(
    (e) => e.type === "result" && e.stats !== null && typeof e.stats === "object",
  );
  if (result === undefined) return null;
  const s = result.stats as Json;
  const prompt = count(s.input_tokens);
  const cached = count(s.cached);
  const candidates = count(s.output_tokens);
  const rest = Math.max(0, count(s.total_tokens) - prompt - candidates);
  const input = typeof s.input === "number" ? count(s.input) : Math.max(0, prompt - cached);
  return usageOf(input, cached, candidates + rest);
}

/** `2026-11-26T23:05:42.822Z` → the minute gemini puts in session file names, and the one before. */
function sessionMinutes(timestamp: string): string[] {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return [];
  return [t, t - 60_000].map((ms) => new Date(ms).toISOString().slice(0, 16).replace(/:/g, "-"));
}

async function readSession(reader: SandboxReader, events: readonly Json[]): Promise<string | null> {
  const init = events.find((e) => e.type === "init");
  if (typeof init?.session_id !== "string" || typeof init.timestamp !== "string") return null;
  let projects: unknown = null;
  try {
    projects = JSON.parse((await reader.read(`${GEMINI_DIR}/projects.json`)) ?? "null");
  } catch {
    return null;
  }
  const map = (projects as { projects?: unknown } | null)?.projects;
  const slugs = Object.values(map !== null && typeof map === "object" ? map : {}).filter(
    (s): s is string => typeof s === "string" && /^[a-z0-9-]+$/.test(s),
  );
  const id8 = init.session_id.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 8);
  for (const slug of slugs) {
    for (const minute of sessionMinutes(init.timestamp)) {
      const text = await reader.read(
        `${GEMINI_DIR}/tmp/${slug}/chats/session-${minute}-${id8}.jsonl`,
      );
      if (text !== null) return text;
    }
  }
  return null;
}

/**
 * Usage from the session file (JSONL: message records, rewritten by id as they complete, and `$set`
 * records that may carry the whole message list): every model message ever recorded counts once, even
 * if later compressed or rewound away, since its tokens were spent. Subagents and side calls are not
 * in it. Null when no model message finished.
 */
function usageFromSession(text: string): Usage | null {
  const messages = new Map<string, Json>();
  const add = (m: unknown) => {
    const r = m as Json | null;
    if (r !== null && typeof r === "object" && typeof r.id === "string" && r.type === "gemini") {
      messages.set(r.id, r);
    }
  };
  for (const record of jsonObjects(text)) {
    add(record);
    const set = record.$set as Json | undefined;
    if (Array.isArray(set?.messages)) for (const m of set.messages) add(m);
  }
  let input = 0;
  let cached = 0;
  let output = 0;
  let seen = false;
  for (const m of messages.values()) {
    const t = m.tokens as Json | undefined;
    if (t === undefined || t === null || typeof t !== "object") continue;
    seen = true;
    const c = count(t.cached);
    input += Math.max(0, count(t.input) - c);
    cached += c;
    output += count(t.output) + count(t.thoughts) + count(t.tool);
  }
  return seen ? usageOf(input, cached, output) : null;
}

/** Token usage of a run from its transcript, else its session file; all null when neither has any. */
export async function geminiUsage(reader: SandboxReader): Promise<Usage> {
  const events = jsonObjects((await reader.read(TRANSCRIPT)) ?? "");
  const fromResult = usageFromResult(events);
  if (fromResult !== null) return fromResult;
  const session = await readSession(reader, events);
  return (session !== null ? usageFromSession(session) : null) ?? UNKNOWN_USAGE;
}

/** Google RPC statuses (in the API errors gemini prints) by the failure they mean. */
const RPC_STATUS: Record<string, string> = {
  RESOURCE_EXHAUSTED: "ApiRateLimitError",
  UNAUTHENTICATED: "ApiAuthenticationError",
  PERMISSION_DENIED: "ApiAuthenticationError",
  NOT_FOUND: "ModelNotFoundError",
  UNAVAILABLE: "ApiInternalServerError",
  INTERNAL: "ApiInternalServerError",
  DEADLINE_EXCEEDED: "ApiInternalServerError",
};

const HTTP_STATUS: Record<number, string> = {
  401: "ApiAuthenticationError",
  403: "ApiAuthenticationError",
  404: "ModelNotFoundError",
  429: "ApiRateLimitError",
};

// `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}`, quotes escaped or not.
const API_ERROR = /\\?"code\\?"\s*:\s*(\d{3})\s*,.*?\\?"status\\?"\s*:\s*\\?"([A-Z][A-Z_]+)/g;
// `Attempt 1 failed with status 429.`, `status: 429`
const HTTP_LINE = /\bstatus:? (\d{3})\b/g;

/**
 * Why gemini exited non-zero: the message of its stream-json `result` error, typed by the last API error
 * it printed (status code and Google RPC status, e.g. 429 RESOURCE_EXHAUSTED, which its message may not
 * mention), else by the generic patterns; null when it printed no result error (generic fallback).
 */
export function classifyGeminiFailure(transcript: string): AgentFailure | null {
  const result = jsonObjects(transcript).findLast(
    (e) => e.type === "result" && e.status === "error",
  );
  const error = result?.error as Json | undefined;
  if (typeof error?.message !== "string") return null;
  const message = shorten(error.message);
  const api = [...transcript.matchAll(API_ERROR)].at(-1);
  const code = api?.[1] ?? [...transcript.matchAll(HTTP_LINE)].at(-1)?.[1];
  const status = api?.[2];
  let type =
    (status !== undefined ? RPC_STATUS[status] : undefined) ??
    (code !== undefined ? HTTP_STATUS[Number(code)] : undefined) ??
    (code !== undefined && Number(code) >= 500 ? "ApiInternalServerError" : undefined) ??
    (/api key not valid/i.test(message) ? "ApiAuthenticationError" : undefined) ??
    classifyAgentFailure(message)?.type;
  if (type === undefined) {
    const own = typeof error.type === "string" ? error.type : "";
    type = /^[A-Z]\w*$/.test(own) ? own : "NonZeroAgentExitCodeError";
  }
  const prefix =
    code !== undefined && !message.includes(code) ? `${code} ${status ?? ""}`.trim() : "";
  return { type, message: prefix === "" ? message : shorten(`${prefix}: ${message}`) };
}

/** gemini-cli, headless, against the Gemini API (or a gateway through GOOGLE_GEMINI_BASE_URL). */
export const geminiCli: AgentDefinition = {
  name: "gemini-cli",
  package: { name: PACKAGE, version: "0.61.0" },
  requiresModel: true,
  keys: { names: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], requiresAny: true },
  passEnv: ["GOOGLE_GEMINI_BASE_URL"],
  transcript: TRANSCRIPT,
  prepare({ model, instruction, env, root, node, timeoutSec }) {
    if (model === null) throw new AgentSetupError("gemini-cli needs a model, e.g. gemini-2.5-pro");
    const planEnv: Record<string, string> = {
      GEMINI_CLI_HOME: STATE_HOME,
      GEMINI_CLI_TRUST_WORKSPACE: "true",
      GEMINI_CLI_NO_RELAUNCH: "true",
    };
    // API-key auth reads only GEMINI_API_KEY; a GOOGLE_API_KEY is the same kind of key.
    if (!env.GEMINI_API_KEY && env.GOOGLE_API_KEY) planEnv.GEMINI_API_KEY = env.GOOGLE_API_KEY;
    return {
      argv: [
        node,
        `${root}/node_modules/${PACKAGE}/bundle/gemini.js`,
        "--yolo",
        "--model",
        geminiModel(model),
        "--output-format",
        "stream-json",
      ],
      env: planEnv,
      // Without -p and with stdin not a terminal, gemini runs headless on what stdin holds.
      stdin: instruction,
      files: [
        {
          path: `${GEMINI_DIR}/settings.json`,
          content: `${JSON.stringify(geminiSettings(timeoutSec), null, 2)}\n`,
        },
      ],
    };
  },
  parseUsage: geminiUsage,
  classifyFailure: classifyGeminiFailure,
};
