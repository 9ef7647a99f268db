import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CLAUDE_CONFIG_DIR,
  classifyClaudeFailure,
  claudeBinary,
  claudeCode,
  claudeModel,
  claudeUsage,
  projectSlug,
  retryBudget,
} from "../../../src/agents/claude-code.js";
import { installedAgent, type PrepareInput } from "../../../src/agents/installed.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { loadTask } from "../../../src/benchmarks/task.js";
import {
  type ModelServer,
  runCommandScript,
  type Script,
  startModelServer,
} from "../../fakes/model-server.js";
import { anthropic } from "../../fakes/protocols/anthropic.js";
import { thrownBy } from "../../helpers/errors.js";
import { fakeSandbox } from "../../helpers/fake-sandbox.js";
import { FIXTURES } from "../../helpers/tasks.js";

// Lines as claude 2.1.332 wrote them in our sandbox against the scripted model server (120 in, 30 out,
// 10 cache read, 5 cache write per reply); long fields (tools, plugins, subagent stats) trimmed.
const SESSION = "f74f5a5d-f4f3-4c62-aa4e-649ba6fc2bd2";
const INIT = `{"type":"system","subtype":"init","cwd":"/app","session_id":"${SESSION}","tools":["Task","Bash","Edit","Read","Write"],"mcp_servers":[],"model":"claude-sonnet-4-5","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.332","uuid":"6ca3863b-cac6-4eb1-9c59-91b16029f98a"}`;
// stream-json assistant lines carry message_start's usage (output_tokens 1), not the final count.
const TOOL_CALL = `{"type":"assistant","message":{"id":"msg_rlimwy6em0p000001","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_call_rli_1","name":"Bash","input":{"command":"echo hello > /app/hello.txt","description":"write the file"}}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":120,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":1},"context_management":null},"parent_tool_use_id":null,"session_id":"${SESSION}","uuid":"ddc2a49a-9c8b-4241-ad9d-68212b1e4a3c"}`;
const TOOL_RESULT = `{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_call_rli_1","type":"tool_result","content":"(Bash completed with no output)","is_error":false}]},"parent_tool_use_id":null,"session_id":"${SESSION}","uuid":"696bfd70-0c86-4766-8e23-15c70b16bf7b"}`;
const DONE = `{"type":"assistant","message":{"id":"msg_rlimwy6emnx000003","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Done."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":120,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":1},"context_management":null},"parent_tool_use_id":null,"session_id":"${SESSION}","uuid":"dfe964f3-c473-4bbc-a166-92d2c353fb90"}`;
const RESULT = `{"duration_api_ms":588,"stop_reason":"end_turn","session_id":"${SESSION}","total_cost_usd":0.0016634999999999998,"usage":{"input_tokens":240,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":60,"output_tokens_details":{"thinking_tokens":0},"service_tier":"standard"},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":240,"outputTokens":60,"cacheReadInputTokens":20,"cacheCreationInputTokens":10,"webSearchRequests":0,"costUSD":0.0016634999999999998,"contextWindow":200000,"maxOutputTokens":32000,"thinkingTokens":0,"canonicalModel":"claude-sonnet-4-5","provider":"firstParty","costBasis":"list"}},"permission_denials":[],"terminal_reason":"completed","is_error":false,"num_turns":2,"subtype":"success","api_error_status":null,"result":"Done.","type":"result","duration_ms":3120,"uuid":"04c00f3b-1c6c-4c21-9d01-32677bc4a2e9","result_index":0}`;

// A background subagent (Agent tool, 100 in, 7 out, 3 read, 2 write per reply): claude wrote two
// results; each `usage` covers only that result's main-thread turns, modelUsage the whole session.
const SUB_RESULT_0 = `{"total_cost_usd":0.0016536000000000003,"usage":{"input_tokens":200,"cache_creation_input_tokens":4,"cache_read_input_tokens":6,"output_tokens":14},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":400,"outputTokens":28,"cacheReadInputTokens":12,"cacheCreationInputTokens":8,"costUSD":0.0016536000000000003,"costBasis":"list"}},"is_error":false,"subtype":"success","result":"Done.","type":"result","result_index":0}`;
const SUB_RESULT_1 = `{"total_cost_usd":0.0016536000000000003,"usage":{"input_tokens":100,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":7},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":400,"outputTokens":28,"cacheReadInputTokens":12,"cacheCreationInputTokens":8,"costUSD":0.0016536000000000003,"costBasis":"list"}},"is_error":false,"subtype":"success","result":"Done.","type":"result","result_index":1,"model_usage_since_last_result":{}}`;

// Every request got 429 (4 retries allowed): claude's synthetic error message and error result.
const RETRY = `{"type":"system","subtype":"api_retry","attempt":1,"max_retries":4,"retry_delay_ms":1240,"error_status":429,"error":"rate_limit","session_id":"${SESSION}","uuid":"b1a96696-edcd-44e4-9f9f-ef28999f8983"}`;
const API_ERROR_MESSAGE = `{"type":"assistant","message":{"id":"fff31187-6cf5-44e7-911e-7ff8056b24cf","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","type":"message","usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"content":[{"type":"text","text":"API Error: Request rejected (429) · rate limited by fake"}]},"parent_tool_use_id":null,"session_id":"${SESSION}","error":"rate_limit","is_api_error_message":true,"api_error_status":429,"api_error_type":"rate_limit_error"}`;
const RATE_LIMITED_RESULT = `{"duration_api_ms":0,"stop_reason":"stop_sequence","session_id":"${SESSION}","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0},"modelUsage":{},"permission_denials":[],"terminal_reason":"api_error","is_error":true,"num_turns":1,"subtype":"success","api_error_status":429,"api_error_type":"rate_limit_error","result":"API Error: Request rejected (429) · rate limited by fake","type":"result","duration_ms":9705,"result_index":0}`;
const AUTH_RESULT = `{"total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0},"modelUsage":{},"terminal_reason":"api_error","is_error":true,"num_turns":1,"subtype":"success","api_error_status":401,"api_error_type":"authentication_error","result":"Invalid API key · Fix external API key","type":"result"}`;
const REFUSED_RESULT = `{"total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0},"modelUsage":{},"terminal_reason":"api_error","is_error":true,"num_turns":1,"subtype":"success","api_error_status":null,"api_error":"connection_failed","result":"API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)","type":"result"}`;

// A gateway model claude has no price for: it guesses one (costBasis "unknown").
const UNKNOWN_MODEL_RESULT = `{"total_cost_usd":0.0022140000000000003,"usage":{"input_tokens":240,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":60},"modelUsage":{"my-gateway-model":{"inputTokens":240,"outputTokens":60,"cacheReadInputTokens":20,"cacheCreationInputTokens":10,"costUSD":0.0022140000000000003,"canonicalModel":"my-gateway-model","provider":"firstParty","costBasis":"unknown"}},"is_error":false,"subtype":"success","result":"Done.","type":"result"}`;

// The session JSONL of a run killed at its deadline while its second request hung: the first reply's
// final usage (output_tokens 30), no cost-state entry.
const SESSION_ASSISTANT = `{"parentUuid":"5d3d17e8-c903-4861-99f8-6730db16e72c","isSidechain":false,"message":{"id":"msg_rlimwy6g5zz000001","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_call_rli_1","name":"Bash","input":{"command":"echo hello > /app/hello.txt","description":"write the file"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":120,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":30,"output_tokens_details":{"thinking_tokens":0},"service_tier":"standard"}},"requestId":"req_rlimwy6g5zz000002","type":"assistant","uuid":"a0c5e8f4-1d57-4b6e-b7f1-3c1f0e0d5a11","sessionId":"${SESSION}","cwd":"/app","version":"2.1.332"}`;
const SESSION_OTHER = `{"type":"last-prompt","sessionId":"${SESSION}"}`;
const COST_STATE = `{"type":"cost-state","sessionId":"${SESSION}","totalCostUSD":0.0016634999999999998,"totalAPIDuration":323,"modelUsage":{"claude-sonnet-4-5":{"inputTokens":240,"outputTokens":60,"thinkingTokens":0,"cacheReadInputTokens":20,"cacheCreationInputTokens":10,"webSearchRequests":0,"costUSD":0.0016634999999999998}},"hasUnknownModelCost":false}`;

const TRANSCRIPT = "/logs/agent/claude-code.txt";
const SESSION_FILE = `${CLAUDE_CONFIG_DIR}/projects/-app/${SESSION}.jsonl`;
const lines = (...l: string[]) => `${l.join("\n")}\n`;

/** A reader over these sandbox files. */
function reader(files: Record<string, string>) {
  return { read: async (path: string) => files[path] ?? null };
}

const UNKNOWN = {
  input_tokens: null,
  cache_read_tokens: null,
  cache_write_tokens: null,
  output_tokens: null,
  cost_usd: null,
  cost_source: "unknown",
};

const INPUT: PrepareInput = {
  model: "claude-sonnet-4-5",
  instruction: `Write "hello" to /app/hello.txt; don't use $(quotes) or 'shell' tricks.\n`,
  env: { PATH: "/usr/bin:/bin", HOME: "/root", ANTHROPIC_API_KEY: "sk-ant-secret-value" },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 7200,
};

describe("claudeModel", () => {
  it.each([
    ["claude-sonnet-4-5", "claude-sonnet-4-5"],
    ["anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"],
    ["Anthropic/claude-opus-4-1", "claude-opus-4-1"],
    ["openrouter/anthropic/claude-sonnet-4-5", "openrouter/anthropic/claude-sonnet-4-5"],
    ["my-gateway-model", "my-gateway-model"],
  ])("takes %s as %s", (typed, name) => {
    expect(claudeModel(typed)).toBe(name);
  });

  it.each(["", "anthropic/", "  "])("rejects %j", (typed) => {
    const err = thrownBy(AgentSetupError, () => claudeModel(typed));
    expect(err.message).toBe(`claude-code needs a model name, got "${typed}"`);
  });
});

describe("claudeBinary", () => {
  it("runs the native binary of the platform package, not the npm wrapper", () => {
    expect(claudeBinary("/rli/agent", "x64", false)).toBe(
      "/rli/agent/node_modules/@anthropic-ai/claude-code-linux-x64/claude",
    );
    expect(claudeBinary("/rli/agent", "arm64", true)).toBe(
      "/rli/agent/node_modules/@anthropic-ai/claude-code-linux-arm64-musl/claude",
    );
  });

  it("names the supported architectures for others", () => {
    const err = thrownBy(AgentSetupError, () => claudeBinary("/rli/agent", "ia32", false));
    expect(err.message).toBe("claude-code has no Linux binary for ia32; supported: x64, arm64");
  });
});

describe("retryBudget", () => {
  it.each([
    [null, 10],
    [7200, 10],
    [400, 10],
    [120, 6],
    [60, 5],
    [30, 4],
    [8, 2],
    [1, 0],
  ])("with a %s s deadline allows %i retries", (timeout, retries) => {
    expect(retryBudget(timeout)).toBe(retries);
  });

  it("keeps the worst-case backoff within half the deadline", () => {
    for (const timeout of [1, 5, 8, 20, 30, 45, 60, 90, 120, 200, 300, 400]) {
      let worst = 0;
      for (let i = 0; i < retryBudget(timeout); i++) worst += Math.min(0.5 * 2 ** i, 32) * 1.25;
      expect(worst).toBeLessThanOrEqual(timeout / 2);
    }
  });
});

describe("claudeCode.prepare", () => {
  it("runs claude headless with the instruction on stdin and the model in env and argv", () => {
    const plan = claudeCode.prepare(INPUT);
    expect(plan.argv).toEqual([
      claudeBinary("/rli/agent"),
      "--print",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "bypassPermissions",
      "--model",
      "claude-sonnet-4-5",
    ]);
    expect(plan.stdin).toBe(INPUT.instruction);
    expect(plan.files).toBeUndefined();
    expect(plan.env).toEqual({
      ANTHROPIC_MODEL: "claude-sonnet-4-5",
      IS_SANDBOX: "1",
      CLAUDE_CONFIG_DIR: "/logs/agent/sessions",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "10",
    });
  });

  it("never puts a key into its argv, env or files (the key stays in the agent's environment)", () => {
    const plan = claudeCode.prepare({
      ...INPUT,
      env: { ...INPUT.env, ANTHROPIC_BASE_URL: "http://127.0.0.1:1" },
    });
    expect(JSON.stringify(plan)).not.toContain("sk-ant-secret-value");
  });

  it("drops the anthropic/ prefix", () => {
    const plan = claudeCode.prepare({ ...INPUT, model: "anthropic/claude-opus-4-1" });
    expect(plan.env?.ANTHROPIC_MODEL).toBe("claude-opus-4-1");
    expect(plan.argv.slice(-2)).toEqual(["--model", "claude-opus-4-1"]);
  });

  it("needs a model", () => {
    const err = thrownBy(AgentSetupError, () => claudeCode.prepare({ ...INPUT, model: null }));
    expect(err.message).toBe("claude-code needs a model, e.g. claude-sonnet-4-5");
  });

  it("with a gateway, sends background and subagent calls to the chosen model too", () => {
    const plan = claudeCode.prepare({
      ...INPUT,
      model: "my-gateway-model",
      env: {
        ...INPUT.env,
        ANTHROPIC_BASE_URL: "https://gateway.example/anthropic",
        ANTHROPIC_DEFAULT_HAIKU_MODEL: "my-small-model",
      },
    });
    expect(plan.env).toMatchObject({
      ANTHROPIC_MODEL: "my-gateway-model",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "my-gateway-model",
      ANTHROPIC_DEFAULT_SONNET_MODEL: "my-gateway-model",
      CLAUDE_CODE_SUBAGENT_MODEL: "my-gateway-model",
    });
    // Set by the user (--env-vars): left alone, so the agent's environment keeps it.
    expect(plan.env).not.toHaveProperty("ANTHROPIC_DEFAULT_HAIKU_MODEL");
  });

  it("sizes claude's retries to the deadline unless the user set CLAUDE_CODE_MAX_RETRIES", () => {
    expect(claudeCode.prepare({ ...INPUT, timeoutSec: 30 }).env?.CLAUDE_CODE_MAX_RETRIES).toBe("4");
    expect(claudeCode.prepare({ ...INPUT, timeoutSec: null }).env?.CLAUDE_CODE_MAX_RETRIES).toBe(
      "10",
    );
    const own = claudeCode.prepare({
      ...INPUT,
      timeoutSec: 30,
      env: { ...INPUT.env, CLAUDE_CODE_MAX_RETRIES: "12" },
    });
    expect(own.env).not.toHaveProperty("CLAUDE_CODE_MAX_RETRIES");
    const bad = claudeCode.prepare({
      ...INPUT,
      timeoutSec: 30,
      env: { ...INPUT.env, CLAUDE_CODE_MAX_RETRIES: "lots" },
    });
    expect(bad.env?.CLAUDE_CODE_MAX_RETRIES).toBe("4");
  });

  it("takes either key and passes the base URL and bearer token through for gateways", () => {
    expect(claudeCode.keys).toEqual({
      names: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"],
      requiresAny: true,
    });
    expect(claudeCode.passEnv).toEqual(["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"]);
    expect(claudeCode.package).toEqual({ name: "@anthropic-ai/claude-code", version: "2.1.332" });
  });
});

describe("claudeUsage", () => {
  it("reads claude's totals and cost from its result line", async () => {
    const usage = await claudeUsage(
      reader({ [TRANSCRIPT]: lines(INIT, TOOL_CALL, TOOL_RESULT, DONE, RESULT) }),
    );
    expect(usage).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: 0.0016634999999999998,
      cost_source: "reported",
    });
  });

  it("counts subagents: the last result's modelUsage, not its main-thread usage", async () => {
    const usage = await claudeUsage(
      reader({ [TRANSCRIPT]: lines(INIT, TOOL_CALL, SUB_RESULT_0, DONE, SUB_RESULT_1) }),
    );
    expect(usage).toEqual({
      input_tokens: 400,
      cache_read_tokens: 12,
      cache_write_tokens: 8,
      output_tokens: 28,
      cost_usd: 0.0016536000000000003,
      cost_source: "reported",
    });
  });

  it("sums every model claude used", async () => {
    const two = RESULT.replace(
      '"modelUsage":{',
      '"modelUsage":{"claude-haiku-4-5":{"inputTokens":7,"outputTokens":3,"cacheReadInputTokens":0,"cacheCreationInputTokens":1,"costBasis":"list"},',
    );
    expect(await claudeUsage(reader({ [TRANSCRIPT]: lines(INIT, two) }))).toMatchObject({
      input_tokens: 247,
      cache_read_tokens: 20,
      cache_write_tokens: 11,
      output_tokens: 63,
      cost_source: "reported",
    });
  });

  it("is zero when no request succeeded (claude's own count)", async () => {
    const usage = await claudeUsage(
      reader({ [TRANSCRIPT]: lines(INIT, RETRY, API_ERROR_MESSAGE, RATE_LIMITED_RESULT) }),
    );
    expect(usage).toEqual({
      input_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      cost_source: "reported",
    });
  });

  it("has no cost when claude guessed the price of a model it does not know", async () => {
    const usage = await claudeUsage(reader({ [TRANSCRIPT]: lines(INIT, UNKNOWN_MODEL_RESULT) }));
    expect(usage).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("without a result (killed), counts the session's messages by id, cost unknown", async () => {
    const usage = await claudeUsage(
      reader({
        [TRANSCRIPT]: lines(INIT, TOOL_CALL, TOOL_RESULT),
        // The same message twice (one entry per content block) counts once.
        [SESSION_FILE]: lines(SESSION_OTHER, SESSION_ASSISTANT, SESSION_ASSISTANT, SESSION_OTHER),
      }),
    );
    expect(usage).toEqual({
      input_tokens: 120,
      cache_read_tokens: 10,
      cache_write_tokens: 5,
      output_tokens: 30,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("without a result, prefers the session's cost-state (claude's totals, written on exit)", async () => {
    const usage = await claudeUsage(
      reader({
        [TRANSCRIPT]: lines(INIT, TOOL_CALL),
        [SESSION_FILE]: lines(SESSION_ASSISTANT, COST_STATE),
      }),
    );
    expect(usage).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: 0.0016634999999999998,
      cost_source: "reported",
    });
  });

  it("is unknown when claude was killed before any reply", async () => {
    const emptyState = COST_STATE.replace(/"modelUsage":\{.*\}\},/, '"modelUsage":{},');
    expect(
      await claudeUsage(
        reader({
          [TRANSCRIPT]: lines(INIT),
          [SESSION_FILE]: lines(SESSION_OTHER, emptyState),
        }),
      ),
    ).toEqual(UNKNOWN);
    expect(await claudeUsage(reader({ [TRANSCRIPT]: lines(INIT) }))).toEqual(UNKNOWN);
    expect(await claudeUsage(reader({}))).toEqual(UNKNOWN);
    expect(await claudeUsage(reader({ [TRANSCRIPT]: "claude: not found\n" }))).toEqual(UNKNOWN);
  });

  it("skips torn and non-JSON lines", async () => {
    const torn = `${RESULT.slice(40)}\nsome stderr line\n${INIT}\n${RESULT}\n${DONE.slice(0, 50)}`;
    expect(await claudeUsage(reader({ [TRANSCRIPT]: torn }))).toMatchObject({
      input_tokens: 240,
      cost_source: "reported",
    });
  });

  it("reads no file outside the session directory, whatever the init line says", async () => {
    const read: string[] = [];
    const evil = INIT.replace(SESSION, "../../../../root/x");
    await claudeUsage({
      read: async (p) => {
        read.push(p);
        return p === TRANSCRIPT ? lines(evil) : null;
      },
    });
    expect(read).toEqual([TRANSCRIPT]);
  });
});

describe("projectSlug", () => {
  it.each([
    ["/app", "-app"],
    ["/tmp/cc-probe/work", "-tmp-cc-probe-work"],
    ["/home/me/my_repo.v2", "-home-me-my-repo-v2"],
  ])("names %s %s", (cwd, slug) => {
    expect(projectSlug(cwd)).toBe(slug);
  });
});

describe("classifyClaudeFailure", () => {
  it("types a rate limit by the API error and keeps claude's message", () => {
    expect(
      classifyClaudeFailure(lines(INIT, RETRY, API_ERROR_MESSAGE, RATE_LIMITED_RESULT)),
    ).toEqual({
      type: "ApiRateLimitError",
      message: "429 rate_limit_error: API Error: Request rejected (429) · rate limited by fake",
    });
  });

  it("types a rejected key as an authentication error", () => {
    expect(classifyClaudeFailure(lines(INIT, AUTH_RESULT))).toEqual({
      type: "ApiAuthenticationError",
      message: "401 authentication_error: Invalid API key · Fix external API key",
    });
  });

  it.each([
    [529, "overloaded_error", "ApiOverloadedError"],
    [500, "api_error", "ApiInternalServerError"],
    [503, null, "ApiInternalServerError"],
    [403, "permission_error", "ApiAuthenticationError"],
    [413, "request_too_large", "ContextWindowExceededError"],
  ])("types status %i (%s) as %s", (status, apiType, type) => {
    const result = AUTH_RESULT.replace('"api_error_status":401', `"api_error_status":${status}`)
      .replace(
        '"api_error_type":"authentication_error"',
        `"api_error_type":${JSON.stringify(apiType)}`,
      )
      .replace("Invalid API key · Fix external API key", "API Error: something went wrong");
    expect(classifyClaudeFailure(lines(INIT, result))?.type).toBe(type);
  });

  it("types a refused connection as a network error", () => {
    expect(classifyClaudeFailure(lines(INIT, REFUSED_RESULT))).toEqual({
      type: "NetworkConnectionError",
      message:
        "API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)",
    });
  });

  it("reports other errors claude ended with, typed by their wording when it says", () => {
    const maxTurns =
      '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":3,"total_cost_usd":0.1,"modelUsage":{}}';
    expect(classifyClaudeFailure(lines(INIT, maxTurns))).toEqual({
      type: "AgentReportedError",
      message: "error_max_turns",
    });
    const long = AUTH_RESULT.replace('"api_error_status":401', '"api_error_status":null')
      .replace('"api_error_type":"authentication_error"', '"api_error_type":null')
      .replace("Invalid API key · Fix external API key", `Prompt is too long ${"x".repeat(400)}`);
    const failure = classifyClaudeFailure(lines(INIT, long));
    expect(failure?.type).toBe("ContextWindowExceededError");
    expect(failure?.message).toHaveLength(300);
  });

  it("is null when claude did not end with an error result (the generic patterns apply)", () => {
    expect(classifyClaudeFailure(lines(INIT, TOOL_CALL, TOOL_RESULT, DONE, RESULT))).toBeNull();
    expect(classifyClaudeFailure(lines(INIT, TOOL_CALL))).toBeNull();
    expect(classifyClaudeFailure("Segmentation fault\n")).toBeNull();
  });
});

describe("installedAgent(claudeCode).run", () => {
  async function runWith(transcript: string, exitCode: number) {
    const task = await loadTask(join(FIXTURES, "agent-task"), "fixtures/agent-task");
    const sandbox = fakeSandbox(transcript, exitCode);
    const outcome = await installedAgent(claudeCode).run({
      agent: { name: "claude-code", model: "claude-sonnet-4-5" },
      task,
      sandbox,
      env: { ANTHROPIC_API_KEY: "k" },
      timeoutMs: 30_000,
      graceMs: 1000,
      signal: new AbortController().signal,
    });
    return { outcome, sandbox, task };
  }

  it("gives claude the instruction on stdin and its environment", async () => {
    const { outcome, sandbox, task } = await runWith(lines(INIT, DONE, RESULT), 0);
    expect(outcome).toEqual({ exitCode: 0, timedOut: false, cancelled: false });
    const [exec] = sandbox.execs;
    expect(exec?.stdin).toBe(task.instruction);
    expect(exec?.stdoutPath).toBe(TRANSCRIPT);
    expect(exec?.env).toMatchObject({
      HOME: "/root",
      ANTHROPIC_API_KEY: "k",
      ANTHROPIC_MODEL: "claude-sonnet-4-5",
      CLAUDE_CODE_MAX_RETRIES: "4",
    });
  });

  it("classifies a non-zero exit from claude's error result, not from the JSON around it", async () => {
    const { outcome } = await runWith(lines(INIT, RETRY, API_ERROR_MESSAGE, AUTH_RESULT), 1);
    expect(outcome.failure).toEqual({
      type: "ApiAuthenticationError",
      message: "401 authentication_error: Invalid API key · Fix external API key",
    });
  });

  it("falls back to the generic patterns without an error result", async () => {
    const { outcome } = await runWith("Error: connect ECONNREFUSED 127.0.0.1:1\n", 1);
    expect(outcome.failure?.type).toBe("NetworkConnectionError");
  });
});

// The fake Anthropic Messages server the agent tests (and opencode's and goose's) run against.

const BASH = {
  name: "Bash",
  description: "Run a command",
  input_schema: {
    type: "object",
    properties: { command: { type: "string" }, timeout: { type: "number" } },
    required: ["command"],
  },
};

let server: ModelServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function post(
  script: Script,
  payload: unknown,
  path = "/v1/messages?beta=true",
): Promise<{ status: number; headers: Headers; text: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  server = await startModelServer({
    script: (req) => {
      seen.push({
        model: req.model,
        stream: req.stream,
        tools: req.tools.map((t) => t.name),
        toolResults: req.toolResults,
        last: req.lastUserText,
      });
      return script(req);
    },
  });
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-unit-key" },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return { status: res.status, headers: res.headers, text: await res.text(), seen };
}

/** The SSE events of a stream body, as [event name, data]. */
function events(text: string): [string, Record<string, unknown>][] {
  return text
    .split("\n\n")
    .filter((b) => b.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "{}";
      return [event, JSON.parse(data) as Record<string, unknown>];
    });
}

describe("anthropic fake", () => {
  it("serves POST .../v1/messages only", () => {
    expect(anthropic.matches("POST", "/v1/messages")).toBe(true);
    expect(anthropic.matches("POST", "/anthropic/v1/messages")).toBe(true);
    expect(anthropic.matches("GET", "/v1/messages")).toBe(false);
    expect(anthropic.matches("POST", "/v1/messages/count_tokens")).toBe(false);
    expect(anthropic.matches("POST", "/v1/chat/completions")).toBe(false);
  });

  it("streams a tool_use whose input_json_delta pieces join to the arguments, then usage", async () => {
    const r = await post(runCommandScript("echo hello > /app/hello.txt"), {
      model: "claude-sonnet-4-5",
      stream: true,
      max_tokens: 1000,
      tools: [{ type: "web_search_20250305", name: "web_search" }, BASH],
      messages: [{ role: "user", content: [{ type: "text", text: "make hello" }] }],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    // Server tools (no input_schema) are not offered to the script.
    expect(r.seen).toEqual([
      {
        model: "claude-sonnet-4-5",
        stream: true,
        tools: ["Bash"],
        toolResults: 0,
        last: "make hello",
      },
    ]);
    const ev = events(r.text);
    expect(ev.map(([name]) => name)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const [name, data] of ev) expect(data.type).toBe(name);
    const start = ev[0]?.[1].message as { id: string; model: string; usage: unknown };
    expect(start.id).toMatch(/^msg_/);
    expect(start.model).toBe("claude-sonnet-4-5");
    const block = ev[1]?.[1].content_block as { type: string; id: string; name: string };
    expect(block).toMatchObject({ type: "tool_use", name: "Bash" });
    expect(block.id).toMatch(/^toolu_/);
    const json = ev
      .filter(([name]) => name === "content_block_delta")
      .map(([, d]) => (d.delta as { partial_json: string }).partial_json);
    expect(json.every((part) => part.length > 0)).toBe(true);
    expect(JSON.parse(json.join(""))).toEqual({ command: "echo hello > /app/hello.txt" });
    expect(ev[5]?.[1]).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: {
        input_tokens: 120,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 10,
        output_tokens: 30,
      },
    });
    expect(server?.reported).toEqual({ input: 120, output: 30, cacheRead: 10, cacheWrite: 5 });
    expect([...(server?.credentials ?? [])]).toEqual(["sk-ant-unit-key"]);
  });

  it("answers text after tool results, as plain JSON when not streaming", async () => {
    const r = await post(runCommandScript("true", "All done."), {
      model: "claude-haiku-4-5",
      max_tokens: 1000,
      tools: [BASH],
      messages: [
        { role: "user", content: "make hello" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "true" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "ok" },
            { type: "text", text: "continue" },
          ],
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.seen).toMatchObject([{ stream: false, toolResults: 1, last: "continue" }]);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: "All done." }],
      stop_reason: "end_turn",
      usage: {
        input_tokens: 120,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 10,
        output_tokens: 30,
      },
    });
  });

  it("streams text as a text block", async () => {
    const r = await post(() => ({ kind: "text", text: "hi there" }), {
      model: "m",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    const ev = events(r.text);
    expect(ev.map(([name]) => name)).toContain("ping");
    expect(ev.find(([name]) => name === "content_block_start")?.[1].content_block).toEqual({
      type: "text",
      text: "",
    });
    expect(ev.find(([name]) => name === "content_block_delta")?.[1].delta).toEqual({
      type: "text_delta",
      text: "hi there",
    });
    expect(ev.find(([name]) => name === "message_delta")?.[1].delta).toMatchObject({
      stop_reason: "end_turn",
    });
  });

  it.each([
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [503, "api_error"],
    [529, "overloaded_error"],
  ])("fails with %i as Anthropic does: error type %s", async (status, type) => {
    const r = await post(
      () => ({ kind: "status", status, retryAfterSec: 7, message: `failed ${status}` }),
      { model: "m", messages: [] },
    );
    expect(r.status).toBe(status);
    expect(r.headers.get("retry-after")).toBe("7");
    const body = JSON.parse(r.text) as { type: string; error: unknown; request_id: string };
    expect(body.type).toBe("error");
    expect(body.error).toEqual({ type, message: `failed ${status}` });
    expect(body.request_id).toBe(r.headers.get("request-id"));
    expect(server?.replies).toBe(0);
  });

  it("rejects a body that is not JSON with invalid_request_error", async () => {
    const r = await post(() => ({ kind: "text", text: "x" }), "{not json");
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error" },
    });
    expect(r.seen).toEqual([]);
  });
});
