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

// The real codex CLI (@openai/codex, installed into the agent cache on first use) in a bubblewrap
// sandbox, against the scripted OpenAI Responses server.

const KEY = "sk-rli-codex-dummy-6f1c2e";

let server: ModelServer | null = null;
let run: AgentRun | null = null;

afterEach(async () => {
  await server?.close();
  await run?.cleanup();
  server = null;
  run = null;
});

describe("codex against the fake OpenAI Responses server", () => {
  it("runs the shell tool, passes, and reports exactly the usage the server reported", async () => {
    server = await startModelServer();
    run = await runAgentTrial("codex:openai/gpt-5", {
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("passed");
    expect(t.score).toBe(1);

    // Two model turns: the shell call, then the answer after its result. The prefix was dropped.
    expect(server.requests.map((r) => [r.method, r.path, r.model, r.decision])).toEqual([
      ["POST", "/v1/responses", "gpt-5", "tool_call"],
      ["POST", "/v1/responses", "gpt-5", "text"],
    ]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([KEY]);

    // codex sums each response's usage; the server reports input_tokens = uncached + cache writes +
    // cache reads (OpenAI's total), cached_tokens and cache_write_tokens; the adapter subtracts both.
    expect(t.usage).toEqual({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: server.reported.cacheWrite,
      output_tokens: server.reported.output,
      cost_usd: null,
      cost_source: "unknown",
    });
    expect(server.reported.input).toBeGreaterThan(0);

    // The transcript is codex's JSONL event stream: the command it ran and the completed turn.
    const transcript = (await run.log("agent/codex.txt")) ?? "";
    expect(transcript).toContain('"type":"command_execution"');
    expect(transcript).toContain("echo hello > /app/hello.txt");
    expect(transcript).toContain('"type":"turn.completed"');

    // CODEX_HOME is collected: the provider config (naming the key's variable, not its value) and the
    // session rollout.
    const config = (await run.log("agent/codex-home/config.toml")) ?? "";
    expect(config).toContain(`base_url = "${server.url}/v1"`);
    expect(config).toContain('env_key = "OPENAI_API_KEY"');
    const collected = await files(t.logs_dir);
    expect(
      collected.some((f) => /\/agent\/codex-home\/sessions\/.*\/rollout-.*\.jsonl$/.test(f)),
    ).toBe(true);

    // The key reached the server and is in no file of the job.
    const all = await files(jobDir(t.logs_dir));
    expect(all).toEqual(expect.arrayContaining(collected));
    for (const f of all) {
      const content = await readFile(f);
      expect(content.includes(KEY), `${f} holds the API key`).toBe(false);
    }
  });

  /** A server answering every request with 429 and a Retry-After of 1 s. */
  function rateLimited(): Promise<ModelServer> {
    return startModelServer({
      script: () => ({
        kind: "status",
        status: 429,
        retryAfterSec: 1,
        message: "Rate limit reached for gpt-5 on requests per min (RPM): Limit 3, Used 3.",
      }),
    });
  }

  it("ends as agent_error with ApiRateLimitError when every request gets 429", async () => {
    server = await rateLimited();
    run = await runAgentTrial("codex:gpt-5", { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiRateLimitError");
    expect(t.exception?.message).toMatch(
      /^the agent exited with 1: exceeded retry limit, last status: 429 Too Many Requests/,
    );
    // codex's defaults: the request and 5 retries, honouring Retry-After.
    expect(server.requests.map((r) => r.decision)).toEqual(Array(6).fill("status"));
    expect(t.usage).toEqual({
      input_tokens: null,
      cache_read_tokens: null,
      cache_write_tokens: null,
      output_tokens: null,
      cost_usd: null,
      cost_source: "unknown",
    });
  });

  it("takes codex settings for one run from RLI_CODEX_CONFIG (no retries: one 429 ends it)", async () => {
    server = await rateLimited();
    const noRetries =
      "model_providers.rli-openai.request_max_retries = 0\nmodel_providers.rli-openai.stream_max_retries = 0";
    run = await runAgentTrial("codex:gpt-5", { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url }, [
      "--env-vars",
      `RLI_CODEX_CONFIG=${noRetries}`,
    ]);
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiRateLimitError");
    expect(t.exception?.message).toMatch(/429 Too Many Requests/);
    expect(server.requests.map((r) => r.decision)).toEqual(["status"]);
    const config = (await run.log("agent/codex-home/config.toml")) ?? "";
    expect(config).toContain("request_max_retries = 0");
  });

  it("ends as agent_timeout when the server hangs, leaving no codex process", async () => {
    // A model name only this run uses, to find its codex process by command line.
    const model = `rli-hang-${process.pid}-${Date.now().toString(36)}`;
    server = await startModelServer({ script: () => ({ kind: "hang" }) });
    const url = server.url;
    const { result, seen } = await watchingProcess(`codex exec .*${model}`, () =>
      runAgentTrial(`codex:${model}`, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: url }, [
        "--timeout",
        "8",
      ]),
    );
    run = result;
    const t = trialOf(run);
    expect(t.status).toBe("agent_timeout");
    expect(server.requests.map((r) => r.decision)).toContain("hang");
    expect(seen).toBe(true);
    expect(pgrep(`codex exec .*${model}`)).toEqual([]);
    expect(t.usage.input_tokens).toBeNull();
  });

  it("ends as agent_error with ApiAuthenticationError on 401, with its reason", async () => {
    server = await startModelServer({
      script: () => ({
        kind: "status",
        status: 401,
        message: "Incorrect API key provided: sk-rli-co***2e.",
      }),
    });
    // codex's default retries (5, with backoff): it still gives up within seconds.
    run = await runAgentTrial("codex:gpt-5", {
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiAuthenticationError");
    expect(t.exception?.message).toMatch(
      /^the agent exited with 1: unexpected status 401 Unauthorized: Incorrect API key provided/,
    );
    expect(server.requests.length).toBeGreaterThan(1);
  });

  it("refuses to start without OPENAI_API_KEY, in one line", async () => {
    server = await startModelServer();
    run = await runAgentTrial("codex:gpt-5", { OPENAI_BASE_URL: server.url });
    expectUsageError(run, /Missing API key: codex needs OPENAI_API_KEY/);
    expect(run.trial).toBeNull();
    expect(server.requests).toEqual([]);
  });
});
