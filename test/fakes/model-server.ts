import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropic } from "./protocols/anthropic.js";
import { gemini } from "./protocols/gemini.js";
import { openaiChat } from "./protocols/openai-chat.js";
import { openaiResponses } from "./protocols/openai-responses.js";

/**
 * A scripted model server for the real agent CLIs: it speaks the Anthropic Messages, OpenAI Responses,
 * OpenAI Chat Completions and Gemini generateContent protocols (streaming and not), decides each reply
 * with a protocol-neutral script (call a tool, or answer), reports fixed token usage on every reply and
 * keeps the totals it reported, and can fail on purpose (429 with Retry-After, 500, hang).
 */

/** A tool the agent offered, as the protocol described it. */
export interface NeutralTool {
  name: string;
  /** The tool's JSON Schema for its input (parameters / input_schema), as sent. */
  schema: unknown;
}

/** What the script sees of a request, whatever its protocol. */
export interface NeutralRequest {
  protocol: ProtocolName;
  path: string;
  model: string;
  stream: boolean;
  tools: NeutralTool[];
  /** How many tool results the conversation already holds (0 on the first turn). */
  toolResults: number;
  /** The text of the last user message, when there is one. */
  lastUserText: string;
  body: unknown;
}

export type Action =
  | { kind: "tool_call"; id: string; tool: string; args: Record<string, unknown> }
  | { kind: "text"; text: string };

export type Fault =
  | { kind: "status"; status: number; retryAfterSec?: number; message: string }
  | { kind: "hang" };

export interface ReplyUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export type Decision = Action | Fault;

/** Decides each reply. */
export type Script = (req: NeutralRequest) => Decision;

export type ProtocolName = "anthropic" | "openai-responses" | "openai-chat" | "gemini";

/** One wire protocol: which requests it serves, how to read them, how to write a reply. */
export interface Protocol {
  name: ProtocolName;
  matches(method: string, path: string): boolean;
  parse(path: string, body: unknown): NeutralRequest;
  /** Write a reply carrying `action` and `usage` (as SSE when `req.stream`). */
  reply(res: ServerResponse, req: NeutralRequest, action: Action, usage: ReplyUsage): void;
  /** Write an error response in the protocol's error shape. */
  error(
    res: ServerResponse,
    status: number,
    message: string,
    headers?: Record<string, string>,
  ): void;
}

const PROTOCOLS: readonly Protocol[] = [anthropic, openaiResponses, openaiChat, gemini];

export interface RecordedRequest {
  protocol: ProtocolName | null;
  method: string;
  path: string;
  model: string | null;
  /** Request headers, with credentials replaced by "<redacted>". */
  headers: Record<string, string>;
  decision: Decision["kind"] | "unmatched";
}

export interface ModelServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Token usage reported so far, summed over every reply. */
  reported: ReplyUsage;
  /** Replies that carried usage (successful model turns). */
  replies: number;
  /** Credentials the server saw (the API keys the agent sent), for tests that check key routing. */
  credentials: Set<string>;
  close(): Promise<void>;
}

export interface ModelServerOptions {
  script?: Script;
  /** Usage reported on every reply (default: 120 in, 30 out, 10 cache read, 5 cache write). */
  usage?: ReplyUsage;
  port?: number;
  /** The address to listen on (default 127.0.0.1); e.g. Docker's bridge gateway for containers. */
  host?: string;
}

export const DEFAULT_USAGE: ReplyUsage = { input: 120, output: 30, cacheRead: 10, cacheWrite: 5 };

const SHELL_NAMES =
  /^(bash|shell|run_shell_command|developer__shell|exec_command|local_shell|execute_bash)$/i;

/** The tool a script can use to run a shell command, preferring exact shell tool names. */
export function shellTool(tools: readonly NeutralTool[]): NeutralTool | null {
  return (
    tools.find((t) => SHELL_NAMES.test(t.name)) ??
    tools.find((t) => /bash|shell/i.test(t.name)) ??
    null
  );
}

/** Arguments for a shell tool that runs `command`, shaped by the tool's schema (string or argv). */
export function shellArgs(tool: NeutralTool, command: string): Record<string, unknown> {
  const schema = (tool.schema ?? {}) as {
    properties?: Record<string, { type?: string | string[] }>;
    required?: string[];
  };
  const props = schema.properties ?? {};
  const key = "command" in props ? "command" : "cmd" in props ? "cmd" : "command";
  const type = props[key]?.type;
  const isArray = type === "array" || (Array.isArray(type) && type.includes("array"));
  const args: Record<string, unknown> = { [key]: isArray ? ["bash", "-lc", command] : command };
  // Fill other required fields with harmless values so strict validators accept the call.
  for (const req of schema.required ?? []) {
    if (req in args) continue;
    const t = props[req]?.type;
    args[req] =
      t === "number" || t === "integer"
        ? 60_000
        : t === "boolean"
          ? false
          : t === "array"
            ? []
            : "";
  }
  if ("description" in props && !("description" in args)) args.description = "write the file";
  return args;
}

/** The default script: first turn runs `command` with the shell tool, then answers `doneText`. */
export function runCommandScript(command: string, doneText = "Done."): Script {
  let calls = 0;
  return (req) => {
    if (req.toolResults > 0) return { kind: "text", text: doneText };
    const tool = shellTool(req.tools);
    if (tool === null) return { kind: "text", text: "I have no shell tool." };
    calls++;
    return {
      kind: "tool_call",
      id: `call_rli_${calls}`,
      tool: tool.name,
      args: shellArgs(tool, command),
    };
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"];

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const script = opts.script ?? runCommandScript("echo hello > /app/hello.txt");
  const usage = opts.usage ?? DEFAULT_USAGE;
  const hanging = new Set<ServerResponse>();
  const state: ModelServer = {
    url: "",
    port: 0,
    requests: [],
    reported: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    replies: 0,
    credentials: new Set(),
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const value = Array.isArray(v) ? v.join(", ") : (v ?? "");
      if (CREDENTIAL_HEADERS.includes(k)) {
        state.credentials.add(value.replace(/^Bearer\s+/i, ""));
        headers[k] = "<redacted>";
      } else headers[k] = value;
    }
    const key = url.searchParams.get("key");
    if (key) state.credentials.add(key);
    const protocol = PROTOCOLS.find((p) => p.matches(method, path)) ?? null;
    const text = await readBody(req);
    if (protocol === null) {
      state.requests.push({
        protocol: null,
        method,
        path,
        model: null,
        headers,
        decision: "unmatched",
      });
      // Probes (HEAD /, /api/hello, model lists) get an empty success.
      res.writeHead(method === "HEAD" ? 200 : path.endsWith("/models") ? 200 : 404, {
        "content-type": "application/json",
      });
      res.end(
        method === "HEAD" ? undefined : path.endsWith("/models") ? '{"data":[],"models":[]}' : "{}",
      );
      return;
    }
    let body: unknown = null;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      protocol.error(res, 400, "request body is not JSON");
      return;
    }
    const neutral = protocol.parse(path, body);
    const decision = script(neutral);
    state.requests.push({
      protocol: protocol.name,
      method,
      path,
      model: neutral.model,
      headers,
      decision: decision.kind,
    });
    if (decision.kind === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (decision.kind === "status") {
      protocol.error(
        res,
        decision.status,
        decision.message,
        decision.retryAfterSec !== undefined
          ? { "retry-after": String(decision.retryAfterSec) }
          : {},
      );
      return;
    }
    state.reported.input += usage.input;
    state.reported.output += usage.output;
    state.reported.cacheRead += usage.cacheRead;
    state.reported.cacheWrite += usage.cacheWrite;
    state.replies++;
    protocol.reply(res, neutral, decision, usage);
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  state.port = port;
  state.url = `http://${host}:${port}`;
  state.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
