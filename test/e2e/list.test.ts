import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { newJobId } from "../../src/core/ids.js";
import type { AgentRef, JobDoc, TrialResult, TrialStatus } from "../../src/core/schemas.js";
import { type JobListEntry, listEntry } from "../../src/report/list-table.js";
import { jobIds, readEffectiveStatus, staleReason } from "../../src/store/jobs.js";
import { jobStatus } from "../../src/store/store.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { makeJob, makeResult, NOP, ORACLE } from "../helpers/factories.js";
import { deadPid } from "../helpers/processes.js";
import { FIXTURES, tempDir } from "../helpers/tasks.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const HEADER =
  "ID                             NAME             STARTED    STATUS              DONE   ERRORS   SCORE";
const RULE = "─".repeat(100);

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;

beforeEach(async () => {
  home = await tempDir("rli-list-");
  jobsDir = join(home.dir, "jobs");
  env = cliEnv(home.dir);
});
afterEach(() => home.cleanup());

/** A row as the table prints it at the 100 columns a pipe gets (NAME 16 wide). */
function row(
  id: string,
  name: string,
  started: string,
  status: string,
  done: string,
  errors: number,
  score: string,
): string {
  return [
    id.padEnd(30),
    name.padEnd(16),
    started.padEnd(10),
    status.padEnd(14),
    done.padStart(9),
    String(errors).padStart(8),
    score.padStart(7),
  ].join(" ");
}

describe("rli benchmark-job list after real runs", () => {
  it("lists each run with its counts, newest last, and -o json / -o yaml give the same records", async () => {
    const first = await runCli(
      [
        "bmj",
        "run",
        "--agent",
        "oracle",
        "--scenarios",
        join(FIXTURES, "bench-mini", "hello"),
        join(FIXTURES, "bench-mini", "broken-verifier"),
        "--job-name",
        "nightly oracle run on mini",
        "-o",
        "json",
      ],
      env,
    );
    expect(first.code).toBe(0);
    const second = await runCli(
      ["bmj", "run", "--agent", "nop", "--scenarios", join(FIXTURES, "bench-mini", "hello")],
      env,
    );
    expect(second.code).toBe(0);
    // Both may start within one second, so their ids need not sort in run order.
    const id1 = (JSON.parse(first.stdout) as { id: string }).id;
    const id2 = jobIds(jobsDir).find((id) => id !== id1);
    expect(id2).toBeDefined();

    // No --jobs-dir: the store under $RLI_HOME.
    const r = await runCli(["benchmark-job", "list"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        HEADER,
        RULE,
        row(id1!, "nightly oracl...", "just now", "completed", "2/2", 1, "100%"),
        row(id2!, "scenarios: nop", "just now", "completed", "1/1", 0, "0%"),
        "",
        "2 jobs",
        "",
      ].join("\n"),
    );

    const json = await runCli(["bmj", "list", "-o", "json", "--jobs-dir", jobsDir], env);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    const records = JSON.parse(json.stdout) as JobListEntry[];
    const doc1 = JSON.parse(readFileSync(join(jobsDir, id1!, "job.json"), "utf8")) as JobDoc;
    expect(records[0]).toEqual({
      id: id1,
      name: "nightly oracle run on mini",
      state: "completed",
      create_time_ms: Date.parse(doc1.created_at),
      created_at: doc1.created_at,
      finished_at: doc1.finished_at,
      failure_reason: null,
      n_trials: 2,
      n_finished: 2,
      n_errors: 1,
      n_passed: 1,
      score: 1,
      dir: join(jobsDir, id1!),
    });
    expect(records[1]).toMatchObject({ id: id2, n_trials: 1, n_passed: 0, score: 0 });
    expect(records[0]!.create_time_ms).toBeLessThanOrEqual(records[1]!.create_time_ms);

    const yaml = await runCli(["bmj", "list", "-o", "yaml", "--jobs-dir", jobsDir], env);
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.stdout)).toEqual(records);
  });
});

function result(job: string, agent: AgentRef, status: TrialStatus, score: number | null) {
  return makeResult(agent, status, score, {
    job_id: job,
    started_at: "2026-01-01T00:00:00.000Z",
    finished_at: "2026-01-01T00:01:00.000Z",
    duration_ms: 60_000,
  });
}

interface Synthetic {
  /** Created `agoMs` before now; the id encodes `idAgoMs` (default: the same time). */
  agoMs: number;
  idAgoMs?: number;
  name?: string;
  state?: JobDoc["state"];
  agents?: AgentRef[];
  nScenarios?: number;
  failure?: string;
  runner?: JobDoc["runner"];
  /** Written to results.jsonl; also frozen into status.json's counts unless the job is running. */
  results?: (job: string) => TrialResult[];
  /** job.json only, results as trials/<id>/result.json: a directory from before status.json. */
  legacy?: boolean;
}

/** A job directory as the runner leaves it: job.json, status.json (via the store's own jobStatus). */
async function writeJob(s: Synthetic): Promise<string> {
  const now = Date.now();
  const id = newJobId(new Date(now - (s.idAgoMs ?? s.agoMs)));
  const agents = s.agents ?? [ORACLE];
  const base = makeJob(agents);
  const doc = makeJob(
    agents,
    {
      id,
      created_at: new Date(now - s.agoMs).toISOString(),
      state: s.state ?? "completed",
      finished_at: s.state === "running" ? null : new Date(now - s.agoMs + MIN).toISOString(),
      failure_reason: s.failure ?? null,
      runner: s.runner ?? base.runner,
    },
    {
      name: s.name ?? "starter: oracle",
      scenarios: Array.from({ length: s.nScenarios ?? 2 }, (_, i) => ({
        ...base.spec.scenarios[0]!,
        id: `b/s${i}`,
      })),
    },
  );
  const dir = join(jobsDir, id);
  await mkdir(join(dir, "trials"), { recursive: true });
  const results = s.results?.(id) ?? [];
  await writeFile(join(dir, "job.json"), `${JSON.stringify(doc, null, 2)}\n`);
  if (s.legacy) {
    for (const r of results) {
      await mkdir(join(dir, "trials", r.trial_id), { recursive: true });
      await writeFile(join(dir, "trials", r.trial_id, "result.json"), JSON.stringify(r));
    }
    return id;
  }
  const { jobCounts } = await import("../../src/core/counts.js");
  const counts = doc.state === "running" ? null : jobCounts(agents, results);
  await writeFile(join(dir, "status.json"), `${JSON.stringify(jobStatus(doc, counts))}\n`);
  await writeFile(
    join(dir, "results.jsonl"),
    results.map((r) => `${JSON.stringify(r)}\n`).join(""),
  );
  return id;
}

describe("rli benchmark-job list over a store written by hand", () => {
  let ids: Record<string, string>;

  beforeEach(async () => {
    ids = {
      old: await writeJob({
        agoMs: 10 * DAY,
        name: "old completed",
        nScenarios: 14,
        results: (j) => [result(j, ORACLE, "passed", 1), result(j, ORACLE, "agent_error", null)],
      }),
      cancelled: await writeJob({
        agoMs: 3 * HOUR,
        name: "stopped early",
        state: "cancelled",
        results: (j) => [result(j, ORACLE, "passed", 1), result(j, ORACLE, "cancelled", null)],
      }),
      dead: await writeJob({
        agoMs: 2 * HOUR,
        name: "runner died",
        state: "running",
        agents: [ORACLE, NOP],
        runner: {
          pid: deadPid(),
          hostname: hostname(),
          rli_version: "0.1.0",
          boot_id: "00000000-0000-0000-0000-000000000000",
        },
        results: (j) => [result(j, ORACLE, "passed", 1), result(j, NOP, "agent_error", null)],
      }),
      legacy: await writeJob({
        agoMs: HOUR,
        name: "no status.json",
        legacy: true,
        results: (j) => [result(j, ORACLE, "passed", 1)],
      }),
      running: await writeJob({
        agoMs: 30 * MIN,
        name: "still going",
        state: "running",
        runner: { pid: process.pid, hostname: hostname(), rli_version: "0.1.0" },
        results: (j) => [result(j, ORACLE, "failed", 0.5)],
      }),
      // An id from today over a created_at of five days ago: the cutoff goes by created_at.
      skewed: await writeJob({ agoMs: 5 * DAY, idAgoMs: 2 * MIN, name: "skewed id" }),
    };
    const broken = join(jobsDir, newJobId(new Date(Date.now() - 20 * MIN)));
    await mkdir(broken);
    await writeFile(join(broken, "status.json"), "{not json");
    ids.broken = broken;
    await mkdir(join(jobsDir, "notes"));
    await mkdir(join(jobsDir, "job_bad"));
    await writeFile(join(jobsDir, "README"), "not a job\n");
  });

  it("shows the last day's jobs oldest first, a dead runner's job as failed, and warns about a broken one", async () => {
    const r = await runCli(["bmj", "list", "--jobs-dir", jobsDir], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^Warning: skipping ${ids.broken}: [^\\n]+\\n$`));
    expect(r.stdout).toBe(
      [
        HEADER,
        RULE,
        row(ids.cancelled!, "stopped early", "3h ago", "cancelled", "2/2", 0, "100%"),
        row(ids.dead!, "runner died", "2h ago", "failed", "2/4", 1, "100%"),
        row(ids.legacy!, "no status.json", "1h ago", "completed", "1/2", 0, "100%"),
        row(ids.running!, "still going", "30m ago", "running", "1/2", 0, "50%"),
        "",
        "4 jobs",
        "",
      ].join("\n"),
    );
  });

  it("--all -o json lists every readable job with the dead runner's reason and live counts", async () => {
    const r = await runCli(["bmj", "list", "--all", "-o", "json", "--jobs-dir", jobsDir], env);
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as JobListEntry[];
    expect(records.map((e) => e.name)).toEqual([
      "old completed",
      "skewed id",
      "stopped early",
      "runner died",
      "no status.json",
      "still going",
    ]);
    const dead = records[3]!;
    const status = JSON.parse(readFileSync(join(jobsDir, ids.dead!, "status.json"), "utf8"));
    expect(dead).toMatchObject({
      state: "failed",
      failure_reason: staleReason(status.runner),
      n_trials: 4,
      n_finished: 2,
      n_passed: 1,
      n_errors: 1,
      score: 1,
    });
    expect(records[0]).toMatchObject({ n_trials: 14, n_finished: 2, n_errors: 1, score: 1 });
    expect(records[5]).toMatchObject({ state: "running", n_finished: 1, n_passed: 0, score: 0.5 });
  });

  it("--status is trimmed, case-insensitive and takes canceled for cancelled", async () => {
    const one = await runCli(["bmj", "list", "--status", "canceled", "--jobs-dir", jobsDir], env);
    expect(one.code).toBe(0);
    expect(one.stdout.split("\n").slice(2)).toEqual([
      row(ids.cancelled!, "stopped early", "3h ago", "cancelled", "2/2", 0, "100%"),
      "",
      "1 job",
      "",
    ]);
    const two = await runCli(
      [
        "bmj",
        "list",
        "--all",
        "--status",
        " CANCELLED , Failed,",
        "-o",
        "json",
        "--jobs-dir",
        jobsDir,
      ],
      env,
    );
    expect(two.code).toBe(0);
    expect((JSON.parse(two.stdout) as JobListEntry[]).map((e) => e.id)).toEqual([
      ids.cancelled,
      ids.dead,
    ]);
    const none = await runCli(["bmj", "list", "--status", "timeout", "--jobs-dir", jobsDir], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("No benchmark jobs found\n");
  });

  it("--days widens the window by created_at", async () => {
    const six = await runCli(
      ["bmj", "list", "--days", "6", "-o", "json", "--jobs-dir", jobsDir],
      env,
    );
    const names6 = (JSON.parse(six.stdout) as JobListEntry[]).map((e) => e.name);
    expect(names6[0]).toBe("skewed id");
    expect(names6).not.toContain("old completed");
    const eleven = await runCli(
      ["bmj", "list", "--days", "11", "-o", "json", "--jobs-dir", jobsDir],
      env,
    );
    expect((JSON.parse(eleven.stdout) as JobListEntry[]).map((e) => e.name)).toHaveLength(6);
  });

  it("says when the cutoff hid every job, and how to see them", async () => {
    const only = join(home.dir, "old-only");
    jobsDir = only;
    await writeJob({ agoMs: 3 * DAY });
    await writeJob({ agoMs: 40 * DAY });
    const r = await runCli(["bmj", "list", "--jobs-dir", only], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("No benchmark jobs found\n");
    expect(r.stderr).toBe(
      "Hint: 2 jobs are older than 1 day; use --all or --days <n> to include them\n",
    );
    const all = await runCli(["bmj", "list", "--all", "--jobs-dir", only], env);
    expect(all.stdout).toContain("\n2 jobs\n");
  });

  it("goes by created_at near the cutoff, even where the id's time is a little older", async () => {
    const near = join(home.dir, "near");
    jobsDir = near;
    const inside = await writeJob({ agoMs: DAY - 5 * MIN, idAgoMs: DAY + 10 * MIN, name: "in" });
    await writeJob({ agoMs: DAY + 5 * MIN, idAgoMs: DAY - 10 * MIN, name: "out" });
    const r = await runCli(["bmj", "list", "-o", "json", "--jobs-dir", near], env);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as JobListEntry[]).map((e) => e.id)).toEqual([inside]);
  });

  it("reads finished jobs exactly as the store's own readers do", async () => {
    // list reads a finished job's status.json without the schemas, for speed; the store decides the rest.
    const r = await runCli(["bmj", "list", "--all", "-o", "json", "--jobs-dir", jobsDir], env);
    const records = JSON.parse(r.stdout) as JobListEntry[];
    for (const key of ["old", "cancelled", "skewed"]) {
      const dir = join(jobsDir, ids[key]!);
      const status = await readEffectiveStatus(dir);
      expect(records.find((e) => e.id === ids[key])).toEqual(
        listEntry(status, status.counts!, dir),
      );
    }
  });
});

describe("rli benchmark-job list rejects bad input with one line and a non-zero exit", () => {
  const VALID =
    "Valid: initializing, queued, running, completed, failed, cancelled (or canceled), timeout";
  const cases: [string, string[], number, string][] = [
    ["--days 2x", ["--days", "2x"], 2, 'Error: --days must be a positive integer, got "2x"'],
    ["--days 0", ["--days", "0"], 2, 'Error: --days must be a positive integer, got "0"'],
    ["--days -1", ["--days", "-1"], 2, 'Error: --days must be a positive integer, got "-1"'],
    [
      "--days 1.5 with --all",
      ["--all", "--days", "1.5"],
      2,
      'Error: --days must be a positive integer, got "1.5"',
    ],
    [
      "unknown statuses",
      ["--status", "running,Bogus, nope"],
      2,
      `Error: Invalid status: bogus, nope. ${VALID}`,
    ],
    ["an empty --status", ["--status", " , "], 2, `Error: Invalid status: " , ". ${VALID}`],
    [
      "unknown -o",
      ["-o", "xml"],
      2,
      "Error: Unknown output format: xml. Valid options: text, json, yaml",
    ],
  ];
  it.each(cases)("%s", async (_label, args, code, message) => {
    const r = await runCli(["bmj", "list", ...args, "--jobs-dir", jobsDir], env);
    expect(r.code).toBe(code);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.stdout).toBe("");
  });

  it("a jobs dir that is a regular file is an error, exit 1", async () => {
    const file = join(home.dir, "file");
    await writeFile(file, "x");
    const r = await runCli(["bmj", "list", "--jobs-dir", file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: cannot read jobs directory ${file}: ENOTDIR\n`);
    expect(r.stdout).toBe("");
  });

  it("a jobs dir that does not exist has no jobs, exit 0", async () => {
    const r = await runCli(["bmj", "list", "--all", "--jobs-dir", join(home.dir, "nope")], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("No benchmark jobs found\n");
    expect(r.stderr).toBe("");
    const json = await runCli(
      ["bmj", "list", "-o", "json", "--jobs-dir", join(home.dir, "nope")],
      env,
    );
    expect(json.stdout).toBe("[]\n");
  });
});
