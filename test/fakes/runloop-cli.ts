import { parseArgs } from "node:util";
import type { Faults } from "./runloop-server.js";
import { startFakeRunloop } from "./runloop-server.js";

/**
 * The fake Runloop server as a process, for trying the CLI by hand:
 *   npx tsx test/fakes/runloop-cli.ts --port 8787 --api-key k [--fault-5xx 0.1 ...]
 * Prints the base URL on stdout and runs until SIGINT or SIGTERM, then shuts every devbox down.
 */

const USAGE = `usage: runloop-cli.ts [--port N] [--api-key KEY] [--job-step-ms N] [--provision-delay-ms N]
  [--long-poll-hold-ms N] [--real-job-devboxes] [--no-seed] [--fault-5xx P] [--fault-429 P]
  [--retry-after S] [--retry-after-ms MS] [--fault-reset P] [--fault-slow-ms MS] [--fault-slow-rate P]
  [--fault-after-commit P] [--fault-routes REGEX] [--fault-seed N]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "api-key": { type: "string", default: process.env.RUNLOOP_API_KEY ?? "rl-test-key" },
      "job-step-ms": { type: "string" },
      "provision-delay-ms": { type: "string" },
      "long-poll-hold-ms": { type: "string" },
      "real-job-devboxes": { type: "boolean", default: false },
      "no-seed": { type: "boolean", default: false },
      "fault-5xx": { type: "string" },
      "fault-429": { type: "string" },
      "retry-after": { type: "string" },
      "retry-after-ms": { type: "string" },
      "fault-reset": { type: "string" },
      "fault-slow-ms": { type: "string" },
      "fault-slow-rate": { type: "string" },
      "fault-after-commit": { type: "string" },
      "fault-routes": { type: "string" },
      "fault-seed": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (flag: keyof typeof values): number | undefined => {
    const text = values[flag];
    if (text === undefined || typeof text !== "string") return undefined;
    const n = Number(text);
    if (text === "" || !Number.isFinite(n))
      throw new Error(`--${flag} expects a number, got ${text}`);
    return n;
  };
  const faults: Faults = {};
  const set = <K extends keyof Faults>(key: K, value: Faults[K] | undefined) => {
    if (value !== undefined) faults[key] = value;
  };
  set("rate5xx", num("fault-5xx"));
  set("rate429", num("fault-429"));
  set("retryAfterSeconds", num("retry-after"));
  set("retryAfterMs", num("retry-after-ms"));
  set("resetRate", num("fault-reset"));
  set("slowMs", num("fault-slow-ms"));
  set("slowRate", num("fault-slow-rate"));
  set("afterCommitRate", num("fault-after-commit"));
  set("seed", num("fault-seed"));
  if (values["fault-routes"] !== undefined) faults.routes = new RegExp(values["fault-routes"]);

  const fake = await startFakeRunloop({
    apiKey: values["api-key"],
    port: num("port") ?? 0,
    faults,
    realJobDevboxes: values["real-job-devboxes"],
    seedDefaults: !values["no-seed"],
    ...(num("job-step-ms") !== undefined ? { jobStepMs: num("job-step-ms")! } : {}),
    ...(num("provision-delay-ms") !== undefined
      ? { provisionDelayMs: num("provision-delay-ms")! }
      : {}),
    ...(num("long-poll-hold-ms") !== undefined
      ? { longPollHoldMs: num("long-poll-hold-ms")! }
      : {}),
  });
  process.stdout.write(`${fake.baseUrl}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void fake.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`runloop-cli: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
