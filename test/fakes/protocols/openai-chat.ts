import type { ServerResponse } from "node:http";
import type { Action, NeutralRequest, NeutralTool, Protocol, ReplyUsage } from "../model-server.js";

/**
 * OpenAI Chat Completions (POST /v1/chat/completions, also under a gateway prefix), streaming SSE and
 * plain JSON, with errors in OpenAI's shape. Usage: `prompt_tokens` counts every input token, cached or
 * not (as OpenAI does), with the cached part in `prompt_tokens_details.cached_tokens`; the protocol has no
 * cache-write field, so `cacheWrite` tokens are ordinary prompt tokens here.
 */

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  tools?: unknown;
  messages?: unknown;
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

/** Error `type` and `code` by status, as the API sends them. */
const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  403: { type: "invalid_request_error", code: "unsupported_country_region_territory" },
  404: { type: "invalid_request_error", code: "model_not_found" },
  429: { type: "requests", code: "rate_limit_exceeded" },
  500: { type: "server_error", code: null },
  503: { type: "server_error", code: null },
};

function errorShape(status: number): { type: string; code: string | null } {
  return (
    ERRORS[status] ??
    (status >= 500
      ? { type: "server_error", code: null }
      : { type: "invalid_request_error", code: null })
  );
}

/** The text of a message's content: a string, or an array of parts ({type:"text", text}). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return (content as { type?: unknown; text?: unknown }[])
    .filter((p) => p?.type === "text" && typeof p.text === "string")
    .map((p) => p.text as string)
    .join("\n");
}

function parseTools(tools: unknown): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  const out: NeutralTool[] = [];
  for (const t of tools as {
    type?: unknown;
    function?: { name?: unknown; parameters?: unknown };
  }[]) {
    const fn = t?.function;
    if (typeof fn?.name === "string") out.push({ name: fn.name, schema: fn.parameters ?? {} });
  }
  return out;
}

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}-rli${Date.now().toString(36)}${counter.toString(36).padStart(6, "0")}`;
}

function usageJson(u: ReplyUsage) {
  const prompt = u.input + u.cacheRead + u.cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

function toolCall(action: Extract<Action, { kind: "tool_call" }>, args: string) {
  return { id: action.id, type: "function", function: { name: action.tool, arguments: args } };
}

function sse(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

export const openaiChat: Protocol = {
  name: "openai-chat",
  matches(method, path) {
    return method === "POST" && /(^|\/)chat\/completions$/.test(path);
  },
  parse(path, raw) {
    const body = (raw ?? {}) as ChatBody;
    const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
    const toolResults = messages.filter((m) => m?.role === "tool" || m?.role === "function").length;
    const lastUser = [...messages].reverse().find((m) => m?.role === "user");
    return {
      protocol: "openai-chat",
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
    const id = nextId("chatcmpl");
    const created = Math.floor(Date.now() / 1000);
    const finishReason = action.kind === "tool_call" ? "tool_calls" : "stop";
    if (!req.stream) {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": nextId("req") });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model: req.model,
          choices: [
            {
              index: 0,
              message:
                action.kind === "text"
                  ? { role: "assistant", content: action.text, refusal: null }
                  : {
                      role: "assistant",
                      content: null,
                      refusal: null,
                      tool_calls: [toolCall(action, JSON.stringify(action.args))],
                    },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          usage: usageJson(usage),
          system_fingerprint: "fp_rli",
        }),
      );
      return;
    }
    const body = req.body as ChatBody;
    const includeUsage = body?.stream_options?.include_usage === true;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": nextId("req"),
    });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      sse(res, {
        id,
        object: "chat.completion.chunk",
        created,
        model: req.model,
        system_fingerprint: "fp_rli",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
      });
    if (action.kind === "text") {
      chunk({ role: "assistant", content: "", refusal: null }, null);
      chunk({ content: action.text }, null);
    } else {
      chunk({ role: "assistant", content: null, refusal: null }, null);
      // The first chunk names the call; the arguments follow in pieces, as the API streams them.
      chunk({ tool_calls: [{ index: 0, ...toolCall(action, "") }] }, null);
      const json = JSON.stringify(action.args);
      const cut = Math.floor(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }, null);
      }
    }
    chunk({}, finishReason);
    if (includeUsage) {
      sse(res, {
        id,
        object: "chat.completion.chunk",
        created,
        model: req.model,
        system_fingerprint: "fp_rli",
        choices: [],
        usage: usageJson(usage),
      });
    }
    res.write("data: [DONE]\n\n");
    res.end();
  },
  error(res, status, message, headers = {}) {
    const { type, code } = errorShape(status);
    res.writeHead(status, {
      "content-type": "application/json",
      "x-request-id": nextId("req"),
      ...headers,
    });
    res.end(JSON.stringify({ error: { message, type, param: null, code } }));
  },
};
