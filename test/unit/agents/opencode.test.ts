import { describe, expect, it } from "vitest";
import {
  OPENCODE_LOGS,
  opencode,
  opencodeBaseUrl,
  opencodeConfig,
  opencodeExitFailure,
  opencodeFailure,
  opencodeModel,
  parseOpencodeUsage,
} from "../../../src/agents/opencode.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { UNKNOWN_USAGE } from "../../../src/core/constants.js";
import { thrownBy } from "../../helpers/errors.js";

const INPUT = {
  model: "anthropic/claude-sonnet-4-5",
  instruction: 'Create /app/hello.txt containing "hello".\n--help $HOME `x`',
  env: {
    PATH: "/usr/bin:/bin",
    HOME: "/root",
    ANTHROPIC_API_KEY: "sk-ant-unit-secret-1234",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:18090",
  },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 600,
};

// Lines of a real `opencode run --format json` transcript (1.18.33 against the fake Anthropic server),
// with the --print-logs warnings opencode writes to the same file.
const STEP_1 =
  '{"type":"step_finish","timestamp":1795734848181,"sessionID":"ses_1","part":{"id":"prt_a","reason":"tool-calls","messageID":"msg_1","sessionID":"ses_1","type":"step-finish","tokens":{"total":165,"input":120,"output":30,"reasoning":0,"cache":{"write":5,"read":10}},"cost":0.00083175}}';
const STEP_2 =
  '{"type":"step_finish","timestamp":1795734848416,"sessionID":"ses_1","part":{"id":"prt_b","reason":"stop","messageID":"msg_2","sessionID":"ses_1","type":"step-finish","tokens":{"total":165,"input":120,"output":30,"reasoning":0,"cache":{"write":5,"read":10}},"cost":0.00083175}}';
const TRANSCRIPT = [
  '{"type":"step_start","timestamp":1795734847749,"sessionID":"ses_1","part":{"id":"prt_s","messageID":"msg_1","sessionID":"ses_1","type":"step-start"}}',
  '{"type":"tool_use","timestamp":1795734848181,"sessionID":"ses_1","part":{"type":"tool","tool":"bash","callID":"toolu_1","state":{"status":"completed","input":{"command":"echo hello > /app/hello.txt"},"output":"","metadata":{"exit":0}}}}',
  STEP_1,
  'timestamp=2026-11-26T23:06:45.175Z level=WARN run=faaa82b2 message="background dependency install failed" dir=/root/.config/opencode',
  '{"type":"text","timestamp":1795734848416,"sessionID":"ses_1","part":{"id":"prt_t","type":"text","text":"Done."}}',
  STEP_2,
  "",
].join("\n");

const ERROR_429 =
  '{"type":"error","timestamp":1795734357028,"sessionID":"ses_1","error":{"name":"APIError","data":{"message":"Rate limited by fake","statusCode":429,"isRetryable":true,"responseHeaders":{"retry-after":"1"},"responseBody":"{\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"rate_limit_error\\",\\"message\\":\\"Rate limited by fake\\"}}","metadata":{"url":"http://127.0.0.1:18432/v1/messages"}}}}';
const ERROR_401 =
  '{"type":"error","timestamp":1795734364464,"sessionID":"ses_1","error":{"name":"APIError","data":{"message":"invalid x-api-key","statusCode":401,"isRetryable":false}}}';

describe("opencodeModel", () => {
  it("splits provider/model at the first slash", () => {
    expect(opencodeModel("anthropic/claude-sonnet-4-5")).toEqual({
      provider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    expect(opencodeModel("openrouter/anthropic/claude-sonnet-4-5")).toEqual({
      provider: "openrouter",
      model: "anthropic/claude-sonnet-4-5",
    });
  });

  it("rejects a model without a provider, with the form it needs", () => {
    for (const bad of ["claude-sonnet-4-5", "/claude", "anthropic/", "my provider/x", ""]) {
      expect(thrownBy(AgentSetupError, () => opencodeModel(bad)).message).toBe(
        `opencode needs a model as provider/model (e.g. opencode:anthropic/claude-sonnet-4-5); got "${bad}"`,
      );
    }
  });
});

describe("opencodeBaseUrl", () => {
  it("adds the API version path to a bare origin or a gateway prefix", () => {
    expect(opencodeBaseUrl("ANTHROPIC_BASE_URL", "http://127.0.0.1:18090", "/v1")).toBe(
      "http://127.0.0.1:18090/v1",
    );
    expect(opencodeBaseUrl("ANTHROPIC_BASE_URL", "https://gw.example.com/anthropic/", "/v1")).toBe(
      "https://gw.example.com/anthropic/v1",
    );
    expect(opencodeBaseUrl("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9", "/v1beta")).toBe(
      "http://127.0.0.1:9/v1beta",
    );
  });

  it("keeps a URL that already ends in a version path", () => {
    expect(opencodeBaseUrl("OPENAI_BASE_URL", "https://api.openai.com/v1/", "/v1")).toBe(
      "https://api.openai.com/v1",
    );
    expect(opencodeBaseUrl("GOOGLE_GEMINI_BASE_URL", "http://h/v1beta", "/v1beta")).toBe(
      "http://h/v1beta",
    );
  });

  it("rejects what is not an http(s) URL, naming the variable", () => {
    expect(
      thrownBy(AgentSetupError, () => opencodeBaseUrl("X_URL", "not a url", "/v1")).message,
    ).toBe("X_URL is not a URL: not a url");
    expect(
      thrownBy(AgentSetupError, () => opencodeBaseUrl("X_URL", "ftp://h/", "/v1")).message,
    ).toBe("X_URL must be http(s): ftp://h/");
  });
});

describe("opencodeConfig", () => {
  it("registers the model and the provider's base URL, allows every permission, and holds no key", () => {
    const text = opencodeConfig("anthropic/claude-sonnet-4-5", INPUT.env);
    expect(JSON.parse(text)).toEqual({
      $schema: "https://opencode.ai/config.json",
      provider: {
        anthropic: {
          options: { baseURL: "http://127.0.0.1:18090/v1" },
          models: { "claude-sonnet-4-5": {} },
        },
      },
      permission: "allow",
      share: "disabled",
      autoupdate: false,
    });
    expect(text).not.toContain("sk-ant-unit-secret-1234");
  });

  it("names GOOGLE_API_KEY by reference for google, whose SDK reads another variable", () => {
    const env = {
      GOOGLE_API_KEY: "AIza-unit-secret",
      GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9",
    };
    const text = opencodeConfig("google/gemini-2.5-pro", env);
    expect(JSON.parse(text).provider).toEqual({
      google: {
        options: { baseURL: "http://127.0.0.1:9/v1beta", apiKey: "{env:GOOGLE_API_KEY}" },
        models: { "gemini-2.5-pro": {} },
      },
    });
    expect(text).not.toContain("AIza-unit-secret");
    // Unset: no reference, so a key given another way (GOOGLE_GENERATIVE_AI_API_KEY) still works.
    expect(JSON.parse(opencodeConfig("google/gemini-2.5-pro", {})).provider).toEqual({
      google: { models: { "gemini-2.5-pro": {} } },
    });
  });

  it("sets no base URL when its variable is unset or the provider has none", () => {
    expect(JSON.parse(opencodeConfig("openai/gpt-5", { OPENAI_BASE_URL: " " })).provider).toEqual({
      openai: { models: { "gpt-5": {} } },
    });
    const other = opencodeConfig("openrouter/anthropic/claude-sonnet-4-5", INPUT.env);
    expect(JSON.parse(other).provider).toEqual({
      openrouter: { models: { "anthropic/claude-sonnet-4-5": {} } },
    });
  });

  it("merges a user's OPENCODE_CONFIG_CONTENT over its own", () => {
    const user = JSON.stringify({
      provider: { anthropic: { options: { timeout: 60000 } } },
      permission: { bash: "allow", webfetch: "deny" },
    });
    const config = JSON.parse(
      opencodeConfig("anthropic/claude-sonnet-4-5", {
        ...INPUT.env,
        OPENCODE_CONFIG_CONTENT: user,
      }),
    );
    expect(config.provider.anthropic).toEqual({
      options: { baseURL: "http://127.0.0.1:18090/v1", timeout: 60000 },
      models: { "claude-sonnet-4-5": {} },
    });
    expect(config.permission).toEqual({ bash: "allow", webfetch: "deny" });
  });

  it("rejects a user's OPENCODE_CONFIG_CONTENT that is not a JSON object", () => {
    const bad = (v: string) =>
      thrownBy(AgentSetupError, () => opencodeConfig("anthropic/x", { OPENCODE_CONFIG_CONTENT: v }))
        .message;
    expect(bad("{nope")).toMatch(/^OPENCODE_CONFIG_CONTENT is not valid JSON: /);
    expect(bad("[1]")).toBe("OPENCODE_CONFIG_CONTENT must be a JSON object");
  });
});

describe("opencode.prepare", () => {
  it("runs the native binary with the instruction on stdin, never in argv", () => {
    const plan = opencode.prepare(INPUT);
    expect(plan.argv).toEqual([
      "/rli/agent/node_modules/opencode-ai/bin/opencode.exe",
      "run",
      "--format",
      "json",
      "--model",
      "anthropic/claude-sonnet-4-5",
      "--dir",
      "/app",
      "--title",
      "rli trial",
      "--auto",
      "--thinking",
      "--print-logs",
      "--log-level",
      "WARN",
    ]);
    expect(plan.stdin).toBe(INPUT.instruction);
    expect(plan.files ?? []).toEqual([]);
  });

  it("configures opencode by environment: config, no downloads, its data under /logs/agent", () => {
    const env = opencode.prepare(INPUT).env ?? {};
    expect(env).toEqual({
      OPENCODE_CONFIG_CONTENT: opencodeConfig(INPUT.model, INPUT.env),
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      XDG_DATA_HOME: `${OPENCODE_LOGS}/data`,
      XDG_STATE_HOME: `${OPENCODE_LOGS}/state`,
      XDG_CONFIG_HOME: "/root/.config",
      XDG_CACHE_HOME: "/root/.cache",
    });
    expect(OPENCODE_LOGS.startsWith("/logs/agent/")).toBe(true);
    expect(JSON.stringify(env)).not.toContain("sk-ant-unit-secret-1234");
  });

  it("needs a model in provider/model form", () => {
    expect(
      thrownBy(AgentSetupError, () => opencode.prepare({ ...INPUT, model: null })).message,
    ).toBe("opencode needs a model: opencode:<provider>/<model>");
    thrownBy(AgentSetupError, () => opencode.prepare({ ...INPUT, model: "claude-sonnet-4-5" }));
  });

  it("takes keys from the runner per Runloop (none required) and passes the base URLs", () => {
    expect(opencode.keys).toEqual({
      names: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"],
      requiresAny: false,
    });
    expect(opencode.passEnv).toEqual([
      "ANTHROPIC_BASE_URL",
      "OPENAI_BASE_URL",
      "GOOGLE_GEMINI_BASE_URL",
    ]);
    expect(opencode.package).toEqual({ name: "opencode-ai", version: "1.18.33" });
  });
});

describe("parseOpencodeUsage", () => {
  it("sums the step_finish events, skipping log lines", () => {
    const usage = parseOpencodeUsage(TRANSCRIPT);
    expect(usage).toEqual({
      input_tokens: 240,
      cache_read_tokens: 20,
      cache_write_tokens: 10,
      output_tokens: 60,
      cost_usd: expect.closeTo(0.0016635, 12),
      cost_source: "reported",
    });
  });

  it("counts a step printed twice once, by its part id", () => {
    expect(parseOpencodeUsage(`${STEP_1}\n${STEP_1}\n${STEP_2}`).input_tokens).toBe(240);
  });

  it("adds reasoning tokens to the output (opencode reports them apart)", () => {
    const step = STEP_1.replace('"output":30,"reasoning":0', '"output":30,"reasoning":70');
    expect(parseOpencodeUsage(step).output_tokens).toBe(100);
  });

  it("reports cost unknown, not 0, when opencode had no price for the model", () => {
    const free = STEP_1.replace('"cost":0.00083175', '"cost":0');
    expect(parseOpencodeUsage(free)).toEqual({
      input_tokens: 120,
      cache_read_tokens: 10,
      cache_write_tokens: 5,
      output_tokens: 30,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("keeps a count unknown when a step lacks it", () => {
    const partial = STEP_2.replace('"cache":{"write":5,"read":10}', '"cache":{"read":10}');
    const usage = parseOpencodeUsage(`${STEP_1}\n${partial}`);
    expect(usage.cache_write_tokens).toBeNull();
    expect(usage.cache_read_tokens).toBe(20);
  });

  it("is unknown without a finished step (a timeout before the first reply, an error)", () => {
    expect(parseOpencodeUsage("")).toEqual(UNKNOWN_USAGE);
    expect(parseOpencodeUsage(`${ERROR_429}\n`)).toEqual(UNKNOWN_USAGE);
    expect(parseOpencodeUsage(STEP_1.slice(0, 80))).toEqual(UNKNOWN_USAGE);
  });

  it("reads the transcript through the sandbox reader", async () => {
    const usage = await opencode.parseUsage({
      read: async (path) => (path === "/logs/agent/opencode.txt" ? TRANSCRIPT : null),
    });
    expect(usage.output_tokens).toBe(60);
  });
});

describe("opencodeFailure", () => {
  it("is null for a run without an error event", () => {
    expect(opencodeFailure(TRANSCRIPT)).toBeNull();
  });

  it("classifies an API error event by its status and message", () => {
    expect(opencodeFailure(`${STEP_1}\n${ERROR_429}\n`)).toEqual({
      type: "ApiRateLimitError",
      message: "APIError (HTTP 429): Rate limited by fake",
    });
    expect(opencodeFailure(ERROR_401)).toEqual({
      type: "ApiAuthenticationError",
      message: "APIError (HTTP 401): invalid x-api-key",
    });
  });

  it("names other errors by opencode's error name", () => {
    const overflow =
      '{"type":"error","error":{"name":"ContextOverflowError","data":{"message":"prompt is too long: 300000 tokens > 200000 maximum"}}}';
    expect(opencodeFailure(overflow)?.type).toBe("ContextWindowExceededError");
    const unknown =
      '{"type":"error","error":{"name":"UnknownError","data":{"message":"Unexpected server error. Check server logs for details.","ref":"err_1"}}}';
    expect(opencodeFailure(unknown)).toEqual({
      type: "AgentReportedError",
      message: "UnknownError: Unexpected server error. Check server logs for details.",
    });
  });
});

describe("opencodeExitFailure", () => {
  it("takes the error event's cause when it names one", () => {
    const log =
      'timestamp=2026-11-26T23:06:56.738Z level=ERROR run=8979bb12 message=process error="invalid x-api-key"';
    expect(opencodeExitFailure(`${log}\n${ERROR_429}\n`)).toEqual({
      type: "ApiRateLimitError",
      message: "APIError (HTTP 429): Rate limited by fake",
    });
  });

  it("falls back to opencode's ERROR log lines when the event says only 'Unexpected server error'", () => {
    const log =
      'timestamp=2026-11-26T23:07:01.443Z level=ERROR run=d382a914 message=failed ref=err_e9dada1e error="ProviderModelNotFoundError: Model not found: anthropic/claude-nope."';
    const unknown =
      '{"type":"error","error":{"name":"UnknownError","data":{"message":"Unexpected server error. Check server logs for details.","ref":"err_e9dada1e"}}}';
    expect(opencodeExitFailure(`${log}\n${unknown}\n`)).toEqual({
      type: "ModelNotFoundError",
      message: log,
    });
    expect(opencodeExitFailure(`${unknown}\n`)?.type).toBe("AgentReportedError");
  });

  it("is the generic classification, or null, without an error event", () => {
    expect(opencodeExitFailure("Error: connect ECONNREFUSED 127.0.0.1:9\n")?.type).toBe(
      "NetworkConnectionError",
    );
    expect(opencodeExitFailure("Segmentation fault\n")).toBeNull();
  });

  it("is what opencode's adapter uses for a non-zero exit and for an error after exit 0", () => {
    expect(opencode.classifyFailure).toBe(opencodeExitFailure);
    expect(opencode.reportedFailure).toBe(opencodeFailure);
  });
});
