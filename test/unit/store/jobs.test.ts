import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvironmentError, UsageError } from "../../../src/core/errors.js";
import type { JobDoc, JobStatus } from "../../../src/core/schemas.js";
import {
  effectiveJob,
  isJobId,
  jobIds,
  readEffectiveStatus,
  resolveJobDir,
  staleReason,
} from "../../../src/store/jobs.js";
import { currentRunner } from "../../../src/store/runner.js";
import { JobWriter, jobStatus } from "../../../src/store/store.js";
import { rejection } from "../../helpers/errors.js";
import { makeJob, ORACLE } from "../../helpers/factories.js";
import { tempDir } from "../../helpers/tasks.js";

const A = "job_20240501_120000_aaaaaa";
const B = "job_20240501_130000_bbbbbb";
const C = "job_20240502_090000_cccccc";

let root: string;
let jobsDir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir());
  jobsDir = join(root, "jobs");
});

afterEach(async () => {
  await cleanup();
});

/** Job directories with a job.json each (content does not matter to the lookup). */
async function makeJobDirs(ids: string[]): Promise<void> {
  for (const id of ids) {
    await mkdir(join(jobsDir, id), { recursive: true });
    await writeFile(join(jobsDir, id, "job.json"), "{}\n");
  }
}

describe("isJobId", () => {
  it.each([
    ["job_20240501_120000_abcdef", true],
    ["job_20991231_235959_000000", true],
    ["job_20240501_120000_ABCDEF", false],
    ["job_20240501_120000_abcde", false],
    ["job_20240501_120000_abcdefa", false],
    ["job_2024051_120000_abcdef", false],
    ["job_20240501_120000_abcdeg", false],
    ["xjob_20240501_120000_abcdef", false],
    ["job_20240501_120000_abcdef.tmp", false],
    ["latest", false],
    ["", false],
  ])("%j → %s", (name, ok) => {
    expect(isJobId(name)).toBe(ok);
  });
});

describe("jobIds", () => {
  it("lists job directories oldest first and ignores other names", async () => {
    await makeJobDirs([C, A, B]);
    await mkdir(join(jobsDir, "notes"));
    await mkdir(join(jobsDir, ".job_20240501_120000_dddddd"));
    await writeFile(join(jobsDir, "README.txt"), "x");
    await mkdir(join(jobsDir, "job_20240501_120000_ABCDEF"));
    expect(jobIds(jobsDir)).toEqual([A, B, C]);
  });

  it("is empty when the jobs directory does not exist", async () => {
    expect(jobIds(join(root, "missing"))).toEqual([]);
  });

  it("is empty for an empty jobs directory", async () => {
    await mkdir(jobsDir);
    expect(jobIds(jobsDir)).toEqual([]);
  });

  it("throws an EnvironmentError naming the directory when it is a regular file", async () => {
    const file = join(root, "file");
    await writeFile(file, "x");
    const err = await rejection(Promise.resolve().then(() => jobIds(file)));
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(`cannot read jobs directory ${file}: ENOTDIR`);
  });
});

describe("resolveJobDir", () => {
  it("finds a job by its exact id", async () => {
    await makeJobDirs([A, B]);
    expect(await resolveJobDir(jobsDir, A)).toBe(join(jobsDir, A));
  });

  it("finds a job by a unique prefix", async () => {
    await makeJobDirs([A, C]);
    expect(await resolveJobDir(jobsDir, "job_20240502")).toBe(join(jobsDir, C));
  });

  it("accepts a prefix of exactly 4 characters", async () => {
    await makeJobDirs([A]);
    expect(await resolveJobDir(jobsDir, "job_")).toBe(join(jobsDir, A));
  });

  it("does not match a prefix shorter than 4 characters, even a unique one", async () => {
    await makeJobDirs([A]);
    const err = await rejection(resolveJobDir(jobsDir, "job"));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `Benchmark job job not found in ${jobsDir} (list them with "rli benchmark-job list --all")`,
    );
  });

  it("rejects an ambiguous prefix with a UsageError listing the matches", async () => {
    await makeJobDirs([A, B, C]);
    const err = await rejection(resolveJobDir(jobsDir, "job_20240501"));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Job id job_20240501 is ambiguous: it matches 2 jobs (${A}, ${B})`);
  });

  it("lists at most 5 matches of an ambiguous prefix, then '...'", async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `job_20240501_12000${i}_abcdef`);
    await makeJobDirs(ids);
    const err = await rejection(resolveJobDir(jobsDir, "job_2024"));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `Job id job_2024 is ambiguous: it matches 7 jobs (${ids.slice(0, 5).join(", ")}, ...)`,
    );
  });

  it("resolves 'latest' to the newest job", async () => {
    await makeJobDirs([C, A, B]);
    expect(await resolveJobDir(jobsDir, "latest")).toBe(join(jobsDir, C));
  });

  it("skips, for 'latest', a newer directory that has no job.json yet (a detached runner starting)", async () => {
    await makeJobDirs([A, B]);
    await mkdir(join(jobsDir, C));
    await writeFile(join(jobsDir, C, "runner.log"), "");
    expect(await resolveJobDir(jobsDir, "latest")).toBe(join(jobsDir, B));
  });

  it("rejects 'latest' when there are no jobs", async () => {
    const err = await rejection(resolveJobDir(jobsDir, "latest"));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`No benchmark jobs in ${jobsDir}`);
  });

  it("accepts an absolute path to a job directory with a job.json, wherever it is", async () => {
    const dir = join(root, "elsewhere", "my-job");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "job.json"), "{}\n");
    expect(await resolveJobDir(jobsDir, dir)).toBe(dir);
  });

  it("accepts a path relative to the working directory", async () => {
    await makeJobDirs([A]);
    const rel = relative(process.cwd(), join(jobsDir, A));
    expect(rel.startsWith("/")).toBe(false);
    expect(await resolveJobDir("/nonexistent", rel)).toBe(join(jobsDir, A));
  });

  it("accepts ./<id> as a path relative to the working directory", async () => {
    const cwd = process.cwd();
    await makeJobDirs([A]);
    process.chdir(jobsDir);
    try {
      expect(await resolveJobDir("/nonexistent", `./${A}`)).toBe(join(jobsDir, A));
    } finally {
      process.chdir(cwd);
    }
  });

  it("rejects a path to a directory without job.json", async () => {
    const dir = join(root, "not-a-job");
    await mkdir(dir);
    await writeFile(join(dir, "status.json"), "{}\n");
    const err = await rejection(resolveJobDir(jobsDir, dir));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`${dir} is not a job directory (it has no job.json)`);
  });

  it("rejects a path that does not exist", async () => {
    const dir = join(root, "missing");
    const err = await rejection(resolveJobDir(jobsDir, dir));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`${dir} is not a job directory (it has no job.json)`);
  });

  it("rejects an unknown id with a UsageError naming the jobs directory", async () => {
    await makeJobDirs([A]);
    const err = await rejection(resolveJobDir(jobsDir, "job_20990101_000000_ffffff"));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `Benchmark job job_20990101_000000_ffffff not found in ${jobsDir} (list them with "rli benchmark-job list --all")`,
    );
  });

  it("rejects any id when the jobs directory does not exist", async () => {
    const err = await rejection(resolveJobDir(jobsDir, A));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`not found in ${jobsDir}`);
  });
});

describe("effectiveJob", () => {
  const running = makeJob([ORACLE], {
    state: "running",
    finished_at: null,
    runner: { pid: 4242, hostname: "box", rli_version: "0.1.0" },
  });

  it("marks a running job whose runner is gone as failed, with the reason", () => {
    expect(effectiveJob(running, false)).toEqual({
      ...running,
      state: "failed",
      failure_reason: "the runner (pid 4242 on box) stopped without finishing the job",
    });
    expect(staleReason(running.runner)).toBe(
      "the runner (pid 4242 on box) stopped without finishing the job",
    );
  });

  it("does not change the job it was given", () => {
    effectiveJob(running, false);
    expect(running.state).toBe("running");
    expect(running.failure_reason).toBeNull();
  });

  it("leaves a running job alone when its runner is alive or on another host", () => {
    expect(effectiveJob(running, true)).toBe(running);
    expect(effectiveJob(running, null)).toBe(running);
  });

  it.each(["completed", "failed", "cancelled"] as const)(
    "leaves a %s job alone whatever the runner",
    (state) => {
      const job = makeJob([ORACLE], { state, failure_reason: state === "failed" ? "x" : null });
      expect(effectiveJob(job, false)).toBe(job);
    },
  );

  it("works on status.json records as well", () => {
    const status: JobStatus = jobStatus(running, null);
    expect(effectiveJob(status, false)).toEqual({
      ...status,
      state: "failed",
      failure_reason: "the runner (pid 4242 on box) stopped without finishing the job",
    });
  });
});

describe("readEffectiveStatus", () => {
  async function writeRunningJob(runner: JobDoc["runner"]): Promise<string> {
    const doc = makeJob([ORACLE], { id: A, state: "running", finished_at: null, runner });
    const writer = await JobWriter.create(jobsDir, doc);
    writer.close();
    return writer.dir;
  }

  it("reports a running job whose runner has exited as failed", async () => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await once(child, "exit");
    const runner = { pid: child.pid as number, hostname: hostname(), rli_version: "0.1.0" };
    const status = await readEffectiveStatus(await writeRunningJob(runner));
    expect(status.state).toBe("failed");
    expect(status.failure_reason).toBe(staleReason(runner));
  });

  it("reports a running job whose runner is this process as running", async () => {
    const status = await readEffectiveStatus(await writeRunningJob(currentRunner("0.1.0")));
    expect(status.state).toBe("running");
    expect(status.failure_reason).toBeNull();
  });
});
