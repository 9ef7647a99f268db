import { describe, expect, it } from "vitest";
import { getAdapter, parseAgentSpecs, supportedAgents } from "../../../src/agents/registry.js";
import { UsageError } from "../../../src/core/errors.js";
import { thrownBy } from "../../helpers/errors.js";

/** The error parseAgentSpecs throws for `values`, asserting it is a UsageError. */
function errorOf(values: string[]): string {
  return thrownBy(UsageError, () => parseAgentSpecs(values)).message;
}

const INVALID = (raw: string) =>
  `Invalid agent format: "${raw}". Use format: agent:model (e.g., claude-code:claude-sonnet-4)`;

describe("supportedAgents / getAdapter", () => {
  it("lists the agents with a local adapter", () => {
    expect(supportedAgents()).toEqual([
      "claude-code",
      "codex",
      "opencode",
      "goose",
      "gemini-cli",
      "oracle",
      "nop",
    ]);
  });

  it("returns the adapter by name", () => {
    expect(getAdapter("oracle").name).toBe("oracle");
    expect(getAdapter("nop").name).toBe("nop");
  });

  it("rejects an unknown agent with the supported list", () => {
    expect(() => getAdapter("foo")).toThrow(
      new UsageError(
        "Unsupported agent: foo. Supported agents: claude-code, codex, opencode, goose, gemini-cli, oracle, nop",
      ),
    );
  });

  it("has an adapter for each of Runloop's agents", () => {
    for (const name of ["claude-code", "codex", "opencode", "goose", "gemini-cli"]) {
      expect(getAdapter(name).name).toBe(name);
    }
  });
});

describe("parseAgentSpecs", () => {
  it("requires at least one --agent, with Runloop's text", () => {
    expect(errorOf([])).toBe(
      "At least one --agent is required. Format: --agent agent:model (e.g., --agent claude-code:claude-sonnet-4)",
    );
  });

  it("parses an agent without a model as model null", () => {
    expect(parseAgentSpecs(["oracle"])).toEqual([{ name: "oracle", model: null }]);
  });

  it("parses agent:model", () => {
    expect(parseAgentSpecs(["nop:some-model"])).toEqual([{ name: "nop", model: "some-model" }]);
  });

  it("splits at the first colon: oracle:a:b has model a:b", () => {
    expect(parseAgentSpecs(["oracle:a:b"])).toEqual([{ name: "oracle", model: "a:b" }]);
  });

  it("keeps the order the agents were given", () => {
    expect(parseAgentSpecs(["nop", "oracle", "oracle:m"])).toEqual([
      { name: "nop", model: null },
      { name: "oracle", model: null },
      { name: "oracle", model: "m" },
    ]);
  });

  it("trims surrounding whitespace", () => {
    expect(parseAgentSpecs(["  oracle:m  "])).toEqual([{ name: "oracle", model: "m" }]);
  });

  it('rejects ":x" (no agent name)', () => {
    expect(errorOf([":x"])).toBe(INVALID(":x"));
  });

  it('rejects "x:" (empty model) before looking the agent up', () => {
    expect(errorOf(["x:"])).toBe(INVALID("x:"));
    expect(errorOf(["oracle:"])).toBe(INVALID("oracle:"));
  });

  it('rejects ":" and an empty value', () => {
    expect(errorOf([":"])).toBe(INVALID(":"));
    expect(errorOf([""])).toBe(INVALID(""));
    expect(errorOf(["   "])).toBe(INVALID("   "));
  });

  it("rejects whitespace inside the value", () => {
    expect(errorOf(["oracle:my model"])).toBe(INVALID("oracle:my model"));
  });

  it("rejects an unknown agent with Runloop's text", () => {
    expect(errorOf(["foo:bar"])).toBe(
      "Unsupported agent: foo. Supported agents: claude-code, codex, opencode, goose, gemini-cli, oracle, nop",
    );
  });

  it("requires a model for the installed agents, with Runloop's text", () => {
    expect(errorOf(["claude-code"])).toBe(
      'No model specified for agent "claude-code". Use format: --agent claude-code:model-name',
    );
    expect(parseAgentSpecs(["claude-code:claude-sonnet-4-5"])).toEqual([
      { name: "claude-code", model: "claude-sonnet-4-5" },
    ]);
  });

  it("checks provider/model names of opencode and goose before anything starts", () => {
    expect(errorOf(["opencode:claude-sonnet"])).toBe(
      'Invalid model for opencode: opencode needs a model as provider/model (e.g. opencode:anthropic/claude-sonnet-4-5); got "claude-sonnet"',
    );
    expect(errorOf(["goose:llama3"])).toMatch(
      /^Invalid model for goose: goose needs a model as provider\/model .*; got "llama3"$/,
    );
    expect(parseAgentSpecs(["opencode:anthropic/claude-sonnet-4-5", "goose:gpt-4.1"])).toEqual([
      { name: "opencode", model: "anthropic/claude-sonnet-4-5" },
      { name: "goose", model: "gpt-4.1" },
    ]);
  });

  it("names the first bad value when several are given", () => {
    expect(errorOf(["oracle", "nope", ":x"])).toBe(
      "Unsupported agent: nope. Supported agents: claude-code, codex, opencode, goose, gemini-cli, oracle, nop",
    );
  });

  it("rejects the same agent given twice", () => {
    expect(errorOf(["oracle", "oracle"])).toBe('Agent given twice: "oracle"');
  });

  it("rejects the same agent:model given twice, naming the raw value", () => {
    expect(errorOf(["nop:m", " nop:m"])).toBe('Agent given twice: " nop:m"');
  });

  it("accepts one agent with different models, and with and without a model", () => {
    expect(parseAgentSpecs(["oracle", "oracle:a", "oracle:b"])).toHaveLength(3);
  });
});
