import { describe, expect, it } from "vitest";
import { classifyAgentFailure } from "../../../src/agents/classify.js";

/** The class of a transcript ending in `lines`. */
const typeOf = (...lines: string[]): string | undefined =>
  classifyAgentFailure(lines.join("\n"))?.type;

describe("classifyAgentFailure", () => {
  // Lines as the agent CLIs print them (Claude Code, Codex, Gemini CLI, opencode, Node's own errors).
  it.each([
    [
      "ApiRateLimitError",
      "Claude Code",
      'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 50,000 input tokens per minute."}}',
    ],
    [
      "ApiRateLimitError",
      "Codex",
      "ERROR: exceeded retry limit, last status: 429 Too Many Requests",
    ],
    [
      "ApiRateLimitError",
      "Gemini CLI",
      '[API Error: {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]',
    ],
    [
      "ApiRateLimitError",
      "opencode",
      "AI_RetryError: Failed after 3 attempts. Last error: Rate limit exceeded",
    ],
    [
      "ApiOverloadedError",
      "Claude Code",
      'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    ],
    [
      "ApiAuthenticationError",
      "Claude Code",
      'API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
    ],
    ["ApiAuthenticationError", "an SDK", "Error: 401 Unauthorized"],
    ["ApiAuthenticationError", "Claude Code", "Invalid API key · Please run /login"],
    [
      "ApiAuthenticationError",
      "Codex",
      "ERROR: unexpected status 401 Unauthorized: Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.",
    ],
    [
      "ModelNotFoundError",
      "Claude Code",
      'API Error: 404 {"type":"error","error":{"type":"not_found_error","message":"model: claude-sonnet-9"}}',
    ],
    [
      "ModelNotFoundError",
      "the OpenAI API",
      "The model `gpt-9` does not exist or you do not have access to it.",
    ],
    ["ModelNotFoundError", "opencode", "Error: Unknown model: anthropic/claude-nope"],
    [
      "ContextWindowExceededError",
      "Claude Code",
      'API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215733 tokens > 200000 maximum"}}',
    ],
    [
      "ContextWindowExceededError",
      "the OpenAI API",
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens.",
    ],
    [
      "ApiInternalServerError",
      "Claude Code",
      'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
    ],
    ["ApiInternalServerError", "a gateway", "Error: 502 Bad Gateway"],
    ["ApiInternalServerError", "Codex", "ERROR: unexpected status 503 Service Unavailable"],
    ["NetworkConnectionError", "Node", "Error: connect ECONNREFUSED 127.0.0.1:9"],
    ["NetworkConnectionError", "Node's fetch", "TypeError: fetch failed"],
    ["NetworkConnectionError", "Node", "Error: getaddrinfo ENOTFOUND api.anthropic.com"],
    ["NetworkConnectionError", "Node", "Error: getaddrinfo EAI_AGAIN api.openai.com"],
    ["NetworkConnectionError", "Node", "Error: read ECONNRESET"],
    ["NetworkConnectionError", "Claude Code", "API Error: Connection error."],
    ["NetworkConnectionError", "curl", "curl: (6) Could not resolve host: api.openai.com"],
  ])("classifyAgentFailure reads %s from a line of %s (case %#)", (type, _source, line) => {
    expect(classifyAgentFailure(`starting agent\nworking on the task\n${line}\n`)).toEqual({
      type,
      message: line,
    });
  });

  it("classifyAgentFailure: the last matching line wins", () => {
    expect(
      typeOf(
        "Error: connect ECONNREFUSED 127.0.0.1:9",
        "retrying in 2s",
        'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
        "giving up",
      ),
    ).toBe("ApiRateLimitError");
    expect(
      typeOf(
        'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
        "Error: connect ECONNREFUSED 127.0.0.1:9",
      ),
    ).toBe("NetworkConnectionError");
  });

  it("classifyAgentFailure reports the matching line, not the lines after it", () => {
    const r = classifyAgentFailure(
      [
        "Error: connect ECONNREFUSED 127.0.0.1:9",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
        "",
      ].join("\n"),
    );
    expect(r).toEqual({
      type: "NetworkConnectionError",
      message: "Error: connect ECONNREFUSED 127.0.0.1:9",
    });
  });

  it("classifyAgentFailure: within one line the earlier class in the table wins", () => {
    // A rate limit answered with 503 by a gateway is still a rate limit.
    expect(typeOf("Error: 503 rate limit exceeded upstream")).toBe("ApiRateLimitError");
  });

  it("classifyAgentFailure trims the line and tolerates CRLF", () => {
    expect(classifyAgentFailure("ok\r\n   Error: 401 Unauthorized   \r\n\r\n")).toEqual({
      type: "ApiAuthenticationError",
      message: "Error: 401 Unauthorized",
    });
  });

  it("classifyAgentFailure is null when nothing recognisable was printed", () => {
    expect(classifyAgentFailure("")).toBeNull();
    expect(classifyAgentFailure("\n\n")).toBeNull();
    expect(
      classifyAgentFailure(
        [
          "Traceback (most recent call last):",
          '  File "/app/solve.py", line 3, in <module>',
          "ZeroDivisionError: division by zero",
        ].join("\n"),
      ),
    ).toBeNull();
    expect(classifyAgentFailure("Error: Reached max turns (30)")).toBeNull();
  });

  it("classifyAgentFailure shortens a long line to 300 characters", () => {
    const line = `API Error: 429 ${"x".repeat(500)}`;
    const r = classifyAgentFailure(line);
    expect(r?.type).toBe("ApiRateLimitError");
    expect(r?.message).toBe(`${line.slice(0, 297)}...`);
    expect(r?.message).toHaveLength(300);
  });

  it("classifyAgentFailure keeps a 300-character line whole", () => {
    const line = `Error: 401 Unauthorized ${"y".repeat(276)}`;
    expect(line).toHaveLength(300);
    expect(classifyAgentFailure(line)?.message).toBe(line);
  });

  // BUG: bare numbers are taken for HTTP statuses, wherever they occur. Claude Code's last stream-json
  // line (its `result`) holds token counts and durations, and Node stack frames end in line:column;
  // either can be 401, 429 or 500-504 and then hides the real reason (or invents one).
  it("classifyAgentFailure does not read a token count in a JSON result line as a status", () => {
    expect(
      classifyAgentFailure(
        '{"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":61234,"num_turns":31,"usage":{"input_tokens":12,"cache_creation_input_tokens":5021,"cache_read_input_tokens":42900,"output_tokens":503}}',
      ),
    ).toBeNull();
  });

  it("classifyAgentFailure does not read a stack frame's line:column as a status", () => {
    expect(
      typeOf(
        "Error: connect ECONNREFUSED 127.0.0.1:9",
        "    at file:///rli/agent/node_modules/@acme/agent/dist/cli.js:429:17",
      ),
    ).toBe("NetworkConnectionError");
  });
});
