import { UsageError } from "../core/errors.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Set a key as an own data property, so names such as `constructor` or `__proto__` stay plain data. */
function setOwn(out: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A whole number ≥ 1, e.g. --n-attempts. */
export function positiveInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  }
  return Number(value);
}

/** An integer in [0, max], e.g. --max-retries. */
export function boundedCount(flag: string, value: string, max: number): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n > max) {
    throw new UsageError(`${flag} must be an integer from 0 to ${max}, got "${value}"`);
  }
  return n;
}

/** A finite number > 0, e.g. --timeout or --timeout-multiplier. */
export function positiveNumber(flag: string, value: string): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive number, got "${value}"`);
  }
  return n;
}

/** `KEY=value` pairs split at the first `=`, keys valid env var names, no duplicates. */
export function envPairs(
  values: readonly string[],
  what: "env" | "secret",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? "" : v.slice(0, eq);
    const val = eq === -1 ? "" : v.slice(eq + 1);
    if (eq === -1 || !ENV_NAME.test(key) || (what === "secret" && !ENV_NAME.test(val))) {
      throw new UsageError(
        what === "env"
          ? `Invalid environment variable format: ${v}. Expected KEY=value (KEY a valid variable name)`
          : `Invalid secret format: ${v}. Expected ENV_VAR=SECRET_NAME (both valid variable names)`,
      );
    }
    if (Object.hasOwn(out, key))
      throw new UsageError(
        `Duplicate ${what === "env" ? "environment variable" : "secret"}: ${key}`,
      );
    setOwn(out, key, val);
  }
  return out;
}

/** `--metadata key=value`, repeatable; Runloop rejects a missing `=`, an empty key and duplicates. */
export function metadataPairs(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq === -1) throw new UsageError(`Invalid metadata format: "${v}". Expected key=value`);
    const key = v.slice(0, eq).trim();
    if (key === "")
      throw new UsageError(`Invalid metadata format: "${v}". The key must not be empty`);
    if (Object.hasOwn(out, key)) throw new UsageError(`Duplicate metadata key: ${key}`);
    setOwn(out, key, v.slice(eq + 1));
  }
  return out;
}

export const OUTPUT_FORMATS = ["text", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `summary` also writes JUnit XML (one testcase per trial) and Markdown (a CI step summary). */
export const SUMMARY_FORMATS = [...OUTPUT_FORMATS, "junit", "markdown"] as const;
export type SummaryFormat = (typeof SUMMARY_FORMATS)[number];

export function outputFormat(value: string): OutputFormat;
export function outputFormat<T extends string>(value: string, allowed: readonly T[]): T;
export function outputFormat(value: string, allowed: readonly string[] = OUTPUT_FORMATS): string {
  if (!allowed.includes(value)) {
    throw new UsageError(`Unknown output format: ${value}. Valid options: ${allowed.join(", ")}`);
  }
  return value;
}

/** A score threshold in [0, 1], e.g. --fail-under. */
export function unitScore(flag: string, value: string): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`${flag} must be a score from 0 to 1, got "${value}"`);
  }
  return n;
}

/** A bootstrap seed: an integer from 0 to 2^32 − 1. */
export function seedOf(flag: string, value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n > 0xffffffff) {
    throw new UsageError(`${flag} must be an integer from 0 to 4294967295, got "${value}"`);
  }
  return n;
}

export function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}
