import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AgentFailure } from "../../../src/agents/classify.js";
import { installDir } from "../../../src/agents/install.js";
import {
  AGENT_ROOT,
  type AgentDefinition,
  type AgentRunPlan,
  installedAgent,
  type PrepareInput,
} from "../../../src/agents/installed.js";
import { type AgentContext, AgentSetupError } from "../../../src/agents/types.js";
import type { ExecRequest, ExecResult, Sandbox } from "../../../src/backends/types.js";
import type { NetworkMode, Task } from "../../../src/benchmarks/task.js";
import { UNKNOWN_USAGE } from "../../../src/core/constants.js";
import type { Usage } from "../../../src/core/schemas.js";
import { rejectedWith } from "../../helpers/errors.js";
import { exists } from "../../helpers/files.js";
import { tempDir } from "../../helpers/tasks.js";

type Call =
  | { op: "upload"; hostDir: string; sandboxPath: string }
  | { op: "writeFile"; path: string; content: string }
  | { op: "exec"; req: ExecRequest }
  | { op: "readFile"; path: string };

/** A Sandbox that records every call; exec answers `result`, readFile answers from `files`. */
class FakeSandbox implements Sandbox {
  readonly workdir = "/app";
  readonly calls: Call[] = [];
  result: ExecResult = ok(0);
  files: Record<string, string> = {};

  async exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push({ op: "exec", req });
    return this.result;
  }
  async upload(hostDir: string, sandboxPath: string): Promise<void> {
    this.calls.push({ op: "upload", hostDir, sandboxPath });
  }
  async writeFile(path: string, content: string): Promise<void> {
    this.calls.push({ op: "writeFile", path, content });
  }
  async clearDir(): Promise<void> {}
  async readFile(path: string): Promise<string | null> {
    this.calls.push({ op: "readFile", path });
    return this.files[path] ?? null;
  }
  async teardown(): Promise<void> {}

  get ops(): string[] {
    return this.calls.map((c) => c.op);
  }
  /** The one exec request made. */
  get exec1(): ExecRequest {
    const execs = this.calls.filter((c) => c.op === "exec");
    expect(execs).toHaveLength(1);
    return (execs[0] as { req: ExecRequest }).req;
  }
}

function ok(exitCode: number | null, over: Partial<ExecResult> = {}): ExecResult {
  return { exitCode, signal: null, timedOut: false, cancelled: false, durationMs: 5, ...over };
}

function makeTask(network: NetworkMode = "public"): Task {
  return {
    id: "b/t",
    name: "t",
    dir: "/tmp/b/t",
    instruction: "Create hello.txt",
    environment: { kind: "host", workdir: "/app" },
    agent: { timeoutSec: 60, network },
    verifier: { timeoutSec: 600, network: "no-network", env: {} },
    solution: { dir: null, env: {} },
    buildTimeoutSec: 600,
    testsDir: "/tmp/b/t/tests",
    metadata: {},
    digest: `sha256:${"0".repeat(64)}`,
  };
}

const TRANSCRIPT = "/logs/agent/fake.txt";
const PKG = { name: "@acme/fake-agent", version: "3.1.4" };
const USAGE: Usage = {
  input_tokens: 100,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  output_tokens: 20,
  cost_usd: null,
  cost_source: "unknown",
};

/** A definition whose prepare records its input and returns `plan`. */
function makeDef(
  plan: AgentRunPlan,
  over: Partial<AgentDefinition> = {},
): { def: AgentDefinition; inputs: PrepareInput[] } {
  const inputs: PrepareInput[] = [];
  const def: AgentDefinition = {
    name: "fake",
    package: PKG,
    requiresModel: true,
    keys: { names: ["FAKE_KEY"], requiresAny: true },
    transcript: TRANSCRIPT,
    prepare(input) {
      inputs.push(input);
      return plan;
    },
    async parseUsage(reader) {
      return (await reader.read(TRANSCRIPT)) === "usage: 100/20" ? USAGE : UNKNOWN_USAGE;
    },
    ...over,
  };
  return { def, inputs };
}

const PLAN: AgentRunPlan = {
  argv: ["/rli/agent/node_modules/.bin/fake", "--model", "m"],
  env: { FAKE_CONFIG: "/root/.fake/config.json", PATH: "/rli/agent/bin:/usr/bin" },
  stdin: "Create hello.txt",
  files: [
    { path: "/root/.fake/config.json", content: '{"a":1}' },
    { path: "/app/.fake-rules", content: "be brief" },
  ],
};

let root: string;
let cleanup: () => Promise<void>;
let cache: string;
let sandbox: FakeSandbox;
const ac = new AbortController();

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir("rli-installed-"));
  cache = join(root, "cache");
  sandbox = new FakeSandbox();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await cleanup();
});

function makeCtx(over: Partial<AgentContext> = {}): AgentContext {
  return {
    agent: { name: "fake", model: "m" },
    task: makeTask(),
    sandbox,
    env: { PATH: "/usr/bin:/bin", HOME: "/root", LANG: "C.UTF-8", FAKE_KEY: "secret" },
    timeoutMs: 60_000,
    graceMs: 6000,
    signal: ac.signal,
    agentCacheDir: cache,
    ...over,
  };
}

/** A finished install of `pkg` in `cacheDir`, as an earlier job left it: no npm runs. */
async function preinstall(cacheDir: string, pkg = PKG): Promise<string> {
  const dir = installDir(cacheDir, pkg);
  await mkdir(join(dir, "node_modules", pkg.name), { recursive: true });
  await writeFile(join(dir, "node_modules", pkg.name, "package.json"), JSON.stringify(pkg));
  await writeFile(join(dir, ".rli-installed.json"), JSON.stringify(pkg));
  return dir;
}

describe("installedAgent: identity", () => {
  it("installedAgent carries the definition's name and requiresModel", () => {
    const { def } = makeDef(PLAN, { requiresModel: false });
    const a = installedAgent(def);
    expect([a.name, a.requiresModel]).toEqual(["fake", false]);
  });
});

describe("installedAgent: setup", () => {
  it("setup uploads the cached install to /rli/agent", async () => {
    const dir = await preinstall(cache);
    await installedAgent(makeDef(PLAN).def).setup(makeCtx());
    expect(sandbox.calls).toEqual([{ op: "upload", hostDir: dir, sandboxPath: "/rli/agent" }]);
    expect(AGENT_ROOT).toBe("/rli/agent");
  });

  it("setup without ctx.agentCacheDir uses $RLI_AGENT_CACHE", async () => {
    const envCache = join(root, "env-cache");
    const dir = await preinstall(envCache);
    vi.stubEnv("RLI_AGENT_CACHE", envCache);
    const { agentCacheDir: _, ...ctx } = makeCtx();
    await installedAgent(makeDef(PLAN).def).setup(ctx);
    expect(sandbox.calls).toEqual([{ op: "upload", hostDir: dir, sandboxPath: "/rli/agent" }]);
  });

  it("setup of an agent without a package installs and uploads nothing", async () => {
    const { def } = makeDef(PLAN, { package: undefined });
    await installedAgent(def).setup(makeCtx({ agentCacheDir: join(root, "never") }));
    expect(sandbox.calls).toEqual([]);
    expect(await exists(join(root, "never"))).toBe(false);
  });

  it("setup fails with npm's reason and uploads nothing when the install fails", async () => {
    // The npm on PATH is a script that fails the way npm does for a missing package.
    const bin = join(root, "bin");
    await mkdir(bin);
    await writeFile(
      join(bin, "npm"),
      "#!/bin/sh\necho 'npm error code E404' >&2\necho 'npm error 404 Not Found - GET https://registry.npmjs.org/@acme%2ffake-agent - Not found' >&2\nexit 1\n",
    );
    await chmod(join(bin, "npm"), 0o755);
    vi.stubEnv("PATH", `${bin}:${process.env.PATH ?? ""}`);
    const err = await rejectedWith(
      AgentSetupError,
      installedAgent(makeDef(PLAN).def).setup(makeCtx()),
    );
    expect(err.message).toBe(
      "npm install @acme/fake-agent@3.1.4 exited with 1: 404 Not Found - GET https://registry.npmjs.org/@acme%2ffake-agent - Not found",
    );
    expect(sandbox.calls).toEqual([]);
  });
});

describe("installedAgent: run", () => {
  it("run prepares from the trial: model, instruction, env, /rli/agent, workdir, timeout in s", async () => {
    const { def, inputs } = makeDef(PLAN);
    const ctx = makeCtx({ timeoutMs: 90_400 });
    await installedAgent(def).run(ctx);
    expect(inputs).toEqual([
      {
        model: "m",
        instruction: "Create hello.txt",
        env: ctx.env,
        root: "/rli/agent",
        workdir: "/app",
        node: "/usr/bin/node",
        timeoutSec: 90,
      },
    ]);
  });

  it("run prepares with timeoutSec null when the agent has no deadline", async () => {
    const { def, inputs } = makeDef(PLAN);
    await installedAgent(def).run(makeCtx({ timeoutMs: null }));
    expect(inputs[0]?.timeoutSec).toBeNull();
    expect(sandbox.exec1.timeoutMs).toBeNull();
  });

  it("run writes the plan's files first, then execs the plan", async () => {
    await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(sandbox.ops).toEqual(["writeFile", "writeFile", "exec"]);
    expect(sandbox.calls.slice(0, 2)).toEqual([
      { op: "writeFile", path: "/root/.fake/config.json", content: '{"a":1}' },
      { op: "writeFile", path: "/app/.fake-rules", content: "be brief" },
    ]);
    expect(sandbox.exec1).toEqual({
      argv: ["/rli/agent/node_modules/.bin/fake", "--model", "m"],
      env: {
        HOME: "/root",
        LANG: "C.UTF-8",
        FAKE_KEY: "secret",
        FAKE_CONFIG: "/root/.fake/config.json",
        PATH: "/rli/agent/bin:/usr/bin",
      },
      timeoutMs: 60_000,
      graceMs: 6000,
      network: true,
      stdin: "Create hello.txt",
      stdoutPath: TRANSCRIPT,
      stderrPath: TRANSCRIPT,
      signal: ac.signal,
    });
  });

  it("run sets HOME=/root when the trial's env has no HOME, and the plan's env wins", async () => {
    const plan: AgentRunPlan = { argv: ["/usr/bin/fake"], env: { FAKE_KEY: "from-plan" } };
    await installedAgent(makeDef(plan).def).run(makeCtx({ env: { FAKE_KEY: "secret" } }));
    expect(sandbox.exec1.env).toEqual({ HOME: "/root", FAKE_KEY: "from-plan" });
  });

  it("run without stdin or files passes no stdin and writes nothing", async () => {
    await installedAgent(makeDef({ argv: ["/usr/bin/fake"] }).def).run(makeCtx());
    expect(sandbox.ops).toEqual(["exec"]);
    expect(sandbox.exec1).not.toHaveProperty("stdin");
  });

  it.each([
    ["public", true],
    ["allowlist", true],
    ["no-network", false],
  ] as const)("run of a %s task gives the agent network %s", async (mode, network) => {
    await installedAgent(makeDef(PLAN).def).run(makeCtx({ task: makeTask(mode) }));
    expect(sandbox.exec1.network).toBe(network);
  });

  it("run of a successful agent has no failure and does not read the transcript", async () => {
    sandbox.files[TRANSCRIPT] = "Error: 401 Unauthorized";
    const out = await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(out).toEqual({ exitCode: 0, timedOut: false, cancelled: false });
    expect(sandbox.ops).not.toContain("readFile");
  });

  it("run classifies a non-zero exit from the transcript's last error", async () => {
    sandbox.result = ok(1);
    sandbox.files[TRANSCRIPT] = [
      "Working...",
      "Error: connect ECONNREFUSED 127.0.0.1:9",
      'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
      "",
    ].join("\n");
    const out = await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(out).toEqual({
      exitCode: 1,
      timedOut: false,
      cancelled: false,
      failure: {
        type: "ApiRateLimitError",
        message:
          'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
      },
    });
  });

  it("run classifies only the transcript's last 16 KiB", async () => {
    sandbox.result = ok(2);
    sandbox.files[TRANSCRIPT] = `Error: 401 Unauthorized\n${"progress line\n".repeat(2000)}`;
    const out = await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(out).toEqual({ exitCode: 2, timedOut: false, cancelled: false });
  });

  it("run of a non-zero exit with nothing recognisable or no transcript leaves failure unset", async () => {
    sandbox.result = ok(3);
    sandbox.files[TRANSCRIPT] = "Traceback (most recent call last):\nValueError: bad\n";
    expect(await installedAgent(makeDef(PLAN).def).run(makeCtx())).toEqual({
      exitCode: 3,
      timedOut: false,
      cancelled: false,
    });
    sandbox.files = {};
    expect(await installedAgent(makeDef(PLAN).def).run(makeCtx())).toEqual({
      exitCode: 3,
      timedOut: false,
      cancelled: false,
    });
  });

  it("run classifies a run killed by a signal", async () => {
    sandbox.result = ok(null, { signal: "SIGSEGV" });
    sandbox.files[TRANSCRIPT] = "TypeError: fetch failed\n";
    const out = await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(out.failure).toEqual({
      type: "NetworkConnectionError",
      message: "TypeError: fetch failed",
    });
  });

  it.each([
    ["a timeout", ok(null, { signal: "SIGTERM", timedOut: true }), true, false],
    ["a cancel", ok(null, { signal: "SIGTERM", cancelled: true }), false, true],
    ["a timeout after exit 143", ok(143, { timedOut: true }), true, false],
  ])("run leaves failure unset after %s", async (_what, result, timedOut, cancelled) => {
    sandbox.result = result;
    sandbox.files[TRANSCRIPT] = "Error: 401 Unauthorized\n";
    const out = await installedAgent(makeDef(PLAN).def).run(makeCtx());
    expect(out).toEqual({ exitCode: result.exitCode, timedOut, cancelled });
    expect(sandbox.ops).not.toContain("readFile");
  });

  it("run prefers the definition's own classifier and falls back to the generic one", async () => {
    sandbox.result = ok(1);
    sandbox.files[TRANSCRIPT] = `${"x".repeat(20_000)}\nError: 401 Unauthorized\n`;
    const seen: number[] = [];
    const own = (failure: AgentFailure | null) =>
      makeDef(PLAN, {
        classifyFailure(t) {
          seen.push(t.length);
          return failure;
        },
      }).def;
    const mine = { type: "QuotaExceededError", message: "quota" };
    expect((await installedAgent(own(mine)).run(makeCtx())).failure).toEqual(mine);
    expect((await installedAgent(own(null)).run(makeCtx())).failure).toEqual({
      type: "ApiAuthenticationError",
      message: "Error: 401 Unauthorized",
    });
    // The classifier sees the transcript's tail, not all of it.
    expect(seen).toEqual([16_384, 16_384]);
  });

  it("run reports an error the agent printed before exiting 0 (reportedFailure)", async () => {
    sandbox.files[TRANSCRIPT] = '{"type":"error","error":"model not found"}\n';
    const reported = { type: "ModelNotFoundError", message: "model not found" };
    const { def } = makeDef(PLAN, {
      reportedFailure: (t) => (t.includes("error") ? reported : null),
    });
    expect(await installedAgent(def).run(makeCtx())).toEqual({
      exitCode: 0,
      timedOut: false,
      cancelled: false,
      failure: reported,
    });
    sandbox.files[TRANSCRIPT] = '{"type":"done"}\n';
    expect((await installedAgent(def).run(makeCtx())).failure).toBeUndefined();
  });
});

describe("installedAgent: usage", () => {
  it("usage delegates to the definition's parser over the sandbox's files", async () => {
    sandbox.files[TRANSCRIPT] = "usage: 100/20";
    expect(await installedAgent(makeDef(PLAN).def).usage(makeCtx())).toEqual(USAGE);
    expect(sandbox.calls).toEqual([{ op: "readFile", path: TRANSCRIPT }]);
  });

  it("usage is whatever the parser says when the transcript is missing", async () => {
    expect(await installedAgent(makeDef(PLAN).def).usage(makeCtx())).toEqual(UNKNOWN_USAGE);
  });
});
