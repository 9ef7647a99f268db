import type { Action, NeutralRequest, NeutralTool, Protocol, ReplyUsage } from "../model-server.js";

/**
 * The OpenAI Responses API (POST /v1/responses, also under a gateway prefix such as /openai/v1/responses),
 * streaming SSE and plain JSON, with errors in OpenAI's shape.
 *
 * Tools: `function` tools are offered as they are (name + parameters); `local_shell` becomes a tool named
 * `local_shell` taking `command` as an argv array, answered with a `local_shell_call` item; `custom`
 * (free-form) tools take one string `input`, answered with a `custom_tool_call` item. Hosted tools
 * (web_search, ...) cannot run a command and are not offered to the script.
 *
 * Usage as the API reports it: `input_tokens` counts the whole prompt, cached reads and cache writes
 * included, and `input_tokens_details` breaks out `cached_tokens` (reads) and `cache_write_tokens` (which
 * codex 0.171 reads). So a reply reports input_tokens = input + cacheWrite + cacheRead, cached_tokens =
 * cacheRead, cache_write_tokens = cacheWrite, output_tokens = output (reasoning_tokens 0): a client that
 * subtracts both details gets `input` back. A client that knows only cached_tokens gets input + cacheWrite.
 */

interface ResponsesBody {
  model?: unknown;
  stream?: unknown;
  tools?: unknown;
  input?: unknown;
}

interface InputItem {
  type?: string;
  role?: string;
  content?: unknown;
}

/** The item types that carry a tool's result back to the model. */
const TOOL_OUTPUTS = new Set([
  "function_call_output",
  "custom_tool_call_output",
  "local_shell_call_output",
  "computer_call_output",
  "tool_search_output",
  "mcp_call_output",
]);

/** Error `type` and `code` by status, as the API sends them. */
const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  403: { type: "invalid_request_error", code: "unsupported_country_region_territory" },
  404: { type: "invalid_request_error", code: "model_not_found" },
  429: { type: "requests", code: "rate_limit_exceeded" },
  500: { type: "server_error", code: null },
  503: { type: "server_error", code: "server_is_overloaded" },
};

function errorShape(status: number): { type: string; code: string | null } {
  return (
    ERRORS[status] ??
    (status >= 500
      ? { type: "server_error", code: null }
      : { type: "invalid_request_error", code: null })
  );
}

/** The text of a message's content: a string, or input_text / output_text / text parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return (content as { type?: string; text?: unknown }[])
    .filter(
      (p) => typeof p?.text === "string" && /^(input_text|output_text|text)$/.test(p.type ?? ""),
    )
    .map((p) => p.text as string)
    .join("\n");
}

const LOCAL_SHELL_SCHEMA = {
  type: "object",
  properties: { command: { type: "array", items: { type: "string" } } },
  required: ["command"],
};

const CUSTOM_SCHEMA = {
  type: "object",
  properties: { input: { type: "string" } },
  required: ["input"],
};

/** How each offered tool is called back: by its kind, keyed by name. */
type ToolKind = "function" | "local_shell" | "custom";

function parseTools(tools: unknown): { tools: NeutralTool[]; kinds: Map<string, ToolKind> } {
  const out: NeutralTool[] = [];
  const kinds = new Map<string, ToolKind>();
  if (!Array.isArray(tools)) return { tools: out, kinds };
  for (const t of tools as { type?: unknown; name?: unknown; parameters?: unknown }[]) {
    if (t?.type === "function" && typeof t.name === "string") {
      out.push({ name: t.name, schema: t.parameters ?? { type: "object", properties: {} } });
      kinds.set(t.name, "function");
    } else if (t?.type === "local_shell") {
      out.push({ name: "local_shell", schema: LOCAL_SHELL_SCHEMA });
      kinds.set("local_shell", "local_shell");
    } else if (t?.type === "custom" && typeof t.name === "string") {
      out.push({ name: t.name, schema: CUSTOM_SCHEMA });
      kinds.set(t.name, "custom");
    }
  }
  return { tools: out, kinds };
}

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}_rli${Date.now().toString(36)}${counter.toString(36).padStart(6, "0")}`;
}

function usageJson(u: ReplyUsage) {
  const input = u.input + u.cacheWrite + u.cacheRead;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheRead, cache_write_tokens: u.cacheWrite },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + u.output,
  };
}

/** The output item that carries `action`, as `response.output_item.done` and the final response hold it. */
function outputItem(req: NeutralRequest, action: Action): Record<string, unknown> {
  if (action.kind === "text") {
    return {
      id: nextId("msg"),
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: action.text, annotations: [] }],
    };
  }
  const kind = toolKinds.get(req)?.get(action.tool) ?? "function";
  const callId = action.id.startsWith("call_") ? action.id : `call_${action.id}`;
  if (kind === "local_shell") {
    const command = Array.isArray(action.args.command)
      ? action.args.command
      : ["bash", "-lc", String(action.args.command ?? "")];
    return {
      id: nextId("lsh"),
      type: "local_shell_call",
      status: "completed",
      call_id: callId,
      action: {
        type: "exec",
        command,
        env: {},
        timeout_ms: null,
        user: null,
        working_directory: null,
      },
    };
  }
  if (kind === "custom") {
    return {
      id: nextId("ctc"),
      type: "custom_tool_call",
      status: "completed",
      call_id: callId,
      name: action.tool,
      input:
        typeof action.args.input === "string" ? action.args.input : JSON.stringify(action.args),
    };
  }
  return {
    id: nextId("fc"),
    type: "function_call",
    status: "completed",
    call_id: callId,
    name: action.tool,
    arguments: JSON.stringify(action.args),
  };
}

/** The tool kinds of each parsed request (parse and reply see the same NeutralRequest object). */
const toolKinds = new WeakMap<NeutralRequest, Map<string, ToolKind>>();

function responseObject(
  id: string,
  req: NeutralRequest,
  status: string,
  output: unknown[],
  usage: ReplyUsage | null,
) {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    model: req.model,
    output,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    usage: usage === null ? null : usageJson(usage),
  };
}

/** Half and half: clients must really join the deltas. */
function halves(text: string): string[] {
  const cut = Math.floor(text.length / 2);
  return cut === 0 ? [text] : [text.slice(0, cut), text.slice(cut)];
}

export const openaiResponses: Protocol = {
  name: "openai-responses",
  matches(method, path) {
    return method === "POST" && /(^|\/)responses$/.test(path);
  },
  parse(path, raw) {
    const body = (raw ?? {}) as ResponsesBody;
    const items: InputItem[] =
      typeof body.input === "string"
        ? [{ type: "message", role: "user", content: body.input }]
        : Array.isArray(body.input)
          ? (body.input as InputItem[])
          : [];
    let toolResults = 0;
    for (const item of items) if (TOOL_OUTPUTS.has(item?.type ?? "")) toolResults++;
    const lastUser = [...items].reverse().find((i) => i?.role === "user");
    const { tools, kinds } = parseTools(body.tools);
    const req: NeutralRequest = {
      protocol: "openai-responses",
      path,
      model: typeof body.model === "string" ? body.model : "",
      // The API streams only when asked.
      stream: body.stream === true,
      tools,
      toolResults,
      lastUserText: lastUser ? textOf(lastUser.content) : "",
      body: raw,
    };
    toolKinds.set(req, kinds);
    return req;
  },
  reply(res, req, action, usage) {
    const id = nextId("resp");
    const item = outputItem(req, action);
    if (!req.stream) {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": nextId("req") });
      res.end(JSON.stringify(responseObject(id, req, "completed", [item], usage)));
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": nextId("req"),
    });
    let seq = 0;
    const send = (type: string, data: Record<string, unknown>) => {
      res.write(
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`,
      );
    };
    send("response.created", { response: responseObject(id, req, "in_progress", [], null) });
    send("response.in_progress", { response: responseObject(id, req, "in_progress", [], null) });
    const itemId = item.id as string;
    const at = { item_id: itemId, output_index: 0 };
    if (item.type === "message") {
      const text = action.kind === "text" ? action.text : "";
      send("response.output_item.added", {
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] },
      });
      send("response.content_part.added", {
        ...at,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      });
      for (const delta of halves(text)) {
        send("response.output_text.delta", { ...at, content_index: 0, delta, logprobs: [] });
      }
      send("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      send("response.content_part.done", {
        ...at,
        content_index: 0,
        part: { type: "output_text", text, annotations: [] },
      });
    } else if (item.type === "function_call") {
      const args = item.arguments as string;
      send("response.output_item.added", {
        output_index: 0,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      for (const delta of halves(args)) {
        send("response.function_call_arguments.delta", { ...at, delta });
      }
      send("response.function_call_arguments.done", { ...at, arguments: args });
    } else if (item.type === "custom_tool_call") {
      const input = item.input as string;
      send("response.output_item.added", {
        output_index: 0,
        item: { ...item, status: "in_progress", input: "" },
      });
      for (const delta of halves(input)) {
        send("response.custom_tool_call_input.delta", { ...at, delta });
      }
      send("response.custom_tool_call_input.done", { ...at, input });
    } else {
      send("response.output_item.added", {
        output_index: 0,
        item: { ...item, status: "in_progress" },
      });
    }
    send("response.output_item.done", { output_index: 0, item });
    send("response.completed", { response: responseObject(id, req, "completed", [item], usage) });
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
