import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cgroups, TRIAL_PIDS_MAX } from "../../src/backends/cgroups.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { isJobName } from "../helpers/files.js";
import { tempDir } from "../helpers/tasks.js";

// A scenario that attacks its host and its neighbours (fork bomb, kill everything it can see, write
// outside its workspace, read the invoking user's home) next to a calm one that needs a few seconds:
// the calm one passes, the host keeps its files and its process table, and nothing is left after.

let tmp: { dir: string; cleanup: () => Promise<void> };
const MARKER = `/tmp/rli-hostile-escape-${process.pid}`;

async function hostTask(dir: string, solve: string, test: string, timeoutSec: number) {
  await mkdir(join(dir, "solution"), { recursive: true });
  await mkdir(join(dir, "tests"), { recursive: true });
  await writeFile(
    join(dir, "task.toml"),
    `[agent]\ntimeout_sec = ${timeoutSec}\n[environment.rli]\nsandbox = "host"\n`,
  );
  await writeFile(join(dir, "instruction.md"), "Do it.\n");
  await writeFile(join(dir, "solution", "solve.sh"), solve);
  await writeFile(join(dir, "tests", "test.sh"), test);
  await chmod(join(dir, "solution", "solve.sh"), 0o755);
  return dir;
}

function processCount(): number {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
}

beforeAll(async () => {
  tmp = await tempDir("rli-hostile-");
  if ((await Cgroups.detect()) === null) {
    throw new Error(
      "this machine gives rli no cgroups (cgroup v1 pids controller, writable): the fork bomb below would not be contained",
    );
  }
});
afterAll(() => tmp?.cleanup());

describe("a hostile scenario beside a calm one", () => {
  it("harms neither the host nor the other trial, and leaves nothing behind", async () => {
    const home = join(tmp.dir, "home");
    await mkdir(home, { recursive: true });
    await writeFile(join(home, ".host-only"), "the invoking user's file\n");
    const bench = join(tmp.dir, "hb");
    const hostile = await hostTask(
      join(bench, "hostile"),
      [
        `echo escaped > ${MARKER} 2>/dev/null; echo "tmp write: $?" >> /logs/agent/probe.txt`,
        'echo x > /usr/rli-escape 2>/dev/null; echo "usr write: $?" >> /logs/agent/probe.txt',
        `cat ${join(home, ".host-only")} >> /logs/agent/probe.txt 2>&1`,
        'ls -a "$HOME" >> /logs/agent/probe.txt 2>&1',
        "kill -9 -1 2>/dev/null",
        "bomb() { bomb | bomb & }; bomb",
        "sleep 30",
        "",
      ].join("\n"),
      "echo 0 > /logs/verifier/reward.txt\n",
      6,
    );
    const calm = await hostTask(
      join(bench, "calm"),
      "sleep 4\necho done > /app/out.txt\n",
      'if [ "$(cat /app/out.txt)" = done ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
      60,
    );
    const baseline = processCount();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, processCount());
    }, 50);
    const r = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--n-concurrent-trials",
        "2",
        "--max-retries",
        "0",
        "--scenarios",
        hostile,
        calm,
        "-o",
        "json",
      ],
      cliEnv(home),
      { timeoutMs: 120_000 },
    ).finally(() => clearInterval(sampler));
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as {
      id: string;
      benchmark_outcomes: {
        scenario_outcomes: { scenario_definition_id: string; rli_trial: { status: string } }[];
      }[];
    };
    const status = Object.fromEntries(
      view.benchmark_outcomes[0]!.scenario_outcomes.map((o) => [
        o.scenario_definition_id,
        o.rli_trial.status,
      ]),
    );
    // The neighbour was neither killed nor starved.
    expect(status["hb/calm"]).toBe("passed");
    expect(["agent_timeout", "agent_error", "failed"]).toContain(status["hb/hostile"]);

    // The fork bomb stopped at its trial's process limit, far below what the host allows.
    expect(peak - baseline).toBeLessThan(TRIAL_PIDS_MAX + 200);
    // Its writes outside the sandbox failed and the user's home was not there to read.
    expect(existsSync(MARKER)).toBe(false);
    expect(existsSync("/usr/rli-escape")).toBe(false);
    const jobs = join(home, "jobs");
    const [jobId] = readdirSync(jobs).filter(isJobName);
    const probe = await readFile(
      join(jobs, jobId!, "trials", "hb_hostile__oracle__1", "logs", "agent", "probe.txt"),
      "utf8",
    );
    expect(probe).not.toContain("the invoking user's file");
    expect(probe).toMatch(/usr write: [1-9]/);

    // Nothing of the job is left: no process in its cgroups, and the cgroups themselves are gone.
    const job = JSON.parse(readFileSync(join(jobs, jobId!, "job.json"), "utf8")) as {
      runner: { pid: number };
    };
    const own = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((l) => l.split(":")[1]?.split(",").includes("pids"))
      ?.split(":")[2];
    expect(existsSync(join("/sys/fs/cgroup/pids", own ?? "/", `rli-${job.runner.pid}`))).toBe(
      false,
    );
    expect(processCount()).toBeLessThan(baseline + 50);
  }, 120_000);
});
