import { afterEach, describe, expect, it } from "vitest";
import {
  classifyGeminiFailure,
  geminiCli,
  geminiModel,
  geminiUsage,
  maxAttempts,
} from "../../../src/agents/gemini-cli.js";
import type { PrepareInput, SandboxReader } from "../../../src/agents/installed.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { type ModelServer, startModelServer } from "../../fakes/model-server.js";
import { thrownBy } from "../../helpers/errors.js";

// Transcripts as gemini-cli 0.61.0 wrote them against the scripted model server (stack traces cut).
const BANNER = [
  "Warning: 256-color support not detected. Using a terminal with at least 256-color support is recommended for a better visual experience.",
  "YOLO mode is enabled. All tool calls will be automatically approved.",
  "Ripgrep is not available. Falling back to GrepTool.",
];
const INIT =
  '{"type":"init","timestamp":"2026-11-26T23:05:42.822Z","session_id":"df8ad9c1-3d47-4747-95c3-4180debe87f0","model":"gemini-2.5-pro"}';
const USER =
  '{"type":"message","timestamp":"2026-11-26T23:05:42.845Z","role":"user","content":"Create /app/hello.txt"}';
const TOOL_USE =
  '{"type":"tool_use","timestamp":"2026-11-26T23:05:42.983Z","tool_name":"run_shell_command","tool_id":"run_shell_command__call_rli_1","parameters":{"command":"echo hello > /app/hello.txt","description":"write the file"}}';
const TOOL_RESULT =
  '{"type":"tool_result","timestamp":"2026-11-26T23:05:43.166Z","tool_id":"run_shell_command__call_rli_1","status":"success","output":""}';
const SUCCESS =
  '{"type":"result","timestamp":"2026-11-26T23:05:43.221Z","status":"success","stats":{"total_tokens":320,"input_tokens":260,"output_tokens":40,"cached":20,"input":240,"duration_ms":400,"tool_calls":1,"models":{"gemini-2.5-pro":{"total_tokens":320,"input_tokens":260,"output_tokens":40,"cached":20,"input":240}}}}';
const ZERO_STATS =
  '"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":0,"tool_calls":0,"models":{"gemini-2.5-pro":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0}}}';
const RATE_LIMITED = [
  ...BANNER,
  INIT,
  USER,
  'Attempt 1 failed with status 429. Retrying with backoff... _ApiError: {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}',
  "    at throwErrorIfNotOK (file:///rli/agent/node_modules/@google/gemini-cli/bundle/chunk-JDPZ4CE3.js:267833:24) {",
  "  status: 429",
  "}",
  "Attempt 3 failed: Resource has been exhausted (e.g. check quota).. Max attempts reached",
  "Error when talking to Gemini API Full report available at: /tmp/gemini-client-error-Turn.run-sendMessageStream-2026-11-26T23-10-09-325Z.json RetryableQuotaError: Resource has been exhausted (e.g. check quota).",
  "  cause: {",
  "    code: 429,",
  "    message: 'Resource has been exhausted (e.g. check quota).',",
  "    details: []",
  "  },",
  "  retryDelayMs: undefined,",
  "  status: 429",
  "}",
  `{"type":"result","timestamp":"2026-11-26T23:10:09.334Z","status":"error","error":{"type":"unknown","message":"[API Error: Resource has been exhausted (e.g. check quota).]\\nPlease wait and try again later. To increase your limits, request a quota increase through AI Studio, or switch to another /auth method"},${ZERO_STATS}}`,
].join("\n");
const UNAUTHENTICATED = [
  ...BANNER,
  INIT,
  USER,
  'Error when talking to Gemini API Full report available at: /tmp/gemini-client-error-Turn.run-sendMessageStream-2026-11-26T23-11-47-020Z.json _ApiError: {"error":{"code":401,"message":"API key not valid. Please pass a valid API key.","status":"UNAUTHENTICATED"}}',
  "    at throwErrorIfNotOK (file:///rli/agent/node_modules/@google/gemini-cli/bundle/chunk-JDPZ4CE3.js:267833:24) {",
  "  status: 401",
  "}",
  `{"type":"result","timestamp":"2026-11-26T23:11:47.065Z","status":"error","error":{"type":"unknown","message":"[API Error: {\\"error\\":{\\"code\\":401,\\"message\\":\\"API key not valid. Please pass a valid API key.\\",\\"status\\":\\"UNAUTHENTICATED\\"}}]"},${ZERO_STATS}}`,
].join("\n");

const SESSION_PATH =
  "/logs/agent/gemini/.gemini/tmp/app/chats/session-2026-11-26T23-05-df8ad9c1.jsonl";
const PROJECTS = '{\n  "projects": {\n    "/app": "app"\n  }\n}';

/** A session file: the header, a `$set` of the first messages, then records rewritten by id. */
function session(...records: unknown[]): string {
  const header = {
    sessionId: "df8ad9c1-3d47-4747-95c3-4180debe87f0",
    projectHash: "04252ae7",
    startTime: "2026-11-26T23:05:42.807Z",
    lastUpdated: "2026-11-26T23:05:42.807Z",
    kind: "main",
  };
  return `${[header, ...records].map((r) => JSON.stringify(r)).join("\n")}\n`;
}

const tokens = (input: number, output: number, cached: number, thoughts: number) => ({
  input,
  output,
  cached,
  thoughts,
  tool: 0,
  total: input + output + thoughts,
});

function reader(files: Record<string, string>): SandboxReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(path) {
      reads.push(path);
      return files[path] ?? null;
    },
  };
}

const NULL_USAGE = {
  input_tokens: null,
  cache_read_tokens: null,
  cache_write_tokens: null,
  output_tokens: null,
  cost_usd: null,
  cost_source: "unknown",
};

const INPUT: PrepareInput = {
  model: "google/gemini-2.5-pro",
  instruction: "Create /app/hello.txt containing `hello`; don't use $(shell) 'quotes'.\n",
  env: { HOME: "/root", GEMINI_API_KEY: "AIza-secret", GOOGLE_GEMINI_BASE_URL: "http://gw" },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 7200,
};

describe("geminiModel", () => {
  it("drops a provider prefix, as Harbor uses the last segment", () => {
    expect(geminiModel("gemini-2.5-pro")).toBe("gemini-2.5-pro");
    expect(geminiModel("google/gemini-2.5-pro")).toBe("gemini-2.5-pro");
    expect(geminiModel("gemini/gemini-2.5-flash")).toBe("gemini-2.5-flash");
    expect(geminiModel("models/gemini-3-pro-preview")).toBe("gemini-3-pro-preview");
  });

  it("rejects a model with nothing after the prefix", () => {
    expect(thrownBy(AgentSetupError, () => geminiModel("google/")).message).toBe(
      'gemini-cli: no model name in "google/"',
    );
  });
});

describe("maxAttempts", () => {
  it("keeps gemini's 10 attempts when its whole backoff fits in half the agent's time", () => {
    expect(maxAttempts(null)).toBe(10);
    expect(maxAttempts(7200)).toBe(10);
    // 9 waits of 5, 10, 20, 30, ... s plus 30 % jitter: 279.5 s, half of 559 s.
    expect(maxAttempts(559)).toBe(10);
    expect(maxAttempts(558)).toBe(9);
  });

  it("gives fewer attempts to short runs, and at least one", () => {
    expect(maxAttempts(120)).toBe(4);
    expect(maxAttempts(40)).toBe(3);
    expect(maxAttempts(13)).toBe(2);
    expect(maxAttempts(12)).toBe(1);
    expect(maxAttempts(1)).toBe(1);
  });
});

describe("geminiCli.prepare", () => {
  it("runs on the sandbox's node (the host's, mounted into a container)", () => {
    const plan = geminiCli.prepare({ ...INPUT, node: "/rli/node/bin/node" });
    expect(plan.argv[0]).toBe("/rli/node/bin/node");
  });

  it("runs the bundle headless with an explicit model, the instruction on stdin", () => {
    const plan = geminiCli.prepare(INPUT);
    expect(plan.argv).toEqual([
      "/usr/bin/node",
      "/rli/agent/node_modules/@google/gemini-cli/bundle/gemini.js",
      "--yolo",
      "--model",
      "gemini-2.5-pro",
      "--output-format",
      "stream-json",
    ]);
    expect(plan.stdin).toBe(INPUT.instruction);
    expect(plan.env).toEqual({
      GEMINI_CLI_HOME: "/logs/agent/gemini",
      GEMINI_CLI_TRUST_WORKSPACE: "true",
      GEMINI_CLI_NO_RELAUNCH: "true",
    });
  });

  it("writes settings that pin API-key auth and turn off updates and telemetry, without the key", () => {
    const files = geminiCli.prepare(INPUT).files ?? [];
    expect(files.map((f) => f.path)).toEqual(["/logs/agent/gemini/.gemini/settings.json"]);
    const content = files[0]?.content ?? "";
    expect(JSON.parse(content)).toEqual({
      security: { auth: { selectedType: "gemini-api-key" } },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 10 },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      ide: { enabled: false },
    });
    expect(content).not.toContain("AIza-secret");
    const short = geminiCli.prepare({ ...INPUT, timeoutSec: 40 }).files?.[0]?.content ?? "";
    expect(JSON.parse(short).general.maxAttempts).toBe(3);
  });

  it("hands a GOOGLE_API_KEY over as GEMINI_API_KEY, the only key API-key auth reads", () => {
    const env = { HOME: "/root", GOOGLE_API_KEY: "AIza-google" };
    expect(geminiCli.prepare({ ...INPUT, env }).env?.GEMINI_API_KEY).toBe("AIza-google");
    const both = { ...env, GEMINI_API_KEY: "AIza-gemini" };
    expect(geminiCli.prepare({ ...INPUT, env: both }).env).not.toHaveProperty("GEMINI_API_KEY");
  });

  it("needs a model", () => {
    expect(
      thrownBy(AgentSetupError, () => geminiCli.prepare({ ...INPUT, model: null })).message,
    ).toBe("gemini-cli needs a model, e.g. gemini-2.5-pro");
  });
});

describe("geminiUsage", () => {
  it("reads the result event: uncached input, cached, and output = candidates + thoughts", async () => {
    const transcript = [...BANNER, INIT, USER, TOOL_USE, TOOL_RESULT, SUCCESS].join("\n");
    const r = reader({ "/logs/agent/gemini-cli.txt": transcript });
    expect(await geminiUsage(r)).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: null,
      output_tokens: 60,
      cost_usd: null,
      cost_source: "unknown",
    });
    expect(r.reads).toEqual(["/logs/agent/gemini-cli.txt"]);
  });

  it("takes the stats of an error result too (0 when no response succeeded)", async () => {
    const r = reader({ "/logs/agent/gemini-cli.txt": RATE_LIMITED });
    expect(await geminiUsage(r)).toMatchObject({
      input_tokens: 0,
      cache_read_tokens: 0,
      output_tokens: 0,
    });
  });

  it("computes uncached input from the prompt when stats have no `input`", async () => {
    const stats =
      '{"type":"result","status":"success","stats":{"total_tokens":100,"input_tokens":70,"output_tokens":20,"cached":30}}';
    const usage = await geminiUsage(reader({ "/logs/agent/gemini-cli.txt": stats }));
    expect(usage).toMatchObject({ input_tokens: 40, cache_read_tokens: 30, output_tokens: 30 });
  });

  it("without a result event, sums the model messages of the session file once per id", async () => {
    const first = { id: "g1", type: "gemini", content: "", tokens: tokens(1500, 60, 300, 30) };
    const second = { id: "g2", type: "gemini", content: "Done.", tokens: tokens(1600, 50, 400, 0) };
    const files = {
      "/logs/agent/gemini-cli.txt": [...BANNER, INIT, USER, TOOL_USE, TOOL_RESULT].join("\n"),
      "/logs/agent/gemini/.gemini/projects.json": PROJECTS,
      [SESSION_PATH]: session(
        { $set: { messages: [{ id: "u0", type: "user", content: [{ text: "context" }] }] } },
        { id: "u1", type: "user", content: [{ text: "Create /app/hello.txt" }] },
        first,
        { $set: { lastUpdated: "2026-11-26T23:05:43.071Z" } },
        { ...first, toolCalls: [{ id: "c1", name: "run_shell_command" }] },
        // A compression that rewrites the history keeps ids; a rewind drops messages already paid for.
        { $set: { messages: [first] } },
        second,
        { $rewindTo: "g2" },
      ),
    };
    expect(await geminiUsage(reader(files))).toEqual({
      input_tokens: 1200 + 1200,
      cache_read_tokens: 300 + 400,
      cache_write_tokens: null,
      output_tokens: 90 + 50,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("finds a session file named in the minute before the init event", async () => {
    const init = INIT.replace("23:05:42.822Z", "23:06:00.004Z");
    const first = { id: "g1", type: "gemini", tokens: tokens(100, 10, 0, 0) };
    const r = reader({
      "/logs/agent/gemini-cli.txt": `${init}\n`,
      "/logs/agent/gemini/.gemini/projects.json": PROJECTS,
      [SESSION_PATH]: session(first),
    });
    expect(await geminiUsage(r)).toMatchObject({ input_tokens: 100, output_tokens: 10 });
    expect(r.reads.slice(-2)).toEqual([
      "/logs/agent/gemini/.gemini/tmp/app/chats/session-2026-11-26T23-06-df8ad9c1.jsonl",
      SESSION_PATH,
    ]);
  });

  it("is unknown (null, not 0) when no model message finished or nothing was written", async () => {
    const started = reader({
      "/logs/agent/gemini-cli.txt": `${INIT}\n${USER}\n`,
      "/logs/agent/gemini/.gemini/projects.json": PROJECTS,
      [SESSION_PATH]: session({ id: "u1", type: "user", content: [{ text: "hi" }] }),
    });
    expect(await geminiUsage(started)).toEqual(NULL_USAGE);
    expect(await geminiUsage(reader({}))).toEqual(NULL_USAGE);
    expect(await geminiUsage(reader({ "/logs/agent/gemini-cli.txt": BANNER.join("\n") }))).toEqual(
      NULL_USAGE,
    );
  });
});

describe("classifyGeminiFailure", () => {
  it("types a quota error by its RPC status and says the status its message leaves out", () => {
    expect(classifyGeminiFailure(RATE_LIMITED)).toEqual({
      type: "ApiRateLimitError",
      message:
        "429 RESOURCE_EXHAUSTED: [API Error: Resource has been exhausted (e.g. check quota).] Please wait and try again later. To increase your limits, request a quota increase through AI Studio, or switch to another /auth method",
    });
  });

  it("types an invalid key as an authentication error", () => {
    expect(classifyGeminiFailure(UNAUTHENTICATED)).toEqual({
      type: "ApiAuthenticationError",
      message:
        '[API Error: {"error":{"code":401,"message":"API key not valid. Please pass a valid API key.","status":"UNAUTHENTICATED"}}]',
    });
  });

  it("keeps gemini's own error type when no API error was printed", () => {
    const turns =
      '{"type":"result","timestamp":"t","status":"error","error":{"type":"FatalTurnLimitedError","message":"Reached max session turns for this session."},"stats":{}}';
    expect(classifyGeminiFailure(`${INIT}\n${turns}\n`)).toEqual({
      type: "FatalTurnLimitedError",
      message: "Reached max session turns for this session.",
    });
  });

  it("leaves a run without a result error to the generic patterns", () => {
    expect(classifyGeminiFailure(`${INIT}\nError: connect ECONNREFUSED 127.0.0.1:9\n`)).toBeNull();
  });
});

describe("the fake Gemini API", () => {
  let server: ModelServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  const body = {
    contents: [
      { role: "user", parts: [{ text: "make the file" }] },
      { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: {} } }] },
      { role: "user", parts: [{ functionResponse: { name: "run_shell_command", response: {} } }] },
    ],
    tools: [
      {
        functionDeclarations: [
          { name: "run_shell_command", parametersJsonSchema: { type: "object" } },
        ],
      },
    ],
  };

  it("streams SSE chunks whose last usageMetadata holds the totals", async () => {
    server = await startModelServer({
      usage: { input: 100, output: 30, cacheRead: 20, cacheWrite: 0 },
      script: (req) => ({ kind: "text", text: `${req.toolResults} results, ${req.tools.length}` }),
    });
    const res = await fetch(
      `${server.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
      { method: "POST", headers: { "x-goog-api-key": "k1" }, body: JSON.stringify(body) },
    );
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const chunks = (await res.text())
      .split("\r\n\r\n")
      .filter((c) => c.startsWith("data: "))
      .map((c) => JSON.parse(c.slice(6)));
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join("")).toBe("1 results, 1");
    expect(chunks.at(-1).candidates[0].finishReason).toBe("STOP");
    expect(chunks.at(-1).usageMetadata).toEqual({
      promptTokenCount: 120,
      candidatesTokenCount: 20,
      cachedContentTokenCount: 20,
      thoughtsTokenCount: 10,
      totalTokenCount: 150,
    });
    expect(server.requests.map((r) => [r.protocol, r.model])).toEqual([
      ["gemini", "gemini-2.5-pro"],
    ]);
    expect([...server.credentials]).toEqual(["k1"]);
  });

  it("answers :generateContent with one JSON response carrying the function call", async () => {
    server = await startModelServer({
      script: () => ({
        kind: "tool_call",
        id: "c1",
        tool: "run_shell_command",
        args: { command: "ls" },
      }),
    });
    const res = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { candidates: { content: { parts: unknown[] } }[] };
    expect(json.candidates[0]?.content.parts).toEqual([
      { functionCall: { id: "c1", name: "run_shell_command", args: { command: "ls" } } },
    ]);
  });

  it("fails in Google's error shape", async () => {
    server = await startModelServer({
      script: () => ({ kind: "status", status: 429, retryAfterSec: 3, message: "slow down" }),
    });
    const res = await fetch(`${server.url}/v1beta/models/m:streamGenerateContent?alt=sse`, {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(await res.json()).toEqual({
      error: { code: 429, message: "slow down", status: "RESOURCE_EXHAUSTED" },
    });
  });
});
