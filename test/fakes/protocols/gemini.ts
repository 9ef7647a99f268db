import type { Action, NeutralRequest, NeutralTool, Protocol, ReplyUsage } from "../model-server.js";

/**
 * The Gemini API (POST /v1beta/models/<model>:streamGenerateContent?alt=sse, :generateContent and
 * :countTokens, also under /v1 or /v1alpha and behind a gateway prefix), with errors in Google's shape.
 *
 * Usage maps onto `usageMetadata` as the API reports it: promptTokenCount includes the cached tokens
 * (input + cacheRead), cachedContentTokenCount = cacheRead, and the output is split into
 * candidatesTokenCount and thoughtsTokenCount (a third of it, as a thinking model would) so a client
 * must add both. Gemini has no cache-write count, so `cacheWrite` cannot be reported.
 */

interface Part {
  text?: unknown;
  functionCall?: unknown;
  functionResponse?: unknown;
}

interface Content {
  role?: unknown;
  parts?: unknown;
}

interface GenerateBody {
  contents?: unknown;
  tools?: unknown;
}

const PATH = /(?:^|\/)(?:v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
const METHODS = new Set(["generateContent", "streamGenerateContent", "countTokens"]);

/** Google RPC status names by HTTP status (https://cloud.google.com/apis/design/errors). */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
}

function contentsOf(body: GenerateBody): Content[] {
  if (Array.isArray(body.contents)) return body.contents as Content[];
  // The API also accepts a single Content or a string.
  if (typeof body.contents === "string")
    return [{ role: "user", parts: [{ text: body.contents }] }];
  if (body.contents !== null && typeof body.contents === "object")
    return [body.contents as Content];
  return [];
}

function partsOf(content: Content | undefined): Part[] {
  return Array.isArray(content?.parts) ? (content.parts as Part[]) : [];
}

function parseTools(tools: unknown): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  const out: NeutralTool[] = [];
  for (const t of tools as { functionDeclarations?: unknown }[]) {
    if (!Array.isArray(t?.functionDeclarations)) continue;
    for (const d of t.functionDeclarations as {
      name?: unknown;
      parameters?: unknown;
      parametersJsonSchema?: unknown;
    }[]) {
      if (typeof d?.name !== "string") continue;
      out.push({ name: d.name, schema: d.parametersJsonSchema ?? d.parameters ?? {} });
    }
  }
  return out;
}

let counter = 0;
function nextId(): string {
  counter++;
  return `rli${Date.now().toString(36)}${counter.toString(36).padStart(6, "0")}`;
}

/** The usageMetadata of a finished reply. */
function usageJson(u: ReplyUsage) {
  const thoughts = Math.floor(u.output / 3);
  const prompt = u.input + u.cacheRead;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: u.output - thoughts,
    ...(u.cacheRead > 0 ? { cachedContentTokenCount: u.cacheRead } : {}),
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    totalTokenCount: prompt + u.output,
  };
}

function partFor(action: Action): Record<string, unknown> {
  return action.kind === "text"
    ? { text: action.text }
    : { functionCall: { id: action.id, name: action.tool, args: action.args } };
}

function response(req: NeutralRequest, parts: unknown[], finish: boolean, usage: unknown) {
  return {
    candidates: [
      {
        content: { role: "model", parts },
        ...(finish ? { finishReason: "STOP" } : {}),
        index: 0,
      },
    ],
    usageMetadata: usage,
    modelVersion: req.model,
    responseId: nextId(),
  };
}

function methodOf(path: string): string {
  return PATH.exec(path)?.[2] ?? "";
}

export const gemini: Protocol = {
  name: "gemini",
  matches(method, path) {
    const m = PATH.exec(path);
    return method === "POST" && m !== null && METHODS.has(m[2] as string);
  },
  parse(path, raw) {
    const body = (raw ?? {}) as GenerateBody;
    const contents = contentsOf(body);
    let toolResults = 0;
    for (const c of contents) {
      for (const p of partsOf(c)) if (p?.functionResponse !== undefined) toolResults++;
    }
    const lastUser = [...contents]
      .reverse()
      .find((c) => c?.role === "user" && partsOf(c).some((p) => typeof p?.text === "string"));
    return {
      protocol: "gemini",
      path,
      model: decodeURIComponent(PATH.exec(path)?.[1] ?? ""),
      stream: methodOf(path) === "streamGenerateContent",
      tools: parseTools(body.tools),
      toolResults,
      lastUserText: partsOf(lastUser)
        .filter((p) => typeof p?.text === "string")
        .map((p) => p.text as string)
        .join("\n"),
      body: raw,
    } satisfies NeutralRequest;
  },
  reply(res, req, action, usage) {
    if (methodOf(req.path) === "countTokens") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ totalTokens: usage.input + usage.cacheRead }));
      return;
    }
    const full = usageJson(usage);
    if (!req.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(response(req, [partFor(action)], true, full)));
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
    // As the API streams: every chunk carries usageMetadata, the last one the final counts (clients
    // keep the last, they must not add them up).
    const partial = {
      promptTokenCount: full.promptTokenCount,
      totalTokenCount: full.promptTokenCount,
    };
    if (action.kind === "text") {
      const cut = Math.ceil(action.text.length / 2);
      send(response(req, [{ text: action.text.slice(0, cut) }], false, partial));
      send(response(req, [{ text: action.text.slice(cut) }], true, full));
    } else {
      send(response(req, [partFor(action)], false, partial));
      send(response(req, [{ text: "" }], true, full));
    }
    res.end();
  },
  error(res, status, message, headers = {}) {
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
    res.end(JSON.stringify({ error: { code: status, message, status: statusName(status) } }));
  },
};
