import type { ServerResponse } from "node:http";
import type { Action, NeutralRequest, NeutralTool, Protocol, ReplyUsage } from "../model-server.js";

/**
 * The Anthropic Messages API (POST /v1/messages, also with `?beta=true` and under a gateway prefix such
 * as /anthropic/v1/messages), streaming SSE and plain JSON, with errors in Anthropic's shape.
 */

interface ContentBlock {
  type?: string;
  text?: string;
  content?: unknown;
}

interface MessagesBody {
  model?: unknown;
  stream?: unknown;
  tools?: unknown;
  messages?: unknown;
}

/** Error types by status, as the API names them (https://docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

function blocks(content: unknown): ContentBlock[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? (content as ContentBlock[]) : [];
}

function textOf(content: unknown): string {
  return blocks(content)
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text)
    .join("\n");
}

function parseTools(tools: unknown): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  const out: NeutralTool[] = [];
  for (const t of tools as { name?: unknown; input_schema?: unknown }[]) {
    // Server tools (web_search, ...) have a name but no input_schema; they cannot run a command.
    if (typeof t?.name === "string" && t.input_schema !== undefined) {
      out.push({ name: t.name, schema: t.input_schema });
    }
  }
  return out;
}

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}_rli${Date.now().toString(36)}${counter.toString(36).padStart(6, "0")}`;
}

function usageJson(u: ReplyUsage) {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    output_tokens: u.output,
  };
}

function contentFor(action: Action): Record<string, unknown> {
  return action.kind === "text"
    ? { type: "text", text: action.text }
    : { type: "tool_use", id: toolUseId(action.id), name: action.tool, input: action.args };
}

/** Anthropic tool_use ids start with `toolu_`; some clients validate the prefix. */
function toolUseId(id: string): string {
  return id.startsWith("toolu_") ? id : `toolu_${id}`;
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export const anthropic: Protocol = {
  name: "anthropic",
  matches(method, path) {
    return method === "POST" && /(^|\/)v1\/messages$/.test(path);
  },
  parse(path, raw) {
    const body = (raw ?? {}) as MessagesBody;
    const messages = Array.isArray(body.messages)
      ? (body.messages as { role?: string; content?: unknown }[])
      : [];
    let toolResults = 0;
    for (const m of messages) {
      for (const b of blocks(m?.content)) if (b.type === "tool_result") toolResults++;
    }
    const lastUser = [...messages].reverse().find((m) => m?.role === "user");
    return {
      protocol: "anthropic",
      path,
      model: typeof body.model === "string" ? body.model : "",
      stream: body.stream === true,
      tools: parseTools(body.tools),
      toolResults,
      lastUserText: lastUser ? textOf(lastUser.content) : "",
      body: raw,
    } satisfies NeutralRequest;
  },
  reply(res, req, action, usage) {
    const id = nextId("msg");
    const stopReason = action.kind === "tool_call" ? "tool_use" : "end_turn";
    const block = contentFor(action);
    if (!req.stream) {
      res.writeHead(200, { "content-type": "application/json", "request-id": nextId("req") });
      res.end(
        JSON.stringify({
          id,
          type: "message",
          role: "assistant",
          model: req.model,
          content: [block],
          stop_reason: stopReason,
          stop_sequence: null,
          usage: usageJson(usage),
        }),
      );
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "request-id": nextId("req"),
    });
    // As the API does: message_start carries the input side and a first output count; message_delta
    // carries the final usage (output_tokens cumulative, input side repeated).
    sse(res, "message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: req.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usageJson(usage), output_tokens: 1 },
      },
    });
    if (action.kind === "text") {
      sse(res, "content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      });
      sse(res, "ping", { type: "ping" });
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: action.text },
      });
    } else {
      sse(res, "content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: toolUseId(action.id), name: action.tool, input: {} },
      });
      // The input arrives as partial JSON; split it so clients really have to join the pieces.
      const json = JSON.stringify(action.args);
      const cut = Math.floor(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        sse(res, "content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "input_json_delta", partial_json: part },
        });
      }
    }
    sse(res, "content_block_stop", { type: "content_block_stop", index: 0 });
    sse(res, "message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: usageJson(usage),
    });
    sse(res, "message_stop", { type: "message_stop" });
    res.end();
  },
  error(res, status, message, headers = {}) {
    const requestId = nextId("req");
    res.writeHead(status, {
      "content-type": "application/json",
      "request-id": requestId,
      ...headers,
    });
    res.end(
      JSON.stringify({
        type: "error",
        error: { type: errorType(status), message },
        request_id: requestId,
      }),
    );
  },
};
