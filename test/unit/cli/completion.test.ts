import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Option } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completionScript, completionTree } from "../../../src/cli/completion.js";
import type { Io } from "../../../src/cli/io.js";
import { createProgram, type ExitBox, main } from "../../../src/cli/main.js";
import { hasCommand } from "../../helpers/processes.js";
import { tempDir } from "../../helpers/tasks.js";

function fakeIo(): { io: Io; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    stderrIsTTY: false,
    stderrColumns: 100,
    stderrRows: 30,
    color: false,
    outColor: false,
    env: {},
    interrupt: new AbortController().signal,
    claimInterrupt: () => {},
  };
  return { io, out: () => out, err: () => err };
}

function program() {
  const exit: ExitBox = { code: 0 };
  return createProgram(fakeIo().io, exit);
}

const AGENTS = ["claude-code", "codex", "opencode", "goose", "gemini-cli", "oracle", "nop"];
const HINTS = { "--agent": AGENTS };
const SORTED_AGENTS = [...AGENTS].sort();

let tmp: { dir: string; cleanup: () => Promise<void> };
let rliHome: string;
beforeAll(async () => {
  tmp = await tempDir("rli-completion-");
  rliHome = join(tmp.dir, "home");
  await mkdir(join(rliHome, "jobs", "job_20240501_120000_abcdef"), { recursive: true });
  await mkdir(join(rliHome, "jobs", "job_20240502_080000_123456"), { recursive: true });
  await mkdir(join(tmp.dir, "out", "logs-a"), { recursive: true });
  await writeFile(join(tmp.dir, "out", "notes.txt"), "");
});
afterAll(() => tmp.cleanup());

describe("rli completion", () => {
  it("prints the bash script by default and exits 0", async () => {
    const { io, out, err } = fakeIo();
    expect(await main(["node", "rli", "completion"], io)).toBe(0);
    expect(out()).toBe(completionScript("bash", program(), HINTS));
    expect(err()).toBe("");
  });

  it.each(["bash", "zsh", "fish"] as const)("prints the %s script", async (shell) => {
    const { io, out } = fakeIo();
    expect(await main(["node", "rli", "completion", shell], io)).toBe(0);
    expect(out()).toBe(completionScript(shell, program(), HINTS));
  });

  it("rejects an unknown shell with a usage error, exit 2", async () => {
    const { io, out, err } = fakeIo();
    expect(await main(["node", "rli", "completion", "tcsh"], io)).toBe(2);
    expect(out()).toBe("");
    expect(err()).toBe("Error: Unknown shell: tcsh. Valid: bash, zsh, fish\n");
  });

  it("help shows how to install each script", async () => {
    const { io, out } = fakeIo();
    expect(await main(["node", "rli", "completion", "--help"], io)).toBe(0);
    expect(out()).toContain(`eval "$(rli completion bash)"`);
    expect(out()).toContain("rli completion zsh > ~/.zfunc/_rli");
    expect(out()).toContain("~/.config/fish/completions/rli.fish");
  });
});

describe("completionTree", () => {
  it("reads commands, aliases, flags and their values from the program", () => {
    const tree = completionTree(program(), HINTS);
    expect(tree.commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(["benchmark-job", "completion"]),
    );
    const bmj = tree.commands.find((c) => c.name === "benchmark-job")!;
    expect(bmj.aliases).toEqual(["bmj"]);
    expect(bmj.commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(["run", "watch", "summary", "list", "logs", "cancel"]),
    );
    const run = bmj.commands.find((c) => c.name === "run")!;
    const flag = (f: string) => run.options.find((o) => o.flags.includes(f));
    expect(flag("--output")).toMatchObject({
      flags: ["-o", "--output"],
      value: { kind: "words", words: ["text", "json", "yaml"] },
    });
    expect(flag("--sandbox")?.value).toEqual({ kind: "words", words: ["bubblewrap", "none"] });
    expect(flag("--agent")).toMatchObject({
      value: { kind: "words", words: AGENTS },
      variadic: true,
    });
    expect(flag("--jobs-dir")?.value).toEqual({ kind: "dirs" });
    expect(flag("--n-attempts")?.value).toEqual({ kind: "free" });
    expect(flag("--help")?.value).toBeNull();
    const logs = bmj.commands.find((c) => c.name === "logs")!;
    // -o means a directory here, not a format.
    expect(logs.options.find((o) => o.flags.includes("-o"))?.value).toEqual({ kind: "dirs" });
    expect(logs.args[0]?.value).toEqual({ kind: "jobs" });
    const completion = tree.commands.find((c) => c.name === "completion")!;
    expect(completion.args[0]?.value).toEqual({ kind: "words", words: ["bash", "zsh", "fish"] });
  });

  it("picks up a command added to the program, with its choices", () => {
    const p = program();
    const bmj = p.commands.find((c) => c.name() === "benchmark-job")!;
    bmj
      .command("replay")
      .alias("rp")
      .argument("<id>", "job id")
      .addOption(new Option("--mode <m>", "how").choices(["fast", "slow"]));
    const script = completionScript("bash", p);
    expect(script).toContain("'benchmark-job|replay' | 'benchmark-job|rp'");
    expect(script).toContain("'benchmark-job replay|--mode') REPLY='words fast slow'");
  });
});

describe("bash script", () => {
  const script = completionScript("bash", program(), HINTS);

  it("names every command, alias and flag", () => {
    for (const word of [
      "benchmark-job",
      "bmj",
      "run",
      "watch",
      "summary",
      "list",
      "logs",
      "cancel",
      "resume",
      "completion",
      "--n-attempts",
      "--jobs-dir",
      "complete -F _rli rli",
    ]) {
      expect(script).toContain(word);
    }
  });

  /** COMPREPLY after the completion function runs on `words` (the last one is being completed). */
  function complete(words: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): string[] {
    const out = execFileSync(
      "bash",
      [
        "--norc",
        "--noprofile",
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash source, not a template
        'eval "$RLI_SCRIPT"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rli; printf "%s\\n" "${COMPREPLY[@]}"',
        "bash",
        ...words,
      ],
      {
        encoding: "utf8",
        cwd,
        env: { PATH: process.env.PATH, HOME: tmp.dir, ...env, RLI_SCRIPT: script },
      },
    );
    return out.split("\n").filter(Boolean).sort();
  }

  it.each([
    [
      ["rli", ""],
      ["benchmark-job", "bmj", "completion", "help"],
    ],
    [["rli", "bmj", "su"], ["summary"]],
    [
      ["rli", "benchmark-job", "l"],
      ["list", "logs"],
    ],
    [["rli", "bmj", "run", "--ou"], ["--output"]],
    [["rli", "bmj", "run", "--n-a"], ["--n-attempts"]],
    [
      ["rli", "bmj", "summary", "x", "-o", ""],
      ["json", "junit", "markdown", "text", "yaml"],
    ],
    [
      ["rli", "bmj", "summary", "-o", "j"],
      ["json", "junit"],
    ],
    [
      ["rli", "bmj", "watch", "x", "--output", ""],
      ["json", "text"],
    ],
    [["rli", "bmj", "run", "--output", "=", "y"], ["yaml"]],
    [
      ["rli", "bmj", "run", "--sandbox", ""],
      ["bubblewrap", "none"],
    ],
    [["rli", "bmj", "run", "--agent", ""], SORTED_AGENTS],
    [["rli", "bmj", "run", "--agent", "oracle", "n"], ["nop"]],
    [["rli", "bmj", "run", "--agent", "oracle", "--n-c"], ["--n-concurrent-trials"]],
    [["rli", "bmj", "run", "--n-attempts", ""], []],
    [
      ["rli", "completion", ""],
      ["bash", "fish", "zsh"],
    ],
    [["rli", "--v"], ["--version"]],
  ])("completes %j to %j", (words, expected) => {
    expect(complete(words)).toEqual(expected);
  });

  it("completes job ids from the default store, and from --jobs-dir", () => {
    const ids = ["job_20240501_120000_abcdef", "job_20240502_080000_123456", "latest"];
    expect(complete(["rli", "bmj", "summary", ""], { RLI_HOME: rliHome })).toEqual(ids);
    expect(complete(["rli", "bmj", "cancel", "job_2024050"], { RLI_HOME: rliHome })).toEqual(
      ids.slice(0, 2),
    );
    expect(
      complete(["rli", "bmj", "logs", "--jobs-dir", join(rliHome, "jobs"), "job_20240502"]),
    ).toEqual(["job_20240502_080000_123456"]);
    expect(complete(["rli", "bmj", "watch", ""])).toEqual(["latest"]);
  });

  it("completes directories for logs -o and files for --archive", () => {
    const cwd = join(tmp.dir, "out");
    expect(complete(["rli", "bmj", "logs", "x", "-o", ""], {}, cwd)).toEqual(["logs-a"]);
    expect(complete(["rli", "bmj", "logs", "x", "--archive", ""], {}, cwd)).toEqual([
      "logs-a",
      "notes.txt",
    ]);
  });
});

describe("zsh script", () => {
  const script = completionScript("zsh", program(), HINTS);

  it("is a #compdef function per command with the flags' values", () => {
    expect(script.startsWith("#compdef rli\n")).toBe(true);
    expect(script).toContain("compdef _rli rli");
    expect(script).toContain("_rli__benchmark-job__run() {");
    expect(script).toContain("'benchmark-job'|'bmj') _rli__benchmark-job ;;");
    expect(script).toContain(
      "'(-o --output)'{-o+,--output=}'[output format: text|json|yaml]:format:(text json yaml)'",
    );
    expect(script).toContain("'--n-attempts=[attempts per scenario and agent]:n: '");
    expect(script).toContain("'*--agent=[");
    expect(script).toContain("'1:id:__rli_job_ids'");
  });

  it.skipIf(!hasCommand("zsh"))("parses in zsh", () => {
    const r = spawnSync("zsh", ["-n"], { input: script, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  /** Candidates zsh's completion system offers for `line`, read through a pseudo-terminal. */
  function complete(line: string, env: NodeJS.ProcessEnv = {}): string[] {
    const harness = `
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; autoload -U compinit; compinit -u -D"
zpty -w z 'eval "$RLI_SCRIPT"'
zpty -w z 'compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -A hits "$@"
  local h; for h in $hits; do print -r -- "<<$h>>"; done
}'
zpty -w z 'zle-line-init() { print -n "__ZLE''__"; }; zle -N zle-line-init'
zpty -w z "print __READ''Y__"
zpty -r z out '*__READY__*'
# Type only once the line editor is up: a TAB typed ahead of it is not completed.
zpty -r z out '*__ZLE__*'
zpty -w -n z "$1"$'\\t'
zpty -w z $'\\C-u'"print __DO''NE__"
zpty -r z out '*__DONE__*'
print -r -- "$out"
zpty -d z
`;
    const r = spawnSync("zsh", ["-f", "-c", harness, "zsh", line], {
      encoding: "utf8",
      timeout: 20_000,
      env: { PATH: process.env.PATH, HOME: tmp.dir, TERM: "dumb", ...env, RLI_SCRIPT: script },
    });
    return [...new Set([...r.stdout.matchAll(/<<([^>]*)>>/g)].map((m) => m[1]!))].sort();
  }

  it.skipIf(!hasCommand("zsh"))("completes commands, flags, values and job ids in zsh", () => {
    expect(complete("rli bmj su")).toEqual(["summary"]);
    expect(complete("rli bmj run --ou")).toEqual(["--output"]);
    expect(complete("rli bmj summary x -o ")).toEqual([
      "json",
      "junit",
      "markdown",
      "text",
      "yaml",
    ]);
    expect(complete("rli bmj run --agent ")).toEqual(SORTED_AGENTS);
    expect(complete("rli bmj summary ", { RLI_HOME: rliHome })).toEqual([
      "job_20240501_120000_abcdef",
      "job_20240502_080000_123456",
      "latest",
    ]);
  });
});

describe("fish script", () => {
  const script = completionScript("fish", program(), HINTS);

  it("declares each subcommand, flag and value list with complete -c rli", () => {
    expect(script).toContain("complete -c rli -f\n");
    expect(script).toContain("-f -a 'bmj' -d 'Run agents against benchmarks");
    expect(script).toContain("-l n-attempts -r -f -d 'attempts per scenario and agent'");
    expect(script).toContain("-s o -l output -r -f -a 'text json yaml'");
    expect(script).toContain("-a '(__rli_job_ids)'");
  });

  function complete(line: string, env: NodeJS.ProcessEnv = {}, cwd?: string): string[] {
    const out = execFileSync(
      "fish",
      ["--no-config", "-c", 'eval (string collect -- $RLI_SCRIPT); complete -C "$argv[1]"', line],
      {
        encoding: "utf8",
        cwd,
        env: { PATH: process.env.PATH, HOME: tmp.dir, ...env, RLI_SCRIPT: script },
      },
    );
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[0]!)
      .sort();
  }

  it.skipIf(!hasCommand("fish"))("completes commands, flags, values and job ids in fish", () => {
    expect(complete("rli ")).toEqual(["benchmark-job", "bmj", "completion", "help"]);
    expect(complete("rli bmj su")).toEqual(["summary"]);
    expect(complete("rli bmj run --ou")).toEqual(["--output"]);
    expect(complete("rli bmj summary x -o ")).toEqual([
      "json",
      "junit",
      "markdown",
      "text",
      "yaml",
    ]);
    expect(complete("rli bmj run --agent ")).toEqual(SORTED_AGENTS);
    expect(complete("rli bmj run --agent oracle ")).toEqual(SORTED_AGENTS);
    expect(complete("rli bmj run --agent oracle --sandbox ")).toEqual(["bubblewrap", "none"]);
    expect(complete("rli bmj summary ", { RLI_HOME: rliHome })).toEqual([
      "job_20240501_120000_abcdef",
      "job_20240502_080000_123456",
      "latest",
    ]);
    expect(complete("rli bmj logs x -o ", {}, join(tmp.dir, "out"))).toEqual(["logs-a/"]);
  });
});
