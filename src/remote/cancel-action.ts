import pLimit from "p-limit";
import type { Io } from "../cli/io.js";
import { paintFor } from "../cli/output.js";
import { EXIT } from "../core/errors.js";
import { sanitize } from "../report/format.js";
import type { RunloopClient } from "../runloop/client.js";
import type { RemoteDeps } from "./deps.js";
import { retrieveJob } from "./fetch.js";
import { errorLine } from "./messages.js";
import { activeRuns, runAgent } from "./progress.js";
import { isJobFinal, isRunFinal } from "./states.js";

const CANCEL_CONCURRENCY = 16;

type Cancelled = { ok: true; state: string; already: boolean } | { ok: false; error: string };

/** Cancel one run; a run that ended meanwhile (the cancel fails, a GET says it is final) counts as done. */
async function cancelRun(
  client: RunloopClient,
  runId: string,
  signal: AbortSignal,
): Promise<Cancelled> {
  try {
    const run = await client.benchmarkRuns.cancel(runId, { signal });
    return { ok: true, state: run.state ?? "canceled", already: false };
  } catch (err) {
    try {
      const run = await client.benchmarkRuns.retrieve(runId, { signal });
      if (isRunFinal(run.state)) return { ok: true, state: run.state ?? "", already: true };
    } catch {
      // Report the cancel's own error.
    }
    return { ok: false, error: errorLine(err) };
  }
}

/**
 * `rli benchmark-job cancel bmj_...`: Runloop has no endpoint to cancel a job, so every in-progress
 * benchmark run of it is cancelled (POST /v1/benchmark_runs/{id}/cancel), one line per run on stdout.
 * Exit 0 when every run was cancelled (or the job had already ended), 1 otherwise.
 */
export async function cancelRemote(id: string, io: Io, deps: RemoteDeps): Promise<number> {
  const client = deps.client();
  const signal = io.interrupt;
  const paint = await paintFor(io, "err");
  const { view } = await retrieveJob(client, id, { signal });
  if (isJobFinal(view.state)) {
    io.err(`Benchmark job ${view.id} already ended (${sanitize(view.state)}); nothing to cancel\n`);
    return EXIT.ok;
  }
  const runs = activeRuns(view).filter((r) => !isRunFinal(r.state));
  if (runs.length === 0) {
    io.err(
      `${paint.red(`Benchmark job ${view.id} is ${sanitize(view.state)} but has no benchmark run in progress to cancel yet, and Runloop cannot cancel a job itself; try again once its runs start`)}\n`,
    );
    return EXIT.failure;
  }
  io.err(`Cancelling ${runs.length} benchmark run(s) of job ${view.id}\n`);
  const limit = pLimit(CANCEL_CONCURRENCY);
  const results = await Promise.all(
    runs.map((r) => limit(() => cancelRun(client, r.benchmark_run_id, signal))),
  );
  let ok = 0;
  for (const [i, r] of runs.entries()) {
    const result = results[i] as Cancelled;
    const { agent, model } = runAgent(r);
    const who = sanitize(model === null ? agent : `${agent}:${model}`);
    if (result.ok) {
      ok++;
      const what = result.already
        ? `already ${sanitize(result.state)}`
        : `cancelled (${sanitize(result.state)})`;
      io.out(`${r.benchmark_run_id} ${who}: ${what}\n`);
    } else {
      io.err(
        `${paint.yellow(`Warning: failed to cancel benchmark run ${r.benchmark_run_id} (${who}): ${result.error}`)}\n`,
      );
    }
  }
  const line = `Cancelled ${ok}/${runs.length} benchmark run(s) of job ${view.id}`;
  io.err(`${ok === runs.length ? paint.green(line) : paint.yellow(line)}\n`);
  return ok === runs.length ? EXIT.ok : EXIT.failure;
}
