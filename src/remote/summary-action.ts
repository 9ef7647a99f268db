import type { Io } from "../cli/io.js";
import { paintFor, printDocument } from "../cli/output.js";
import { EXIT } from "../core/errors.js";
import { renderResultsTable } from "../report/text.js";
import type { RemoteDeps } from "./deps.js";
import { retrieveJob, scenarioRuns } from "./fetch.js";
import { activeRuns, jobProgress } from "./progress.js";
import { progressText } from "./progress-text.js";
import { resultsTableInput } from "./results.js";

export interface RemoteSummaryOptions {
  output: "text" | "json" | "yaml";
  extended: boolean;
  nowMs?: number;
}

/**
 * `rli benchmark-job summary bmj_...`: `-o json|yaml` prints the server's BenchmarkJobView as received;
 * text is Runloop's results table (with `-e` a line per scenario outcome) for an ended job, and its
 * progress (then the table of the runs finished so far) for a running one.
 */
export async function summaryRemote(
  id: string,
  opts: RemoteSummaryOptions,
  io: Io,
  deps: RemoteDeps,
): Promise<number> {
  const client = deps.client();
  const job = await retrieveJob(client, id, { signal: io.interrupt });
  if (opts.output !== "text") {
    await printDocument(io, opts.output, job.raw);
    return EXIT.ok;
  }
  const paint = await paintFor(io, "out");
  const table = () => renderResultsTable(resultsTableInput(job.view), paint, opts.extended);
  const runs = activeRuns(job.view).map((r) => r.benchmark_run_id);
  const progress = jobProgress(job.view, new Map());
  if (progress.final) {
    io.out(table());
    return EXIT.ok;
  }
  const live = jobProgress(job.view, await scenarioRuns(client, runs, { signal: io.interrupt }));
  let text = progressText(live, opts.nowMs ?? Date.now(), paint);
  if ((job.view.benchmark_outcomes ?? []).length > 0)
    text += `\n${paint.dim("So far:")}\n${table()}`;
  io.out(text);
  return EXIT.ok;
}
