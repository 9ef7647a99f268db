import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { REPO_ROOT } from "./tasks.js";

/** A published schema under schema/, as committed. */
export function committedSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO_ROOT, "schema", file), "utf8")) as Record<
    string,
    unknown
  >;
}

/**
 * A published schema compiled with ajv (draft 2020-12): all errors, union types allowed, `format`
 * not asserted (ajv-formats is not installed). `strictTypes` adds ajv's strict type checks.
 */
export function schemaValidator(
  file: string,
  opts: { strictTypes?: boolean } = {},
): ValidateFunction {
  return new Ajv2020({
    allErrors: true,
    ...opts,
    allowUnionTypes: true,
    validateFormats: false,
  }).compile(committedSchema(file));
}

/** Asserts `doc` validates, showing ajv's errors when it does not. */
export function expectValid(validate: ValidateFunction, doc: unknown): void {
  const ok = validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  expect(ok).toBe(true);
}
