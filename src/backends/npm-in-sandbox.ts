import { npmReason } from "../agents/install.js";
import { type Sandbox, SandboxError } from "./types.js";

const LOG = "/logs/agent/npm-install.log";

/**
 * `npm install --prefix <root> <name>@<version>` inside a sandbox (a devbox, a musl container), for
 * when the host's agent cache cannot be used there. The log goes to /logs/agent/npm-install.log; a
 * failure is a SandboxError naming `where` and npm's own reason.
 */
export async function npmInstallIn(
  box: Sandbox,
  pkg: { name: string; version: string },
  root: string,
  where: string,
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  const result = await box.exec({
    argv: [
      "npm",
      "install",
      "--prefix",
      root,
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--loglevel=error",
      `${pkg.name}@${pkg.version}`,
    ],
    env: { ...env, npm_config_update_notifier: "false" },
    timeoutMs: 600_000,
    graceMs: 5000,
    network: true,
    stdoutPath: LOG,
    stderrPath: LOG,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode === 0) return;
  const last = npmReason((await box.readFile(LOG)) ?? "");
  const why = result.timedOut ? "timed out" : `exited with ${result.exitCode ?? result.signal}`;
  throw new SandboxError(
    `npm install ${pkg.name}@${pkg.version} ${where} ${why}${last ? `: ${last}` : " (does the image have npm?)"}`,
  );
}
