import { type ChildProcess, spawn } from "node:child_process";
import { expect } from "vitest";
import { BIN } from "./tasks.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn the built CLI as a user would: `node bin/rli.js …`, no TTY, with the given environment. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs?: number; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    opts.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run the built-in starter benchmark with these agents into `jobsDir`; the job's id (exit 0 asserted). */
export async function runStarterJob(
  env: NodeJS.ProcessEnv,
  jobsDir: string,
  agents: readonly string[],
): Promise<string> {
  const args = ["bmj", "run", ...agents.flatMap((a) => ["--agent", a]), "--benchmark", "starter"];
  const r = await runCli([...args, "--jobs-dir", jobsDir, "-o", "json"], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

/** The environment the CLI tests run with: `home` as HOME and RLI_HOME, no colour. */
export function cliEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, RLI_HOME: home, NO_COLOR: "1" };
}

/** The one-line `Error: ...` a bad input must give: exit 2, nothing on stdout, `re` on that line. */
export function expectUsageError(r: CliResult, re: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(r.stderr).toMatch(/^Error: /);
  expect(lines[0]).toMatch(re);
}

/**
 * The variables that let npm reach its registry from this machine (a custom CA, proxies): tests that
 * install packages pass them through, as a user's shell would have them.
 */
export function registryEnv(): NodeJS.ProcessEnv {
  const names = [
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "npm_config_registry",
  ];
  return Object.fromEntries(names.flatMap((n) => (process.env[n] ? [[n, process.env[n]]] : [])));
}
