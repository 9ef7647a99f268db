import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../fakes/model-server.js";
import { expectUsageError } from "../helpers/cli.js";
import { pgrep } from "../helpers/processes.js";
import {
  type AgentRun,
  files,
  jobDir,
  runAgentTrial,
  trialOf,
  watchingProcess,
} from "./harness.js";

// The real claude CLI (@anthropic-ai/claude-code, its native binary, installed into the agent cache on
// first use) in a bubblewrap sandbox, against the scripted Anthropic Messages server.

const KEY = "sk-ant-rli-claude-dummy-4b7e91";
/** The native binary as it runs in the sandbox (pgrep sees sandboxed processes too). */
const CLAUDE_PROCESS = "node_modules/@anthropic-ai/claude-code-linux-[a-z0-9-]+/claude --print";

let server: ModelServer | null = null;
let run: AgentRun | null = null;

afterEach(async () => {
  await server?.close();
  await run?.cleanup();
  server = null;
  run = null;
});

/** claude's list price for claude-sonnet-4-5, per million tokens. */
const SONNET_45 = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

describe("claude-code against the fake Anthropic Messages server", () => {
  it("runs its Bash tool, passes, and reports exactly the usage the server reported", async () => {
    server = await startModelServer();
    run = await runAgentTrial("claude-code:claude-sonnet-4-5", {
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("passed");
    expect(t.score).toBe(1);

    // Two model turns, both on the chosen model (no title or haiku side requests: non-essential traffic
    // is off): the Bash call, then the answer after its result.
    expect(server.requests.map((r) => [r.method, r.path, r.model, r.decision])).toEqual([
      ["POST", "/v1/messages", "claude-sonnet-4-5", "tool_call"],
      ["POST", "/v1/messages", "claude-sonnet-4-5", "text"],
    ]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([KEY]);

    // claude's own totals (modelUsage of its result line) count every request it made, which here is
    // every request the server answered; the cost is claude's, at its list price for the model.
    const r = server.reported;
    expect(t.usage).toEqual({
      input_tokens: r.input,
      cache_read_tokens: r.cacheRead,
      cache_write_tokens: r.cacheWrite,
      output_tokens: r.output,
      cost_usd: expect.any(Number),
      cost_source: "reported",
    });
    expect(r.input).toBeGreaterThan(0);
    const price =
      (r.input * SONNET_45.input +
        r.output * SONNET_45.output +
        r.cacheRead * SONNET_45.cacheRead +
        r.cacheWrite * SONNET_45.cacheWrite) /
      1e6;
    expect(t.usage.cost_usd).toBeCloseTo(price, 10);

    // The transcript is claude's stream-json: the Bash call it made and a successful result.
    const transcript = (await run.log("agent/claude-code.txt")) ?? "";
    expect(transcript).toContain('"name":"Bash","input":{"command":"echo hello > /app/hello.txt"');
    expect(transcript).toMatch(/"subtype":"success".*"type":"result"/);
    expect(transcript).toContain('"is_error":false');

    // The session JSONL lands under /logs/agent/sessions and is collected.
    const collected = await files(t.logs_dir);
    expect(collected.some((f) => /\/agent\/sessions\/projects\/-app\/[\w-]+\.jsonl$/.test(f))).toBe(
      true,
    );

    // The key reached the server and is in no file of the job.
    const all = await files(jobDir(t.logs_dir));
    expect(all).toEqual(expect.arrayContaining(collected));
    for (const f of all) {
      const content = await readFile(f);
      expect(content.includes(KEY), `${f} holds the API key`).toBe(false);
    }
  });

  it("authenticates with CLAUDE_CODE_OAUTH_TOKEN alone, as a bearer token", async () => {
    const token = "sk-ant-oat01-rli-claude-dummy-c3d2";
    server = await startModelServer();
    run = await runAgentTrial("claude-code:anthropic/claude-sonnet-4-5", {
      CLAUDE_CODE_OAUTH_TOKEN: token,
      ANTHROPIC_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("passed");
    // The anthropic/ prefix was dropped; the token went in Authorization, no x-api-key was sent.
    expect(server.requests.map((r) => r.model)).toEqual(["claude-sonnet-4-5", "claude-sonnet-4-5"]);
    for (const r of server.requests) {
      expect(r.headers.authorization).toBe("<redacted>");
      expect(r.headers).not.toHaveProperty("x-api-key");
    }
    expect([...server.credentials]).toEqual([token]);
    for (const f of await files(jobDir(t.logs_dir))) {
      expect((await readFile(f)).includes(token), `${f} holds the token`).toBe(false);
    }
  });

  it("ends as agent_error with ApiRateLimitError when every request gets 429", async () => {
    server = await startModelServer({
      script: () => ({
        kind: "status",
        status: 429,
        retryAfterSec: 1,
        message: "Number of request tokens has exceeded your per-minute rate limit",
      }),
    });
    // A 30 s deadline: the adapter gives claude 4 retries (worst-case backoff within 15 s) instead of
    // its default 10 (~3 min), so it gives up and reports the rate limit before the deadline.
    run = await runAgentTrial(
      "claude-code:claude-sonnet-4-5",
      { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url },
      ["--timeout", "30"],
    );
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiRateLimitError");
    expect(t.exception?.message).toMatch(
      /exited with 1: 429 rate_limit_error: API Error: Request rejected \(429\)/,
    );
    expect(t.exception?.message).toMatch(/per-minute rate limit/);
    expect(server.requests.map((q) => q.decision)).toEqual(Array(5).fill("status"));
    // No request succeeded: claude counts zero tokens and zero cost.
    expect(t.usage).toEqual({
      input_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      cost_source: "reported",
    });
  });

  it("ends as agent_timeout when the server hangs, leaving no claude process", async () => {
    // A model name only this run uses, to find its claude process by command line.
    const model = `rli-hang-${process.pid}-${Date.now().toString(36)}`;
    server = await startModelServer({ script: () => ({ kind: "hang" }) });
    const url = server.url;
    const { result, seen } = await watchingProcess(`${CLAUDE_PROCESS} .*${model}`, () =>
      runAgentTrial(`claude-code:${model}`, { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: url }, [
        "--timeout",
        "8",
      ]),
    );
    run = result;
    const t = trialOf(run);
    expect(t.status).toBe("agent_timeout");
    expect(t.exception?.type).toBe("AgentTimeoutError");
    expect(server.requests.map((q) => [q.model, q.decision])).toContainEqual([model, "hang"]);
    expect(seen).toBe(true);
    expect(pgrep(`${CLAUDE_PROCESS} .*${model}`)).toEqual([]);
    // Killed before any reply: nothing was counted.
    expect(t.usage.input_tokens).toBeNull();
    expect(t.usage.cost_source).toBe("unknown");
  });

  it("ends as agent_error with ApiAuthenticationError on 401, with its reason", async () => {
    server = await startModelServer({
      script: () => ({ kind: "status", status: 401, message: "invalid x-api-key" }),
    });
    run = await runAgentTrial(
      "claude-code:claude-sonnet-4-5",
      { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url },
      ["--timeout", "30"],
    );
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiAuthenticationError");
    expect(t.exception?.message).toMatch(
      /exited with 1: 401 authentication_error: Invalid API key/,
    );
    expect(server.requests.length).toBeGreaterThan(1);
  });

  it("refuses to start without ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN, in one line", async () => {
    server = await startModelServer();
    run = await runAgentTrial("claude-code:claude-sonnet-4-5", { ANTHROPIC_BASE_URL: server.url });
    expectUsageError(
      run,
      /Missing API key: claude-code needs ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN/,
    );
    expect(run.trial).toBeNull();
    expect(server.requests).toEqual([]);
  });
});
