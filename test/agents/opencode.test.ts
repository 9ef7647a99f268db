import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_USAGE,
  type ModelServer,
  type ReplyUsage,
  runCommandScript,
  type Script,
  startModelServer,
} from "../fakes/model-server.js";
import {
  AGENT_TASK,
  type AgentRun,
  filesContaining,
  jobDir,
  MODEL_POSTS,
  processesWithEnv,
  runAgentTrial,
  trialOf,
} from "./harness.js";

// Dummy keys, unique enough that finding one in a file means the adapter wrote it there.
const ANTHROPIC_KEY = "sk-ant-rli-opencode-7d41c0a9";
const OPENAI_KEY = "sk-rli-opencode-openai-e29b5f13";
const GOOGLE_KEY = "AIza-rli-opencode-google-4f7a2c81";

/** The default script, also keeping the text of each request's last user message. */
function recording(seen: string[]): Script {
  const script = runCommandScript("echo hello > /app/hello.txt");
  return (req) => {
    seen.push(req.lastUserText);
    return script(req);
  };
}

describe("opencode (real CLI against the scripted model server)", () => {
  let server: ModelServer | null = null;
  let run: AgentRun | null = null;

  afterEach(async () => {
    await server?.close();
    await run?.cleanup();
    server = null;
    run = null;
  });

  it("anthropic provider: the bash tool writes the file, the trial passes, usage is exactly what the server reported", async () => {
    const seen: string[] = [];
    server = await startModelServer({ script: recording(seen), usage: DEFAULT_USAGE });
    run = await runAgentTrial("opencode:anthropic/claude-sonnet-4-5", {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: server.url,
    });
    const trial = trialOf(run);
    expect(trial.exception).toBeNull();
    expect(trial.status).toBe("passed");
    expect(trial.score).toBe(1);

    // Two model calls, both to the trial's model: the bash call, then the answer. --title turns off
    // opencode's title request (claude-haiku-4-5, whose usage opencode never reports), so every call
    // the server answered is a step of the session.
    const posts = MODEL_POSTS(server, "/v1/messages");
    expect(posts.map((r) => [r.model, r.decision])).toEqual([
      ["claude-sonnet-4-5", "tool_call"],
      ["claude-sonnet-4-5", "text"],
    ]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([ANTHROPIC_KEY]);
    // The instruction arrives as written (on stdin), not wrapped in quotes as an argv message would be.
    const instruction = await readFile(join(AGENT_TASK, "instruction.md"), "utf8");
    expect(seen[0]?.trim()).toBe(instruction.trim());

    expect(trial.usage).toMatchObject({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: server.reported.cacheWrite,
      output_tokens: server.reported.output,
      cost_source: "reported",
    });
    // opencode prices the tokens from its catalogue (claude-sonnet-4-5: $3 in, $15 out, $0.30 cache
    // read, $3.75 cache write per million).
    const { input, output, cacheRead, cacheWrite } = server.reported;
    expect(trial.usage.cost_usd).toBeCloseTo(
      (input * 3 + output * 15 + cacheRead * 0.3 + cacheWrite * 3.75) / 1e6,
      12,
    );

    const transcript = (await run.log("agent/opencode.txt")) ?? "";
    expect(transcript.match(/"type":"step_finish"/g)).toHaveLength(2);
    expect(transcript).toContain('"tool":"bash"');
    // opencode's own database (sessions, messages, totals) is collected with the trial's logs.
    expect(
      (await stat(join(trial.logs_dir, "agent/opencode/data/opencode/opencode.db"))).size,
    ).toBeGreaterThan(0);
    expect(await filesContaining(jobDir(trial.logs_dir), ANTHROPIC_KEY)).toEqual([]);
  });

  it("openai provider: OPENAI_BASE_URL reaches the Responses API and usage equals the server's", async () => {
    server = await startModelServer({ usage: DEFAULT_USAGE });
    run = await runAgentTrial("opencode:openai/gpt-5", {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${server.url}/v1`,
    });
    const trial = trialOf(run);
    expect(trial.exception).toBeNull();
    expect(trial.status).toBe("passed");
    expect(trial.score).toBe(1);
    const posts = MODEL_POSTS(server, "/v1/responses");
    expect(posts.map((r) => [r.model, r.decision])).toEqual([
      ["gpt-5", "tool_call"],
      ["gpt-5", "text"],
    ]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([OPENAI_KEY]);
    expect(trial.usage).toMatchObject({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: server.reported.cacheWrite,
      output_tokens: server.reported.output,
      cost_source: "reported",
    });
    // gpt-5 in opencode's catalogue: $1.25 in, $10 out, $0.125 cached read per million, no write price.
    const { input, output, cacheRead } = server.reported;
    expect(trial.usage.cost_usd).toBeCloseTo(
      (input * 1.25 + output * 10 + cacheRead * 0.125) / 1e6,
      12,
    );
    expect(await filesContaining(jobDir(trial.logs_dir), OPENAI_KEY)).toEqual([]);
  });

  it("google provider: GOOGLE_API_KEY and GOOGLE_GEMINI_BASE_URL reach the Gemini API; thoughts count as output", async () => {
    // Gemini has no cache-write count: this server reports none, so every field has a wire counterpart.
    const usage: ReplyUsage = { input: 120, output: 30, cacheRead: 10, cacheWrite: 0 };
    server = await startModelServer({ usage });
    run = await runAgentTrial("opencode:google/gemini-2.5-pro", {
      GOOGLE_API_KEY: GOOGLE_KEY,
      GOOGLE_GEMINI_BASE_URL: server.url,
    });
    const trial = trialOf(run);
    expect(trial.exception).toBeNull();
    expect(trial.status).toBe("passed");
    expect(trial.score).toBe(1);
    const posts = MODEL_POSTS(server, "/v1beta/models/gemini-2.5-pro:streamGenerateContent");
    expect(posts.map((r) => r.decision)).toEqual(["tool_call", "text"]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([GOOGLE_KEY]);
    // The server splits each reply's 30 output tokens into 20 text and 10 thoughts; opencode reports
    // the thoughts as `reasoning`, apart from `output`.
    expect(trial.usage).toMatchObject({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: 0,
      output_tokens: server.reported.output,
      cost_source: "reported",
    });
    // gemini-2.5-pro in opencode's catalogue: $1.25 in, $10 out (thoughts too), $0.125 cached read.
    const { input, output, cacheRead } = server.reported;
    expect(trial.usage.cost_usd).toBeCloseTo(
      (input * 1.25 + output * 10 + cacheRead * 0.125) / 1e6,
      12,
    );
    expect(await filesContaining(jobDir(trial.logs_dir), GOOGLE_KEY)).toEqual([]);
  });

  it("429 on every request: opencode retries, exits 1, and the trial is an agent_error ApiRateLimitError", async () => {
    const script: Script = () => ({
      kind: "status",
      status: 429,
      retryAfterSec: 1,
      message: "Number of request tokens has exceeded your per-minute rate limit",
    });
    server = await startModelServer({ script });
    // The task's agent timeout is 120 s: a retry loop without end would make this an agent_timeout.
    run = await runAgentTrial("opencode:anthropic/claude-sonnet-4-5", {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: server.url,
    });
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_error");
    expect(trial.exception?.type).toBe("ApiRateLimitError");
    // The reason is opencode's `error` event, not the generic patterns over its raw JSON line.
    expect(trial.exception?.message).toBe(
      "the agent exited with 1: APIError (HTTP 429): Number of request tokens has exceeded your per-minute rate limit",
    );
    // opencode retried (honouring Retry-After) before giving up; no reply carried usage.
    expect(MODEL_POSTS(server, "/v1/messages").length).toBeGreaterThan(1);
    expect(server.replies).toBe(0);
    expect(trial.usage).toEqual({
      input_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
      output_tokens: null,
      cost_usd: null,
      cost_source: "unknown",
    });
    const transcript = (await run.log("agent/opencode.txt")) ?? "";
    expect(transcript).toContain('"type":"error"');
  });

  it("401: opencode exits 1 at once and the trial is an agent_error ApiAuthenticationError with the reason", async () => {
    const script: Script = () => ({
      kind: "status",
      status: 401,
      message: "invalid x-api-key",
    });
    server = await startModelServer({ script });
    run = await runAgentTrial("opencode:anthropic/claude-sonnet-4-5", {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: server.url,
    });
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_error");
    expect(trial.exception?.type).toBe("ApiAuthenticationError");
    expect(trial.exception?.message).toBe(
      "the agent exited with 1: APIError (HTTP 401): invalid x-api-key",
    );
    // Not retried as a 429 is (six requests, with backoff): one request. Once, on a machine at load
    // average 10+, opencode sent a second one (cause not found; not reproduced in isolation), so the
    // bound is two; the requests are printed if it is ever exceeded.
    const posts = MODEL_POSTS(server, "/v1/messages");
    const seen = JSON.stringify(
      server.requests.map((r) => [r.method, r.path, r.model, r.decision]),
    );
    expect(posts.length, seen).toBeGreaterThanOrEqual(1);
    expect(posts.length, seen).toBeLessThanOrEqual(2);
  });

  it("a model server that never answers: agent_timeout after --timeout, and no opencode process is left", async () => {
    server = await startModelServer({ script: () => ({ kind: "hang" }) });
    const started = Date.now();
    // Not 8 s: opencode spends about 7 CPU seconds before its first model request, which on a loaded
    // 2-CPU machine took 13 s; the deadline must fall after that request for this to test the hang.
    run = await runAgentTrial(
      "opencode:anthropic/claude-sonnet-4-5",
      { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: server.url },
      ["--timeout", "30"],
    );
    const elapsed = Date.now() - started;
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_timeout");
    expect(trial.exception?.type).toBe("AgentTimeoutError");
    expect(trial.exception?.message).toBe("the agent did not finish within 30 s");
    expect(elapsed).toBeGreaterThanOrEqual(30_000);
    // opencode got as far as the model request before the deadline.
    expect(MODEL_POSTS(server, "/v1/messages").length).toBeGreaterThanOrEqual(1);
    // Killed before any step finished: usage unknown, not 0.
    expect(trial.usage.input_tokens).toBeNull();
    expect(trial.usage.output_tokens).toBeNull();
    expect(await processesWithEnv(`ANTHROPIC_BASE_URL=${server.url}`)).toEqual([]);
  });
});
