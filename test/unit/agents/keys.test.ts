import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAgentEnv } from "../../../src/agents/keys.js";
import { registerAgentConfig } from "../../../src/agents/registry.js";
import { UsageError } from "../../../src/core/errors.js";
import type { AgentRef } from "../../../src/core/schemas.js";
import { thrownBy } from "../../helpers/errors.js";
import { tempDir } from "../../helpers/tasks.js";

const ref = (name: string, model: string | null = null): AgentRef => ({ name, model });
const NONE: ReadonlySet<string> = new Set();

/** The one-line message resolveAgentEnv throws, asserting it is a UsageError. */
function missingOf(agents: AgentRef[], env: NodeJS.ProcessEnv, given = NONE): string {
  return thrownBy(UsageError, () => resolveAgentEnv(agents, env, given)).message;
}

const HINT = "Export it, or pass --secrets ENV_VAR=NAME to take it from another variable";

// Custom agents whose keys these tests choose (built-in key tables are Runloop's, tested below too).
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const t = await tempDir("rli-keys-");
  cleanup = t.cleanup;
  const file = join(t.dir, "agents.yaml");
  await writeFile(
    file,
    [
      "agents:",
      "  zebra:",
      '    command: ["/usr/bin/true"]',
      "    keys: [ZED_TOKEN, ALPHA_TOKEN, MID_TOKEN]",
      "    requires_key: true",
      "  optional:",
      '    command: ["/usr/bin/true"]',
      "    keys: [OPTIONAL_TOKEN]",
      "  constructor:",
      '    command: ["/usr/bin/true"]',
      "    keys: [CTOR_TOKEN]",
      "    requires_key: true",
      "",
    ].join("\n"),
  );
  await registerAgentConfig(file);
});
afterAll(async () => {
  await cleanup();
});

describe("resolveAgentEnv", () => {
  it("resolveAgentEnv gives each agent only its own keys and base URLs", () => {
    const host = {
      ANTHROPIC_API_KEY: "sk-ant",
      ANTHROPIC_BASE_URL: "http://gw/anthropic",
      OPENAI_API_KEY: "sk-oai",
      OPENAI_BASE_URL: "http://gw/openai",
      GEMINI_API_KEY: "g",
      HOME: "/home/u",
      PATH: "/usr/bin",
    };
    const plan = resolveAgentEnv([ref("claude-code", "m"), ref("codex", "m")], host, NONE);
    expect(plan.values).toEqual({
      "claude-code": { ANTHROPIC_API_KEY: "sk-ant", ANTHROPIC_BASE_URL: "http://gw/anthropic" },
      codex: { OPENAI_API_KEY: "sk-oai", OPENAI_BASE_URL: "http://gw/openai" },
    });
    expect(plan.names).toEqual({
      "claude-code": ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"],
      codex: ["OPENAI_API_KEY", "OPENAI_BASE_URL"],
    });
  });

  it("resolveAgentEnv takes every key an agent accepts, not only the first", () => {
    const plan = resolveAgentEnv(
      [ref("zebra")],
      { ZED_TOKEN: "z", ALPHA_TOKEN: "a", MID_TOKEN: "m" },
      NONE,
    );
    expect(plan.values).toEqual({ zebra: { ZED_TOKEN: "z", ALPHA_TOKEN: "a", MID_TOKEN: "m" } });
  });

  it("resolveAgentEnv records names sorted", () => {
    const plan = resolveAgentEnv(
      [ref("zebra"), ref("claude-code", "m")],
      {
        ZED_TOKEN: "z",
        ALPHA_TOKEN: "a",
        MID_TOKEN: "m",
        CLAUDE_CODE_OAUTH_TOKEN: "oauth",
        ANTHROPIC_BASE_URL: "http://gw",
      },
      NONE,
    );
    expect(plan.names).toEqual({
      zebra: ["ALPHA_TOKEN", "MID_TOKEN", "ZED_TOKEN"],
      "claude-code": ["ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN"],
    });
  });

  it("resolveAgentEnv lists an agent once however many models it runs", () => {
    const plan = resolveAgentEnv(
      [ref("codex", "gpt-5"), ref("codex", "gpt-5-mini")],
      { OPENAI_API_KEY: "k" },
      NONE,
    );
    expect(plan.values).toEqual({ codex: { OPENAI_API_KEY: "k" } });
    expect(missingOf([ref("codex", "a"), ref("codex", "b")], {})).toBe(
      `Missing API key: codex needs OPENAI_API_KEY. ${HINT}`,
    );
  });

  it("resolveAgentEnv counts a key given by --env-vars or --secrets as present and leaves it to them", () => {
    const plan = resolveAgentEnv(
      [ref("claude-code", "m"), ref("codex", "m")],
      { ANTHROPIC_API_KEY: "host-ant", OPENAI_BASE_URL: "http://gw" },
      new Set(["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]),
    );
    expect(plan.values).toEqual({
      "claude-code": {},
      codex: { OPENAI_BASE_URL: "http://gw" },
    });
    expect(plan.names).toEqual({ "claude-code": [], codex: ["OPENAI_BASE_URL"] });
  });

  it("resolveAgentEnv names every agent missing a required key in one message, in --agent order", () => {
    expect(
      missingOf([ref("gemini-cli", "m"), ref("claude-code", "m"), ref("codex", "m")], {
        GOOGLE_GEMINI_BASE_URL: "http://gw",
        PATH: "/usr/bin",
      }),
    ).toBe(
      "Missing API key: gemini-cli needs GEMINI_API_KEY or GOOGLE_API_KEY; claude-code needs ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN; codex needs OPENAI_API_KEY. " +
        HINT,
    );
  });

  it("resolveAgentEnv names only the agents that lack a key", () => {
    expect(
      missingOf([ref("claude-code", "m"), ref("codex", "m"), ref("zebra")], {
        OPENAI_API_KEY: "k",
      }),
    ).toBe(
      `Missing API key: claude-code needs ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN; zebra needs ZED_TOKEN or ALPHA_TOKEN or MID_TOKEN. ${HINT}`,
    );
  });

  it("resolveAgentEnv does not count another agent's key", () => {
    // GOOGLE_API_KEY is gemini-cli's, not codex's.
    expect(missingOf([ref("codex", "m")], { ANTHROPIC_API_KEY: "a", GOOGLE_API_KEY: "g" })).toBe(
      `Missing API key: codex needs OPENAI_API_KEY. ${HINT}`,
    );
  });

  it("resolveAgentEnv counts an empty value as missing", () => {
    expect(missingOf([ref("codex", "m")], { OPENAI_API_KEY: "" })).toBe(
      `Missing API key: codex needs OPENAI_API_KEY. ${HINT}`,
    );
    const plan = resolveAgentEnv(
      [ref("claude-code", "m")],
      { ANTHROPIC_API_KEY: "", CLAUDE_CODE_OAUTH_TOKEN: "t", ANTHROPIC_BASE_URL: "" },
      NONE,
    );
    expect(plan.values).toEqual({ "claude-code": { CLAUDE_CODE_OAUTH_TOKEN: "t" } });
  });

  it("resolveAgentEnv never errors for an agent whose keys are optional", () => {
    const plan = resolveAgentEnv(
      [ref("opencode", "anthropic/m"), ref("goose", "openai/m"), ref("optional")],
      {},
      NONE,
    );
    expect(plan.values).toEqual({ opencode: {}, goose: {}, optional: {} });
    expect(plan.names).toEqual({ opencode: [], goose: [], optional: [] });
  });

  it("resolveAgentEnv gives an optional-key agent the keys that are set", () => {
    const plan = resolveAgentEnv(
      [ref("opencode", "openai/m"), ref("optional")],
      { OPENAI_API_KEY: "k", OPTIONAL_TOKEN: "o", ZED_TOKEN: "z" },
      NONE,
    );
    expect(plan.values).toEqual({
      opencode: { OPENAI_API_KEY: "k" },
      optional: { OPTIONAL_TOKEN: "o" },
    });
  });

  it("resolveAgentEnv ignores the built-in agents oracle and nop", () => {
    const plan = resolveAgentEnv([ref("oracle"), ref("nop", "m")], { OPENAI_API_KEY: "k" }, NONE);
    expect(plan).toEqual({ values: {}, names: {} });
  });

  it("resolveAgentEnv keys an agent named like an Object.prototype property as its own entry", () => {
    const plan = resolveAgentEnv([ref("constructor")], { CTOR_TOKEN: "c" }, NONE);
    expect(Object.hasOwn(plan.values, "constructor")).toBe(true);
    expect(plan.values.constructor).toEqual({ CTOR_TOKEN: "c" });
    expect(plan.names.constructor).toEqual(["CTOR_TOKEN"]);
    expect(missingOf([ref("constructor")], {})).toBe(
      `Missing API key: constructor needs CTOR_TOKEN. ${HINT}`,
    );
  });
});
