import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, runCli } from "../helpers/cli.js";
import { isJobName } from "../helpers/files.js";
import { pgrep } from "../helpers/processes.js";
import { tempDir } from "../helpers/tasks.js";

// The job store on a disk that fills up mid-job (a 300 KiB tmpfs; the starter job needs about 600), then
// is given room: the runner stops the job with one line saying so and how to go on, leaves no sandbox,
// and after `resume` the job has the outcomes of a run that never ran out of space.

let tmp: { dir: string; cleanup: () => Promise<void> };
let disk: string;

beforeAll(async () => {
  tmp = await tempDir("rli-full-disk-");
  disk = join(tmp.dir, "disk");
  await mkdir(disk);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=300k,mode=700", "tmpfs", disk]);
  } catch (err) {
    throw new Error(`this test mounts a small tmpfs and needs root: ${String(err)}`);
  }
});
afterAll(async () => {
  if (disk) execFileSync("umount", ["-l", disk]);
  await tmp?.cleanup();
});

describe("the job store's disk fills up mid-job", () => {
  it("stops the job with a clear line, leaves no sandbox, and resume completes it once there is room", async () => {
    const env = cliEnv(disk);
    const run = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--agent",
        "nop",
        "--benchmark",
        "starter",
        "--n-concurrent-trials",
        "4",
      ],
      env,
      { timeoutMs: 300_000 },
    );
    expect(run.code, run.stderr).toBe(1);
    const last = run.stderr.trim().split("\n").at(-1) ?? "";
    expect(last).toMatch(
      /^Error: Benchmark job (job_\S+) stopped: the job store cannot be written, its disk is full \(.+\); every sandbox was torn down and what was recorded is kept\. Free space, then "rli bmj resume \1" runs the rest$/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(pgrep(disk)).toEqual([]);

    execFileSync("mount", ["-o", "remount,size=64m", disk]);
    const resumed = await runCli(["bmj", "resume", "latest", "-o", "json"], env, {
      timeoutMs: 300_000,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    const [jobId] = (await readdir(join(disk, "jobs"))).filter(isJobName);
    const byId = new Map<string, { status: string; score: number | null }>();
    const lines = (await readFile(join(disk, "jobs", jobId!, "results.jsonl"), "utf8")).split("\n");
    for (const line of lines) {
      if (line === "") continue;
      try {
        const r = JSON.parse(line) as { trial_id: string; status: string; score: number | null };
        byId.set(r.trial_id, r);
      } catch {
        // a line the full disk cut short
      }
    }
    const outcomes = [...byId].map(
      ([id, r]) => `${id.endsWith("__oracle__1") ? "oracle" : "nop"} ${r.status} ${r.score}`,
    );
    expect(outcomes).toHaveLength(28);
    // Exactly what the starter gives without a full disk: oracle passes all 14, nop fails all 14.
    expect(outcomes.filter((o) => o === "oracle passed 1")).toHaveLength(14);
    expect(outcomes.filter((o) => o === "nop failed 0")).toHaveLength(14);
  }, 600_000);
});
