import { parse as parseToml } from "smol-toml";
import { afterEach, describe, expect, it } from "vitest";
import {
  CODEX_HOME,
  codex,
  codexBaseUrl,
  codexBinary,
  codexConfig,
  codexFailure,
  codexModel,
  parseCodexUsage,
} from "../../../src/agents/codex.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { UNKNOWN_USAGE } from "../../../src/core/constants.js";
import {
  type ModelServer,
  runCommandScript,
  type Script,
  startModelServer,
} from "../../fakes/model-server.js";
import { openaiResponses } from "../../fakes/protocols/openai-responses.js";
import { thrownBy } from "../../helpers/errors.js";

const KEY = "sk-unit-codex-secret-9a8b";

const INPUT = {
  model: "openai/gpt-5",
  instruction: 'Create /app/hello.txt containing "hello".\n--help $HOME `x`',
  env: {
    PATH: "/usr/bin:/bin",
    HOME: "/root",
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: "http://127.0.0.1:18090",
  },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 600,
};

// Lines of a real `codex exec --json` transcript (0.171.0 against the fake Responses server, two model
// requests each reporting 135 input tokens of which 10 cached and 5 cache writes, and 30 output).
const THREAD = '{"type":"thread.started","thread_id":"01a21a27-27f6-7211-8814-5b964fdfa156"}';
const WARNING =
  '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-5` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}';
const COMPLETED =
  '{"type":"turn.completed","usage":{"input_tokens":270,"cached_input_tokens":20,"cache_write_input_tokens":10,"output_tokens":60,"reasoning_output_tokens":0}}';
const TRANSCRIPT = [
  THREAD,
  WARNING,
  '{"type":"turn.started"}',
  `{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hello > /app/hello.txt'","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
  `{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hello > /app/hello.txt'","aggregated_output":"","exit_code":0,"status":"completed"}}`,
  '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done."}}',
  COMPLETED,
  "",
].join("\n");

const FAILED_429 = [
  THREAD,
  WARNING,
  '{"type":"turn.started"}',
  '{"type":"error","message":"Reconnecting... 1/5 (exceeded retry limit, last status: 429 Too Many Requests, request id: req_1)"}',
  '{"type":"error","message":"exceeded retry limit, last status: 429 Too Many Requests, request id: req_2"}',
  '{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests, request id: req_2"}}',
  "",
].join("\n");

describe("codex prepare", () => {
  it("runs the native binary with exec --json, the model without its prefix, the prompt on stdin", () => {
    const plan = codex.prepare(INPUT);
    expect(plan.argv).toEqual([
      codexBinary("/rli/agent", process.arch),
      "exec",
      "--json",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--cd",
      "/app",
      "--model",
      "gpt-5",
      "-",
    ]);
    expect(plan.stdin).toBe(INPUT.instruction);
    expect(plan.env).toEqual({
      CODEX_HOME: "/logs/agent/codex-home",
      CODEX_MANAGED_BY_NPM: "1",
      CODEX_MANAGED_PACKAGE_ROOT: "/rli/agent/node_modules/@openai/codex",
    });
  });

  it("writes config.toml into CODEX_HOME under /logs/agent, naming the key's variable, never its value", () => {
    const plan = codex.prepare(INPUT);
    expect(plan.files?.map((f) => f.path)).toEqual([`${CODEX_HOME}/config.toml`]);
    expect(CODEX_HOME.startsWith("/logs/agent/")).toBe(true);
    const content = plan.files?.[0]?.content ?? "";
    expect(parseToml(content)).toEqual({
      model_provider: "rli-openai",
      model_providers: {
        "rli-openai": {
          name: "OpenAI (rli)",
          base_url: "http://127.0.0.1:18090/v1",
          env_key: "OPENAI_API_KEY",
          wire_api: "responses",
          supports_websockets: false,
        },
      },
    });
    expect(JSON.stringify(plan)).not.toContain(KEY);
  });

  it("needs a model", () => {
    const err = thrownBy(AgentSetupError, () => codex.prepare({ ...INPUT, model: null }));
    expect(err.message).toBe("codex needs a model: codex:<model>");
  });

  it("takes OPENAI_API_KEY (required) and passes OPENAI_BASE_URL and RLI_CODEX_CONFIG", () => {
    expect(codex.keys).toEqual({ names: ["OPENAI_API_KEY"], requiresAny: true });
    expect(codex.passEnv).toEqual(["OPENAI_BASE_URL", "RLI_CODEX_CONFIG"]);
    expect(codex.package).toEqual({ name: "@openai/codex", version: "0.171.0" });
    expect(codex.transcript).toBe("/logs/agent/codex.txt");
  });
});

describe("codexModel", () => {
  it("drops a provider prefix", () => {
    expect(codexModel("gpt-5")).toBe("gpt-5");
    expect(codexModel("openai/gpt-5")).toBe("gpt-5");
    expect(codexModel("openrouter/openai/gpt-5-codex")).toBe("gpt-5-codex");
  });

  it("rejects an empty name", () => {
    expect(thrownBy(AgentSetupError, () => codexModel("openai/")).message).toBe(
      'codex needs a model name, got "openai/"',
    );
  });
});

describe("codexBaseUrl", () => {
  it("defaults to OpenAI's API", () => {
    expect(codexBaseUrl(undefined)).toBe("https://api.openai.com/v1");
    expect(codexBaseUrl(" ")).toBe("https://api.openai.com/v1");
  });

  it("adds /v1 to a bare origin and keeps a path as given", () => {
    expect(codexBaseUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/v1");
    expect(codexBaseUrl("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080/v1");
    expect(codexBaseUrl("https://gw.example.com/openai/v1/")).toBe(
      "https://gw.example.com/openai/v1",
    );
    expect(codexBaseUrl("https://gw.example.com/v1/acct/gw/openai")).toBe(
      "https://gw.example.com/v1/acct/gw/openai",
    );
  });

  it("rejects what is not an http(s) URL", () => {
    expect(thrownBy(AgentSetupError, () => codexBaseUrl("localhost:8080/v1")).message).toBe(
      "OPENAI_BASE_URL must be http(s): localhost:8080/v1",
    );
    expect(thrownBy(AgentSetupError, () => codexBaseUrl("not a url")).message).toBe(
      "OPENAI_BASE_URL is not a URL: not a url",
    );
  });
});

describe("codexConfig with RLI_CODEX_CONFIG", () => {
  it("merges the TOML over the generated config, tables recursively", () => {
    const content = codexConfig({
      OPENAI_BASE_URL: "https://gw.example.com/v1",
      RLI_CODEX_CONFIG:
        'model_reasoning_effort = "high"\n[model_providers.rli-openai]\nrequest_max_retries = 0\nstream_max_retries = 1',
    });
    expect(parseToml(content)).toEqual({
      model_provider: "rli-openai",
      model_reasoning_effort: "high",
      model_providers: {
        "rli-openai": {
          name: "OpenAI (rli)",
          base_url: "https://gw.example.com/v1",
          env_key: "OPENAI_API_KEY",
          wire_api: "responses",
          supports_websockets: false,
          request_max_retries: 0,
          stream_max_retries: 1,
        },
      },
    });
  });

  it("rejects TOML that does not parse, in one line", () => {
    const err = thrownBy(AgentSetupError, () => codexConfig({ RLI_CODEX_CONFIG: "a = " }));
    expect(err.message).toMatch(/^RLI_CODEX_CONFIG is not valid TOML: \S/);
    expect(err.message).not.toContain("\n");
  });
});

describe("codexBinary", () => {
  it("picks the platform package as the npm launcher does", () => {
    expect(codexBinary("/r", "x64")).toBe(
      "/r/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
    );
    expect(codexBinary("/r", "arm64")).toBe(
      "/r/node_modules/@openai/codex-linux-arm64/vendor/aarch64-unknown-linux-musl/bin/codex",
    );
    expect(thrownBy(AgentSetupError, () => codexBinary("/r", "ia32")).message).toBe(
      "codex has no Linux binary for ia32; supported: x64, arm64",
    );
  });
});

describe("parseCodexUsage", () => {
  it("reads turn.completed usage: uncached input is the total minus cache reads and writes", () => {
    expect(parseCodexUsage(TRANSCRIPT)).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("sums several turns and skips stderr lines and torn lines", () => {
    const text = [
      "WARNING: proceeding, even though we could not create PATH aliases",
      TRANSCRIPT,
      COMPLETED.replace("270", "100").replace('"output_tokens":60', '"output_tokens":7'),
      '{"type":"turn.completed","usage":{"input_tok',
    ].join("\n");
    expect(parseCodexUsage(text)).toEqual({
      input_tokens: 240 + 70,
      cache_read_tokens: 40,
      cache_write_tokens: 20,
      output_tokens: 67,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("reports a field codex did not give as unknown, never 0", () => {
    const older =
      '{"type":"turn.completed","usage":{"input_tokens":135,"cached_input_tokens":10,"output_tokens":30}}';
    expect(parseCodexUsage(older)).toEqual({
      input_tokens: 125,
      cache_read_tokens: 10,
      cache_write_tokens: null,
      output_tokens: 30,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("is unknown without a completed turn (a timeout, a failed turn)", () => {
    expect(parseCodexUsage("")).toEqual(UNKNOWN_USAGE);
    expect(parseCodexUsage(FAILED_429)).toEqual(UNKNOWN_USAGE);
  });

  it("parseUsage reads the transcript", async () => {
    const usage = await codex.parseUsage({
      read: async (path) => (path === "/logs/agent/codex.txt" ? TRANSCRIPT : null),
    });
    expect(usage.input_tokens).toBe(240);
    expect(await codex.parseUsage({ read: async () => null })).toEqual(UNKNOWN_USAGE);
  });
});

describe("codexFailure", () => {
  it("classifies the failed turn's error", () => {
    expect(codexFailure(FAILED_429)).toEqual({
      type: "ApiRateLimitError",
      message: "exceeded retry limit, last status: 429 Too Many Requests, request id: req_2",
    });
    const auth = FAILED_429.replaceAll(
      "exceeded retry limit, last status: 429 Too Many Requests",
      "unexpected status 401 Unauthorized: Incorrect API key provided: sk-u***9a8b., url: http://127.0.0.1:9/v1/responses",
    );
    expect(codexFailure(auth).type).toBe("ApiAuthenticationError");
  });

  it("does not take codex's model-metadata warning for a missing model", () => {
    expect(codexFailure([THREAD, WARNING, '{"type":"turn.started"}'].join("\n"))).toEqual({
      type: "NonZeroAgentExitCodeError",
      message: "codex printed no error",
    });
  });

  it("falls back to the error codex printed on stderr", () => {
    const text = [
      'WARNING: proceeding, even though we could not create PATH aliases: Refusing to create helper binaries under temporary dir "/tmp"',
      'Error loading config.toml: invalid type: string "x", expected u64',
      "in `model_providers.rli-openai.request_max_retries`",
    ].join("\n");
    expect(codexFailure(text)).toEqual({
      type: "NonZeroAgentExitCodeError",
      message: 'Error loading config.toml: invalid type: string "x", expected u64',
    });
  });

  it("an exit 0 is a failure only when the last turn failed", () => {
    expect(codex.reportedFailure?.(TRANSCRIPT)).toBeNull();
    expect(codex.reportedFailure?.(FAILED_429)?.type).toBe("ApiRateLimitError");
    expect(codex.reportedFailure?.(`${FAILED_429}${COMPLETED}\n`)).toBeNull();
  });
});

// The fake OpenAI Responses protocol, through the scripted model server.

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((b) => b.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

const SHELL_TOOL = {
  type: "function",
  name: "exec_command",
  strict: false,
  parameters: {
    type: "object",
    properties: { cmd: { type: "string" }, workdir: { type: "string" } },
    required: ["cmd"],
  },
};

function body(extra: Record<string, unknown> = {}) {
  return {
    model: "gpt-5",
    stream: true,
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "be brief" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "make hello" }] },
    ],
    tools: [SHELL_TOOL, { type: "web_search" }, { type: "namespace", name: "ns", tools: [] }],
    ...extra,
  };
}

let server: ModelServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function post(
  script: Script,
  payload: unknown,
  path = "/v1/responses",
): Promise<{ status: number; headers: Headers; text: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  server = await startModelServer({
    script: (req) => {
      seen.push({
        tools: req.tools.map((t) => t.name),
        toolResults: req.toolResults,
        last: req.lastUserText,
      });
      return script(req);
    },
  });
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify(payload),
  });
  return { status: res.status, headers: res.headers, text: await res.text(), seen };
}

describe("openai-responses fake", () => {
  it("serves POST .../responses only", () => {
    expect(openaiResponses.matches("POST", "/v1/responses")).toBe(true);
    expect(openaiResponses.matches("POST", "/openai/v1/responses")).toBe(true);
    expect(openaiResponses.matches("GET", "/v1/responses")).toBe(false);
    expect(openaiResponses.matches("POST", "/v1/chat/completions")).toBe(false);
  });

  it("streams a function call whose argument deltas join to the arguments, then usage", async () => {
    const r = await post(runCommandScript("echo hello > /app/hello.txt"), body());
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    // Only function tools are offered to the script; hosted and namespace tools cannot run a command.
    expect(r.seen).toEqual([{ tools: ["exec_command"], toolResults: 0, last: "make hello" }]);
    const events = parseSse(r.text);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events.map((e) => e.data.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const deltas = events
      .filter((e) => e.event === "response.function_call_arguments.delta")
      .map((e) => e.data.delta)
      .join("");
    expect(JSON.parse(deltas)).toEqual({ cmd: "echo hello > /app/hello.txt" });
    const done = events.find((e) => e.event === "response.output_item.done")?.data.item;
    expect(done).toMatchObject({
      type: "function_call",
      status: "completed",
      call_id: "call_rli_1",
      name: "exec_command",
      arguments: deltas,
    });
    const completed = events.at(-1)?.data.response as Record<string, unknown>;
    expect(completed.status).toBe("completed");
    expect(completed.usage).toEqual({
      input_tokens: 135,
      input_tokens_details: { cached_tokens: 10, cache_write_tokens: 5 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 165,
    });
    expect(server?.reported).toEqual({ input: 120, output: 30, cacheRead: 10, cacheWrite: 5 });
    expect([...(server?.credentials ?? [])]).toEqual([KEY]);
  });

  it("streams text after tool results, counting every kind of tool output", async () => {
    const input = [
      ...body().input,
      { type: "function_call", call_id: "c1", name: "exec_command", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "ok" },
      { type: "custom_tool_call_output", call_id: "c2", output: "ok" },
    ];
    const r = await post(runCommandScript("true", "All done."), body({ input }));
    expect(r.seen).toEqual([{ tools: ["exec_command"], toolResults: 2, last: "make hello" }]);
    const events = parseSse(r.text);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const text = events
      .filter((e) => e.event === "response.output_text.delta")
      .map((e) => e.data.delta)
      .join("");
    expect(text).toBe("All done.");
    expect(events.find((e) => e.event === "response.output_item.done")?.data.item).toMatchObject({
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "All done." }],
    });
  });

  it("answers a local_shell tool with a local_shell_call running argv", async () => {
    const r = await post(runCommandScript("echo hi"), body({ tools: [{ type: "local_shell" }] }));
    expect(r.seen).toEqual([{ tools: ["local_shell"], toolResults: 0, last: "make hello" }]);
    const item = parseSse(r.text).find((e) => e.event === "response.output_item.done")?.data.item;
    expect(item).toMatchObject({
      type: "local_shell_call",
      call_id: "call_rli_1",
      action: { type: "exec", command: ["bash", "-lc", "echo hi"] },
    });
  });

  it("answers a custom (free-form) tool with a custom_tool_call and input deltas", async () => {
    const script: Script = () => ({
      kind: "tool_call",
      id: "call_x",
      tool: "apply_patch",
      args: { input: "*** Begin Patch\n*** End Patch" },
    });
    const r = await post(script, body({ tools: [{ type: "custom", name: "apply_patch" }] }));
    expect(r.seen).toEqual([{ tools: ["apply_patch"], toolResults: 0, last: "make hello" }]);
    const events = parseSse(r.text);
    const input = events
      .filter((e) => e.event === "response.custom_tool_call_input.delta")
      .map((e) => e.data.delta)
      .join("");
    expect(input).toBe("*** Begin Patch\n*** End Patch");
    expect(events.find((e) => e.event === "response.output_item.done")?.data.item).toMatchObject({
      type: "custom_tool_call",
      call_id: "call_x",
      name: "apply_patch",
      input,
    });
  });

  it("replies with one JSON response when not streaming, under a gateway prefix too", async () => {
    const r = await post(
      () => ({ kind: "text", text: "hi" }),
      body({ stream: false, input: "say hi" }),
      "/openai/v1/responses",
    );
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.seen).toEqual([{ tools: ["exec_command"], toolResults: 0, last: "say hi" }]);
    const json = JSON.parse(r.text) as Record<string, unknown>;
    expect(json).toMatchObject({
      object: "response",
      status: "completed",
      model: "gpt-5",
      output: [{ type: "message", content: [{ type: "output_text", text: "hi" }] }],
      usage: { input_tokens: 135, output_tokens: 30 },
    });
  });

  it("fails in OpenAI's error shape, with Retry-After on a 429", async () => {
    const r = await post(
      () => ({ kind: "status", status: 429, retryAfterSec: 2, message: "Rate limit reached" }),
      body(),
    );
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("2");
    expect(JSON.parse(r.text)).toEqual({
      error: {
        message: "Rate limit reached",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    });
    await server?.close();
    const auth = await post(() => ({ kind: "status", status: 401, message: "bad key" }), body());
    expect(JSON.parse(auth.text)).toEqual({
      error: {
        message: "bad key",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    expect(server?.replies).toBe(0);
  });
});
