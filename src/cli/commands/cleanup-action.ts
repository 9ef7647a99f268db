import { EXIT, errorMessage, UsageError } from "../../core/errors.js";
import { isLeftover, type JobLiveness, jobLiveness } from "../../store/leftovers.js";
import { isJobId } from "../../store/paths.js";
import type { Io } from "../io.js";
import { jobsDirOf } from "../job-context.js";
import { printDocument } from "../output.js";
import { outputFormat } from "../parse.js";
import type { CleanupFlags } from "./cleanup.js";

/** One container or devbox rli made. */
export interface Resource {
  kind: "container" | "devbox";
  id: string;
  name: string;
  job_id: string;
  trial_id: string | null;
  remove: () => Promise<void>;
}

export interface CleanupRecord {
  kind: Resource["kind"];
  id: string;
  name: string;
  job_id: string;
  trial_id: string | null;
  job: JobLiveness;
  action: "removed" | "would remove" | "kept" | "failed";
  error?: string;
}

async function dockerResources(jobId: string | undefined): Promise<Resource[] | null> {
  const { default: Docker } = await import("dockerode");
  const { LABEL_JOB, LABEL_TRIAL } = await import("../../backends/docker.js");
  const docker = new Docker();
  try {
    await docker.ping();
  } catch {
    return null;
  }
  const label = jobId === undefined ? LABEL_JOB : `${LABEL_JOB}=${jobId}`;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  return containers.map((c) => ({
    kind: "container",
    id: c.Id.slice(0, 12),
    name: (c.Names[0] ?? "").replace(/^\//, ""),
    job_id: c.Labels[LABEL_JOB] ?? "",
    trial_id: c.Labels[LABEL_TRIAL] ?? null,
    remove: async () => {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
    },
  }));
}

async function runloopResources(io: Io, jobId: string | undefined): Promise<Resource[] | null> {
  if (!io.env.RUNLOOP_API_KEY?.trim()) return null;
  const { clientFromEnv } = await import("../../runloop/from-env.js");
  const client = clientFromEnv(io.env);
  const out: Resource[] = [];
  for await (const d of client.devboxes.list({ limit: 100 })) {
    const job = d.metadata?.rli_job_id;
    if (job === undefined || (jobId !== undefined && job !== jobId)) continue;
    if (d.status === "shutdown" || d.status === "failure") continue;
    out.push({
      kind: "devbox",
      id: d.id,
      name: d.name ?? d.id,
      job_id: job,
      trial_id: d.metadata?.rli_trial_id ?? null,
      remove: async () => {
        await client.devboxes.shutdown(d.id);
      },
    });
  }
  return out;
}

/**
 * Remove every container and devbox labelled with `jobId` (a job about to be resumed: its runner is
 * gone, so they are leftovers). Returns how many were removed; failures are reported on stderr.
 */
export async function removeJobLeftovers(
  io: Io,
  jobId: string,
  where: { docker: boolean; runloop: boolean },
): Promise<number> {
  const [docker, runloop] = await Promise.all([
    where.docker ? dockerResources(jobId) : null,
    where.runloop ? runloopResources(io, jobId) : null,
  ]);
  let removed = 0;
  for (const r of [...(docker ?? []), ...(runloop ?? [])]) {
    try {
      await r.remove();
      removed++;
    } catch (err) {
      io.err(`Warning: cannot remove ${r.kind} ${r.name}: ${errorMessage(err).split("\n")[0]}\n`);
    }
  }
  return removed;
}

function line(r: CleanupRecord): string {
  const what = `${r.kind} ${r.name} (${r.id}) of ${r.job_id}${r.trial_id ? ` / ${r.trial_id}` : ""}`;
  if (r.action === "kept") {
    const why =
      r.job === "running"
        ? "its job is running"
        : r.job === "elsewhere"
          ? "its job runs on another machine; --force removes it"
          : "its job is not in this store; --force removes it";
    return `kept ${what}: ${why}`;
  }
  if (r.action === "failed") return `failed to remove ${what}: ${r.error}`;
  return `${r.action} ${what}`;
}

export async function cleanupAction(flags: CleanupFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output);
  if (flags.job !== undefined && !isJobId(flags.job)) {
    throw new UsageError(`--job takes a job id (job_YYYYMMDD_HHMMSS_xxxxxx), got "${flags.job}"`);
  }
  const jobsDir = jobsDirOf(flags.jobsDir, io);
  const [docker, runloop] = await Promise.all([
    dockerResources(flags.job),
    runloopResources(io, flags.job),
  ]);
  if (docker === null && runloop === null) {
    io.err("No Docker engine answers and RUNLOOP_API_KEY is not set: nothing to clean up\n");
  }
  const liveness = new Map<string, JobLiveness>();
  const records: CleanupRecord[] = [];
  for (const r of [...(docker ?? []), ...(runloop ?? [])]) {
    let job = liveness.get(r.job_id);
    if (job === undefined) {
      job = await jobLiveness(jobsDir, r.job_id);
      liveness.set(r.job_id, job);
    }
    const base = {
      kind: r.kind,
      id: r.id,
      name: r.name,
      job_id: r.job_id,
      trial_id: r.trial_id,
      job,
    };
    if (!isLeftover(job, flags.force === true)) {
      records.push({ ...base, action: "kept" });
      continue;
    }
    if (flags.dryRun === true) {
      records.push({ ...base, action: "would remove" });
      continue;
    }
    try {
      await r.remove();
      records.push({ ...base, action: "removed" });
    } catch (err) {
      records.push({ ...base, action: "failed", error: errorMessage(err).split("\n")[0] ?? "" });
    }
  }
  if (output === "text") {
    for (const r of records) io.out(`${line(r)}\n`);
    const n = (a: CleanupRecord["action"]) => records.filter((r) => r.action === a).length;
    io.err(
      records.length === 0
        ? "No leftovers found\n"
        : `${n("removed")} removed, ${n("would remove")} to remove (dry run), ${n("kept")} kept, ${n("failed")} failed\n`,
    );
  } else {
    await printDocument(io, output, records);
  }
  return records.some((r) => r.action === "failed") ? EXIT.failure : EXIT.ok;
}
