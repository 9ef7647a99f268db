import { appendFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jobCounts } from "../../../src/core/counts.js";
import { digestOf } from "../../../src/core/digest.js";
import { StoreError } from "../../../src/core/errors.js";
import type {
  AgentRef,
  JobDoc,
  JobStatus,
  TrialResult,
  TrialStatus,
} from "../../../src/core/schemas.js";
import { JobEventSchema } from "../../../src/core/schemas.js";
import { talliesOf } from "../../../src/core/tally.js";
import { readTallies } from "../../../src/store/read.js";
import {
  closeAbandonedJob,
  JobWriter,
  parseEvents,
  readDigests,
  readJob,
  readResults,
  readStatus,
} from "../../../src/store/store.js";
import { rejection } from "../../helpers/errors.js";
import {
  DIGEST,
  JOB_ID,
  makeJob,
  makeResult as makeResultOf,
  NOP_M,
  ORACLE,
} from "../../helpers/factories.js";
import { jsonLine as line, readJson } from "../../helpers/files.js";
import { tempDir } from "../../helpers/tasks.js";

/** A running job over 2 scenarios × 2 agents × 3 attempts (12 trials). */
function runningJob(over: Partial<JobDoc> = {}): JobDoc {
  return makeJob(
    [ORACLE, NOP_M],
    {
      state: "running",
      finished_at: null,
      runner: { pid: 4242, hostname: "box", rli_version: "0.1.0" },
      ...over,
    },
    {
      scenarios: [
        { id: "b/one", name: "one", path: "/p/one", digest: DIGEST },
        { id: "b/two", name: "two", path: "/p/two", digest: DIGEST },
      ],
      n_attempts: 3,
    },
  );
}

function makeResult(
  trialId: string,
  agent: AgentRef,
  status: TrialStatus,
  score: number | null,
): TrialResult {
  return makeResultOf(agent, status, score, {
    trial_id: trialId,
    job_id: JOB_ID,
    scenario_id: "b/one",
  });
}

let jobsDir: string;
let cleanup: () => Promise<void>;
const writers: JobWriter[] = [];

beforeEach(async () => {
  const t = await tempDir();
  jobsDir = join(t.dir, "jobs");
  cleanup = t.cleanup;
});

afterEach(async () => {
  for (const w of writers.splice(0)) w.close();
  await cleanup();
});

async function create(doc: JobDoc = runningJob()): Promise<JobWriter> {
  const w = await JobWriter.create(jobsDir, doc);
  writers.push(w);
  return w;
}

describe("JobWriter.create", () => {
  it("writes job.json as the doc and status.json with name, trial count and no counts", async () => {
    const doc = runningJob();
    const w = await create(doc);
    expect(w.dir).toBe(join(jobsDir, JOB_ID));
    expect(await readFile(join(w.dir, "job.json"), "utf8")).toBe(
      `${JSON.stringify(doc, null, 2)}\n`,
    );
    const { spec: _spec, ...rest } = doc;
    expect(await readJson(join(w.dir, "status.json"))).toEqual({
      ...rest,
      name: "nightly",
      n_trials: 12,
      counts: null,
    });
    expect(await readJob(w.dir)).toEqual(doc);
  });

  it("creates the jobs directory, trials/, and empty events.jsonl and results.jsonl", async () => {
    const w = await create();
    expect((await readdir(w.dir)).sort()).toEqual([
      "events.jsonl",
      "job.json",
      "results.jsonl",
      "status.json",
      "trials",
    ]);
    expect(await readFile(join(w.dir, "events.jsonl"), "utf8")).toBe("");
    expect(await readFile(join(w.dir, "results.jsonl"), "utf8")).toBe("");
  });

  it("keeps the job private to its owner", async () => {
    const w = await create();
    expect((await stat(w.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(w.dir, "job.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(w.dir, "status.json"))).mode & 0o777).toBe(0o600);
  });

  it("refuses a job whose directory already exists", async () => {
    (await create()).close();
    const err = await rejection<NodeJS.ErrnoException>(
      JobWriter.create(jobsDir, runningJob({ state: "completed" })),
    );
    expect(err.code).toBe("EEXIST");
    expect((await readJob(join(jobsDir, JOB_ID))).state).toBe("running");
  });

  it("refuses an existing directory holding anything besides runner.log", async () => {
    const dir = join(jobsDir, JOB_ID);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "runner.log"), "log\n");
    await writeFile(join(dir, "other"), "x");
    const err = await rejection<NodeJS.ErrnoException>(JobWriter.create(jobsDir, runningJob()));
    expect(err.code).toBe("EEXIST");
    expect((await readdir(dir)).sort()).toEqual(["other", "runner.log"]);
  });

  it("takes over a directory that holds only runner.log (made by run --detach), keeping the log", async () => {
    const dir = join(jobsDir, JOB_ID);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "runner.log"), "starting\n");
    const doc = runningJob();
    const w = await create(doc);
    expect(w.dir).toBe(dir);
    expect(await readFile(join(dir, "runner.log"), "utf8")).toBe("starting\n");
    expect(await readJob(dir)).toEqual(doc);
    expect((await readStatus(dir)).counts).toBeNull();
  });
});

describe("JobWriter.appendEvent", () => {
  it("stamps events with version, time and a sequence from 0 and appends them as lines", async () => {
    const w = await create();
    const before = Date.now();
    const e0 = w.appendEvent({ type: "job_started", job_id: JOB_ID, n_trials: 12 });
    const e1 = w.appendEvent({ type: "job_finished", job_id: JOB_ID, state: "completed" });
    expect(e0).toMatchObject({ schema_version: 1, seq: 0, type: "job_started" });
    expect(e1).toMatchObject({ schema_version: 1, seq: 1, type: "job_finished" });
    expect(Date.parse(e0.ts)).toBeGreaterThanOrEqual(before - 1);
    const text = await readFile(join(w.dir, "events.jsonl"), "utf8");
    expect(text).toBe(line(e0) + line(e1));
    for (const e of parseEvents(text)) expect(JobEventSchema.safeParse(e).success).toBe(true);
  });
});

describe("JobWriter.writeResult", () => {
  it("writes trials/<id>/result.json and appends one line to results.jsonl", async () => {
    const w = await create();
    const a = makeResult("b_one__oracle__1", ORACLE, "passed", 1);
    const b = makeResult("b_one__nop-m__1", NOP_M, "failed", 0.5);
    await w.prepareTrial(a.trial_id);
    await w.writeResult(a);
    await w.writeResult(b);
    expect(await readFile(join(w.dir, "trials", a.trial_id, "result.json"), "utf8")).toBe(
      `${JSON.stringify(a, null, 2)}\n`,
    );
    expect(await readJson(join(w.dir, "trials", b.trial_id, "result.json"))).toEqual(b);
    expect(await readFile(join(w.dir, "results.jsonl"), "utf8")).toBe(line(a) + line(b));
  });

  it("creates the trial directory of a trial that never started (cancelled)", async () => {
    const w = await create();
    const r = makeResult("b_two__oracle__1", ORACLE, "cancelled", null);
    await w.writeResult(r);
    expect(await readJson(join(w.dir, "trials", r.trial_id, "result.json"))).toEqual(r);
  });

  it("rejects an invalid result and writes nothing", async () => {
    const w = await create();
    const bad = { ...makeResult("b_one__oracle__1", ORACLE, "passed", 1), score: 2 };
    await expect(w.writeResult(bad)).rejects.toThrow();
    expect(await readdir(join(w.dir, "trials"))).toEqual([]);
    expect(await readFile(join(w.dir, "results.jsonl"), "utf8")).toBe("");
  });

  it("is what readResults returns, in trial-id order", async () => {
    const w = await create();
    const z = makeResult("z", ORACLE, "passed", 1);
    const a = makeResult("a", NOP_M, "failed", 0);
    await w.writeResult(z);
    await w.writeResult(a);
    expect(await readResults(w.dir)).toEqual([a, z]);
  });
});

describe("readResults", () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(jobsDir, JOB_ID);
    await mkdir(join(dir, "trials"), { recursive: true });
  });

  it("reads results.jsonl, skipping a torn last line", async () => {
    const a = makeResult("a", ORACLE, "passed", 1);
    const b = makeResult("b", ORACLE, "failed", 0);
    const torn = line(makeResult("c", ORACLE, "passed", 1)).slice(0, 80);
    await writeFile(join(dir, "results.jsonl"), line(a) + line(b) + torn);
    expect(await readResults(dir)).toEqual([a, b]);
  });

  it("keeps the last record of a trial recorded twice", async () => {
    const first = makeResult("a", ORACLE, "infra_error", null);
    const second = makeResult("a", ORACLE, "passed", 1);
    const other = makeResult("b", ORACLE, "failed", 0);
    await writeFile(join(dir, "results.jsonl"), line(first) + line(other) + line(second));
    expect(await readResults(dir)).toEqual([second, other]);
  });

  it("skips lines that are not JSON or not a valid result, and blank lines", async () => {
    const a = makeResult("a", ORACLE, "passed", 1);
    const b = makeResult("b", ORACLE, "failed", 0.5);
    const text =
      "not json\n" +
      line(b) +
      "\n" +
      line({ ...a, trial_id: "x", status: "exploded" }) +
      line({ hello: "world" }) +
      line(a) +
      "{\n";
    await writeFile(join(dir, "results.jsonl"), text);
    expect(await readResults(dir)).toEqual([a, b]);
  });

  it("sorts by trial id, by code unit (uppercase before lowercase)", async () => {
    const ids = ["b__x__2", "B__x__1", "a__x__10", "a__x__1"];
    await writeFile(
      join(dir, "results.jsonl"),
      ids.map((id) => line(makeResult(id, ORACLE, "passed", 1))).join(""),
    );
    expect((await readResults(dir)).map((r) => r.trial_id)).toEqual([
      "B__x__1",
      "a__x__1",
      "a__x__10",
      "b__x__2",
    ]);
  });

  it("is empty for an empty results.jsonl even when trial directories hold results", async () => {
    await writeFile(join(dir, "results.jsonl"), "");
    await mkdir(join(dir, "trials", "a"));
    await writeFile(
      join(dir, "trials", "a", "result.json"),
      line(makeResult("a", ORACLE, "passed", 1)),
    );
    expect(await readResults(dir)).toEqual([]);
  });

  it("falls back to trials/<id>/result.json when results.jsonl is missing", async () => {
    const a = makeResult("a", ORACLE, "passed", 1);
    const b = makeResult("b", NOP_M, "agent_error", null);
    for (const [id, text] of [
      ["b", JSON.stringify(b, null, 2)],
      ["a", JSON.stringify(a, null, 2)],
      ["c-unfinished", null],
      ["d-torn", JSON.stringify(a).slice(0, 50)],
      ["e-invalid", JSON.stringify({ ...a, status: "nope" })],
    ] as const) {
      await mkdir(join(dir, "trials", id, "logs"), { recursive: true });
      if (text !== null) await writeFile(join(dir, "trials", id, "result.json"), text);
    }
    expect(await readResults(dir)).toEqual([a, b]);
  });

  it("is empty for a directory with neither results.jsonl nor trials/", async () => {
    await rm(join(dir, "trials"), { recursive: true });
    expect(await readResults(dir)).toEqual([]);
  });
});

describe("JobWriter.update", () => {
  it("records a state change in job.json and status.json, without counts when not given results", async () => {
    const w = await create();
    await w.update({ state: "failed", failure_reason: "boom" });
    expect(w.job.state).toBe("failed");
    expect(await readJob(w.dir)).toMatchObject({ state: "failed", failure_reason: "boom" });
    expect(await readStatus(w.dir)).toMatchObject({
      state: "failed",
      failure_reason: "boom",
      counts: null,
    });
  });

  it("freezes the counts of the results it is given into status.json", async () => {
    const w = await create();
    const results = [
      makeResult("1", ORACLE, "passed", 1),
      makeResult("2", ORACLE, "failed", 0.5),
      makeResult("3", NOP_M, "failed", 0),
      makeResult("4", NOP_M, "agent_timeout", 1),
      makeResult("5", NOP_M, "cancelled", null),
    ];
    const finishedAt = "2024-05-01T12:10:00.000Z";
    await w.update({ state: "completed", finished_at: finishedAt }, results);
    const status = (await readJson(join(w.dir, "status.json"))) as JobStatus;
    // oracle 0.75, nop:m 0 → 0.375; the timeout is an error, the cancel is not
    expect(status.counts).toEqual({ finished: 5, passed: 1, errors: 1, score: 0.375 });
    expect(status.counts).toEqual(jobCounts([ORACLE, NOP_M], results));
    expect(status).toMatchObject({ state: "completed", finished_at: finishedAt, n_trials: 12 });
    expect(await readJob(w.dir)).toMatchObject({ state: "completed", finished_at: finishedAt });
  });
});

describe("readStatus", () => {
  it("reads status.json when there is one", async () => {
    const w = await create();
    await w.update({ state: "completed" }, [makeResult("1", ORACLE, "passed", 1)]);
    await writeFile(join(w.dir, "results.jsonl"), "");
    expect((await readStatus(w.dir)).counts).toEqual({
      finished: 1,
      passed: 1,
      errors: 0,
      score: 1,
    });
  });

  it("computes the record from job.json and the results when status.json is missing", async () => {
    const doc = runningJob({ state: "completed", finished_at: "2024-05-01T12:10:00.000Z" });
    const w = await create(doc);
    await w.writeResult(makeResult("1", ORACLE, "passed", 1));
    await w.writeResult(makeResult("2", NOP_M, "verifier_error", null));
    await rm(join(w.dir, "status.json"));
    const { spec: _spec, ...rest } = doc;
    expect(await readStatus(w.dir)).toEqual({
      ...rest,
      name: "nightly",
      n_trials: 12,
      counts: { finished: 2, passed: 1, errors: 1, score: 1 },
    });
  });

  it("has no counts for a running job without status.json", async () => {
    const w = await create();
    await w.writeResult(makeResult("1", ORACLE, "passed", 1));
    await rm(join(w.dir, "status.json"));
    const status = await readStatus(w.dir);
    expect(status.state).toBe("running");
    expect(status.counts).toBeNull();
  });

  it("throws on a corrupt status.json rather than guessing, naming the file", async () => {
    const w = await create();
    await writeFile(join(w.dir, "status.json"), "{");
    const err = await readStatus(w.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${join(w.dir, "status.json")}: not valid JSON`),
    );
  });
});

describe("reading without the schemas", () => {
  it("refuses a document of another schema version, saying so", async () => {
    const w = await create();
    const doc = JSON.parse(await readFile(join(w.dir, "job.json"), "utf8"));
    await writeFile(join(w.dir, "job.json"), JSON.stringify({ ...doc, schema_version: 2 }));
    await expect(readJob(w.dir)).rejects.toThrow(
      `${join(w.dir, "job.json")}: schema_version 2 is not 1 (written by another rli version?)`,
    );
  });

  it("names the malformed field of job.json and status.json", async () => {
    const w = await create();
    const doc = JSON.parse(await readFile(join(w.dir, "job.json"), "utf8"));
    await writeFile(join(w.dir, "job.json"), JSON.stringify({ ...doc, state: "exploded" }));
    await expect(readJob(w.dir)).rejects.toThrow(/job\.json: state: missing or malformed$/);
    const { spec: _spec, ...noSpec } = doc;
    await writeFile(join(w.dir, "job.json"), JSON.stringify(noSpec));
    await expect(readJob(w.dir)).rejects.toThrow(/job\.json: spec: missing or malformed$/);
    const status = JSON.parse(await readFile(join(w.dir, "status.json"), "utf8"));
    await writeFile(join(w.dir, "status.json"), JSON.stringify({ ...status, counts: { x: 1 } }));
    await expect(readStatus(w.dir)).rejects.toThrow(/status\.json: counts: missing or malformed$/);
  });

  it("skips a results line that is valid JSON but not a trial result", async () => {
    const w = await create();
    await w.writeResult(makeResult("1", ORACLE, "passed", 1));
    appendFileSync(join(w.dir, "results.jsonl"), `${JSON.stringify({ trial_id: "2" })}\n`);
    const bad = { ...makeResult("3", ORACLE, "passed", 1), status: "great" };
    appendFileSync(join(w.dir, "results.jsonl"), `${JSON.stringify(bad)}\n`);
    expect((await readResults(w.dir)).map((r) => r.trial_id)).toEqual(["1"]);
  });
});

describe("digest.json", () => {
  it("is written when the job ends, and summaries read it instead of the results", async () => {
    const w = await create();
    const results = [makeResult("2", NOP_M, "failed", 0), makeResult("1", ORACLE, "passed", 1)];
    for (const r of results) await w.writeResult(r);
    await w.update({ state: "completed", finished_at: "2024-05-01T12:10:00.000Z" }, results);
    const digest = JSON.parse(await readFile(join(w.dir, "digest.json"), "utf8"));
    expect(digest.schema_version).toBe(1);
    expect(digest.trials.map((t: { trial_id: string }) => t.trial_id)).toEqual(["1", "2"]);
    expect(digest.trials[0]).toEqual(digestOf(results[1]!));
    // Proof that the digest, not results.jsonl, is what readDigests reads for an ended job.
    await writeFile(join(w.dir, "results.jsonl"), "");
    const job = await readJob(w.dir);
    expect((await readDigests(w.dir, job)).map((t) => t.status)).toEqual(["passed", "failed"]);
  });

  it("is derived from the results while the job runs or when it is missing", async () => {
    const w = await create();
    await w.writeResult(makeResult("1", ORACLE, "agent_timeout", 0.5));
    const running = await readJob(w.dir);
    expect(await readDigests(w.dir, running)).toEqual([
      digestOf(makeResult("1", ORACLE, "agent_timeout", 0.5)),
    ]);
    expect(await readDigests(w.dir, { ...running, state: "failed" })).toHaveLength(1);
  });

  it("refuses a damaged digest instead of summarising it wrong", async () => {
    const w = await create();
    await w.update({ state: "completed", finished_at: "2024-05-01T12:10:00.000Z" }, []);
    await writeFile(
      join(w.dir, "digest.json"),
      JSON.stringify({ schema_version: 1, trials: [{}] }),
    );
    await expect(readDigests(w.dir, await readJob(w.dir))).rejects.toThrow(
      /digest\.json: trials: missing or malformed$/,
    );
  });
});

describe("tallies.json", () => {
  it("is written with the digest when the job ends: per agent and scenario, the counts compare reads", async () => {
    const w = await create();
    const results = [
      makeResult("1", ORACLE, "passed", 1),
      makeResult("2", ORACLE, "infra_error", null),
      makeResult("3", NOP_M, "cancelled", null),
    ];
    for (const r of results) await w.writeResult(r);
    await w.update({ state: "completed", finished_at: "2024-05-01T12:10:00.000Z" }, results);
    const file = JSON.parse(await readFile(join(w.dir, "tallies.json"), "utf8"));
    expect(file.schema_version).toBe(1);
    const job = await readJob(w.dir);
    const tallies = await readTallies(w.dir, job);
    expect(tallies).toEqual(talliesOf(results));
    // Both of the oracle's trials are of the same scenario here.
    expect(results[1]!.scenario_id).toBe(results[0]!.scenario_id);
    expect(tallies?.get("oracle")?.get(results[0]!.scenario_id)).toEqual({
      n: 2,
      c: 1,
      sum: 1,
      infra: 1,
      infraSum: 0,
      cancelled: 0,
    });
    expect(tallies?.get("nop:m")?.get(results[2]!.scenario_id)?.cancelled).toBe(1);
  });

  it("is not read for a running job or one ended before it existed; a damaged one is refused", async () => {
    const w = await create();
    expect(await readTallies(w.dir, await readJob(w.dir))).toBeNull();
    await w.update({ state: "completed", finished_at: "2024-05-01T12:10:00.000Z" }, []);
    const ended = await readJob(w.dir);
    await rm(join(w.dir, "tallies.json"));
    expect(await readTallies(w.dir, ended)).toBeNull();
    await writeFile(
      join(w.dir, "tallies.json"),
      JSON.stringify({ schema_version: 1, agents: { oracle: { "b/x": [1, 1, 1] } } }),
    );
    await expect(readTallies(w.dir, ended)).rejects.toThrow(
      /tallies\.json: agents\.oracle\.b\/x: missing or malformed$/,
    );
  });
});

describe("closeAbandonedJob", () => {
  it("ends the job in job.json and status.json with counts, and appends job_finished", async () => {
    const w = await create();
    w.appendEvent({ type: "job_started", job_id: JOB_ID, n_trials: 12 });
    w.appendEvent({ type: "phase_started", trial_id: "1", phase: "provision" });
    await w.writeResult(makeResult("1", ORACLE, "passed", 1));
    await w.writeResult(makeResult("2", NOP_M, "failed", 0));
    w.close();
    const before = Date.now();
    const job = await closeAbandonedJob(w.dir, "failed", "runner killed");
    const after = Date.now();

    expect(job).toMatchObject({ state: "failed", failure_reason: "runner killed" });
    const finishedMs = Date.parse(job.finished_at as string);
    expect(finishedMs).toBeGreaterThanOrEqual(before);
    expect(finishedMs).toBeLessThanOrEqual(after);
    expect(await readJob(w.dir)).toEqual(job);
    expect(await readStatus(w.dir)).toMatchObject({
      state: "failed",
      finished_at: job.finished_at,
      failure_reason: "runner killed",
      counts: { finished: 2, passed: 1, errors: 0, score: 0.5 },
    });

    const events = parseEvents(await readFile(join(w.dir, "events.jsonl"), "utf8"));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, "job_started"],
      [1, "phase_started"],
      [2, "job_finished"],
    ]);
    const last = JobEventSchema.parse(events.at(-1));
    expect(last).toMatchObject({ type: "job_finished", job_id: JOB_ID, state: "failed" });
  });

  it("records a cancel without a reason", async () => {
    const w = await create();
    w.close();
    const job = await closeAbandonedJob(w.dir, "cancelled", null);
    expect(job.state).toBe("cancelled");
    expect(job.failure_reason).toBeNull();
    expect(await readStatus(w.dir)).toMatchObject({
      state: "cancelled",
      counts: { finished: 0, passed: 0, errors: 0, score: null },
    });
  });

  it("starts the sequence at 0 when there are no events", async () => {
    const w = await create();
    w.close();
    await rm(join(w.dir, "events.jsonl"));
    await closeAbandonedJob(w.dir, "failed", "x");
    const events = parseEvents(await readFile(join(w.dir, "events.jsonl"), "utf8"));
    expect(events).toHaveLength(1);
    expect(JobEventSchema.parse(events[0])).toMatchObject({ seq: 0, type: "job_finished" });
  });

  it("appends job_finished on its own line after a torn last line, with the next sequence", async () => {
    const w = await create();
    const e0 = w.appendEvent({ type: "job_started", job_id: JOB_ID, n_trials: 12 });
    const e1 = w.appendEvent({
      type: "trial_started",
      trial_id: "1",
      scenario_id: "b/one",
      agent: ORACLE,
      attempt: 1,
    });
    w.close();
    const path = join(w.dir, "events.jsonl");
    appendFileSync(path, '{"schema_version":1,"ts":"2024-05-01T12:00:00.000Z","seq":2,"type":"pha');
    await closeAbandonedJob(w.dir, "failed", "gone");

    const text = await readFile(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const events = parseEvents(text);
    expect(events).toHaveLength(3);
    expect(events.slice(0, 2)).toEqual([e0, e1]);
    expect(JobEventSchema.parse(events[2])).toMatchObject({
      seq: 2,
      type: "job_finished",
      job_id: JOB_ID,
      state: "failed",
    });
    expect(text.split("\n").at(-2)).toBe(JSON.stringify(events[2]));
  });
});
