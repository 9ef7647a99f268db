import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_USAGE,
  type ModelServer,
  type ReplyUsage,
  type Script,
  startModelServer,
} from "../fakes/model-server.js";
import {
  type AgentRun,
  filesContaining,
  jobDir,
  MODEL_POSTS,
  processesWithEnv,
  runAgentTrial,
  trialOf,
} from "./harness.js";

// Dummy keys, unique enough that finding one in a file means the adapter wrote it there.
const OPENAI_KEY = "sk-rli-goose-openai-5c1e9a7d";
const ANTHROPIC_KEY = "sk-ant-rli-goose-3b8f0d2e";

describe("goose (real CLI against the scripted model server)", () => {
  let server: ModelServer | null = null;
  let run: AgentRun | null = null;

  afterEach(async () => {
    await server?.close();
    await run?.cleanup();
    server = null;
    run = null;
  });

  it("openai provider: the shell tool writes the file, the trial passes, usage is what the server reported", async () => {
    // Chat Completions has no cache-write field (the fake counts such tokens as ordinary prompt tokens),
    // so this server reports none: then every field has a counterpart on the wire.
    const usage: ReplyUsage = { input: 120, output: 30, cacheRead: 10, cacheWrite: 0 };
    server = await startModelServer({ usage });
    run = await runAgentTrial("goose:openai/gpt-4.1", {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_HOST: server.url,
    });
    const trial = trialOf(run);
    expect(trial.exception).toBeNull();
    expect(trial.status).toBe("passed");
    expect(trial.score).toBe(1);

    // Two model turns (the shell call, then the answer); session naming is off, so no title request.
    const posts = MODEL_POSTS(server, "/v1/chat/completions");
    expect(posts.map((r) => r.decision)).toEqual(["tool_call", "text"]);
    expect(posts.every((r) => r.model === "gpt-4.1" && r.protocol === "openai-chat")).toBe(true);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([OPENAI_KEY]);

    // goose's `complete` event counts cached tokens in input_tokens; the adapter takes them out again.
    expect(trial.usage).toMatchObject({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: server.reported.cacheWrite,
      output_tokens: server.reported.output,
      cost_source: "reported",
    });
    // goose prices the tokens itself (gpt-4.1: $2 in, $0.50 cached, $8 out per million).
    const { input, cacheRead, output } = server.reported;
    expect(trial.usage.cost_usd).toBeCloseTo((input * 2 + cacheRead * 0.5 + output * 8) / 1e6, 12);

    const transcript = (await run.log("agent/goose.txt")) ?? "";
    expect(transcript).toContain('"type":"complete"');
    expect(await filesContaining(jobDir(trial.logs_dir), OPENAI_KEY)).toEqual([]);
  });

  it("anthropic provider: the trial passes and usage equals the server's, cache writes included", async () => {
    server = await startModelServer({ usage: DEFAULT_USAGE });
    run = await runAgentTrial("goose:anthropic/claude-sonnet-4-5", {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_HOST: server.url,
    });
    const trial = trialOf(run);
    expect(trial.exception).toBeNull();
    expect(trial.status).toBe("passed");
    expect(trial.score).toBe(1);
    const posts = MODEL_POSTS(server, "/v1/messages");
    expect(posts.map((r) => r.decision)).toEqual(["tool_call", "text"]);
    expect(posts.every((r) => r.model === "claude-sonnet-4-5")).toBe(true);
    expect([...server.credentials]).toEqual([ANTHROPIC_KEY]);
    expect(trial.usage).toMatchObject({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: server.reported.cacheWrite,
      output_tokens: server.reported.output,
      cost_source: "reported",
    });
    expect(trial.usage.cost_usd).toBeGreaterThan(0);
    expect(await filesContaining(jobDir(trial.logs_dir), ANTHROPIC_KEY)).toEqual([]);
  });

  it("429 on every request: goose retries, exits 0, and the trial is an agent_error ApiRateLimitError", async () => {
    const script: Script = () => ({
      kind: "status",
      status: 429,
      retryAfterSec: 1,
      message: "Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 3, Used 3.",
    });
    server = await startModelServer({ script });
    run = await runAgentTrial("goose:openai/gpt-4.1", {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_HOST: server.url,
    });
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_error");
    expect(trial.exception?.type).toBe("ApiRateLimitError");
    expect(trial.exception?.message).toMatch(/^the agent exited with 0 after an error: /);
    expect(trial.exception?.message).toContain("Rate limit reached for gpt-4.1");
    // goose gives up after a few attempts; no reply carried usage, and goose says so (zeros, no cost).
    expect(MODEL_POSTS(server, "/v1/chat/completions").length).toBeGreaterThan(1);
    expect(server.replies).toBe(0);
    expect(trial.usage).toEqual({
      input_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("401: goose exits 1 and the trial is an agent_error ApiAuthenticationError with the reason", async () => {
    const script: Script = () => ({
      kind: "status",
      status: 401,
      message: "Incorrect API key provided: sk-rli-g****9a7d.",
    });
    server = await startModelServer({ script });
    run = await runAgentTrial("goose:openai/gpt-4.1", {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_HOST: server.url,
    });
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_error");
    expect(trial.exception?.type).toBe("ApiAuthenticationError");
    expect(trial.exception?.message).toMatch(/^the agent exited with 1: /);
    expect(trial.exception?.message).toContain("401 Unauthorized");
    expect(MODEL_POSTS(server, "/v1/chat/completions")).toHaveLength(1);
  });

  it("a model server that never answers: agent_timeout after --timeout, and no goose process is left", async () => {
    server = await startModelServer({ script: () => ({ kind: "hang" }) });
    const started = Date.now();
    run = await runAgentTrial(
      "goose:openai/gpt-4.1",
      { OPENAI_API_KEY: OPENAI_KEY, OPENAI_HOST: server.url },
      ["--timeout", "8"],
    );
    const elapsed = Date.now() - started;
    const trial = trialOf(run);
    expect(trial.status).toBe("agent_timeout");
    expect(trial.exception?.type).toBe("AgentTimeoutError");
    expect(trial.exception?.message).toContain("8 s");
    expect(elapsed).toBeGreaterThanOrEqual(8_000);
    expect(MODEL_POSTS(server, "/v1/chat/completions").length).toBeGreaterThanOrEqual(1);
    // Killed before its `complete` event: usage unknown, not 0.
    expect(trial.usage.input_tokens).toBeNull();
    expect(trial.usage.output_tokens).toBeNull();
    expect(await processesWithEnv(`OPENAI_HOST=${server.url}`)).toEqual([]);
  });
});
