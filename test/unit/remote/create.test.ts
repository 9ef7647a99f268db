import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../src/core/errors.js";
import type { AgentRef } from "../../../src/core/schemas.js";
import {
  buildCreateBody,
  checkRemoteAgents,
  closestBenchmarks,
  editDistance,
  resolveBenchmarkId,
  resolveRemoteSecrets,
} from "../../../src/remote/create.js";
import { RunloopClient } from "../../../src/runloop/client.js";
import { RunloopHttp } from "../../../src/runloop/http.js";

const BASE = "https://runloop.test";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const client = () =>
  new RunloopClient(
    new RunloopHttp({ apiKey: "k-123456", baseUrl: BASE, sleep: async () => {}, maxRetries: 0 }),
  );
const agent = (name: string, model: string | null = "m"): AgentRef => ({ name, model });

describe("buildCreateBody", () => {
  const base = {
    name: undefined,
    target: { type: "benchmark" as const, benchmarkId: "bmd_1" },
    agents: [agent("claude-code", "claude-sonnet-4"), agent("codex", "gpt-5")],
    secrets: {
      "claude-code": { ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY" },
      codex: { OPENAI_API_KEY: "BMJ_OPENAI_API_KEY" },
    },
    envVars: {},
    timeoutSec: 7200,
    nAttempts: 1,
    nConcurrentTrials: 10,
    timeoutMultiplier: 1,
    metadata: {},
  };

  it("is Runloop's body: job_agent configs, the defaults, empty maps and an absent name omitted", () => {
    expect(buildCreateBody(base)).toEqual({
      spec: {
        type: "benchmark",
        benchmark_id: "bmd_1",
        agent_configs: [
          {
            name: "claude-code",
            type: "job_agent",
            model_name: "claude-sonnet-4",
            timeout_seconds: 7200,
            agent_environment: { secrets: { ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY" } },
          },
          {
            name: "codex",
            type: "job_agent",
            model_name: "gpt-5",
            timeout_seconds: 7200,
            agent_environment: { secrets: { OPENAI_API_KEY: "BMJ_OPENAI_API_KEY" } },
          },
        ],
        orchestrator_config: {
          n_attempts: 1,
          n_concurrent_trials: 10,
          timeout_multiplier: 1,
          quiet: false,
        },
      },
    });
  });

  it("each agent gets only its own secrets; env vars, name and metadata go where Runloop puts them", () => {
    const body = buildCreateBody({
      ...base,
      name: "nightly",
      target: { type: "scenarios", scenarioIds: ["scn_a", "scn_b"] },
      envVars: { DEBUG: "1" },
      metadata: { team: "evals" },
    });
    expect(body.name).toBe("nightly");
    expect(body.metadata).toEqual({ team: "evals" });
    const spec = body.spec as { type: string; scenario_ids: string[]; agent_configs: unknown[] };
    expect(spec.type).toBe("scenarios");
    expect(spec.scenario_ids).toEqual(["scn_a", "scn_b"]);
    expect(JSON.stringify(spec.agent_configs[0])).not.toContain("OPENAI");
    expect(spec.agent_configs[1]).toMatchObject({
      agent_environment: {
        environment_variables: { DEBUG: "1" },
        secrets: { OPENAI_API_KEY: "BMJ_OPENAI_API_KEY" },
      },
    });
  });

  it("an agent without secrets or env vars has no agent_environment at all", () => {
    const body = buildCreateBody({ ...base, secrets: {} });
    const spec = body.spec as unknown as { agent_configs: Record<string, unknown>[] };
    expect(spec.agent_configs[0]).not.toHaveProperty("agent_environment");
  });
});

describe("checkRemoteAgents", () => {
  it("accepts Runloop's five agents with a model", () => {
    expect(() =>
      checkRemoteAgents(
        ["claude-code", "codex", "opencode", "goose", "gemini-cli"].map((n) => agent(n)),
      ),
    ).not.toThrow();
  });
  it.each([
    [agent("oracle", null), /Unsupported agent for a server-side Runloop job: oracle/],
    [agent("claude-code", null), /No model specified for agent "claude-code"/],
  ])("refuses %j", (a, message) => {
    expect(() => checkRemoteAgents([a])).toThrow(UsageError);
    expect(() => checkRemoteAgents([a])).toThrow(message);
  });
});

describe("benchmark names", () => {
  const catalogue = [
    { id: "bmd_v", name: "SWE-bench Verified" },
    { id: "bmd_l", name: "SWE-bench Lite" },
    { id: "bmd_p", name: "SWE-Bench Pro" },
    { id: "bmd_t", name: "Terminal-Bench 2.0" },
  ];

  it("edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("closest names: substrings first, far names dropped, at most five", () => {
    expect(closestBenchmarks("swe-bench", catalogue).map((b) => b.id)).toEqual([
      "bmd_p",
      "bmd_l",
      "bmd_v",
    ]);
    expect(closestBenchmarks("Terminal-Bench 2.1", catalogue).map((b) => b.id)).toEqual(["bmd_t"]);
    expect(closestBenchmarks("zzzzzzzzzzzz", catalogue)).toEqual([]);
  });

  function serve(own: typeof catalogue, pub: typeof catalogue) {
    const searches: (string | null)[] = [];
    const filter = (list: typeof catalogue, url: URL) => {
      const q = url.searchParams.get("search");
      searches.push(q);
      return q === null ? list : list.filter((b) => b.name.toLowerCase().includes(q.toLowerCase()));
    };
    server.use(
      http.get(`${BASE}/v1/benchmarks`, ({ request }) =>
        HttpResponse.json({ benchmarks: filter(own, new URL(request.url)), has_more: false }),
      ),
      http.get(`${BASE}/v1/benchmarks/list_public`, ({ request }) =>
        HttpResponse.json({ benchmarks: filter(pub, new URL(request.url)), has_more: false }),
      ),
    );
    return searches;
  }

  it("a bmd_ id passes through without a call", async () => {
    serve([], []);
    await expect(resolveBenchmarkId(client(), "bmd_anything")).resolves.toBe("bmd_anything");
  });

  it("an exact name resolves; your own benchmark wins over a public one of the same name", async () => {
    const searches = serve([{ id: "bmd_mine", name: "SWE-bench Verified" }], catalogue);
    await expect(resolveBenchmarkId(client(), "SWE-bench Verified")).resolves.toBe("bmd_mine");
    expect(searches).toEqual(["SWE-bench Verified", "SWE-bench Verified"]);
  });

  it("no exact match: suggestions from the search", async () => {
    serve([], catalogue);
    await expect(resolveBenchmarkId(client(), "SWE-bench")).rejects.toThrow(
      /^No exact match for benchmark "SWE-bench"\. Did you mean: .*"SWE-bench Verified" \(bmd_v\)/,
    );
  });

  it("a typo the search cannot find still gets a suggestion by edit distance", async () => {
    serve([], catalogue);
    await expect(resolveBenchmarkId(client(), "Terminal-Bench 2.1")).rejects.toThrow(
      'No exact match for benchmark "Terminal-Bench 2.1". Did you mean: "Terminal-Bench 2.0" (bmd_t)',
    );
  });

  it("nothing close at all", async () => {
    serve([], catalogue);
    await expect(resolveBenchmarkId(client(), "qqqqqqqqqqqqqq")).rejects.toThrow(
      /^No benchmark found with name: qqqqqqqqqqqqqq/,
    );
  });
});

describe("resolveRemoteSecrets", () => {
  function secretsServer(existing: string[]) {
    const calls: string[] = [];
    const store = new Set(existing);
    server.use(
      http.get(`${BASE}/v1/secrets/:name`, ({ params }) => {
        calls.push(`GET ${params.name}`);
        return store.has(String(params.name))
          ? HttpResponse.json({ id: `sec_${params.name}`, name: params.name })
          : HttpResponse.json({ message: "not found" }, { status: 404 });
      }),
      http.post(`${BASE}/v1/secrets`, async ({ request }) => {
        const body = (await request.json()) as { name: string; value: string };
        calls.push(`CREATE ${body.name}=${body.value}`);
        store.add(body.name);
        return HttpResponse.json({ id: `sec_${body.name}`, name: body.name });
      }),
      http.post(`${BASE}/v1/secrets/:name`, async ({ params, request }) => {
        const body = (await request.json()) as { value: string };
        calls.push(`UPDATE ${params.name}=${body.value}`);
        return HttpResponse.json({ id: `sec_${params.name}`, name: params.name });
      }),
    );
    return calls;
  }

  it("creates BMJ_ secrets from the environment, updates existing ones, and maps each agent to its own", async () => {
    const calls = secretsServer(["BMJ_OPENAI_API_KEY"]);
    const log: string[] = [];
    const out = await resolveRemoteSecrets(
      client(),
      [agent("claude-code"), agent("codex")],
      { ANTHROPIC_API_KEY: "ak", OPENAI_API_KEY: "ok" },
      {},
      (l) => log.push(l),
    );
    expect(out).toEqual({
      "claude-code": { ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY" },
      codex: { OPENAI_API_KEY: "BMJ_OPENAI_API_KEY" },
    });
    expect(calls).toContain("CREATE BMJ_ANTHROPIC_API_KEY=ak");
    expect(calls).toContain("UPDATE BMJ_OPENAI_API_KEY=ok");
    expect(log).toContain("Creating secret BMJ_ANTHROPIC_API_KEY from ANTHROPIC_API_KEY env var");
    expect(log).toContain("Updating secret BMJ_OPENAI_API_KEY from OPENAI_API_KEY env var");
    // claude-code got its key, so its optional CLAUDE_CODE_OAUTH_TOKEN is not worth a warning.
    expect(log.join("\n")).not.toContain("CLAUDE_CODE_OAUTH_TOKEN");
    expect(log.join("\n")).not.toMatch(/\bak\b|\bok\b/);
  });

  it("an agent with none of its keys fails before any secret is written", async () => {
    const calls = secretsServer([]);
    await expect(
      resolveRemoteSecrets(
        client(),
        [agent("claude-code"), agent("codex")],
        { ANTHROPIC_API_KEY: "ak" },
        {},
        () => {},
      ),
    ).rejects.toThrow(
      "Agent codex requires at least one of: OPENAI_API_KEY. Create secrets (BMJ_OPENAI_API_KEY) or set environment variables.",
    );
    expect(calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("--secrets names must exist on Runloop and go to every agent", async () => {
    secretsServer(["TEAM_KEY", "BMJ_ANTHROPIC_API_KEY"]);
    const out = await resolveRemoteSecrets(
      client(),
      [agent("claude-code"), agent("opencode")],
      {},
      { EXTRA: "TEAM_KEY" },
      () => {},
    );
    expect(out["claude-code"]).toEqual({
      ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY",
      EXTRA: "TEAM_KEY",
    });
    expect(out.opencode).toEqual({ ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY", EXTRA: "TEAM_KEY" });
    await expect(
      resolveRemoteSecrets(client(), [agent("opencode")], {}, { EXTRA: "MISSING" }, () => {}),
    ).rejects.toThrow(/Secret MISSING \(for EXTRA\) does not exist on Runloop/);
  });

  it("an optional agent with nothing set is warned about, not refused", async () => {
    secretsServer([]);
    const log: string[] = [];
    const out = await resolveRemoteSecrets(client(), [agent("goose")], {}, {}, (l) => log.push(l));
    expect(out).toEqual({ goose: {} });
    expect(log).toContain(
      "Secret BMJ_OPENAI_API_KEY not found and OPENAI_API_KEY not set in environment",
    );
  });
});
