import type { Usage } from "./schemas.js";

// Values shared by the schemas and by code that must not load zod (the read-only commands).

/** Version of every document the store persists; bump with a migration when a shape changes. */
export const SCHEMA_VERSION = 1;

export const TRIAL_STATUSES = [
  "passed",
  "failed",
  "agent_timeout",
  "agent_error",
  "infra_error",
  "verifier_error",
  "cancelled",
] as const;

/** Phases of a trial, in the order they run. */
export const PHASES = [
  "provision",
  "agent_setup",
  "agent_run",
  "upload_tests",
  "verify",
  "collect",
  "teardown",
] as const;

export const JOB_STATES = ["running", "completed", "failed", "cancelled"] as const;

export const UNKNOWN_USAGE: Usage = Object.freeze({
  input_tokens: null,
  cache_read_tokens: null,
  cache_write_tokens: null,
  output_tokens: null,
  cost_usd: null,
  cost_source: "unknown",
});
