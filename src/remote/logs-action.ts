import { setMaxListeners } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pLimit from "p-limit";
import type { Io } from "../cli/io.js";
import { packArchive, prepareArchive, prepareDir, stagingDir } from "../cli/logs-output.js";
import { paintFor } from "../cli/output.js";
import { EXIT, UsageError } from "../core/errors.js";
import { type Redactor, redactor, scrubTree, secretValuesIn } from "../core/redact.js";
import { sanitize } from "../report/format.js";
import { sanitizeDirName } from "../report/logs-plan.js";
import type { RunloopClient } from "../runloop/client.js";
import type { ScenarioRunView } from "../runloop/schemas.js";
import type { RemoteDeps } from "./deps.js";
import { retrieveJob, scenarioRunsSettled } from "./fetch.js";
import {
  jobRuns,
  type LogTarget,
  logSources,
  planTargets,
  selectRuns,
  selectScenario,
  unnamedScenarios,
} from "./logs-plan.js";
import { errorLine } from "./messages.js";
import { extractZip, type SkippedEntry } from "./zip.js";

/** Downloads (and scenario lookups) in flight at once, as rl-cli (PR #176). */
export const LOGS_CONCURRENCY = 50;
/** Written last into a scenario directory whose run had ended: the next `logs` skips it. */
export const COMPLETE_MARKER = ".rli-complete.json";
const RESULTS_FILE = "results.json";

export interface RemoteLogsOptions {
  outputDir?: string | undefined;
  archive?: string | undefined;
  run?: string | undefined;
  scenario?: string | undefined;
  force: boolean;
  concurrency?: number;
}

type Outcome =
  | { kind: "ok"; skipped: SkippedEntry[]; resultsOnly: boolean }
  | { kind: "kept" }
  | { kind: "failed"; error: string };

async function isComplete(dir: string, scenarioRunId: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(dir, COMPLETE_MARKER), "utf8")) as unknown;
    return (
      typeof marker === "object" &&
      marker !== null &&
      (marker as { scenario_run_id?: unknown }).scenario_run_id === scenarioRunId
    );
  } catch {
    return false;
  }
}

/**
 * One scenario directory: results.json first (so it survives a failed download, as in Runloop), then the
 * run's ZIP streamed to a temporary file and extracted safely; the marker last, once the run has ended.
 */
async function writeTarget(
  client: RunloopClient,
  root: string,
  tmp: string,
  t: LogTarget,
  keepComplete: boolean,
  signal: AbortSignal,
  redact: Redactor,
): Promise<Outcome> {
  const dest = join(root, ...t.relDir.split("/"));
  try {
    if (keepComplete && t.scenarioRunId !== null && (await isComplete(dest, t.scenarioRunId))) {
      return { kind: "kept" };
    }
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true, mode: 0o700 });
    await writeFile(join(dest, RESULTS_FILE), `${JSON.stringify(t.results, null, 2)}\n`, {
      mode: 0o600,
    });
    if (t.scenarioRunId === null) return { kind: "ok", skipped: [], resultsOnly: true };
    const zip = join(tmp, `${encodeURIComponent(t.scenarioRunId)}.zip`);
    try {
      const bytes = await client.scenarios.runs.downloadLogs(t.scenarioRunId, zip, { signal });
      const extracted = await extractZip(zip, dest, {
        stripPrefix: `${t.scenarioRunId}_`,
        reserved: new Set([RESULTS_FILE, COMPLETE_MARKER]),
        signal,
      });
      // The agent's logs may hold a key: this machine's credentials and key-shaped strings are masked.
      await scrubTree(dest, redact);
      if (t.final) {
        const marker = {
          scenario_run_id: t.scenarioRunId,
          zip_bytes: bytes,
          files: extracted.files,
          bytes: extracted.bytes,
          skipped: extracted.skipped.length,
          downloaded_at: new Date().toISOString(),
        };
        await writeFile(join(dest, COMPLETE_MARKER), `${JSON.stringify(marker, null, 2)}\n`, {
          mode: 0o600,
        });
      }
      return { kind: "ok", skipped: extracted.skipped, resultsOnly: false };
    } finally {
      await rm(zip, { force: true });
    }
  } catch (err) {
    return { kind: "failed", error: errorLine(err) };
  }
}

/** Scenario names the outcomes do not give, from GET /v1/scenarios/{id}; a failed lookup keeps the id. */
async function scenarioNames(
  client: RunloopClient,
  ids: readonly string[],
  concurrency: number,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const limit = pLimit(concurrency);
  const names = new Map<string, string>();
  await Promise.all(
    ids.map((id) =>
      limit(async () => {
        try {
          names.set(id, (await client.scenarios.retrieve(id, { signal })).name);
        } catch {
          // rl-cli falls back to the id too.
        }
      }),
    ),
  );
  return names;
}

/**
 * `rli benchmark-job logs bmj_...`: Runloop's layout `<dir>/<agent>_<model>/<scenario>[-n]/` with a
 * results.json per scenario run and its logs ZIP extracted safely, 50 downloads at a time. A failure
 * is warned about and the rest go on; exit 0 only when every scenario run was written. Directories
 * already complete (a marker from an earlier run of `logs`) are kept unless --force.
 */
export async function logsRemote(
  id: string,
  opts: RemoteLogsOptions,
  io: Io,
  deps: RemoteDeps,
): Promise<number> {
  if (opts.archive !== undefined && opts.outputDir !== undefined) {
    throw new UsageError("Use either --output-dir or --archive, not both");
  }
  const concurrency = opts.concurrency ?? LOGS_CONCURRENCY;
  const client = deps.client();
  // Every download in flight listens to the interrupt (fetch, the file stream): one child signal with
  // room for them all, instead of tripping Node's leak warning on io.interrupt.
  const stop = new AbortController();
  setMaxListeners(4 * concurrency + 16, stop.signal);
  if (io.interrupt.aborted) stop.abort();
  else io.interrupt.addEventListener("abort", () => stop.abort(), { once: true });
  const signal = stop.signal;
  const redact = redactor(secretValuesIn(io.env));
  const paint = await paintFor(io, "err");
  const { view } = await retrieveJob(client, id, { signal });
  const all = jobRuns(view);
  if (all.length === 0) {
    io.err(`${paint.yellow("No benchmark runs found for this job.")}\n`);
    return EXIT.ok;
  }
  const runs = selectRuns(view.id, all, opts.run);

  io.err(paint.dim(`Fetching scenario runs for ${runs.length} agent(s) in parallel...\n`));
  const listed = await scenarioRunsSettled(
    client,
    runs.map((r) => r.benchmarkRunId),
    { signal },
  );
  let failures = 0;
  const scenarioRuns = new Map<string, ScenarioRunView[]>();
  for (const run of runs) {
    const s = listed.get(run.benchmarkRunId);
    if (s?.ok) {
      scenarioRuns.set(run.benchmarkRunId, s.value);
    } else if (s) {
      failures++;
      io.err(
        `${paint.yellow(`  Warning: failed to fetch scenario runs for agent "${sanitize(run.label)}": ${errorLine(s.error)}`)}\n`,
      );
    }
  }
  const sources = logSources(runs, scenarioRuns);
  // Checked before any lookup, so a typo fails fast.
  const picked = selectScenario(view.id, sources, opts.scenario);
  if (picked.length === 0) {
    io.err(`${paint.yellow("No scenario runs found to download logs for.")}\n`);
    return failures > 0 ? EXIT.failure : EXIT.ok;
  }
  // Every run is named and numbered before --scenario picks, so its directory does not depend on it.
  const names = await scenarioNames(client, unnamedScenarios(sources), concurrency, signal);
  const targets = selectScenario(view.id, planTargets(view.id, sources, names), opts.scenario);

  const archive = opts.archive === undefined ? null : resolve(opts.archive);
  const shown = opts.archive ?? opts.outputDir ?? `./logs/${view.id}`;
  let root: string;
  let staging: string | null = null;
  if (archive !== null) {
    await prepareArchive(archive, shown, opts.force);
    staging = await stagingDir(archive, shown);
    root = join(staging, view.id);
  } else {
    root = resolve(opts.outputDir ?? join("logs", view.id));
    await prepareDir(root, shown, opts.force, { allowNonEmpty: true });
  }
  const tmp = await mkdtemp(join(tmpdir(), "rli-logs-"));

  io.claimInterrupt("Stopping: no new downloads start; the archive, if any, is not written");
  try {
    io.err(`\nDownloading logs for ${targets.length} scenario run(s) to ${paint.bold(shown)}\n\n`);
    const limit = pLimit(concurrency);
    const keepComplete = archive === null && !opts.force;
    const started = targets.map((t) =>
      limit(async (): Promise<Outcome | null> => {
        if (signal.aborted) return null;
        return writeTarget(client, root, tmp, t, keepComplete, signal, redact);
      }),
    );
    let ok = 0;
    let interrupted = false;
    for (const [i, t] of targets.entries()) {
      const outcome = await started[i];
      const dir = t.relDir.split("/").at(-1) ?? "";
      const numbered = dir !== sanitizeDirName(t.scenarioName) ? ` → ${dir}` : "";
      const name = `${sanitize(t.run.label)} / ${sanitize(t.scenarioName)}${numbered}`;
      if (!outcome || signal.aborted) {
        interrupted = true;
        continue;
      }
      if (outcome.kind === "failed") {
        io.err(
          `${paint.yellow(`  Warning: failed to download logs for ${name} (${sanitize(t.scenarioRunId ?? "no scenario run")}): ${outcome.error}`)}\n`,
        );
        continue;
      }
      ok++;
      if (outcome.kind === "kept") {
        io.err(`${paint.dim(`  = ${name} (already downloaded; --force downloads it again)`)}\n`);
        continue;
      }
      const note = outcome.resultsOnly
        ? " (no scenario run: results.json only)"
        : t.final
          ? ""
          : " (still running: partial logs)";
      io.err(`${paint.green(`  ✓ ${name}`)}${paint.dim(note)}\n`);
      for (const s of outcome.skipped.slice(0, 5)) {
        io.err(
          `${paint.yellow(`    Warning: skipped ${sanitize(JSON.stringify(s.name))} in the log archive: ${s.reason}`)}\n`,
        );
      }
      if (outcome.skipped.length > 5) {
        io.err(
          `${paint.yellow(`    Warning: skipped ${outcome.skipped.length - 5} more entries in the log archive`)}\n`,
        );
      }
    }
    if (interrupted) {
      io.err(`Interrupted: downloaded logs for ${ok}/${targets.length} scenario run(s)\n`);
      return EXIT.interrupted;
    }
    if (archive !== null && staging !== null) await packArchive(staging, view.id, archive);
    const summary = `Downloaded logs for ${ok}/${targets.length} scenario run(s) to`;
    const whole = ok === targets.length && failures === 0;
    io.err(`\n${whole ? paint.green(summary) : paint.yellow(summary)} ${paint.bold(shown)}\n`);
    if (failures > 0) {
      io.err(
        `${paint.yellow(`Warning: the scenario runs of ${failures} agent(s) could not be listed; their logs are missing`)}\n`,
      );
    }
    return whole ? EXIT.ok : EXIT.failure;
  } finally {
    await rm(tmp, { recursive: true, force: true });
    if (staging !== null) await rm(staging, { recursive: true, force: true });
  }
}
