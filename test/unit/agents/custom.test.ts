import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentEntry,
  fillPlaceholders,
  INSTRUCTION_FILE,
  loadAgentConfig,
  toDefinition,
} from "../../../src/agents/custom.js";
import type {
  AgentDefinition,
  PrepareInput,
  SandboxReader,
} from "../../../src/agents/installed.js";
import { UNKNOWN_USAGE } from "../../../src/core/constants.js";
import { UsageError } from "../../../src/core/errors.js";
import type { Usage } from "../../../src/core/schemas.js";
import { rejectedWith } from "../../helpers/errors.js";
import { FIXTURES, tempDir } from "../../helpers/tasks.js";

const CONFIGS = join(FIXTURES, "agent-configs");
const RESERVED: ReadonlySet<string> = new Set([
  "claude-code",
  "codex",
  "opencode",
  "goose",
  "gemini-cli",
  "oracle",
  "nop",
]);
const NO_BUILTINS: ReadonlyMap<string, AgentDefinition> = new Map();
const ALLOWED =
  "allowed: {instruction}, {instruction_file}, {model}, {workdir}, {agent_root}, {timeout_sec}";

const INPUT: PrepareInput = {
  model: "my-model",
  instruction: "Create hello.txt",
  env: { PATH: "/usr/bin" },
  root: "/rli/agent",
  workdir: "/app",
  node: "/usr/bin/node",
  timeoutSec: 600,
};

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("rli-custom-"));
});
afterAll(async () => {
  await cleanup();
});

let seq = 0;
/** `yaml` written to a fresh file in the temp dir; returns its path. */
async function configFile(yaml: string): Promise<string> {
  const file = join(dir, `agents-${++seq}.yaml`);
  await writeFile(file, yaml);
  return file;
}

/** The definitions of `yaml`, loaded as --agent-config would. */
async function load(
  yaml: string,
  builtins: ReadonlyMap<string, AgentDefinition> = NO_BUILTINS,
): Promise<AgentDefinition[]> {
  return loadAgentConfig(await configFile(yaml), builtins, RESERVED);
}

/** The one agent `yaml` defines. */
async function loadOne(yaml: string): Promise<AgentDefinition> {
  const defs = await load(yaml);
  expect(defs).toHaveLength(1);
  return defs[0] as AgentDefinition;
}

/** The message loading `file` fails with, asserting a UsageError. */
async function errorOf(file: string): Promise<string> {
  return (await rejectedWith(UsageError, loadAgentConfig(file, NO_BUILTINS, RESERVED))).message;
}

/** The message loading `yaml` fails with, with `<file>` for the file's path. */
async function yamlErrorOf(yaml: string): Promise<string> {
  const file = await configFile(yaml);
  return (await errorOf(file)).replace(file, "<file>");
}

/** An agent entry as the schema's defaults fill it. */
function entry(over: Partial<AgentEntry>): AgentEntry {
  return {
    command: ["/usr/bin/agent"],
    instruction: "stdin",
    env: {},
    keys: [],
    requires_key: false,
    requires_model: false,
    usage: "none",
    ...over,
  };
}

describe("loadAgentConfig: the fixtures", () => {
  it("loadAgentConfig reads agents.yaml: a system program on stdin and an npm package by argument", async () => {
    const defs = await loadAgentConfig(join(CONFIGS, "agents.yaml"), NO_BUILTINS, RESERVED);
    expect(defs.map((d) => d.name)).toEqual(["scripted", "cow"]);
    const [scripted, cow] = defs as [AgentDefinition, AgentDefinition];

    expect(scripted.package).toBeUndefined();
    expect(scripted.requiresModel).toBe(true);
    expect(scripted.keys).toEqual({ names: [], requiresAny: false });
    expect(scripted.transcript).toBe("/logs/agent/scripted.txt");
    const plan = scripted.prepare(INPUT);
    expect(plan.argv).toHaveLength(5);
    expect(plan.argv.slice(0, 2)).toEqual(["/usr/bin/python3", "-c"]);
    expect(plan.argv[2]).toContain("instruction = sys.stdin.read()");
    expect(plan.argv.slice(3)).toEqual(["my-model", "/app"]);
    expect(plan).toMatchObject({
      env: { SCRIPTED_LOG: "/logs/agent/scripted.log" },
      stdin: "Create hello.txt",
    });
    expect(plan.files).toBeUndefined();

    expect(cow.package).toEqual({ name: "cowsay", version: "1.6.0" });
    expect(cow.requiresModel).toBe(false);
    expect(cow.keys).toEqual({ names: ["COW_TOKEN"], requiresAny: true });
    expect(cow.transcript).toBe("/logs/agent/cow.txt");
    expect(cow.prepare(INPUT)).toEqual({
      argv: ["/rli/agent/node_modules/.bin/cowsay", "Create hello.txt"],
      env: {},
    });
  });

  it.each([
    [
      "not-yaml.yaml",
      "not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1",
    ],
    ["bad-placeholder.yaml", `agents.x: unknown placeholder {prompt}; ${ALLOWED}`],
    ["builtin-name.yaml", "agents.codex: a built-in agent has this name; choose another"],
    [
      "relative.yaml",
      "agents.x.command: the program must be an absolute path in the sandbox (e.g. {agent_root}/node_modules/.bin/my-agent or /usr/bin/python3)",
    ],
    [
      "unpinned.yaml",
      "agents.x.npm: must be package@version, e.g. my-agent@1.2.3 (a pinned version)",
    ],
  ])("loadAgentConfig rejects %s naming the file and field", async (name, problem) => {
    const file = join(CONFIGS, name);
    expect(await errorOf(file)).toBe(`${file}: ${problem}`);
  });

  it("loadAgentConfig says a missing file cannot be read, naming the flag", async () => {
    const file = join(dir, "nope.yaml");
    expect(await errorOf(file)).toBe(`--agent-config ${file}: cannot read it (ENOENT)`);
    expect(await errorOf(dir)).toBe(`--agent-config ${dir}: cannot read it (EISDIR)`);
  });
});

describe("loadAgentConfig: every problem is one line naming the file and field", () => {
  it.each([
    ["an empty file", "", "<file>: (top level): Invalid input: expected object, received null"],
    ["a list", "- a\n", "<file>: (top level): Invalid input: expected object, received array"],
    [
      "an unknown top-level key",
      "agents: {}\nmodels: {}\n",
      '<file>: (top level): Unrecognized key: "models"',
    ],
    [
      "an unknown agent field",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    shell: bash\n",
      '<file>: agents.x: Unrecognized key: "shell"',
    ],
    [
      "a missing command",
      "agents:\n  x:\n    npm: cowsay@1.6.0\n",
      "<file>: agents.x.command: Invalid input: expected array, received undefined",
    ],
    [
      "a command string instead of a list",
      "agents:\n  x:\n    command: /usr/bin/agent --go\n",
      "<file>: agents.x.command: Invalid input: expected array, received string",
    ],
    [
      "an empty command",
      "agents:\n  x:\n    command: []\n",
      "<file>: agents.x.command: must be a non-empty list of strings",
    ],
    [
      "an empty argument",
      "agents:\n  x:\n    command: [/usr/bin/agent, '']\n",
      "<file>: agents.x.command.1: Too small: expected string to have >=1 characters",
    ],
    [
      "an unknown instruction mode",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    instruction: env\n",
      '<file>: agents.x.instruction: Invalid option: expected one of "stdin"|"file"|"arg"',
    ],
    [
      "an unknown usage parser",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    usage: aider\n",
      '<file>: agents.x.usage: Invalid option: expected one of "none"|"claude-code"|"codex"|"opencode"|"goose"|"gemini-cli"',
    ],
    [
      "a transcript outside /logs/agent",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    transcript: /tmp/x.txt\n",
      "<file>: agents.x.transcript: must be a file directly under /logs/agent",
    ],
    [
      "a transcript in a subdirectory of /logs/agent",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    transcript: /logs/agent/sub/x.txt\n",
      "<file>: agents.x.transcript: must be a file directly under /logs/agent",
    ],
    [
      "a key that is not a variable name",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    keys: [MY-KEY]\n",
      "<file>: agents.x.keys.0: must be a variable name",
    ],
    [
      "a non-boolean requires_key",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    requires_key: 'yes'\n",
      "<file>: agents.x.requires_key: Invalid input: expected boolean, received string",
    ],
    [
      "a number as an env value",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    env:\n      RETRIES: 3\n",
      "<file>: agents.x.env.RETRIES: Invalid input: expected string, received number",
    ],
    [
      "an unknown placeholder in env",
      "agents:\n  x:\n    command: [/usr/bin/true]\n    env:\n      P: '{prompt}'\n",
      `<file>: agents.x: unknown placeholder {prompt}; ${ALLOWED}`,
    ],
    [
      "an npm range",
      "agents:\n  x:\n    npm: cowsay@^1.6.0\n    command: [/usr/bin/true]\n",
      "<file>: agents.x.npm: must be package@version, e.g. my-agent@1.2.3 (a pinned version)",
    ],
    [
      "a duplicate agent",
      "agents:\n  x:\n    command: [/usr/bin/true]\n  x:\n    command: [/usr/bin/false]\n",
      "<file>: not valid YAML: Map keys must be unique at line 4, column 3",
    ],
    [
      "a program given by a placeholder other than {agent_root}",
      "agents:\n  x:\n    command: ['{workdir}/run.sh']\n",
      "<file>: agents.x.command: the program must be an absolute path in the sandbox (e.g. {agent_root}/node_modules/.bin/my-agent or /usr/bin/python3)",
    ],
  ])("loadAgentConfig rejects %s", async (_what, yaml, message) => {
    expect(await yamlErrorOf(yaml)).toBe(message);
  });

  // BUG: zod 4 reports a record key that fails its schema as "Invalid key in record", dropping the
  // schema's own message ("must be a lower-case name", "must be a variable name").
  it("loadAgentConfig says an agent name must be lower-case", async () => {
    expect(await yamlErrorOf("agents:\n  My_Agent:\n    command: [/usr/bin/true]\n")).toBe(
      "<file>: agents.My_Agent: must be a lower-case name",
    );
  });

  it("loadAgentConfig says an env name must be a variable name", async () => {
    expect(
      await yamlErrorOf("agents:\n  x:\n    command: [/usr/bin/true]\n    env:\n      1BAD: v\n"),
    ).toBe("<file>: agents.x.env.1BAD: must be a variable name");
  });

  // BUG: NPM_SPEC accepts any [\w.+-]+ after the @, so a dist-tag or an x-range passes as "a pinned
  // version" and is cached forever under <cache>/cowsay@latest.
  it.each(["cowsay@latest", "cowsay@1.x", "cowsay@next"])(
    "loadAgentConfig rejects the unpinned npm spec %s",
    async (spec) => {
      expect(
        await yamlErrorOf(`agents:\n  x:\n    npm: ${spec}\n    command: [/usr/bin/true]\n`),
      ).toBe(
        "<file>: agents.x.npm: must be package@version, e.g. my-agent@1.2.3 (a pinned version)",
      );
    },
  );

  it("loadAgentConfig reports the first agent's problem before later agents are checked", async () => {
    expect(
      await yamlErrorOf(
        "agents:\n  a:\n    command: [relative]\n  b:\n    command: ['/x', '{nope}']\n",
      ),
    ).toBe(
      "<file>: agents.a.command: the program must be an absolute path in the sandbox (e.g. {agent_root}/node_modules/.bin/my-agent or /usr/bin/python3)",
    );
  });
});

describe("loadAgentConfig: accepted files", () => {
  it("loadAgentConfig accepts JSON, a scoped npm package and prerelease versions", async () => {
    const defs = await load(
      JSON.stringify({
        agents: {
          scoped: { npm: "@acme/agent-cli@2.0.0-beta.1", command: ["{agent_root}/bin/agent"] },
        },
      }),
    );
    expect(defs.map((d) => d.package)).toEqual([
      { name: "@acme/agent-cli", version: "2.0.0-beta.1" },
    ]);
  });

  it("loadAgentConfig fills the defaults: stdin, no keys, no model, <name>.txt transcript", async () => {
    const def = await loadOne("agents:\n  plain:\n    command: [/usr/bin/agent]\n");
    expect(def).toMatchObject({
      name: "plain",
      requiresModel: false,
      keys: { names: [], requiresAny: false },
      transcript: "/logs/agent/plain.txt",
    });
    expect(def.package).toBeUndefined();
    expect(def.prepare(INPUT)).toEqual({
      argv: ["/usr/bin/agent"],
      env: {},
      stdin: "Create hello.txt",
    });
  });

  it("loadAgentConfig takes the transcript path given", async () => {
    const def = await loadOne(
      "agents:\n  x:\n    command: [/usr/bin/agent]\n    transcript: /logs/agent/out.log\n",
    );
    expect(def.transcript).toBe("/logs/agent/out.log");
  });
});

describe("toDefinition: prepare", () => {
  it("prepare fills every placeholder in argv and env", () => {
    const def = toDefinition(
      "x",
      entry({
        command: [
          "{agent_root}/node_modules/.bin/x",
          "{instruction}",
          "{instruction_file}",
          "{model}",
          "{workdir}",
          "{agent_root}",
          "{timeout_sec}",
          "--cfg={workdir}/.x/{model}.json",
        ],
        instruction: "arg",
        env: { X_HOME: "{agent_root}/home", X_TIMEOUT: "{timeout_sec}s", X_MODEL: "{model}" },
      }),
      NO_BUILTINS,
    );
    expect(def.prepare(INPUT)).toEqual({
      argv: [
        "/rli/agent/node_modules/.bin/x",
        "Create hello.txt",
        INSTRUCTION_FILE,
        "my-model",
        "/app",
        "/rli/agent",
        "600",
        "--cfg=/app/.x/my-model.json",
      ],
      env: { X_HOME: "/rli/agent/home", X_TIMEOUT: "600s", X_MODEL: "my-model" },
      files: [{ path: "/root/.rli/instruction.md", content: "Create hello.txt" }],
    });
  });

  it("prepare gives stdin mode the instruction on stdin and writes no file", () => {
    const plan = toDefinition("x", entry({ instruction: "stdin" }), NO_BUILTINS).prepare(INPUT);
    expect(plan).toEqual({ argv: ["/usr/bin/agent"], env: {}, stdin: "Create hello.txt" });
  });

  it("prepare gives file mode the instruction in /root/.rli/instruction.md, not on stdin", () => {
    const plan = toDefinition(
      "x",
      entry({
        command: ["/usr/bin/agent", "--prompt-file", "{instruction_file}"],
        instruction: "file",
      }),
      NO_BUILTINS,
    ).prepare(INPUT);
    expect(plan).toEqual({
      argv: ["/usr/bin/agent", "--prompt-file", "/root/.rli/instruction.md"],
      env: {},
      files: [{ path: "/root/.rli/instruction.md", content: "Create hello.txt" }],
    });
  });

  it("prepare writes the file in file mode even when the command does not name it", () => {
    const plan = toDefinition("x", entry({ instruction: "file" }), NO_BUILTINS).prepare(INPUT);
    expect(plan).toEqual({
      argv: ["/usr/bin/agent"],
      env: {},
      files: [{ path: INSTRUCTION_FILE, content: "Create hello.txt" }],
    });
  });

  it("prepare gives arg mode the instruction only where {instruction} is", () => {
    const plan = toDefinition(
      "x",
      entry({ command: ["/usr/bin/agent", "-p", "{instruction}"], instruction: "arg" }),
      NO_BUILTINS,
    ).prepare(INPUT);
    expect(plan).toEqual({ argv: ["/usr/bin/agent", "-p", "Create hello.txt"], env: {} });
  });

  it("prepare writes the instruction file for {instruction_file} in stdin mode too", () => {
    const plan = toDefinition(
      "x",
      entry({ command: ["/usr/bin/agent", "{instruction_file}"] }),
      NO_BUILTINS,
    ).prepare(INPUT);
    expect(plan).toEqual({
      argv: ["/usr/bin/agent", INSTRUCTION_FILE],
      env: {},
      stdin: "Create hello.txt",
      files: [{ path: INSTRUCTION_FILE, content: "Create hello.txt" }],
    });
  });

  // BUG: `usesFile` looks for {instruction_file} in the command only, so an agent that names the file
  // in its env (allowed by loadAgentConfig) is pointed at a file that is never written.
  it("prepare writes the instruction file when only env names {instruction_file}", () => {
    const plan = toDefinition(
      "x",
      entry({ env: { PROMPT_FILE: "{instruction_file}" } }),
      NO_BUILTINS,
    ).prepare(INPUT);
    expect(plan.env).toEqual({ PROMPT_FILE: INSTRUCTION_FILE });
    expect(plan.files).toEqual([{ path: INSTRUCTION_FILE, content: "Create hello.txt" }]);
  });

  it("prepare fills a missing model and timeout with empty strings", () => {
    const plan = toDefinition(
      "x",
      entry({ command: ["/usr/bin/agent", "--model={model}", "--timeout={timeout_sec}"] }),
      NO_BUILTINS,
    ).prepare({ ...INPUT, model: null, timeoutSec: null });
    expect(plan.argv).toEqual(["/usr/bin/agent", "--model=", "--timeout="]);
  });

  it("prepare never expands placeholders inside the filled-in values", () => {
    const instruction = "Write {model} and {workdir} literally; $(rm -rf /) stays text";
    const plan = toDefinition(
      "x",
      entry({ command: ["/usr/bin/agent", "{instruction}", "{model}"], instruction: "arg" }),
      NO_BUILTINS,
    ).prepare({ ...INPUT, instruction, model: "{instruction}" });
    expect(plan.argv).toEqual(["/usr/bin/agent", instruction, "{instruction}"]);
  });

  it("toDefinition splits a scoped npm spec at its last @", () => {
    const def = toDefinition("x", entry({ npm: "@acme/agent-cli@1.2.3" }), NO_BUILTINS);
    expect(def.package).toEqual({ name: "@acme/agent-cli", version: "1.2.3" });
  });
});

describe("fillPlaceholders", () => {
  it("fillPlaceholders leaves unknown placeholders and other braces as they are", () => {
    expect(fillPlaceholders("{a}-{b}-{Model}-{}-{{a}}", { a: "1" })).toBe("1-{b}-{Model}-{}-{1}");
  });
});

describe("toDefinition: usage", () => {
  const USAGE: Usage = {
    input_tokens: 10,
    cache_read_tokens: 2,
    cache_write_tokens: 1,
    output_tokens: 5,
    cost_usd: 0.01,
    cost_source: "reported",
  };

  /** A built-in whose parser reads its own transcript and a session file next to it. */
  function fakeBuiltin(reads: string[]): AgentDefinition {
    return {
      name: "claude-code",
      requiresModel: true,
      keys: { names: [], requiresAny: false },
      transcript: "/logs/agent/claude-code.txt",
      prepare: () => ({ argv: ["/bin/false"] }),
      async parseUsage(reader: SandboxReader) {
        const transcript = await reader.read("/logs/agent/claude-code.txt");
        const session = await reader.read("/logs/agent/sessions/s.json");
        reads.push(`transcript=${transcript}`, `session=${session}`);
        return transcript === "custom output" ? USAGE : UNKNOWN_USAGE;
      },
    };
  }

  /** A reader over `files` that records every path read. */
  function reader(files: Record<string, string>, asked: string[]): SandboxReader {
    return {
      async read(path) {
        asked.push(path);
        return files[path] ?? null;
      },
    };
  }

  const FILES = {
    "/logs/agent/claude-code.txt": "builtin output",
    "/logs/agent/my-agent.txt": "custom output",
    "/logs/agent/sessions/s.json": "{}",
  };

  it("parseUsage runs the built-in's parser on the custom agent's transcript", async () => {
    const reads: string[] = [];
    const asked: string[] = [];
    const builtins = new Map([["claude-code", fakeBuiltin(reads)]]);
    const def = toDefinition("my-agent", entry({ usage: "claude-code" }), builtins);
    expect(await def.parseUsage(reader(FILES, asked))).toEqual(USAGE);
    expect(asked).toEqual(["/logs/agent/my-agent.txt", "/logs/agent/sessions/s.json"]);
    expect(reads).toEqual(["transcript=custom output", "session={}"]);
  });

  it("parseUsage follows a transcript path given in the file", async () => {
    const asked: string[] = [];
    const builtins = new Map([["claude-code", fakeBuiltin([])]]);
    const defs = await load(
      "agents:\n  my-agent:\n    command: [/usr/bin/agent]\n    usage: claude-code\n    transcript: /logs/agent/run.log\n",
      builtins,
    );
    const def = defs[0] as AgentDefinition;
    await def.parseUsage(reader({ "/logs/agent/run.log": "custom output" }, asked));
    expect(asked[0]).toBe("/logs/agent/run.log");
  });

  it("parseUsage is unknown with usage none, without reading anything", async () => {
    const asked: string[] = [];
    const builtins = new Map([["claude-code", fakeBuiltin([])]]);
    const def = toDefinition("my-agent", entry({ usage: "none" }), builtins);
    expect(await def.parseUsage(reader(FILES, asked))).toEqual(UNKNOWN_USAGE);
    expect(asked).toEqual([]);
  });

  it("parseUsage is unknown when the named built-in is not available", async () => {
    const asked: string[] = [];
    const def = toDefinition("my-agent", entry({ usage: "codex" }), NO_BUILTINS);
    expect(await def.parseUsage(reader(FILES, asked))).toEqual(UNKNOWN_USAGE);
    expect(asked).toEqual([]);
  });
});
