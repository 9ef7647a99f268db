import type { AgentRef, JobDoc } from "../../src/core/schemas.js";

/** A finished job doc named "nightly" over one scenario, for report tests. */
export function makeJob(agents: AgentRef[], over: Partial<JobDoc> = {}): JobDoc {
  return {
    schema_version: 1,
    id: "job_20240501_120000_abcdef",
    created_at: "2024-05-01T12:00:00.000Z",
    spec: {
      name: "nightly",
      benchmark: { kind: "builtin", source: "starter" },
      scenarios: [{ id: "b/s", name: "s", path: "/p", digest: `sha256:${"0".repeat(64)}` }],
      agents,
      n_attempts: 1,
      n_concurrent_trials: 2,
      timeout_sec: null,
      timeout_multiplier: 1,
      env_vars: {},
      secrets: {},
      metadata: {},
      backend: "local",
      sandbox: "none",
    },
    state: "completed",
    finished_at: "2024-05-01T12:10:00.000Z",
    failure_reason: null,
    runner: { pid: 1, hostname: "h", rli_version: "0.1.0" },
    ...over,
  };
}
