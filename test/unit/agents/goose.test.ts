import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { goose, gooseFailure, gooseProvider, gooseUsage } from "../../../src/agents/goose.js";
import { installedAgent, type PrepareInput } from "../../../src/agents/installed.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { loadTask } from "../../../src/benchmarks/task.js";
import { thrownBy } from "../../helpers/errors.js";
import { fakeSandbox } from "../../helpers/fake-sandbox.js";
import { FIXTURES } from "../../helpers/tasks.js";

// Transcripts as goose 1.52.0 wrote them against the scripted model server (ids shortened).
const BANNER = [
  "",
  "    __( O)>  ● new session · openai gpt-4.1",
  "   \\____)    20261126_1 · /app",
  "     L L     goose is ready",
];
const INFERENCE = '"inference":{"provider":"openai","requestedModel":"gpt-4.1"}';
const TOOL_CALL = `{"type":"message","message":{"id":"chatcmpl-1","role":"assistant","created":1795734851,"content":[{"type":"toolRequest","id":"call_rli_1","toolCall":{"status":"success","value":{"name":"shell","arguments":{"command":"echo hello > /app/hello.txt"}}},"_meta":{"goose_extension":"developer"}}],"metadata":{"userVisible":true,"agentVisible":true,${INFERENCE}}}}`;
const TOOL_RESULT =
  '{"type":"message","message":{"id":"msg_2","role":"user","created":1795734851,"content":[{"type":"toolResponse","id":"call_rli_1","toolResult":{"status":"success","value":{"resultType":"complete","content":[{"type":"text","text":"(no output)"}],"isError":false}}}],"metadata":{"userVisible":true,"agentVisible":true}}}';
const DONE = `{"type":"message","message":{"id":"chatcmpl-3","role":"assistant","created":1795734851,"content":[{"type":"text","text":"Done."}],"metadata":{"userVisible":true,"agentVisible":true,${INFERENCE}}}}`;
const COMPLETE =
  '{"type":"complete","total_tokens":330,"input_tokens":270,"output_tokens":60,"cache_read_input_tokens":20,"cache_write_input_tokens":10,"cost_usd":0.0016635}';
const ZERO =
  '{"type":"complete","total_tokens":0,"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_write_input_tokens":0}';

/** A goose-authored assistant message (no inference metadata) with this text. */
function gooseSays(text: string): string {
  return JSON.stringify({
    type: "message",
    message: {
      id: "msg_9",
      role: "assistant",
      created: 1795734348,
      content: [{ type: "text", text }],
      metadata: { userVisible: true, agentVisible: true },
    },
  });
}

const lines = (...l: string[]) => `${[...BANNER, ...l].join("\n")}\n`;

const OK = lines(TOOL_CALL, TOOL_RESULT, DONE, COMPLETE);
const RATE_LIMITED = lines(
  gooseSays(
    "Ran into this error: Rate limit exceeded: Rate limit reached for requests.\n\nPlease retry if you think this is a transient or recoverable error.",
  ),
  ZERO,
);
const AUTH_ERROR = lines(
  '{"type":"message","message":{"id":"msg_4","role":"assistant","created":1795734368,"content":[{"type":"error","kind":"authentication","message":"Ran into this error: Authentication error: Authentication failed for http://127.0.0.1:28763/v1/chat/completions. Status: 401 Unauthorized. Response: Incorrect API key provided.\\n\\nPlease retry if you think this is a transient or recoverable error."}],"metadata":{"userVisible":true,"agentVisible":false}}}',
  '{"type":"error","error":"Ran into this error: Authentication error: Authentication failed for http://127.0.0.1:28763/v1/chat/completions. Status: 401 Unauthorized. Response: Incorrect API key provided.\\n\\nPlease retry if you think this is a transient or recoverable error."}',
  "Error: Ran into this error: Authentication error: Authentication failed for http://127.0.0.1:28763/v1/chat/completions. Status: 401 Unauthorized. Response: Incorrect API key provided.",
  "",
  "Please retry if you think this is a transient or recoverable error.",
);
const NO_CONNECTION = lines(
  gooseSays(
    "Network error: Could not connect to 127.0.0.1:28799 — check your network connection and try again.\n\nPlease resend your message to try again.",
  ),
  ZERO,
);
const COMPACTION_FAILED = lines(
  gooseSays(
    "Ran into this error trying to compact: Failed to compact: the base prompt (system prompt, tool schemas, and conversation) exceeds the model's effective context window, and there are no tool responses to remove.\n\nPlease try again or create a new session",
  ),
  ZERO,
);

const INPUT: PrepareInput = {
  model: "openai/gpt-4.1",
  instruction: `Write "hello" to /app/hello.txt; don't use $(quotes) or 'shell' tricks.\n`,
  env: { PATH: "/usr/bin:/bin", HOME: "/root", OPENAI_API_KEY: "sk-secret-value" },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 120,
};

describe("gooseProvider", () => {
  it.each([
    ["anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"],
    ["openai/gpt-5", "openai", "gpt-5"],
    ["google/gemini-2.5-pro", "google", "gemini-2.5-pro"],
    ["openrouter/anthropic/claude-sonnet-4-5", "openrouter", "anthropic/claude-sonnet-4-5"],
    ["claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"],
    ["gpt-4.1", "openai", "gpt-4.1"],
    ["o3", "openai", "o3"],
    ["gemini-2.5-flash", "google", "gemini-2.5-flash"],
  ])("splits %s into provider %s and model %s", (name, provider, model) => {
    expect(gooseProvider(name)).toEqual({ provider, model });
  });

  it.each(["mock-model", "/gpt-5", "openai/", ""])(
    "rejects %j: no provider prefix and no known family",
    (name) => {
      const err = thrownBy(AgentSetupError, () => gooseProvider(name));
      expect(err.message).toBe(
        `goose needs a model as provider/model (e.g. goose:anthropic/claude-sonnet-4-5 or goose:openai/gpt-5); got "${name}"`,
      );
    },
  );
});

describe("goose.prepare", () => {
  it("runs goose headless with the instruction in a file, provider and model in env", () => {
    const plan = goose.prepare(INPUT);
    expect(plan.argv).toEqual([
      "/rli/agent/node_modules/@aaif/goose-binary-linux-x64/bin/goose",
      "run",
      "--no-session",
      "-i",
      "/root/.rli/goose-instruction.md",
      "--output-format",
      "stream-json",
    ]);
    expect(plan.files).toEqual([
      { path: "/root/.rli/goose-instruction.md", content: INPUT.instruction },
    ]);
    expect(plan.stdin).toBeUndefined();
    expect(plan.env).toEqual({
      GOOSE_PROVIDER: "openai",
      GOOSE_MODEL: "gpt-4.1",
      GOOSE_MODE: "auto",
      GOOSE_DISABLE_KEYRING: "true",
      GOOSE_DISABLE_SESSION_NAMING: "true",
      XDG_CONFIG_HOME: "/root/.config",
      XDG_CACHE_HOME: "/root/.cache",
      XDG_DATA_HOME: "/logs/agent/goose/data",
      XDG_STATE_HOME: "/logs/agent/goose/state",
    });
  });

  it("never puts a key into its env or files (the key stays in the agent's environment)", () => {
    const plan = goose.prepare(INPUT);
    expect(JSON.stringify(plan)).not.toContain("sk-secret-value");
  });

  it("fails before running when the provider's key is missing, naming it", () => {
    const err = thrownBy(AgentSetupError, () =>
      goose.prepare({
        ...INPUT,
        model: "anthropic/claude-sonnet-4-5",
        env: { OPENAI_API_KEY: "x" },
      }),
    );
    expect(err.message).toBe(
      "goose:anthropic/claude-sonnet-4-5 uses the anthropic provider, which needs ANTHROPIC_API_KEY: export it or pass --secrets ANTHROPIC_API_KEY=NAME",
    );
  });

  it("leaves the keys of other providers to the user (--env-vars / --secrets)", () => {
    const plan = goose.prepare({
      ...INPUT,
      model: "openrouter/anthropic/claude-sonnet-4-5",
      env: {},
    });
    expect(plan.env).toMatchObject({
      GOOSE_PROVIDER: "openrouter",
      GOOSE_MODEL: "anthropic/claude-sonnet-4-5",
    });
  });

  it("passes the provider hosts through for gateways", () => {
    expect(goose.passEnv).toEqual([
      "ANTHROPIC_HOST",
      "OPENAI_HOST",
      "OPENAI_BASE_PATH",
      "GOOGLE_HOST",
    ]);
  });
});

describe("gooseUsage", () => {
  it("reads the complete event, taking cache reads and writes out of goose's input count", () => {
    expect(gooseUsage(OK)).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: 0.0016635,
      cost_source: "reported",
    });
  });

  it("has no cost when goose does not know the model's price", () => {
    const noCost = OK.replace(',"cost_usd":0.0016635', "");
    expect(gooseUsage(noCost)).toMatchObject({ cost_usd: null, cost_source: "unknown" });
  });

  it("is unknown when goose was stopped before its complete event", () => {
    expect(gooseUsage(lines(TOOL_CALL, TOOL_RESULT))).toEqual({
      input_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
      output_tokens: null,
      cost_usd: null,
      cost_source: "unknown",
    });
    expect(gooseUsage("")).toMatchObject({ input_tokens: null, cost_source: "unknown" });
  });

  it("is unknown when the model replied but goose counted zero tokens (no usage from the provider)", () => {
    expect(gooseUsage(lines(TOOL_CALL, TOOL_RESULT, DONE, ZERO))).toMatchObject({
      input_tokens: null,
      output_tokens: null,
    });
  });

  it("is zero when no model call succeeded (every request failed)", () => {
    expect(gooseUsage(RATE_LIMITED)).toEqual({
      input_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: null,
      cost_source: "unknown",
    });
  });
});

describe("gooseFailure", () => {
  it("is null for a run that ended with the model's answer", () => {
    expect(gooseFailure(OK)).toBeNull();
  });

  it("is null when the model itself wrote goose's error wording", () => {
    const said = DONE.replace("Done.", "Ran into this error: none, all good.");
    expect(gooseFailure(lines(TOOL_CALL, TOOL_RESULT, said, COMPLETE))).toBeNull();
  });

  it("is null when goose recovered after an error (a model reply came last)", () => {
    expect(gooseFailure(lines(gooseSays("Network error: x"), DONE, COMPLETE))).toBeNull();
  });

  it.each([
    [
      "a rate limit (exit 0)",
      RATE_LIMITED,
      "ApiRateLimitError",
      "Ran into this error: Rate limit exceeded: Rate limit reached for requests.",
    ],
    [
      "an authentication error event (exit 1)",
      AUTH_ERROR,
      "ApiAuthenticationError",
      "Ran into this error: Authentication error: Authentication failed for http://127.0.0.1:28763/v1/chat/completions. Status: 401 Unauthorized. Response: Incorrect API key provided.",
    ],
    [
      "no connection (exit 0)",
      NO_CONNECTION,
      "NetworkConnectionError",
      "Network error: Could not connect to 127.0.0.1:28799 — check your network connection and try again.",
    ],
    [
      "a failed compaction (exit 0)",
      COMPACTION_FAILED,
      "ContextWindowExceededError",
      "Ran into this error trying to compact: Failed to compact: the base prompt (system prompt, tool schemas, and conversation) exceeds the model's effective context window, and there are no tool responses to remove.",
    ],
  ])("classifies %s", (_what, transcript, type, message) => {
    expect(gooseFailure(transcript)).toEqual({ type, message });
  });

  it("keeps an error it cannot classify as AgentReportedError", () => {
    expect(gooseFailure(lines(gooseSays("Ran into this error: something odd"), ZERO))).toEqual({
      type: "AgentReportedError",
      message: "Ran into this error: something odd",
    });
  });
});

describe("installedAgent(goose).run", () => {
  async function runWith(transcript: string, exitCode: number) {
    const task = await loadTask(join(FIXTURES, "agent-task"), "fixtures/agent-task");
    const sandbox = fakeSandbox(transcript, exitCode);
    const outcome = await installedAgent(goose).run({
      agent: { name: "goose", model: "openai/gpt-4.1" },
      task,
      sandbox,
      env: { OPENAI_API_KEY: "k" },
      timeoutMs: 10_000,
      graceMs: 1000,
      signal: new AbortController().signal,
    });
    return { outcome, sandbox, task };
  }

  it("reports the error goose printed before exiting 0", async () => {
    const { outcome, sandbox, task } = await runWith(RATE_LIMITED, 0);
    expect(outcome).toEqual({
      exitCode: 0,
      timedOut: false,
      cancelled: false,
      failure: {
        type: "ApiRateLimitError",
        message: "Ran into this error: Rate limit exceeded: Rate limit reached for requests.",
      },
    });
    expect(sandbox.files.get("/root/.rli/goose-instruction.md")).toBe(task.instruction);
    expect(sandbox.execs).toHaveLength(1);
    expect(sandbox.execs[0]?.stdoutPath).toBe("/logs/agent/goose.txt");
    expect(sandbox.execs[0]?.env).toMatchObject({ HOME: "/root", OPENAI_API_KEY: "k" });
  });

  it("reports no failure for a run that succeeded", async () => {
    const { outcome } = await runWith(OK, 0);
    expect(outcome).toEqual({ exitCode: 0, timedOut: false, cancelled: false });
  });
});
