import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ExecScriptInput,
  execResultOf,
  execScript,
  parseExecReport,
  shellQuote,
} from "../../../src/backends/exec-script.js";
import {
  blueprintName,
  buildContextInstruction,
  dockerfileWorkdir,
  imageOf,
} from "../../../src/backends/runloop.js";
import type { Task } from "../../../src/benchmarks/task.js";

const dir = mkdtempSync(join(tmpdir(), "rli-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a generated script with the host's bash, as the devbox would; returns its own stdout. */
function runScript(input: Partial<ExecScriptInput> & { argv: string[] }): {
  stdout: string;
  scriptLeft: boolean;
} {
  const script = join(dir, `run-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(
    script,
    execScript({
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: null,
      graceMs: 500,
      stdinPath: null,
      stdoutPath: undefined,
      stderrPath: undefined,
      prelude: [],
      ...input,
    }),
  );
  const r = spawnSync("bash", [script], {
    encoding: "utf8",
    env: { ...process.env, FROM_IMAGE: "from-image" },
  });
  let scriptLeft = true;
  try {
    readFileSync(script);
  } catch {
    scriptLeft = false;
  }
  return { stdout: r.stdout, scriptLeft };
}

describe("shellQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["it's", `'it'\\''s'`],
    ['$HOME `x` "q"', `'$HOME \`x\` "q"'`],
    ["", "''"],
  ])("%j → %s", (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it("round-trips hostile values through a real shell", () => {
    const value = `a'b"c$(touch ${dir}/pwned)\`id\`\n; rm -rf /\\`;
    const r = spawnSync("bash", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" });
    expect(r.stdout).toBe(value);
    expect(() => readFileSync(join(dir, "pwned"))).toThrow();
  });
});

describe("execScript run by bash", () => {
  it("reports the exit code, deletes itself, and passes only the given environment", () => {
    const out = join(dir, "env.txt");
    const r = runScript({
      argv: ["bash", "-c", "env | sort; exit 3"],
      env: { PATH: process.env.PATH ?? "", SECRET_KEY: "s3cr3t 'quoted'" },
      stdoutPath: out,
      stderrPath: out,
    });
    const report = parseExecReport(r.stdout);
    expect(report).toMatchObject({ kind: "exit", code: 3 });
    expect(r.scriptLeft).toBe(false);
    const env = readFileSync(out, "utf8");
    expect(env).toContain("SECRET_KEY=s3cr3t 'quoted'");
    expect(env).not.toMatch(/^HOME=/m);
  });

  it("feeds stdin from a file and keeps stdout and stderr apart", () => {
    const input = join(dir, "stdin.txt");
    writeFileSync(input, "from stdin\n");
    const o = join(dir, "o.txt");
    const e = join(dir, "e.txt");
    const r = runScript({
      argv: ["bash", "-c", "cat; echo err >&2"],
      stdinPath: input,
      stdoutPath: o,
      stderrPath: e,
    });
    expect(parseExecReport(r.stdout)).toMatchObject({ kind: "exit", code: 0 });
    expect(readFileSync(o, "utf8")).toBe("from stdin\n");
    expect(readFileSync(e, "utf8")).toBe("err\n");
  });

  it("a deadline ends the command with timeout's 124 and is read as timed out", () => {
    const r = runScript({ argv: ["sleep", "30"], timeoutMs: 300, graceMs: 200 });
    const report = parseExecReport(r.stdout);
    expect(report).toMatchObject({ kind: "exit", code: 124 });
    if (report?.kind !== "exit") throw new Error("no report");
    expect(execResultOf(report, 300, 400)).toMatchObject({
      timedOut: true,
      exitCode: null,
      signal: "SIGTERM",
    });
  });

  it("a command that ignores SIGTERM is killed after the grace (137)", () => {
    const r = runScript({
      argv: ["bash", "-c", "trap '' TERM; sleep 30"],
      timeoutMs: 300,
      graceMs: 300,
    });
    const report = parseExecReport(r.stdout);
    expect(report).toMatchObject({ kind: "exit", code: 137 });
    if (report?.kind !== "exit") throw new Error("no report");
    expect(execResultOf(report, 300, 700)).toMatchObject({ timedOut: true, signal: "SIGKILL" });
  });

  it("runs the prelude first and stops with the failing step named", () => {
    const marker = join(dir, "prelude.txt");
    const ok = runScript({ argv: ["cat", marker], prelude: [`echo ran > ${shellQuote(marker)}`] });
    expect(parseExecReport(ok.stdout)).toMatchObject({ kind: "exit", code: 0 });
    const bad = runScript({ argv: ["true"], prelude: ["false", "echo never"] });
    expect(parseExecReport(bad.stdout)).toEqual({ kind: "prelude", step: "false" });
  });

  it("inheritEnv keeps the devbox's environment under the given one (an image's ENV)", () => {
    const out = join(dir, "inherit.txt");
    const r = runScript({
      argv: ["bash", "-c", 'echo "$FROM_IMAGE $GIVEN"'],
      env: { PATH: process.env.PATH ?? "", GIVEN: "given" },
      stdoutPath: out,
      inheritEnv: true,
    });
    expect(parseExecReport(r.stdout)).toMatchObject({ kind: "exit", code: 0 });
    expect(readFileSync(out, "utf8")).toBe("from-image given\n");
  });

  it("a missing working directory is a prelude failure, not the command's exit", () => {
    const r = runScript({ argv: ["true"], cwd: "/nonexistent/dir" });
    expect(parseExecReport(r.stdout)).toMatchObject({ kind: "prelude" });
  });
});

describe("parseExecReport / execResultOf", () => {
  it("is null when the wrapper never reported", () => {
    expect(parseExecReport("")).toBeNull();
    expect(parseExecReport("random output\n")).toBeNull();
  });

  it("a command that exits 124 by itself, before its deadline, did not time out", () => {
    expect(execResultOf({ code: 124, elapsedMs: 10 }, 60_000, 12)).toMatchObject({
      timedOut: false,
      exitCode: 124,
    });
    expect(execResultOf({ code: 124, elapsedMs: 10 }, null, 12)).toMatchObject({
      timedOut: false,
      exitCode: 124,
    });
  });
});

describe("task images on Runloop", () => {
  it.each([
    ["FROM ubuntu\nRUN apt-get update\n", null],
    ["FROM ubuntu\nCOPY app.py /app/\n", "COPY app.py /app/"],
    ["FROM ubuntu\n  add --chown=1 x /y\n", "add --chown=1 x /y"],
    ["FROM a AS b\nFROM ubuntu\nCOPY --from=b /x /x\n", null],
    ["FROM ubuntu\nRUN echo \\\n  COPY is text here\n", null],
  ])("buildContextInstruction(%j) = %j", (dockerfile, expected) => {
    expect(buildContextInstruction(dockerfile)).toBe(expected);
  });

  it.each([
    ["FROM x\nWORKDIR /testbed\n", "/testbed"],
    ["FROM x\nWORKDIR /a\nRUN true\nworkdir /b\n", "/b"],
    ["FROM x\nWORKDIR relative\n", null],
    ["FROM x\n", null],
  ])("dockerfileWorkdir(%j) = %j", (dockerfile, expected) => {
    expect(dockerfileWorkdir(dockerfile)).toBe(expected);
  });

  it("blueprint names follow the Dockerfile's content only", () => {
    const a = blueprintName("FROM ubuntu\n");
    expect(a).toMatch(/^rli-[0-9a-f]{20}$/);
    expect(blueprintName("FROM ubuntu\n")).toBe(a);
    expect(blueprintName("FROM debian\n")).not.toBe(a);
  });

  it("imageOf: host tasks use the default image; docker_image becomes a one-line Dockerfile", () => {
    const base = { id: "b/t" } as Task;
    expect(imageOf({ ...base, environment: { kind: "host", workdir: "/app" } })).toEqual({
      kind: "default",
    });
    expect(
      imageOf({
        ...base,
        environment: {
          kind: "image",
          workdir: "/app",
          dockerfile: null,
          dockerImage: "python:3.12",
        },
      }),
    ).toEqual({ kind: "dockerfile", dockerfile: "FROM python:3.12\n" });
    expect(
      imageOf({
        ...base,
        environment: {
          kind: "image",
          workdir: "/app",
          dockerfile: "/nonexistent/Dockerfile",
          dockerImage: null,
        },
      }),
    ).toMatchObject({
      kind: "error",
      reason: expect.stringMatching(/^cannot read \/nonexistent\/Dockerfile/),
    });
  });
});
