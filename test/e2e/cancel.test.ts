import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { isJobName } from "../helpers/files.js";
import { pgrep } from "../helpers/processes.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

let home: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  home = await tempDir("rli-cancel-");
});
afterEach(() => home.cleanup());

it("Ctrl-C cancels the job: trials stop, sandboxes go, the job is marked cancelled, exit 130", async () => {
  const marker = `${process.pid}-${Date.now()}`;
  let eventsPath = "";
  const run = runCli(
    [
      "bmj",
      "run",
      "--agent",
      "oracle",
      "--scenarios",
      join(FIXTURES, "slow-task"),
      join(FIXTURES, "bench-mini", "hello"),
      "--n-attempts",
      "3",
      "--n-concurrent-trials",
      "2",
      "--env-vars",
      `RLI_TEST_MARKER=${marker}`,
    ],
    { PATH: process.env.PATH, HOME: home.dir, RLI_HOME: home.dir },
    {
      onSpawn: (child) => {
        void (async () => {
          await waitFor(async () => {
            const jobs = (await readdir(join(home.dir, "jobs")).catch(() => [])).filter(isJobName);
            if (jobs.length === 0) return false;
            eventsPath = join(home.dir, "jobs", jobs[0]!, "events.jsonl");
            const text = await readFile(eventsPath, "utf8").catch(() => "");
            return (
              text.includes('"phase":"agent_run"') && pgrep(`rli-slow-task-${marker}`).length > 0
            );
          }, 20_000);
          child.kill("SIGINT");
        })();
      },
    },
  );
  const r = await run;
  expect(r.code).toBe(130);
  expect(r.stderr).toContain("Cancelling");
  expect(pgrep(`rli-slow-task-${marker}`)).toEqual([]);
  const jobDir = join(eventsPath, "..");
  const job = JSON.parse(await readFile(join(jobDir, "job.json"), "utf8")) as { state: string };
  expect(job.state).toBe("cancelled");
  const trials = await readdir(join(jobDir, "trials"));
  const statuses: string[] = [];
  for (const t of trials) {
    const result = JSON.parse(await readFile(join(jobDir, "trials", t, "result.json"), "utf8")) as {
      status: string;
    };
    statuses.push(result.status);
    // Every sandbox's scratch space is gone.
    expect(await readdir(join(jobDir, "trials", t))).not.toContain(".sandbox");
  }
  // 3 attempts × 2 scenarios; the slow ones and those not yet started are cancelled.
  expect(statuses).toHaveLength(6);
  expect(statuses.filter((s) => s === "cancelled").length).toBeGreaterThanOrEqual(3);
  expect(statuses.every((s) => s === "cancelled" || s === "passed")).toBe(true);
});
