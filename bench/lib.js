// Helpers shared by the benchmark scripts. Benchmarks import the built output (../dist), so run
// `npm run build` first (or `npm run bench`, which builds and runs them all).
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Fail with a clear message when dist/ is missing instead of an ERR_MODULE_NOT_FOUND trace. */
export function requireBuild() {
  if (!existsSync(join(ROOT, "dist", "orchestrator", "job.js"))) {
    console.error("dist/ is missing: run `npm run build` first");
    process.exit(1);
  }
}

/** A fresh scratch directory, on tmpfs (/dev/shm) when the machine has one so disk latency stays out. */
export function scratchDir(prefix) {
  let base = tmpdir();
  try {
    if (statSync("/dev/shm").isDirectory()) base = "/dev/shm";
  } catch {
    // no /dev/shm: the OS temp dir
  }
  return mkdtempSync(join(base, `rli-bench-${prefix}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

export const ms = (v, digits = 1) => `${v.toFixed(digits)} ms`;
export const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** "target ≤ 1.02: OK" / "target ≤ 1.02: MISSED". Printed only; a miss never changes the exit code. */
export function verdict(value, limit, unit = "") {
  return `target ≤ ${limit}${unit}: ${value <= limit ? "OK" : "MISSED"}`;
}

/** Seeded PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JobSpec (src/core/schemas.ts) for tasks and agents, with the CLI's defaults. */
export function jobSpec({ name, tasks, agents, concurrency, benchmark }) {
  return {
    name,
    benchmark,
    scenarios: tasks.map((t) => ({ id: t.id, name: t.name, path: t.dir, digest: t.digest })),
    agents,
    n_attempts: 1,
    n_concurrent_trials: concurrency,
    timeout_sec: null,
    timeout_multiplier: 1,
    env_vars: {},
    secrets: {},
    metadata: {},
    backend: "local",
    sandbox: "bubblewrap",
  };
}
