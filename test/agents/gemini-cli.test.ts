import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type ModelServer, runCommandScript, startModelServer } from "../fakes/model-server.js";
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

// The real gemini CLI (@google/gemini-cli, installed into the agent cache on first use) in a bubblewrap
// sandbox, against the scripted Gemini API server.

const KEY = "AIza-rli-gemini-dummy-3b9d71";
const STREAM = "/v1beta/models/gemini-2.5-pro:streamGenerateContent";
/** gemini's command line inside the sandbox (the package is mounted at /rli/agent). */
const GEMINI_JS = "/rli/agent/node_modules/@google/gemini-cli/bundle/gemini.js";

// Gemini has no cache writes: the fake reports prompt (cached included), cached, candidates and thoughts.
const USAGE = { input: 1200, output: 90, cacheRead: 300, cacheWrite: 0 };

let server: ModelServer | null = null;
let run: AgentRun | null = null;

afterEach(async () => {
  await server?.close();
  await run?.cleanup();
  server = null;
  run = null;
});

describe("gemini-cli against the fake Gemini API server", () => {
  it("runs the shell tool, passes, and reports exactly the usage the server reported", async () => {
    server = await startModelServer({ usage: USAGE });
    run = await runAgentTrial("gemini-cli:google/gemini-2.5-pro", {
      GEMINI_API_KEY: KEY,
      GOOGLE_GEMINI_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("passed");
    expect(t.score).toBe(1);

    // Two model turns and no side calls (an explicit model: no router): the shell call, then the answer
    // after its result. The provider prefix was dropped.
    expect(server.requests.map((r) => [r.method, r.path, r.model, r.decision])).toEqual([
      ["POST", STREAM, "gemini-2.5-pro", "tool_call"],
      ["POST", STREAM, "gemini-2.5-pro", "text"],
    ]);
    expect(server.replies).toBe(2);
    expect([...server.credentials]).toEqual([KEY]);

    // gemini keeps the last usageMetadata of each stream and sums the responses: prompt tokens include
    // the cached ones (the adapter subtracts them), output = candidates + thoughts.
    expect(t.usage).toEqual({
      input_tokens: server.reported.input,
      cache_read_tokens: server.reported.cacheRead,
      cache_write_tokens: null,
      output_tokens: server.reported.output,
      cost_usd: null,
      cost_source: "unknown",
    });
    expect(server.reported.input).toBe(2 * USAGE.input);

    // The transcript is gemini's stream-json: the shell call and its result, then the result event.
    const transcript = (await run.log("agent/gemini-cli.txt")) ?? "";
    expect(transcript).toContain('"tool_name":"run_shell_command"');
    expect(transcript).toContain("echo hello > /app/hello.txt");
    expect(transcript).toMatch(/"type":"result","timestamp":"[^"]+","status":"success"/);

    // GEMINI_CLI_HOME is collected: the settings (auth type, no key) and the session file.
    const settings = JSON.parse((await run.log("agent/gemini/.gemini/settings.json")) ?? "{}");
    expect(settings.security.auth.selectedType).toBe("gemini-api-key");
    expect(settings.general.maxAttempts).toBe(4);
    const collected = await files(t.logs_dir);
    expect(
      collected.some((f) =>
        /\/agent\/gemini\/\.gemini\/tmp\/app\/chats\/session-.*\.jsonl$/.test(f),
      ),
    ).toBe(true);

    // The key reached the server and is in no file of the job.
    const all = await files(jobDir(t.logs_dir));
    expect(all).toEqual(expect.arrayContaining(collected));
    for (const f of all) {
      const content = await readFile(f);
      expect(content.includes(KEY), `${f} holds the API key`).toBe(false);
    }
  });

  it("takes GOOGLE_API_KEY when GEMINI_API_KEY is not set", async () => {
    server = await startModelServer({ usage: USAGE });
    run = await runAgentTrial("gemini-cli:gemini-2.5-pro", {
      GOOGLE_API_KEY: KEY,
      GOOGLE_GEMINI_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("passed");
    expect([...server.credentials]).toEqual([KEY]);
  });

  it("ends as agent_error with ApiRateLimitError when every request gets 429, before its deadline", async () => {
    server = await startModelServer({
      script: () => ({
        kind: "status",
        status: 429,
        message: "Resource has been exhausted (e.g. check quota).",
      }),
    });
    // With 40 s, the adapter lets gemini make 3 attempts per request (backoff about 5 s, then 10 s), so
    // it gives up and says why well before the deadline.
    run = await runAgentTrial(
      "gemini-cli:gemini-2.5-pro",
      { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: server.url },
      ["--timeout", "40"],
    );
    const t = trialOf(run);
    expect(t.status, JSON.stringify(t.exception)).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiRateLimitError");
    expect(t.exception?.message).toMatch(
      /^the agent exited with \d+: 429 RESOURCE_EXHAUSTED: \[API Error: Resource has been exhausted/,
    );
    expect(server.requests.map((r) => r.decision)).toEqual(["status", "status", "status"]);
    // gemini's own stats: no response succeeded, so nothing was spent.
    expect(t.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, cache_read_tokens: 0 });
  });

  it("ends as agent_timeout when the server hangs, leaving no gemini process", async () => {
    // A model name only this run uses, to find its gemini process by command line.
    const model = `rli-hang-${process.pid}-${Date.now().toString(36)}`;
    server = await startModelServer({ script: () => ({ kind: "hang" }) });
    const pattern = `${GEMINI_JS} .*--model ${model}`;
    const url = server.url;
    const { result, seen } = await watchingProcess(pattern, () =>
      runAgentTrial(
        `gemini-cli:${model}`,
        { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: url },
        // gemini takes 2-4 s to start (7 s seen on a loaded machine) before its first request.
        ["--timeout", "12"],
      ),
    );
    run = result;
    const t = trialOf(run);
    expect(t.status).toBe("agent_timeout");
    expect(t.exception?.type).toBe("AgentTimeoutError");
    expect(server.requests.map((r) => [r.model, r.decision])).toEqual([[model, "hang"]]);
    expect(seen).toBe(true);
    expect(pgrep(pattern)).toEqual([]);
    // No response finished and gemini printed no stats: unknown, not 0.
    expect(t.usage.input_tokens).toBeNull();
    expect(t.usage.output_tokens).toBeNull();
  });

  it("reports the usage of the turns finished before the deadline, from gemini's session file", async () => {
    const first = runCommandScript("echo hello > /app/hello.txt");
    server = await startModelServer({
      usage: USAGE,
      script: (req) => (req.toolResults === 0 ? first(req) : { kind: "hang" }),
    });
    run = await runAgentTrial(
      "gemini-cli:gemini-2.5-pro",
      { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: server.url },
      ["--timeout", "20"],
    );
    const t = trialOf(run);
    expect(t.status).toBe("agent_timeout");
    expect(server.requests.map((r) => r.decision)).toEqual(["tool_call", "hang"]);
    // Killed before its result event: the one finished turn is in the session file.
    const transcript = (await run.log("agent/gemini-cli.txt")) ?? "";
    expect(transcript).not.toContain('"type":"result"');
    expect(t.usage).toEqual({
      input_tokens: USAGE.input,
      cache_read_tokens: USAGE.cacheRead,
      cache_write_tokens: null,
      output_tokens: USAGE.output,
      cost_usd: null,
      cost_source: "unknown",
    });
    expect(server.reported).toMatchObject({
      input: USAGE.input,
      cacheRead: USAGE.cacheRead,
      output: USAGE.output,
    });
  });

  it("ends as agent_error with ApiAuthenticationError on 401, with its reason", async () => {
    server = await startModelServer({
      script: () => ({
        kind: "status",
        status: 401,
        message: "API key not valid. Please pass a valid API key.",
      }),
    });
    run = await runAgentTrial("gemini-cli:gemini-2.5-pro", {
      GEMINI_API_KEY: KEY,
      GOOGLE_GEMINI_BASE_URL: server.url,
    });
    const t = trialOf(run);
    expect(t.status).toBe("agent_error");
    expect(t.exception?.type).toBe("ApiAuthenticationError");
    expect(t.exception?.message).toMatch(
      /^the agent exited with \d+: .*"code":401,"message":"API key not valid\. Please pass a valid API key\."/,
    );
    // Not retried: a 401 is final.
    expect(server.requests.map((r) => r.decision)).toEqual(["status"]);
  });

  it("refuses to start without GEMINI_API_KEY or GOOGLE_API_KEY, in one line", async () => {
    server = await startModelServer();
    run = await runAgentTrial("gemini-cli:gemini-2.5-pro", { GOOGLE_GEMINI_BASE_URL: server.url });
    expectUsageError(run, /Missing API key: gemini-cli needs GEMINI_API_KEY or GOOGLE_API_KEY/);
    expect(run.trial).toBeNull();
    expect(server.requests).toEqual([]);
  });
});
