import type { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";

const EXAMPLES = `
Completes commands and aliases, flags, values from a fixed set (-o text|json|yaml, --agent,
--sandbox), paths where a flag takes one, and job ids (from --jobs-dir or the default store). The
script is generated from this program's commands: one saved to a file is a snapshot, so regenerate it
after upgrading rli.

Examples:
  $ eval "$(rli completion bash)"          # in ~/.bashrc
  $ rli completion bash > ~/.local/share/bash-completion/completions/rli
  $ rli completion zsh > ~/.zfunc/_rli     # with fpath+=(~/.zfunc) before compinit in ~/.zshrc
  $ rli completion fish > ~/.config/fish/completions/rli.fish

Exit codes: 0 printed · 2 unknown shell`;

/** `rli completion [shell]`: a completion script for the whole program on stdout. */
export function registerCompletion(program: Command, io: Io, exit: ExitBox): void {
  program
    .command("completion")
    .description("Print a shell completion script for bash, zsh or fish")
    .argument("[shell]", "shell: bash|zsh|fish", "bash")
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .action(async (shell: string) => {
      const { completionScript, SHELLS } = await import("../completion.js");
      const known = SHELLS.find((s) => s === shell);
      if (known === undefined) {
        throw new UsageError(`Unknown shell: ${shell}. Valid: ${SHELLS.join(", ")}`);
      }
      const { supportedAgents } = await import("../../agents/registry.js");
      io.out(completionScript(known, program, { "--agent": supportedAgents() }));
      exit.code = 0;
    });
}
