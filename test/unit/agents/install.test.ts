import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  agentCacheDir,
  ensureInstalled,
  type InstallOptions,
  installDir,
  type NpmPackage,
  npmReason,
} from "../../../src/agents/install.js";
import { AgentSetupError } from "../../../src/agents/types.js";
import { SandboxError } from "../../../src/backends/types.js";
import { rejectedWith } from "../../helpers/errors.js";
import { exists, readJson } from "../../helpers/files.js";
import { tempDir } from "../../helpers/tasks.js";

// npm 10/11 as it prints each failure with --loglevel=error (lib/utils/output-error.js: the error's
// code, syscall, path, errno first, then its summary, then the detail).
const LOG_404 = `npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/rli-no-such-agent - Not found
npm error 404
npm error 404  'rli-no-such-agent@1.0.0' is not in this registry.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /root/.npm/_logs/2025-05-01T12_00_00_000Z-debug-0.log
`;
const LOG_NOTARGET = `npm error code ETARGET
npm error notarget No matching version found for cowsay@9.9.9.
npm error notarget In most cases you or one of your dependencies are requesting
npm error notarget a package version that doesn't exist.
npm error A complete log of this run can be found in: /root/.npm/_logs/2025-05-01T12_00_00_000Z-debug-0.log
`;
const LOG_ENOTFOUND = `npm error code ENOTFOUND
npm error syscall getaddrinfo
npm error errno ENOTFOUND
npm error network request to https://registry.npmjs.org/cowsay failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org
npm error network This is a problem related to network connectivity.
npm error network In most cases you are behind a proxy or have bad network settings.
npm error network
npm error network If you are behind a proxy, please make sure that the
npm error network 'proxy' config is set properly.  See: 'npm help config'
npm error A complete log of this run can be found in: /root/.npm/_logs/2025-05-01T12_00_00_000Z-debug-0.log
`;
const LOG_EACCES = `npm error code EACCES
npm error syscall mkdir
npm error path /root/.npm/_cacache/index-v5/1f
npm error errno -13
npm error Error: EACCES: permission denied, mkdir '/root/.npm/_cacache/index-v5/1f'
npm error
npm error The operation was rejected by your operating system.
npm error A complete log of this run can be found in: /root/.npm/_logs/2025-05-01T12_00_00_000Z-debug-0.log
`;
// npm 6-9 wrote "npm ERR!" and put the log path on a line of its own.
const LOG_OLD_404 = `npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/rli-no-such-agent - Not found
npm ERR! 404
npm ERR! 404  'rli-no-such-agent@1.0.0' is not in this registry.
npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2023-05-01T12_00_00_000Z-debug-0.log
`;

/**
 * A fake npm: appends its argv as a JSON line to $FAKE_NPM_CALLS, then acts by $FAKE_NPM_MODE:
 * `ok` installs <prefix>/node_modules/<name>/package.json, `fail` prints $FAKE_NPM_LOG to stderr and
 * exits 1, `sleep` waits $FAKE_NPM_SLEEP_MS then installs, `race` installs into the final directory
 * first (another process winning) and then into its own prefix.
 */
const FAKE_NPM = `#!${process.execPath}
const fs = require("node:fs");
const path = require("node:path");
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_NPM_CALLS, JSON.stringify(args) + "\\n");
const prefix = args[args.indexOf("--prefix") + 1];
const spec = args[args.length - 1];
const at = spec.lastIndexOf("@");
const name = spec.slice(0, at);
const version = spec.slice(at + 1);
const put = (root, who) => {
  const dir = path.join(root, "node_modules", name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version, who }));
};
const mode = process.env.FAKE_NPM_MODE;
if (mode === "fail") {
  process.stderr.write(process.env.FAKE_NPM_LOG);
  process.exit(1);
} else if (mode === "sleep") {
  setTimeout(() => put(prefix, "me"), Number(process.env.FAKE_NPM_SLEEP_MS));
} else if (mode === "race") {
  const final = prefix.replace(/\\.tmp-[0-9a-f]+$/, "");
  put(final, "other");
  fs.writeFileSync(path.join(final, ".rli-installed.json"), JSON.stringify({ name, version }));
  put(prefix, "me");
} else {
  put(prefix, "me");
}
`;

const PKG: NpmPackage = { name: "@acme/agent-cli", version: "1.2.3" };
const MARKER = ".rli-installed.json";

let root: string;
let cleanup: () => Promise<void>;
let cache: string;
let npm: string;
let calls: string;

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir("rli-install-"));
  cache = join(root, "cache");
  npm = join(root, "npm");
  calls = join(root, "calls.jsonl");
  await writeFile(npm, FAKE_NPM);
  await chmod(npm, 0o755);
});

afterEach(async () => {
  await cleanup();
});

/** Install options running the fake npm in `mode`; each test uses its own cache, so no shared state. */
function opts(mode: string, extra: Record<string, string> = {}): InstallOptions {
  return {
    cacheDir: cache,
    npm,
    env: {
      PATH: process.env.PATH ?? "",
      FAKE_NPM_CALLS: calls,
      FAKE_NPM_MODE: mode,
      ...extra,
    },
  };
}

/** The argv of every fake npm run so far. */
async function npmRuns(): Promise<string[][]> {
  const text = await readFile(calls, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as string[]);
}

describe("agentCacheDir", () => {
  it("agentCacheDir prefers RLI_AGENT_CACHE over XDG_CACHE_HOME", () => {
    expect(agentCacheDir({ RLI_AGENT_CACHE: "/c/rli", XDG_CACHE_HOME: "/c/xdg" })).toBe("/c/rli");
  });

  it("agentCacheDir uses XDG_CACHE_HOME/rli/agents without RLI_AGENT_CACHE", () => {
    expect(agentCacheDir({ XDG_CACHE_HOME: "/c/xdg" })).toBe("/c/xdg/rli/agents");
  });

  it("agentCacheDir falls back to ~/.cache/rli/agents", () => {
    expect(agentCacheDir({})).toBe(join(homedir(), ".cache", "rli", "agents"));
  });

  it("agentCacheDir treats empty variables as unset", () => {
    expect(agentCacheDir({ RLI_AGENT_CACHE: "", XDG_CACHE_HOME: "" })).toBe(
      join(homedir(), ".cache", "rli", "agents"),
    );
  });
});

describe("installDir", () => {
  it("installDir is <cache>/<name>@<version>", () => {
    expect(installDir("/c", { name: "cowsay", version: "1.6.0" })).toBe("/c/cowsay@1.6.0");
  });

  it("installDir makes a scoped name one safe path segment", () => {
    expect(installDir("/c", PKG)).toBe("/c/_acme_agent-cli@1.2.3");
    expect(installDir("/c", { name: "@anthropic-ai/claude-code", version: "2.1.332" })).toBe(
      "/c/_anthropic-ai_claude-code@2.1.332",
    );
  });
});

describe("npmReason", () => {
  it.each([
    [
      "a missing package (E404)",
      LOG_404,
      "404 Not Found - GET https://registry.npmjs.org/rli-no-such-agent - Not found",
    ],
    [
      "a missing version (ETARGET)",
      LOG_NOTARGET,
      "notarget No matching version found for cowsay@9.9.9.",
    ],
    [
      "npm 6-9's npm ERR! prefix",
      LOG_OLD_404,
      "404 Not Found - GET https://registry.npmjs.org/rli-no-such-agent - Not found",
    ],
  ])("npmReason picks npm's summary line for %s", (_what, log, reason) => {
    expect(npmReason(log)).toBe(reason);
  });

  // BUG: npm prints `syscall`, `file`, `path` and `dest` lines between `code` and `errno`, before the
  // summary; npmReason skips only `code` and `errno`, so these failures read "syscall getaddrinfo" and
  // "syscall mkdir".
  it.each([
    [
      "no network (ENOTFOUND)",
      LOG_ENOTFOUND,
      "network request to https://registry.npmjs.org/cowsay failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org",
    ],
    [
      "a permission error (EACCES)",
      LOG_EACCES,
      "Error: EACCES: permission denied, mkdir '/root/.npm/_cacache/index-v5/1f'",
    ],
  ])("npmReason skips npm's syscall/path fields for %s", (_what, log, reason) => {
    expect(npmReason(log)).toBe(reason);
  });

  it("npmReason falls back to the last line of output that is not npm's", () => {
    expect(npmReason("fetching\nsh: 1: node-gyp: not found\n\n")).toBe(
      "sh: 1: node-gyp: not found",
    );
  });

  it("npmReason of no output is empty", () => {
    expect(npmReason("")).toBe("");
    expect(npmReason("\n  \n")).toBe("");
  });
});

describe("ensureInstalled", () => {
  it("ensureInstalled installs into <cache>/<name>@<version> with a marker, via npm install --prefix", async () => {
    const r = await ensureInstalled(PKG, opts("ok"));
    const dir = join(cache, "_acme_agent-cli@1.2.3");
    expect(r.dir).toBe(dir);
    expect(r.installed).toBe(true);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(await readJson(join(dir, MARKER))).toEqual(PKG);
    expect(await readJson(join(dir, "node_modules/@acme/agent-cli/package.json"))).toMatchObject({
      name: "@acme/agent-cli",
      version: "1.2.3",
    });
    const runs = await npmRuns();
    expect(runs).toHaveLength(1);
    const [args] = runs as [string[]];
    expect(args).toEqual([
      "install",
      "--prefix",
      expect.stringMatching(/\/_acme_agent-cli@1\.2\.3\.tmp-[0-9a-f]{8}$/),
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--loglevel=error",
      "@acme/agent-cli@1.2.3",
    ]);
    // Nothing but the install is left in the cache: the temporary directory was renamed.
    expect(await readdir(cache)).toEqual(["_acme_agent-cli@1.2.3"]);
  });

  it("ensureInstalled in the same process returns the first install without running npm again", async () => {
    const first = await ensureInstalled(PKG, opts("ok"));
    const second = await ensureInstalled(PKG, opts("ok"));
    expect(second).toEqual(first);
    expect(await npmRuns()).toHaveLength(1);
  });

  it("ensureInstalled in another process is a cache hit: installed false, npm not run", async () => {
    await ensureInstalled(PKG, opts("ok"));
    vi.resetModules();
    const other = await import("../../../src/agents/install.js");
    const r = await other.ensureInstalled(PKG, opts("ok"));
    expect(r).toEqual({
      dir: join(cache, "_acme_agent-cli@1.2.3"),
      installed: false,
      durationMs: expect.any(Number),
    });
    expect(await npmRuns()).toHaveLength(1);
  });

  it("ensureInstalled runs npm once for concurrent calls", async () => {
    const o = opts("sleep", { FAKE_NPM_SLEEP_MS: "300" });
    const results = await Promise.all([
      ensureInstalled(PKG, o),
      ensureInstalled(PKG, o),
      ensureInstalled(PKG, o),
    ]);
    expect(new Set(results.map((r) => r.dir)).size).toBe(1);
    expect(results.every((r) => r.installed)).toBe(true);
    expect(await npmRuns()).toHaveLength(1);
  });

  it("ensureInstalled installs different versions into different directories", async () => {
    const a = await ensureInstalled({ name: "cowsay", version: "1.5.0" }, opts("ok"));
    const b = await ensureInstalled({ name: "cowsay", version: "1.6.0" }, opts("ok"));
    expect([a.dir, b.dir]).toEqual([join(cache, "cowsay@1.5.0"), join(cache, "cowsay@1.6.0")]);
    expect(await npmRuns()).toHaveLength(2);
  });

  it("ensureInstalled fails with AgentSetupError and npm's reason, leaving no directory", async () => {
    const err = await rejectedWith(
      AgentSetupError,
      ensureInstalled(
        { name: "rli-no-such-agent", version: "1.0.0" },
        opts("fail", { FAKE_NPM_LOG: LOG_404 }),
      ),
    );
    expect(err.message).toBe(
      "npm install rli-no-such-agent@1.0.0 exited with 1: 404 Not Found - GET https://registry.npmjs.org/rli-no-such-agent - Not found",
    );
    expect(await readdir(cache)).toEqual([]);
  });

  it("ensureInstalled reports a missing version with npm's notarget line", async () => {
    const err = await rejectedWith(
      AgentSetupError,
      ensureInstalled(
        { name: "cowsay", version: "9.9.9" },
        opts("fail", { FAKE_NPM_LOG: LOG_NOTARGET }),
      ),
    );
    expect(err.message).toBe(
      "npm install cowsay@9.9.9 exited with 1: notarget No matching version found for cowsay@9.9.9.",
    );
  });

  it("ensureInstalled retries after a failed install", async () => {
    await rejectedWith(
      AgentSetupError,
      ensureInstalled(PKG, opts("fail", { FAKE_NPM_LOG: LOG_404 })),
    );
    const r = await ensureInstalled(PKG, opts("ok"));
    expect(r.installed).toBe(true);
    expect(await exists(join(r.dir, MARKER))).toBe(true);
    expect(await npmRuns()).toHaveLength(2);
  });

  it("ensureInstalled says an install timed out and leaves no directory", async () => {
    const err = await rejectedWith(
      AgentSetupError,
      ensureInstalled(PKG, { ...opts("sleep", { FAKE_NPM_SLEEP_MS: "10000" }), timeoutMs: 300 }),
    );
    expect(err.message).toBe("npm install @acme/agent-cli@1.2.3 timed out");
    expect(await readdir(cache)).toEqual([]);
  });

  it("ensureInstalled says an install was cancelled", async () => {
    const ac = new AbortController();
    const p = ensureInstalled(PKG, {
      ...opts("sleep", { FAKE_NPM_SLEEP_MS: "10000" }),
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 200);
    const err = await rejectedWith(AgentSetupError, p);
    expect(err.message).toBe("npm install @acme/agent-cli@1.2.3 was cancelled");
    expect(await readdir(cache)).toEqual([]);
  });

  it("ensureInstalled without npm rejects with SandboxError and leaves no directory", async () => {
    const err = await rejectedWith(
      SandboxError,
      ensureInstalled(PKG, { ...opts("ok"), npm: join(root, "no-npm") }),
    );
    expect(err.message).toMatch(/^cannot start .*\/no-npm: .*ENOENT/);
    expect(await readdir(cache)).toEqual([]);
  });

  it("ensureInstalled replaces a stale incomplete directory (no marker)", async () => {
    const dir = installDir(cache, PKG);
    await mkdir(join(dir, "node_modules", "half"), { recursive: true });
    await writeFile(join(dir, "node_modules", "half", "index.js"), "partial");
    const r = await ensureInstalled(PKG, opts("ok"));
    expect(r).toMatchObject({ dir, installed: true });
    expect(await npmRuns()).toHaveLength(1);
    expect(await readJson(join(dir, MARKER))).toEqual(PKG);
    expect(await exists(join(dir, "node_modules", "half"))).toBe(false);
    expect(await readdir(cache)).toEqual(["_acme_agent-cli@1.2.3"]);
  });

  it("ensureInstalled replaces an empty stale directory", async () => {
    const dir = installDir(cache, PKG);
    await mkdir(dir, { recursive: true });
    const r = await ensureInstalled(PKG, opts("ok"));
    expect(r.installed).toBe(true);
    expect(await readJson(join(dir, MARKER))).toEqual(PKG);
  });

  it("ensureInstalled reinstalls when the marker names another version", async () => {
    const dir = installDir(cache, PKG);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, MARKER), JSON.stringify({ name: PKG.name, version: "0.0.1" }));
    const r = await ensureInstalled(PKG, opts("ok"));
    expect(r.installed).toBe(true);
    expect(await readJson(join(dir, MARKER))).toEqual(PKG);
    expect(await npmRuns()).toHaveLength(1);
  });

  it("ensureInstalled keeps another installer's finished copy when it lost the race", async () => {
    const r = await ensureInstalled(PKG, opts("race"));
    expect(r).toMatchObject({ dir: installDir(cache, PKG), installed: true });
    const installed = await readJson<{ who: string }>(
      join(r.dir, "node_modules/@acme/agent-cli/package.json"),
    );
    expect(installed.who).toBe("other");
    // Our own copy is gone.
    expect(await readdir(cache)).toEqual(["_acme_agent-cli@1.2.3"]);
  });
});
