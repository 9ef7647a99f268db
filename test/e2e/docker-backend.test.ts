import type { ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contextDigest,
  imageTag,
  LABEL_JOB,
  LABEL_TRIAL,
  storageQuotaSupported,
} from "../../src/backends/docker.js";
import { type CliResult, cliEnv, expectUsageError, runCli } from "../helpers/cli.js";
import {
  containersOfJob,
  containersWith,
  docker,
  dockerfile,
  dockerReady,
  IMAGE_TASKS_LABEL,
  imagesWith,
  removeImagesWith,
  trialResults,
  watchImageTags,
  writeImageTasks,
  writeTask,
} from "../helpers/docker-tasks.js";
import { exists, isJobName } from "../helpers/files.js";
import { REPO_ROOT, tempDir } from "../helpers/tasks.js";
import { waitFor } from "../helpers/wait.js";

/** Every image this file builds carries this label, so it counts and removes exactly its own. */
const LABEL = `rli.test.run=${process.pid}-${Date.now()}`;
const HOST_TASK = join(REPO_ROOT, "fixtures", "benchmarks", "starter", "sh-clean-cache-dry-run");

interface TrialResult {
  scenario_id: string;
  agent: { name: string };
  status: string;
  score: number | null;
  exception: { type: string; message: string; phase: string } | null;
  earlier_tries?: {
    status: string;
    exception: { type: string; message: string; phase: string } | null;
    logs_dir: string;
  }[];
}

let tmp: { dir: string; cleanup: () => Promise<void> };
/** Image builds during this file, counted by the tag they end with. */
let tags: Awaited<ReturnType<typeof watchImageTags>>;
/** The benchmark directory the tasks are generated into (scenario ids `dk/<task>`). */
let bench: string;

beforeAll(async () => {
  if (!(await dockerReady())) {
    throw new Error("no Docker daemon or no rli-base:bookworm image: run scripts/setup-docker.sh");
  }
  tags = await watchImageTags();
  tmp = await tempDir("rli-docker-");
  bench = join(tmp.dir, "dk");
});
afterAll(async () => {
  tags?.stop();
  await removeImagesWith(LABEL);
  await tmp?.cleanup();
});

/**
 * Runs a job with a fresh RLI_HOME and returns its directory and trial results once it has ended.
 * `during` gets the job directory as soon as it exists, and the CLI's process; if it throws, the CLI is
 * killed and the error rethrown.
 */
async function runJob(
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    during?: (jobDir: string, child: ChildProcess) => Promise<void>;
  } = {},
): Promise<{ r: CliResult; jobId: string; jobDir: string; results: TrialResult[] }> {
  const home = join(tmp.dir, `home-${Math.random().toString(36).slice(2)}`);
  const jobs = join(home, "jobs");
  let during: Promise<void> = Promise.resolve();
  const r = await runCli(
    ["bmj", "run", ...args],
    { ...cliEnv(home), ...opts.env },
    {
      timeoutMs: 110_000,
      onSpawn: (child) => {
        if (opts.during === undefined) return;
        const fn = opts.during;
        const watching = (async () => {
          let dir = "";
          await waitFor(
            async () => {
              const ids = (await readdir(jobs).catch(() => [])).filter(isJobName);
              if (ids.length > 0) dir = join(jobs, ids[0]!);
              return dir !== "";
            },
            60_000,
            "the job directory",
          );
          await fn(dir, child);
        })().catch((err: unknown) => {
          child.kill("SIGKILL");
          throw err;
        });
        // Rethrown once the CLI has exited, not reported as unhandled before.
        watching.catch(() => {});
        during = watching;
      },
    },
  );
  await during;
  const ids = await readdir(jobs).catch(() => []);
  expect(ids, r.stderr).toHaveLength(1);
  const jobDir = join(jobs, ids[0]!);
  return {
    r,
    jobId: ids[0]!,
    jobDir,
    results: Object.values(await trialResults<TrialResult>(jobDir)),
  };
}

/** Reward 1 when the solution found a 128 MiB memory limit and half a CPU (50000 of 100000 µs). */
const rewardIfLimits =
  'if [ "$(cat /app/mem)" = 134217728 ] && [ "$(cat /app/cpu)" = 50000 ]; then echo 1 > /logs/verifier/reward.txt; fi';

/** The one result of a scenario and agent. */
function resultOf(results: TrialResult[], scenario: string, agent = "oracle"): TrialResult {
  const found = results.filter((t) => t.scenario_id === scenario && t.agent.name === agent);
  expect(found, `${scenario} ${agent}`).toHaveLength(1);
  return found[0]!;
}

/** The trial directory of a scenario and agent's first attempt. */
const trialDir = (jobDir: string, scenario: string, agent = "oracle"): string =>
  join(jobDir, "trials", `${scenario.replace("/", "_")}__${agent}__1`);

describe.each([
  { backend: "the default backend (host tasks in bubblewrap, image tasks in Docker)", flags: [] },
  { backend: "--backend docker", flags: ["--backend", "docker"] },
])("image tasks through $backend", ({ flags }) => {
  let dirs: string[];
  let job: Awaited<ReturnType<typeof runJob>>;
  const routed = flags.length === 0;

  beforeAll(async () => {
    dirs = await writeImageTasks(bench, LABEL);
    // The routing backend also gets a host task, which passes only on the host (python3 is not in the image).
    job = await runJob([
      "--agent",
      "oracle",
      "--agent",
      "nop",
      ...flags,
      "--scenarios",
      ...dirs,
      ...(routed ? [HOST_TASK] : []),
    ]);
  }, 110_000);

  it("the oracle passes every task, nop fails every task, and no container is left", async () => {
    const { r, results, jobId } = job;
    expect(r.code, r.stderr).toBe(0);
    const scenarios = [
      ...dirs.map((d) => `dk/${basename(d)}`),
      ...(routed ? ["starter/sh-clean-cache-dry-run"] : []),
    ];
    expect(results).toHaveLength(scenarios.length * 2);
    for (const s of scenarios) {
      const oracle = resultOf(results, s, "oracle");
      expect([s, oracle.status, oracle.exception?.message]).toEqual([s, "passed", undefined]);
      const nop = resultOf(results, s, "nop");
      expect([s, nop.status, nop.score]).toEqual([s, "failed", 0]);
    }
    expect(await containersOfJob(jobId)).toEqual([]);
  });

  it("runs the agent in the task's workdir", async () => {
    const pwd = await readFile(
      join(trialDir(job.jobDir, "dk/image-workdir"), "logs", "agent", "pwd.txt"),
      "utf8",
    );
    expect(pwd.trim()).toBe("/srv/project");
  });

  it("builds each distinct environment once: identical Dockerfiles share one image", async () => {
    const distinct = new Set<string>();
    for (const d of dirs) distinct.add(imageTag(await contextDigest(join(d, "environment"))));
    // shared-a and shared-b have the same environment.
    expect(distinct.size).toBe(dirs.length - 1);
    const built = await imagesWith(LABEL, IMAGE_TASKS_LABEL);
    expect(built.sort()).toEqual([...distinct].sort());
    // Whichever of the two jobs ran first built each image; the other reused it.
    for (const tag of distinct) expect([tag, tags.count(tag)]).toEqual([tag, 1]);
    const buildId = (task: string) =>
      readFile(join(trialDir(job.jobDir, task), "logs", "agent", "build-id"), "utf8");
    expect(await buildId("dk/shared-a")).toBe(await buildId("dk/shared-b"));
  });

  it("gives the agent phase the bridge and the no-network verifier only lo", async () => {
    for (const agent of ["oracle", "nop"]) {
      const logs = join(trialDir(job.jobDir, "dk/net-phases", agent), "logs");
      const verifier = await readFile(join(logs, "verifier", "net.txt"), "utf8");
      expect([agent, verifier.split("\n").filter(Boolean)]).toEqual([agent, ["lo"]]);
    }
    const agentNet = await readFile(
      join(trialDir(job.jobDir, "dk/net-phases"), "logs", "agent", "net.txt"),
      "utf8",
    );
    expect(agentNet.split("\n").filter(Boolean).sort()).toEqual(["eth0", "lo"]);
  });
});

/** A task that passes with its solution, in an image of its own. */
const fineTask = (name: string) =>
  writeTask(join(bench, name), {
    dockerfile: dockerfile(LABEL, `RUN echo ${name} > /fine`),
    solve: "cp /fine /app/fine",
    test: "if [ -s /app/fine ]; then echo 1 > /logs/verifier/reward.txt; fi",
  });
/** A task whose solution marks /logs/agent/sleeping, then sleeps past the test. */
const sleepyTask = (name: string) =>
  writeTask(join(bench, name), {
    dockerfile: dockerfile(LABEL, "RUN touch /sleepy"),
    solve: "touch /logs/agent/sleeping\nsleep 600",
    test: "",
  });

describe("docker backend limits", { timeout: 110_000 }, () => {
  it("applies the task's cpus and memory_mb to its container, and says when storage_mb cannot be", async () => {
    // The solution reads its own cgroup limits (v2 files, else v1) into /app; the test checks them.
    const capped = await writeTask(join(bench, "capped"), {
      dockerfile: dockerfile(LABEL, "RUN touch /capped"),
      toml: "[environment]\ncpus = 0.5\nmemory_mb = 128\nstorage_mb = 512\n",
      solve: [
        "cg=/sys/fs/cgroup",
        "if [ -f $cg/memory.max ]; then cat $cg/memory.max > /app/mem; cut -d' ' -f1 $cg/cpu.max > /app/cpu",
        "else cat $cg/memory/memory.limit_in_bytes > /app/mem; cat $cg/cpu/cpu.cfs_quota_us > /app/cpu; fi",
      ].join("\n"),
      test: rewardIfLimits,
    });
    const { r, results } = await runJob(["--agent", "oracle", "--scenarios", capped]);
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(results, "dk/capped").status).toBe("passed");
    const info = JSON.parse(await docker("info", "--format", "{{json .}}")) as Parameters<
      typeof storageQuotaSupported
    >[0];
    const warning =
      /^Warning: storage_mb of dk\/capped is not enforced: Docker's storage driver \(\S+( on \S+)?\) has no per-container disk quota/m;
    if (storageQuotaSupported(info)) expect(r.stderr).not.toMatch(warning);
    else expect(r.stderr).toMatch(warning);
  });
});

describe("docker backend failures", { timeout: 110_000 }, () => {
  it("a Dockerfile that fails to build: its trials are infra_error with the build log kept, the others pass", async () => {
    const broken = await writeTask(join(bench, "broken-build"), {
      dockerfile: dockerfile(LABEL, "RUN echo building-broken-image && exit 3"),
      solve: "true",
      test: "echo 1 > /logs/verifier/reward.txt",
    });
    const fine = await fineTask("fine-beside-broken");
    const { r, results, jobDir, jobId } = await runJob([
      "--agent",
      "oracle",
      "--n-attempts",
      "2",
      "--scenarios",
      broken,
      fine,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(results).toHaveLength(4);
    for (const t of results.filter((t) => t.scenario_id === "dk/broken-build")) {
      expect(t.status).toBe("infra_error");
      expect(t.exception?.phase).toBe("provision");
      expect(t.exception?.message).toMatch(/failed to build: .*returned a non-zero code: 3/);
      expect(t.exception?.message).toContain("logs/build.log");
    }
    for (const attempt of [1, 2]) {
      const log = await readFile(
        join(jobDir, "trials", `dk_broken-build__oracle__${attempt}`, "logs", "build.log"),
        "utf8",
      );
      expect(log).toContain("building-broken-image");
    }
    const others = results.filter((t) => t.scenario_id === "dk/fine-beside-broken");
    expect(others.map((t) => t.status)).toEqual(["passed", "passed"]);
    expect(await containersOfJob(jobId)).toEqual([]);
  });

  it("an image that does not fit on the disk: one clear message saying so, the build log kept, not retried", async () => {
    // Writing to /dev/full fails with the same ENOSPC a full disk gives (CI's disk cannot be filled
    // safely); the rest of the path (build output, daemon error, message) is the real one.
    const huge = await writeTask(join(bench, "too-big"), {
      dockerfile: dockerfile(LABEL, "RUN dd if=/dev/zero of=/dev/full bs=1M count=64"),
      solve: "true",
      test: "echo 1 > /logs/verifier/reward.txt",
    });
    const fine = await fineTask("fine-beside-too-big");
    const { r, results } = await runJob(["--agent", "oracle", "--scenarios", huge, fine], {
      env: { RLI_RETRY_BASE_MS: "1" },
    });
    expect(r.code, r.stderr).toBe(0);
    const t = resultOf(results, "dk/too-big");
    expect(t.status).toBe("infra_error");
    expect(t.exception?.message).toMatch(
      /^the image of dk\/too-big failed to build: the disk is full \(no space left on device; Docker keeps images under \/\S+\): free space \(docker system prune, rli bmj cleanup\) and run the job again \(build log: logs\/build\.log\)$/,
    );
    expect(t.earlier_tries).toBeUndefined();
    expect(resultOf(results, "dk/fine-beside-too-big").status).toBe("passed");
  });

  it("a container killed mid-trial is an infra_error, retried with --max-retries, and removed", async () => {
    // The solution sleeps a few seconds before it writes its answer: long enough to be killed in.
    const killable = await writeTask(join(bench, "killed"), {
      dockerfile: dockerfile(LABEL, "RUN touch /killable"),
      solve: "touch /logs/agent/sleeping\nsleep 4\necho done > /app/done",
      test: "if [ -s /app/done ]; then echo 1 > /logs/verifier/reward.txt; fi",
    });
    const fine = await fineTask("fine-beside-killed");
    let killed = "";
    const { r, results, jobId, jobDir } = await runJob(
      ["--agent", "oracle", "--max-retries", "1", "--scenarios", killable, fine],
      {
        env: { RLI_RETRY_BASE_MS: "200" },
        during: async (dir) => {
          const trial = "dk_killed__oracle__1";
          await waitFor(
            () => exists(join(dir, "trials", trial, "logs", "agent", "sleeping")),
            60_000,
            "the solution to sleep",
          );
          const ids = await containersWith(`${LABEL_TRIAL}=${trial}`);
          const mine = await containersWith(`${LABEL_JOB}=${basename(dir)}`);
          killed = ids.filter((id) => mine.includes(id)).join(" ");
          await docker("kill", ...killed.split(" "));
        },
      },
    );
    expect(killed).not.toBe("");
    expect(killed.split(" ")).toHaveLength(1);
    expect(r.code, r.stderr).toBe(0);
    const retried = resultOf(results, "dk/killed");
    // The second try ran in a new container and passed; the killed try is kept in the record.
    expect(retried.status).toBe("passed");
    expect(retried.earlier_tries).toHaveLength(1);
    const first = retried.earlier_tries?.[0];
    expect(first?.status).toBe("infra_error");
    expect(first?.exception?.phase).toBe("agent_run");
    expect(first?.exception?.type).toBe("SandboxError");
    expect(first?.exception?.message).toMatch(
      /^container [0-9a-f]{12} stopped while the command ran$/,
    );
    expect(first?.logs_dir).toBe("tries/1/logs");
    const dir = trialDir(jobDir, "dk/killed");
    expect(await exists(join(dir, "tries", "1", "logs", "agent", "sleeping"))).toBe(true);
    expect(await exists(join(dir, "logs", "verifier", "reward.txt"))).toBe(true);
    expect(resultOf(results, "dk/fine-beside-killed").status).toBe("passed");
    expect(resultOf(results, "dk/fine-beside-killed").earlier_tries).toBeUndefined();
    expect(await containersOfJob(jobId)).toEqual([]);
  });

  it("Ctrl-C during a run exits 130, cancels the job and leaves no container", async () => {
    const tasks = [await sleepyTask("ctrl-c-1"), await sleepyTask("ctrl-c-2")];
    let jobId = "";
    let running = 0;
    const { r, jobDir, results } = await runJob(
      [
        "--agent",
        "oracle",
        "--n-attempts",
        "2",
        "--n-concurrent-trials",
        "2",
        "--scenarios",
        ...tasks,
      ],
      {
        during: async (dir, child) => {
          jobId = basename(dir);
          // Both running trials are inside their sleeping solutions.
          await waitFor(
            async () => {
              const trials = await readdir(join(dir, "trials")).catch(() => []);
              let sleeping = 0;
              for (const t of trials) {
                if (await exists(join(dir, "trials", t, "logs", "agent", "sleeping"))) sleeping++;
              }
              return sleeping === 2;
            },
            60_000,
            "two sleeping solutions",
          );
          running = (await containersOfJob(jobId)).length;
          child.kill("SIGINT");
        },
      },
    );
    expect(running).toBe(2);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("Cancelling");
    const doc = JSON.parse(await readFile(join(jobDir, "job.json"), "utf8")) as { state: string };
    expect(doc.state).toBe("cancelled");
    expect(results.map((t) => t.status)).toEqual(Array(4).fill("cancelled"));
    await waitFor(
      async () => (await containersOfJob(jobId)).length === 0,
      60_000,
      "the job's containers to go",
    );
  });
});

describe("docker backend, resume after kill -9", { timeout: 110_000 }, () => {
  it("resume removes the dead runner's containers, then runs what is missing", async () => {
    // The solution takes a few seconds, so the first runner is caught with both containers up.
    const tasks = [1, 2].map((i) =>
      writeTask(join(bench, `kill9-${i}`), {
        dockerfile: dockerfile(LABEL, "RUN touch /kill9"),
        solve: "touch /logs/agent/sleeping\nsleep 3\necho ok > /app/ok",
        test: "if [ -s /app/ok ]; then echo 1 > /logs/verifier/reward.txt; fi",
      }),
    );
    const dirs = await Promise.all(tasks);
    let jobId = "";
    let left: string[] = [];
    const killed = await runJob(["--agent", "oracle", "--scenarios", ...dirs], {
      during: async (dir, child) => {
        jobId = basename(dir);
        await waitFor(
          async () => (await containersOfJob(jobId)).length === 2,
          60_000,
          "two containers",
        );
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
        left = await containersOfJob(jobId);
      },
    });
    expect(killed.r.code).toBeNull();
    // The runner died without tearing anything down: its containers are still there.
    expect(left).toHaveLength(2);
    const home = join(killed.jobDir, "..", "..");
    const resumed = await runCli(["bmj", "resume", jobId, "-o", "json"], cliEnv(home), {
      timeoutMs: 110_000,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /^Resuming job_\S+: 0 of 2 trial\(s\) kept, 2 to run; removed 2 leftover sandbox\(es\) of the stopped runner$/m,
    );
    const results = Object.values(await trialResults<TrialResult>(killed.jobDir));
    expect(results.map((t) => t.status)).toEqual(["passed", "passed"]);
    for (const t of results) {
      expect(t.earlier_tries?.map((e) => e.exception?.type)).toEqual(["RunnerLostError"]);
    }
    expect(await containersOfJob(jobId)).toEqual([]);
  });
});

describe("docker backend, a second Ctrl-C", { timeout: 110_000 }, () => {
  it("exits at once but removes the job's containers first", async () => {
    const tasks = [await sleepyTask("twice-1"), await sleepyTask("twice-2")];
    let jobId = "";
    let running = 0;
    const { r } = await runJob(["--agent", "oracle", "--scenarios", ...tasks], {
      during: async (dir, child) => {
        jobId = basename(dir);
        await waitFor(
          async () => (await containersOfJob(jobId)).length === 2,
          60_000,
          "two containers",
        );
        running = 2;
        child.kill("SIGINT");
        // Two signals sent at once would reach the process as one; a person's second Ctrl-C is later.
        await new Promise((resolve) => setTimeout(resolve, 50));
        child.kill("SIGINT");
      },
    });
    expect(running).toBe(2);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Exiting: removing this job's sandboxes first/);
    // Right after the exit, not eventually: the runner removed them before it went.
    expect(await containersOfJob(jobId)).toEqual([]);
  });
});

describe("Harbor image semantics", { timeout: 110_000 }, () => {
  it("solve.sh and test.sh run in the Dockerfile's WORKDIR when task.toml names no workdir", async () => {
    const task = await writeTask(join(bench, "dockerfile-workdir"), {
      dockerfile: dockerfile(LABEL, "WORKDIR /srv/harbor", "RUN echo seed > /srv/harbor/seed.txt"),
      solve: "pwd > /logs/agent/pwd.txt\ncp seed.txt copy.txt",
      test: 'if [ "$(pwd)" = /srv/harbor ] && [ -f /srv/harbor/copy.txt ]; then echo 1 > /logs/verifier/reward.txt; fi',
    });
    const { results, jobDir } = await runJob([
      "--agent",
      "oracle",
      "--backend",
      "docker",
      "--scenarios",
      task,
    ]);
    const pwd = await readFile(
      join(trialDir(jobDir, "dk/dockerfile-workdir"), "logs", "agent", "pwd.txt"),
      "utf8",
    ).catch(() => "");
    expect(pwd.trim()).toBe("/srv/harbor");
    expect(resultOf(results, "dk/dockerfile-workdir").status).toBe("passed");
  });
});

describe("docker backend bad input", { timeout: 110_000 }, () => {
  it("no daemon at DOCKER_HOST: one line naming how to get one (or --backend runloop), exit 1, no job", async () => {
    const task = await writeTask(join(bench, "no-daemon"), {
      dockerfile: dockerfile(LABEL),
      solve: "true",
      test: "",
    });
    const home = join(tmp.dir, "home-no-daemon");
    const r = await runCli(["bmj", "run", "--agent", "oracle", "--scenarios", task], {
      ...cliEnv(home),
      DOCKER_HOST: "unix:///nonexistent.sock",
    });
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^Error: .*Docker.*setup-docker\.sh.*--backend runloop/);
    expect(r.code).toBe(1);
    expect(await readdir(join(home, "jobs")).catch(() => [])).toEqual([]);
  });

  it("--backend docker refuses host tasks: one line, exit 2", async () => {
    const home = join(tmp.dir, "home-host-task");
    const r = await runCli(
      ["bmj", "run", "--agent", "oracle", "--backend", "docker", "--benchmark", "starter"],
      cliEnv(home),
    );
    expectUsageError(r, /sandbox = "host".*--backend local.*\(and 13 more\)/);
    expect(await readdir(join(home, "jobs")).catch(() => [])).toEqual([]);
  });

  it("a docker_image that is not present locally: its trials are infra_error saying so", async () => {
    const task = await writeTask(join(bench, "missing-image"), {
      toml: '[environment]\ndocker_image = "not-present:1"\n',
      solve: "true",
      test: "echo 1 > /logs/verifier/reward.txt",
    });
    const { r, results, jobId } = await runJob(["--agent", "oracle", "--scenarios", task]);
    expect(r.code, r.stderr).toBe(0);
    const t = resultOf(results, "dk/missing-image");
    expect(t.status).toBe("infra_error");
    expect(t.exception?.phase).toBe("provision");
    expect(t.exception?.message).toMatch(/image not-present:1 is not present locally/);
    expect(await containersOfJob(jobId)).toEqual([]);
  });
});
