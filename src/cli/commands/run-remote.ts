import { EXIT, UsageError } from "../../core/errors.js";
import type { AgentRef } from "../../core/schemas.js";
import {
  buildCreateBody,
  checkRemoteAgents,
  createdLines,
  REMOTE_DEFAULT_TIMEOUT_SEC,
  resolveBenchmarkId,
  resolveRemoteSecrets,
} from "../../remote/create.js";
import { isNotFound } from "../../runloop/errors.js";
import { clientFromEnv } from "../../runloop/from-env.js";
import type { Io } from "../io.js";
import { printDocument } from "../output.js";
import type { RunFlags } from "./run.js";

export interface RemoteRunInput {
  flags: RunFlags;
  agents: AgentRef[];
  envVars: Record<string, string>;
  /** ENV_VAR → Runloop secret name (Runloop's meaning of --secrets for server-side jobs). */
  secretRefs: Record<string, string>;
  timeoutSec: number | null;
  nAttempts: number;
  nConcurrent: number;
  multiplier: number;
  metadata: Record<string, string>;
  output: "text" | "json" | "yaml";
}

/**
 * `run` as a server-side Runloop benchmark job (reference/runloop.md §1.1), with its order fixed:
 * every flag is checked and the benchmark or scenarios resolved before any secret is created, messages
 * go to stderr so `-o json` stays a document, and each agent receives only its own secrets.
 */
export async function runRemote(input: RemoteRunInput, io: Io): Promise<number> {
  const { flags, agents } = input;
  checkRemoteAgents(agents);
  const client = clientFromEnv(io.env);
  await client.ping();
  let target: Parameters<typeof buildCreateBody>[0]["target"];
  if (flags.benchmark !== undefined) {
    const benchmarkId = await resolveBenchmarkId(client, flags.benchmark);
    // A bmd_ id is taken as given: it must exist before any secret is written.
    if (flags.benchmark.startsWith("bmd_")) await client.benchmarks.retrieve(benchmarkId);
    target = { type: "benchmark", benchmarkId };
  } else {
    const ids = [...new Set(flags.scenarios ?? [])];
    await Promise.all(
      ids.map(async (id) => {
        try {
          await client.scenarios.retrieve(id);
        } catch (err) {
          if (isNotFound(err)) throw new UsageError(`Unknown Runloop scenario: ${id}`);
          throw err;
        }
      }),
    );
    target = { type: "scenarios", scenarioIds: ids };
  }
  const secrets = await resolveRemoteSecrets(client, agents, io.env, input.secretRefs, (line) =>
    io.err(`${line}\n`),
  );
  const timeoutSec = input.timeoutSec ?? REMOTE_DEFAULT_TIMEOUT_SEC;
  const body = buildCreateBody({
    name: flags.jobName,
    target,
    agents,
    secrets,
    envVars: input.envVars,
    timeoutSec,
    nAttempts: input.nAttempts,
    nConcurrentTrials: input.nConcurrent,
    timeoutMultiplier: input.multiplier,
    metadata: input.metadata,
  });
  const job = await client.benchmarkJobs.create(body);
  if (input.output === "text") io.out(createdLines(job, timeoutSec));
  else await printDocument(io, input.output, job);
  return EXIT.ok;
}
