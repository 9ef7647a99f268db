import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jobCounts } from "../../core/counts.js";
import { EXIT, errorMessage, UsageError } from "../../core/errors.js";
import { agentLabel } from "../../core/ids.js";
import type { AgentRef, JobCounts } from "../../core/schemas.js";
import {
  type JobListEntry,
  type ListCounts,
  listEntry,
  listTable,
} from "../../report/list-table.js";
import { defaultJobsDir, jobIds } from "../../store/paths.js";
import type { Io } from "../io.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat, positiveInt } from "../parse.js";
import type { ListFlags } from "./list.js";

// `list` must start about as fast as `--help` with a thousand jobs in the store, so its common path
// loads no zod: store.ts and jobs.ts import the schemas, and are imported here only for a job that
// needs them (running, or a status.json this file cannot vouch for); store/paths.ts is zod-free.

const DAY_MS = 86_400_000;
/** Job directories read at once on the full path: keeps the disk busy, far below open-file limits. */
const READ_CONCURRENCY = 16;

export const LIST_STATES = [
  "initializing",
  "queued",
  "running",
  "completed",
  "failed",
  "cancelled",
  "timeout",
] as const;

/** `--status a,b`: trimmed, case-insensitive, `canceled` read as `cancelled`; empty items ignored. */
export function parseStatuses(value: string): Set<string> {
  const given = value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  const invalid = given.filter(
    (s) => s !== "canceled" && !(LIST_STATES as readonly string[]).includes(s),
  );
  if (given.length === 0 || invalid.length > 0) {
    const valid = LIST_STATES.map((s) => (s === "cancelled" ? "cancelled (or canceled)" : s));
    throw new UsageError(
      `Invalid status: ${invalid.length > 0 ? invalid.join(", ") : `"${value}"`}. Valid: ${valid.join(", ")}`,
    );
  }
  return new Set(given.map((s) => (s === "canceled" ? "cancelled" : s)));
}

/** The UTC second a job id encodes (`job_yyyymmdd_hhmmss_xxxxxx`): when `newJobId` made it. */
export function idTimeMs(id: string): number {
  return Date.UTC(
    Number(id.slice(4, 8)),
    Number(id.slice(8, 10)) - 1,
    Number(id.slice(10, 12)),
    Number(id.slice(13, 15)),
    Number(id.slice(15, 17)),
    Number(id.slice(17, 19)),
  );
}

/**
 * The id is made just before the job document, so created_at follows the id's second by moments (by
 * the time a detached runner takes to start at most). Ids older than the cutoff by more than this are
 * not read at all.
 */
const ID_SLACK_MS = 3_600_000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const isTime = (v: unknown): v is string =>
  typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v));
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A list entry straight from status.json, for a job that has ended and whose record passes a field
 * check as strict as JobStatusSchema on every field `list` uses; null sends the job down the full path
 * (the store's readers decide: they parse with the schema, follow a dead runner, count live results).
 */
function quickEntry(dir: string): JobListEntry | null {
  let s: unknown;
  try {
    s = JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
  } catch {
    return null;
  }
  if (!isObject(s) || s.schema_version !== 1) return null;
  const { id, name, state, created_at, finished_at, failure_reason, n_trials, counts, runner } = s;
  if (typeof id !== "string" || id === "" || typeof name !== "string") return null;
  if (state !== "completed" && state !== "failed" && state !== "cancelled") return null;
  if (!isTime(created_at) || !(finished_at === null || isTime(finished_at))) return null;
  if (!(failure_reason === null || typeof failure_reason === "string")) return null;
  if (!isCount(n_trials) || !isObject(counts) || !isObject(runner)) return null;
  if (!Number.isInteger(runner.pid) || typeof runner.hostname !== "string") return null;
  if (typeof runner.rli_version !== "string") return null;
  const { finished, passed, errors, score } = counts;
  if (!isCount(finished) || !isCount(passed) || !isCount(errors)) return null;
  if (!(score === null || (typeof score === "number" && Number.isFinite(score)))) return null;
  const c: ListCounts = { finished, passed, errors, score };
  return listEntry({ id, name, state, created_at, finished_at, failure_reason, n_trials }, c, dir);
}

/** A job through the store's readers: dead runners read as failed; a running job's counts so far. */
async function fullEntry(dir: string): Promise<JobListEntry> {
  const { readEffectiveStatus } = await import("../../store/jobs.js");
  const status = await readEffectiveStatus(dir);
  return listEntry(status, status.counts ?? (await liveCounts(dir)), dir);
}

/** Counts of a job that has not frozen its own (it is running, or its runner died): its results so far. */
async function liveCounts(dir: string): Promise<JobCounts> {
  const { readResults } = await import("../../store/read.js");
  const results = await readResults(dir);
  // Agents without a verified result do not enter the score, so the results' own agents suffice and
  // job.json (which can be large) stays unread.
  const agents = new Map<string, AgentRef>();
  for (const r of results) agents.set(agentLabel(r.agent), r.agent);
  return jobCounts([...agents.values()], results);
}

/** One line of reason, also for a schema error (whose message is a multi-line JSON dump). */
function reasonOf(err: unknown): string {
  const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] } | null)?.issues;
  const first = Array.isArray(issues) ? issues[0] : undefined;
  if (first) return `invalid ${first.path.map(String).join(".") || "record"}: ${first.message}`;
  return errorMessage(err).split("\n")[0] ?? "";
}

/** Map over items with at most `limit` calls in flight; results keep the items' order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface ListOptions {
  nowMs?: number;
  /** Width of the table; default: stdout's terminal width, else stderr's (Io's, 100 off a terminal). */
  width?: number;
}

/** List the jobs in the local store, oldest first. Unreadable job directories are warned about and skipped. */
export async function listAction(
  flags: ListFlags,
  io: Io,
  opts: ListOptions = {},
): Promise<number> {
  const output = outputFormat(flags.output);
  const days = positiveInt("--days", flags.days);
  const statuses = flags.status === undefined ? null : parseStatuses(flags.status);
  const nowMs = opts.nowMs ?? Date.now();
  const name = flags.name === undefined || flags.name === "" ? undefined : flags.name;
  if (flags.remote === true) {
    if (flags.jobsDir !== undefined) {
      throw new UsageError("--jobs-dir names a local job store; it does not go with --remote");
    }
    const [{ listRemote }, { remoteDeps }] = await Promise.all([
      import("../../remote/list-action.js"),
      import("../remote.js"),
    ]);
    return listRemote(
      { output, days, all: flags.all === true, statuses, name, nowMs, width: opts.width },
      io,
      await remoteDeps(io),
    );
  }
  const cutoffMs = flags.all === true ? null : nowMs - days * DAY_MS;
  const jobsDir = flags.jobsDir ?? defaultJobsDir(io.env);

  let hidden = 0;
  const read: (JobListEntry | null)[] = [];
  const slow: string[] = [];
  for (const id of jobIds(jobsDir)) {
    if (cutoffMs !== null && idTimeMs(id) + ID_SLACK_MS < cutoffMs) {
      hidden++;
      continue;
    }
    const dir = join(jobsDir, id);
    const quick = quickEntry(dir);
    if (quick !== null) read.push(quick);
    else slow.push(dir);
  }
  read.push(
    ...(await mapLimit(slow, READ_CONCURRENCY, async (dir) => {
      try {
        return await fullEntry(dir);
      } catch (err) {
        io.err(`Warning: skipping ${dir}: ${reasonOf(err)}\n`);
        return null;
      }
    })),
  );
  const entries: JobListEntry[] = [];
  for (const e of read) {
    if (e === null) continue;
    if (cutoffMs !== null && !(e.create_time_ms >= cutoffMs)) {
      hidden++;
      continue;
    }
    if (statuses !== null && !statuses.has(e.state)) continue;
    if (name !== undefined && !e.name.toLowerCase().includes(name.toLowerCase())) continue;
    entries.push(e);
  }
  entries.sort((a, b) => a.create_time_ms - b.create_time_ms || (a.id < b.id ? -1 : 1));

  if (output !== "text") {
    await printDocument(io, output, entries);
    return EXIT.ok;
  }
  const width = opts.width ?? process.stdout.columns ?? io.stderrColumns;
  io.out(listTable(entries, { nowMs, width, paint: await paintFor(io, "out") }));
  if (entries.length === 0 && hidden > 0) {
    const jobs = hidden === 1 ? "1 job is" : `${hidden} jobs are`;
    io.err(
      `Hint: ${jobs} older than ${days} day${days === 1 ? "" : "s"}; use --all or --days <n> to include ${hidden === 1 ? "it" : "them"}\n`,
    );
  }
  return EXIT.ok;
}
