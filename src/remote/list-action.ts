import pLimit from "p-limit";
import type { Io } from "../cli/io.js";
import { paintFor, printDocument } from "../cli/output.js";
import { EXIT } from "../core/errors.js";
import { listTable } from "../report/list-table.js";
import type { ScenarioRunView } from "../runloop/schemas.js";
import type { RemoteDeps } from "./deps.js";
import { listJobs, type RawJob, scenarioRuns } from "./fetch.js";
import { normalState, remoteListRow } from "./list.js";
import { errorLine } from "./messages.js";
import { activeRuns } from "./progress.js";
import { isJobFinal } from "./states.js";

const DAY_MS = 86_400_000;

/** Running jobs whose scenario runs are fetched at once (for DONE, ERRORS and SCORE). */
const JOB_CONCURRENCY = 8;

export interface RemoteListOptions {
  output: "text" | "json" | "yaml";
  days: number;
  all: boolean;
  /** Lowercase, `cancelled` spelled with two l; null: every state. */
  statuses: ReadonlySet<string> | null;
  /** Case-insensitive substring of the job name. */
  name?: string | undefined;
  nowMs?: number;
  width?: number;
}

/**
 * `rli benchmark-job list --remote`: Runloop's jobs of the last `days` days (all with `all`), pages of 100
 * newest first, stopping at the first job older than the cutoff; filtered by state and name; listed
 * oldest first. `-o json|yaml` prints the server's BenchmarkJobViews as received.
 */
export async function listRemote(
  opts: RemoteListOptions,
  io: Io,
  deps: RemoteDeps,
): Promise<number> {
  const client = deps.client();
  const nowMs = opts.nowMs ?? Date.now();
  const cutoffMs = opts.all ? null : nowMs - opts.days * DAY_MS;
  const name = opts.name?.toLowerCase();
  const jobs: RawJob[] = [];
  let olderExist = false;
  for await (const job of listJobs(client, { search: opts.name, signal: io.interrupt })) {
    const view = job.view;
    if (cutoffMs !== null && view.create_time_ms < cutoffMs) {
      olderExist = true;
      break;
    }
    if (opts.statuses !== null && !opts.statuses.has(normalState(view.state))) continue;
    if (name !== undefined && !view.name.toLowerCase().includes(name)) continue;
    jobs.push(job);
  }
  jobs.sort((a, b) => a.view.create_time_ms - b.view.create_time_ms || (a.id < b.id ? -1 : 1));

  if (opts.output !== "text") {
    await printDocument(
      io,
      opts.output,
      jobs.map((j) => j.raw),
    );
    return EXIT.ok;
  }
  const limit = pLimit(JOB_CONCURRENCY);
  const rows = await Promise.all(
    jobs.map((j) =>
      limit(async () => {
        const ids = isJobFinal(j.view.state)
          ? []
          : activeRuns(j.view).map((r) => r.benchmark_run_id);
        let runs = new Map<string, ScenarioRunView[]>();
        try {
          if (ids.length > 0) runs = await scenarioRuns(client, ids, { signal: io.interrupt });
        } catch (err) {
          if (io.interrupt.aborted) throw err;
          io.err(
            `Warning: the scenario runs of ${j.id} could not be listed (${errorLine(err)}); its DONE, ERRORS and SCORE count finished runs only\n`,
          );
        }
        return remoteListRow(j.view, runs);
      }),
    ),
  );
  const width = opts.width ?? process.stdout.columns ?? io.stderrColumns;
  io.out(listTable(rows, { nowMs, width, paint: await paintFor(io, "out") }));
  if (rows.length === 0 && olderExist) {
    io.err(
      `Hint: older jobs exist; use --all or --days <n> to include jobs older than ${opts.days} day${opts.days === 1 ? "" : "s"}\n`,
    );
  }
  return EXIT.ok;
}
