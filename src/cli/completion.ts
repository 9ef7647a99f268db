import type { Argument, Command, Option } from "commander";

/**
 * Shell completion scripts generated from the commander program tree, so a new command, alias, flag or
 * choice is completed without touching this file. Pure: the tree in, a script out.
 */

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag's value or a positional argument completes to. */
export type ValueSpec =
  | { kind: "words"; words: readonly string[] }
  | { kind: "files" }
  | { kind: "dirs" }
  /** Job ids in the jobs directory (--jobs-dir on the line, else the default store), and `latest`. */
  | { kind: "jobs" }
  /** A value nothing can guess (a name, a number): the shell offers nothing. */
  | { kind: "free" };

export interface OptionNode {
  /** Short first, e.g. ["-o", "--output"]. */
  flags: string[];
  description: string;
  /** null for a flag that takes no value. */
  value: ValueSpec | null;
  /** The value's name in the help, e.g. "format" for `-o, --output <format>`. */
  placeholder: string;
  /** `<values...>`: every following word up to the next flag is a value. */
  variadic: boolean;
}

export interface ArgNode {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  value: ValueSpec;
}

export interface CommandNode {
  name: string;
  aliases: string[];
  description: string;
  /** Canonical names from below the root, e.g. ["benchmark-job", "run"]; [] for the root. */
  path: string[];
  options: OptionNode[];
  args: ArgNode[];
  commands: CommandNode[];
}

/** Values a flag takes that its declaration cannot tell (e.g. the agents registry), by long flag. */
export type ValueHints = Readonly<Record<string, readonly string[]>>;

/** Characters a completed word may hold unquoted in every shell's generated source. */
const SAFE_WORD = /^[A-Za-z0-9_.:@%+,/=-]+$/;
/** `text|json|yaml` in a description lists the values (the house style for format flags). */
const LISTED = /\b[A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)+\b/;

function words(list: readonly string[]): ValueSpec {
  return { kind: "words", words: list.filter((w) => SAFE_WORD.test(w)) };
}

/**
 * A value's completion, in order: declared choices, a hint, an `a|b|c` list in the help text, a
 * `<dir>`/`<file>` placeholder, a description that asks for a directory; else free text.
 */
function valueSpec(
  choices: readonly string[] | undefined,
  hint: readonly string[] | undefined,
  placeholder: string,
  description: string,
): ValueSpec {
  if (choices !== undefined) return words(choices);
  if (hint !== undefined) return words(hint);
  const listed = LISTED.exec(description);
  if (listed) return words(listed[0].split("|"));
  if (/dir/i.test(placeholder)) return { kind: "dirs" };
  if (/file|path/i.test(placeholder)) return { kind: "files" };
  if (/\bdirector(y|ies)\b/i.test(description)) return { kind: "dirs" };
  return { kind: "free" };
}

function optionNode(opt: Option, hints: ValueHints): OptionNode {
  const flags = [opt.short, opt.long].filter((f): f is string => f !== undefined);
  const takesValue = opt.required || opt.optional;
  const placeholder = /[<[]([^>\]]*)[>\]]/.exec(opt.flags)?.[1]?.replace("...", "") ?? "";
  return {
    flags,
    description: opt.description,
    placeholder,
    value: takesValue
      ? valueSpec(
          opt.argChoices,
          opt.long ? hints[opt.long] : undefined,
          placeholder,
          opt.description,
        )
      : null,
    variadic: opt.variadic,
  };
}

function argNode(arg: Argument): ArgNode {
  const isJobId = arg.name() === "id" && /\bjob\b/i.test(arg.description);
  return {
    name: arg.name(),
    description: arg.description,
    required: arg.required,
    variadic: arg.variadic,
    value: isJobId
      ? { kind: "jobs" }
      : valueSpec(arg.argChoices, undefined, arg.name(), arg.description),
  };
}

/** The completable shape of a program: visible commands (with aliases), options and arguments. */
export function completionTree(
  program: Command,
  hints: ValueHints = {},
  path: string[] = [],
): CommandNode {
  const help = program.createHelp();
  return {
    name: program.name(),
    aliases: program.aliases(),
    description: program.description(),
    path,
    options: help.visibleOptions(program).map((o) => optionNode(o, hints)),
    args: program.registeredArguments.map(argNode),
    commands: help
      .visibleCommands(program)
      .map((c) => completionTree(c, hints, [...path, c.name()])),
  };
}

function allNodes(node: CommandNode): CommandNode[] {
  return [node, ...node.commands.flatMap(allNodes)];
}

/** Single-quoted for sh, bash, zsh and fish alike ('\'' closes, escapes and reopens). */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One line of help text, for a completion menu. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

const key = (node: CommandNode): string => node.path.join(" ");

/** Prefix of the helper functions a script defines, e.g. `__rli`. */
const helperPrefix = (prog: string): string => `__${prog.replace(/\W/g, "_")}`;

function optionsWithValues(node: CommandNode): { flag: string; opt: OptionNode }[] {
  return node.options.flatMap((opt) => (opt.value ? opt.flags.map((flag) => ({ flag, opt })) : []));
}

function bashKind(v: ValueSpec): string {
  return v.kind === "words" ? `words ${v.words.join(" ")}` : v.kind;
}

function bashScript(root: CommandNode): string {
  const prog = root.name;
  const fn = helperPrefix(prog);
  const entry = `_${prog.replace(/\W/g, "_")}`;
  const nodes = allNodes(root);
  const child = nodes.flatMap((n) =>
    n.commands.map((c) => {
      const patterns = [c.name, ...c.aliases].map((a) => q(`${key(n)}|${a}`)).join(" | ");
      return `    ${patterns}) REPLY=${q(key(c))} ;;`;
    }),
  );
  const subcommands = nodes.flatMap((n) =>
    n.commands.length > 0
      ? [
          `    ${q(key(n))}) REPLY=${q(n.commands.flatMap((c) => [c.name, ...c.aliases]).join(" "))} ;;`,
        ]
      : [],
  );
  const options = nodes.map(
    (n) => `    ${q(key(n))}) REPLY=${q(n.options.flatMap((o) => o.flags).join(" "))} ;;`,
  );
  const values = nodes.flatMap((n) =>
    optionsWithValues(n).map(
      ({ flag, opt }) =>
        `    ${q(`${key(n)}|${flag}`)}) REPLY=${q(bashKind(opt.value!))}${opt.variadic ? "; variadic=1" : ""} ;;`,
    ),
  );
  const args = nodes.flatMap((n) =>
    n.args.map((a, i) => {
      const at = a.variadic ? `${q(`${key(n)}|`)}*` : q(`${key(n)}|${i}`);
      return `    ${at}) REPLY=${q(bashKind(a.value))} ;;`;
    }),
  );
  return `# bash completion for ${prog}. Generated by \`${prog} completion bash\` from the command tree.
# Load it with: eval "$(${prog} completion bash)"   (e.g. in ~/.bashrc)

# The canonical path of subcommand $2 (name or alias) under path $1.
${fn}_child() {
  case "$1|$2" in
${child.join("\n")}
    *) return 1 ;;
  esac
}

${fn}_subcommands() {
  case "$1" in
${subcommands.join("\n")}
    *) return 1 ;;
  esac
}

${fn}_options() {
  case "$1" in
${options.join("\n")}
    *) REPLY="" ;;
  esac
}

# What flag $2 of path $1 takes ("words a b", files, dirs, jobs, free); status 1 if it takes no value.
${fn}_value() {
  variadic=0
  case "$1|$2" in
${values.join("\n")}
    *) return 1 ;;
  esac
}

# What positional argument $2 (0-based) of path $1 takes.
${fn}_arg() {
  case "$1|$2" in
${args.join("\n")}
    *) return 1 ;;
  esac
}

# Fill COMPREPLY with the candidates of kind $1 for the word $2.
${fn}_reply() {
  local IFS=$'\\n' dir
  case "$1" in
    words\\ *) COMPREPLY=($(IFS=' '; compgen -W "\${1#words }" -- "$2")) ;;
    files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
    dirs) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;
    jobs)
      dir=\${jobs_dir:-\${RLI_HOME:+$RLI_HOME/jobs}}
      dir=\${dir:-\${XDG_DATA_HOME:-$HOME/.local/share}/rli/jobs}
      dir=\${dir/#\\~/$HOME}
      COMPREPLY=($(compgen -W "latest"$'\\n'"$(cd -- "$dir" 2>/dev/null && compgen -d)" -- "$2")) ;;
    *) COMPREPLY=() ;;
  esac
}

${entry}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" word opt="" got=0 optvariadic=0 nargs=0
  local jobs_dir="" REPLY variadic i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n $opt && $word == "=" ]]; then
      continue
    elif [[ $word == -?* ]]; then
      if ${fn}_value "$path" "$word"; then
        opt=$word got=0 optvariadic=$variadic
      else
        opt=""
      fi
    elif [[ -n $opt ]]; then
      [[ $opt == --jobs-dir ]] && jobs_dir=$word
      got=1
      ((optvariadic)) || opt=""
    elif ${fn}_child "$path" "$word"; then
      path=$REPLY nargs=0 opt=""
    else
      nargs=$((nargs + 1))
    fi
  done
  if [[ -n $opt ]] && { ((!got)) || [[ $cur != -* ]]; }; then
    ${fn}_value "$path" "$opt"
    ${fn}_reply "$REPLY" "$cur"
  elif [[ $cur == -* ]]; then
    ${fn}_options "$path"
    ${fn}_reply "words $REPLY" "$cur"
  elif ${fn}_subcommands "$path"; then
    ${fn}_reply "words $REPLY" "$cur"
  elif ${fn}_arg "$path" "$nargs"; then
    ${fn}_reply "$REPLY" "$cur"
  else
    COMPREPLY=()
  fi
}

complete -F ${entry} ${prog}
`;
}

/** Text inside an _arguments `[...]` description, in single quotes. */
function zshDescription(s: string): string {
  return oneLine(s).replace(/[\\[\]]/g, "\\$&");
}

function zshAction(v: ValueSpec, fn: string): string {
  switch (v.kind) {
    case "words":
      return `(${v.words.join(" ")})`;
    case "files":
      return "_files";
    case "dirs":
      return "_files -/";
    case "jobs":
      return `${fn}_job_ids`;
    case "free":
      return " ";
  }
}

/** A message for `:message:action` (no colons). */
function zshMessage(s: string): string {
  return s.replace(/[:\\]/g, "").replace(/[<>[\]]/g, "") || "value";
}

function zshOptionSpec(opt: OptionNode, fn: string): string {
  const valueFlags = opt.flags.map((f) =>
    opt.value ? (f.startsWith("--") ? `${f}=` : `${f}+`) : f,
  );
  const value = opt.value ? `:${zshMessage(opt.placeholder)}:${zshAction(opt.value, fn)}` : "";
  const desc = `[${zshDescription(opt.description)}]${value}`;
  // A repeatable flag is marked `*`; the short and long spellings of a flag exclude each other.
  const exclusive = opt.variadic ? "*" : opt.flags.length > 1 ? `(${opt.flags.join(" ")})` : "";
  if (valueFlags.length === 1) return q(`${exclusive}${valueFlags[0]}${desc}`);
  return `${exclusive ? q(exclusive) : ""}{${valueFlags.join(",")}}${q(desc)}`;
}

function zshScript(root: CommandNode): string {
  const prog = root.name;
  const fn = helperPrefix(prog);
  const fnName = (n: CommandNode): string => [`_${prog}`, ...n.path].join("__");
  const functions = allNodes(root).map((n) => {
    const specs = n.options.map((o) => `    ${zshOptionSpec(o, fn)}`);
    if (n.commands.length > 0) {
      const entries = n.commands.flatMap((c) =>
        [c.name, ...c.aliases].map((name) => `      ${q(`${name}:${oneLine(c.description)}`)}`),
      );
      const cases = n.commands.map(
        (c) => `        ${[c.name, ...c.aliases].map(q).join("|")}) ${fnName(c)} ;;`,
      );
      return `${fnName(n)}() {
  local curcontext="$curcontext" state state_descr line ret=1
  typeset -A opt_args
  _arguments -C \\
${[...specs, `    ': :->command'`, `    '*:: :->argument'`].join(" \\\n")} && return 0
  case $state in
    command)
      local -a commands=(
${entries.join("\n")}
      )
      _describe -t commands ${q(`${[prog, ...n.path].join(" ")} command`)} commands && ret=0
      ;;
    argument)
      curcontext=\${curcontext%:*:*}:${[prog, ...n.path].join("-")}-$words[1]:
      case $words[1] in
${cases.join("\n")}
      esac
      ;;
  esac
  return ret
}`;
    }
    const args = n.args.map((a, i) => {
      const pos = a.variadic ? "*" : String(i + 1);
      return `    ${q(`${pos}${a.required ? "" : ":"}:${zshMessage(a.name)}:${zshAction(a.value, fn)}`)}`;
    });
    const all = [...specs, ...args];
    return `${fnName(n)}() {
  _arguments${all.length > 0 ? ` \\\n${all.join(" \\\n")}` : ""}
}`;
  });
  return `#compdef ${prog}
# zsh completion for ${prog}. Generated by \`${prog} completion zsh\` from the command tree.
# Install: ${prog} completion zsh > ~/.zfunc/_${prog}, with fpath+=(~/.zfunc) before compinit in ~/.zshrc;
# or, after compinit: source <(${prog} completion zsh)

# Job ids in --jobs-dir (or the default store), and latest.
${fn}_job_ids() {
  local dir=\${opt_args[--jobs-dir]:-\${RLI_HOME:+$RLI_HOME/jobs}}
  dir=\${dir:-\${XDG_DATA_HOME:-$HOME/.local/share}/rli/jobs}
  dir=\${dir/#\\~/$HOME}
  local -a ids=(latest $dir/*(N/:t))
  compadd -a ids
}

${functions.join("\n\n")}

if [[ "$funcstack[1]" = "_${prog}" ]]; then
  _${prog} "$@"
else
  compdef _${prog} ${prog}
fi
`;
}

function fishArgs(v: ValueSpec, fn: string): string {
  switch (v.kind) {
    case "words":
      return `-f -a ${q(v.words.join(" "))}`;
    case "files":
      return "-F";
    case "dirs":
      return `-f -a '(__fish_complete_directories (commandline -ct))'`;
    case "jobs":
      return `-f -a '(${fn}_job_ids)'`;
    case "free":
      return "-f";
  }
}

function fishScript(root: CommandNode): string {
  const prog = root.name;
  const fn = helperPrefix(prog);
  const nodes = allNodes(root);
  const child = nodes.flatMap((n) =>
    n.commands.map((c) => {
      const patterns = [c.name, ...c.aliases].map((a) => q(`${key(n)}|${a}`)).join(" ");
      return `        case ${patterns}\n            echo ${q(key(c))}`;
    }),
  );
  const values = nodes.flatMap((n) =>
    optionsWithValues(n).map(
      ({ flag, opt }) =>
        `        case ${q(`${key(n)}|${flag}`)}\n            echo ${opt.variadic ? "variadic" : "one"}`,
    ),
  );
  const lines: string[] = [];
  for (const n of nodes) {
    const at = `-n ${q(`${fn}_at ${q(key(n))}`)}`;
    for (const c of n.commands) {
      for (const name of [c.name, ...c.aliases]) {
        lines.push(`complete -c ${prog} ${at} -f -a ${q(name)} -d ${q(oneLine(c.description))}`);
      }
    }
    for (const o of n.options) {
      const flags = o.flags
        .map((f) => (f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`))
        .join(" ");
      const value = o.value ? ` -r ${fishArgs(o.value, fn)}` : "";
      lines.push(`complete -c ${prog} ${at} ${flags}${value} -d ${q(oneLine(o.description))}`);
    }
    const first = n.args[0];
    if (first) lines.push(`complete -c ${prog} ${at} ${fishArgs(first.value, fn)}`);
    for (const { flag, opt } of optionsWithValues(n).filter(({ opt }) => opt.variadic)) {
      const more = `-n ${q(`${fn}_variadic ${q(key(n))} ${flag}`)}`;
      lines.push(`complete -c ${prog} ${more} ${fishArgs(opt.value!, fn)}`);
    }
  }
  return `# fish completion for ${prog}. Generated by \`${prog} completion fish\` from the command tree.
# Install: ${prog} completion fish > ~/.config/fish/completions/${prog}.fish

# The canonical path of subcommand $argv[2] (name or alias) under path $argv[1].
function ${fn}_child
    switch "$argv[1]|$argv[2]"
${child.join("\n")}
        case '*'
            return 1
    end
end

# Whether flag $argv[2] of path $argv[1] takes one value or several; status 1 if it takes none.
function ${fn}_value
    switch "$argv[1]|$argv[2]"
${values.join("\n")}
        case '*'
            return 1
    end
end

# The command path of the line before the cursor, flags and their values skipped; then, on a second
# line, the variadic flag whose values the cursor is still in.
function ${fn}_path
    set -l words (commandline -opc)
    set -e words[1]
    set -l path ''
    set -l opt ''
    set -l kind ''
    set -l next ''
    for word in $words
        if string match -q -- '-?*' $word
            set opt ''
            if not string match -q -- '*=*' $word
                and set kind (${fn}_value "$path" $word)
                set opt $word
            end
        else if test -n "$opt"
            test "$kind" = variadic; or set opt ''
        else if set next (${fn}_child "$path" $word)
            set path $next
        end
    end
    echo $path
    test -n "$opt"; and test "$kind" = variadic; and echo $opt
end

function ${fn}_at
    set -l state (${fn}_path)
    test "$state[1]" = "$argv[1]"
end

# Whether the cursor is among the values of variadic flag $argv[2] of path $argv[1].
function ${fn}_variadic
    set -l state (${fn}_path)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" = "$argv[2]"
end

# Job ids in --jobs-dir (or the default store), and latest.
function ${fn}_job_ids
    set -l words (commandline -opc)
    set -l dir
    if set -l i (contains -i -- --jobs-dir $words)
        set dir $words[(math $i + 1)]
    end
    if test -z "$dir"
        if test -n "$RLI_HOME"
            set dir $RLI_HOME/jobs
        else if test -n "$XDG_DATA_HOME"
            set dir $XDG_DATA_HOME/rli/jobs
        else
            set dir $HOME/.local/share/rli/jobs
        end
    end
    set dir (string replace -r '^~' $HOME -- $dir)
    echo latest
    set -l jobs $dir/*/
    for job in $jobs
        string replace -r '.*/([^/]+)/$' '$1' -- $job
    end
end

complete -c ${prog} -f
${lines.join("\n")}
`;
}

/** The completion script for one shell, for the program tree `root`. */
export function completionScript(shell: Shell, program: Command, hints: ValueHints = {}): string {
  const root = completionTree(program, hints);
  switch (shell) {
    case "bash":
      return bashScript(root);
    case "zsh":
      return zshScript(root);
    case "fish":
      return fishScript(root);
  }
}
