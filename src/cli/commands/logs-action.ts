import { copyFile, lstat, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, normalize, resolve, sep } from "node:path";
import pLimit from "p-limit";
import { EXIT, errorMessage, UsageError } from "../../core/errors.js";
import { sanitize } from "../../report/format.js";
import { type LogTarget, planLogs, resultsJsonText } from "../../report/logs-plan.js";
import { trialDir } from "../../store/paths.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJob } from "../job-context.js";
import { packArchive, prepareArchive, prepareDir, stagingDir } from "../logs-output.js";
import { paintFor } from "../output.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import type { LogsFlags } from "./logs.js";

/** Local disk: a few copies at once are enough to hide per-file latency. */
const CONCURRENCY = 8;

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function trialDirNames(jobDir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(join(jobDir, "trials"), { withFileTypes: true });
    return new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  } catch (err) {
    if (code(err) === "ENOENT") return new Set();
    throw err;
  }
}

/**
 * Copy the directories and regular files under `src` into `dest` (which exists), keeping nested paths.
 * Symlinks and special files are never followed or copied; their paths go to `skipped`. With `racy`
 * (a trial still running) files that vanish mid-copy are ignored.
 */
async function copyTree(
  src: string,
  dest: string,
  rel: string,
  skipped: string[],
  racy: boolean,
): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(src, { withFileTypes: true });
  } catch (err) {
    if (racy && code(err) === "ENOENT") return;
    throw err;
  }
  for (const e of entries) {
    const from = join(src, e.name);
    const to = join(dest, e.name);
    const relPath = rel === "" ? e.name : `${rel}/${e.name}`;
    try {
      if (e.isDirectory()) {
        await mkdir(to, { mode: 0o700 });
        await copyTree(from, to, relPath, skipped, racy);
      } else if (e.isFile()) {
        await copyFile(from, to);
      } else {
        skipped.push(relPath);
      }
    } catch (err) {
      if (racy && code(err) === "ENOENT") continue;
      throw err;
    }
  }
}

interface Outcome {
  ok: boolean;
  skipped: string[];
  error?: string;
}

/** results.json first (so it survives a failed copy, as in Runloop), then the trial's logs. */
async function writeTarget(
  jobDir: string,
  root: string,
  t: LogTarget,
  replace: boolean,
): Promise<Outcome> {
  const skipped: string[] = [];
  try {
    const dest = join(root, ...t.relDir.split("/"));
    if (replace) await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true, mode: 0o700 });
    await writeFile(join(dest, "results.json"), resultsJsonText(t.results), { mode: 0o600 });
    const trial = trialDir(jobDir, t.trialId);
    const logs = join(trial, normalize(t.logsDir));
    if (logs !== trial && !logs.startsWith(trial + sep)) {
      throw new Error(`its logs_dir ${t.logsDir} is outside the trial directory`);
    }
    let kind: "dir" | "none" | "other" = "none";
    try {
      const [trialStat, logsStat] = [await lstat(trial), await lstat(logs)];
      kind = trialStat.isDirectory() && logsStat.isDirectory() ? "dir" : "other";
    } catch (err) {
      if (code(err) !== "ENOENT") throw err;
    }
    if (kind === "other") skipped.push(t.logsDir);
    if (kind === "dir") await copyTree(logs, dest, "", skipped, t.progress === "running");
    return { ok: true, skipped };
  } catch (err) {
    return { ok: false, skipped, error: errorMessage(err) };
  }
}

/** `rli benchmark-job logs`: copy a local job's trial logs into Runloop's layout, or one .tar.gz. */
export async function logsAction(ref: string, flags: LogsFlags, io: Io): Promise<number> {
  if (flags.archive !== undefined && flags.outputDir !== undefined) {
    throw new UsageError("Use either --output-dir or --archive, not both");
  }
  if (isRemoteJobId(ref)) {
    const { logsRemote } = await import("../../remote/logs-action.js");
    return logsRemote(
      ref,
      {
        outputDir: flags.outputDir,
        archive: flags.archive,
        run: flags.run,
        scenario: flags.scenario,
        force: flags.force === true,
      },
      io,
      await remoteDeps(io),
    );
  }
  const loaded = await loadJob(jobsDirOf(flags.jobsDir, io), ref);
  const { job, dir: jobDir } = loaded;
  const plan = planLogs({
    job,
    results: loaded.results,
    trialDirs: await trialDirNames(jobDir),
    run: flags.run,
    scenario: flags.scenario,
  });
  const paint = await paintFor(io, "err");
  const { targets } = plan;
  if (targets.length === 0) {
    io.err(
      `${paint.yellow("No scenario runs found to download logs for")}${plan.pending > 0 ? ` (${plan.pending} not started yet)` : ""}\n`,
    );
    return EXIT.ok;
  }

  const archive = flags.archive === undefined ? null : resolve(flags.archive);
  const shown = flags.archive ?? flags.outputDir ?? `./logs/${job.id}`;
  const target = archive ?? resolve(flags.outputDir ?? join("logs", job.id));
  if (target === jobDir || target.startsWith(jobDir + sep)) {
    throw new UsageError(`${shown} is inside the job directory ${jobDir}; pick another place`);
  }

  let root: string;
  let staging: string | null = null;
  if (archive !== null) {
    await prepareArchive(archive, shown, flags.force === true);
    staging = await stagingDir(archive, shown);
    root = join(staging, job.id);
  } else {
    await prepareDir(target, shown, flags.force === true);
    root = target;
  }

  io.claimInterrupt("Stopping: no new copies start; the archive, if any, is not written");
  try {
    io.err(`Downloading logs for ${targets.length} scenario run(s) to ${paint.bold(shown)}\n`);
    const limit = pLimit(CONCURRENCY);
    const started = targets.map((t) =>
      limit(async (): Promise<Outcome | null> => {
        if (io.interrupt.aborted) return null;
        return writeTarget(jobDir, root, t, archive === null && flags.force === true);
      }),
    );
    const attempts = job.spec.n_attempts;
    let ok = 0;
    let interrupted = false;
    for (const [i, t] of targets.entries()) {
      const outcome = await started[i];
      if (!outcome) {
        interrupted = true;
        continue;
      }
      const name = `${sanitize(t.agentLabel)} / ${sanitize(t.scenarioName)}${attempts > 1 ? ` (attempt ${t.attempt})` : ""}`;
      if (!outcome.ok) {
        io.err(
          `${paint.yellow(`  Warning: failed to copy logs for ${name} (${t.trialId}): ${sanitize(outcome.error ?? "")}`)}\n`,
        );
        continue;
      }
      ok++;
      const note = t.progress === "running" ? " (running: partial logs)" : "";
      io.err(`${paint.green(`  ✓ ${name}`)}${paint.dim(note)}\n`);
      if (outcome.skipped.length > 0) {
        io.err(
          paint.dim(
            `    skipped ${outcome.skipped.length} symlink(s) or special file(s): ${sanitize(outcome.skipped.slice(0, 3).join(", "))}${outcome.skipped.length > 3 ? ", ..." : ""}\n`,
          ),
        );
      }
    }
    if (interrupted) {
      io.err(`Interrupted: copied logs for ${ok}/${targets.length} scenario run(s)\n`);
      return EXIT.interrupted;
    }
    if (archive !== null && staging !== null) await packArchive(staging, job.id, archive);
    const summary = `Downloaded logs for ${ok}/${targets.length} scenario run(s)`;
    io.err(
      `${ok === targets.length ? paint.green(summary) : paint.yellow(summary)} to ${paint.bold(shown)}\n`,
    );
    if (job.state === "running") {
      const running = targets.filter((t) => t.progress === "running").length;
      io.err(
        `Note: job ${job.id} is still running: copied ${targets.length - running} finished scenario run(s) and the partial logs of ${running} running one(s)${plan.pending > 0 ? `; ${plan.pending} not started yet` : ""}. Run logs again when it ends for the rest.\n`,
      );
    }
    return ok === targets.length ? EXIT.ok : EXIT.failure;
  } finally {
    if (staging !== null) await rm(staging, { recursive: true, force: true });
  }
}
