import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import yauzl from "yauzl";
import {
  defaultOutcome,
  type FakeRunloop,
  type OutcomeFn,
  startFakeRunloop,
} from "../../fakes/runloop-server.js";
import { pgrep, processAlive } from "../../helpers/processes.js";

const KEY = "rl-test-key";
const FORBIDDEN = "rl-forbidden-key";

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  buf: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON fields
  json: any;
}

/** One request with Node's fetch; the JSON body is parsed when it is JSON. */
async function call(
  fake: FakeRunloop,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...headers },
  };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await fetch(`${fake.baseUrl}${path}`, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString("utf8");
  let json: unknown = null;
  if ((res.headers.get("content-type") ?? "").includes("json")) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, buf, json };
}

async function runningDevbox(fake: FakeRunloop, body: Record<string, unknown> = {}) {
  const created = await call(fake, "POST", "/v1/devboxes", body);
  expect(created.status).toBe(200);
  const ready = await call(fake, "POST", `/v1/devboxes/${created.json.id}/wait_for_status`, {
    statuses: ["running", "failure", "shutdown"],
  });
  expect(ready.json.status).toBe("running");
  return created.json.id as string;
}

async function exec(fake: FakeRunloop, id: string, command: string) {
  const r = await call(fake, "POST", `/v1/devboxes/${id}/execute`, {
    command,
    optimistic_timeout: 20,
  });
  expect(r.status).toBe(200);
  expect(r.json.status).toBe("completed");
  return r.json;
}

/** Entry names and contents (files only) of a ZIP. */
async function unzip(buf: Buffer): Promise<Map<string, string | null>> {
  const zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true });
  const out = new Map<string, string | null>();
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith("/")) {
        out.set(entry.fileName, null);
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          out.set(entry.fileName, Buffer.concat(chunks).toString("utf8"));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return out;
}

describe("fake Runloop: HTTP surface", () => {
  let fake: FakeRunloop;
  beforeAll(async () => {
    fake = await startFakeRunloop({
      apiKey: KEY,
      forbiddenKeys: [FORBIDDEN],
      longPollHoldMs: 300,
      jobStepMs: 0,
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("auth answers 401 without or with a wrong key, 403 for a forbidden key, 404 for no route", async () => {
    const none = await fetch(`${fake.baseUrl}/v1/devboxes`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: expect.any(String) });
    const wrong = await call(fake, "GET", "/v1/devboxes", undefined, {
      authorization: "Bearer nope",
    });
    expect(wrong.status).toBe(401);
    const forbidden = await call(fake, "GET", "/v1/devboxes", undefined, {
      authorization: `Bearer ${FORBIDDEN}`,
    });
    expect(forbidden.status).toBe(403);
    const unknown = await call(fake, "GET", "/v1/nothing_here");
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/no route/);
    const missing = await call(fake, "GET", "/v1/devboxes/dbx_missing");
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe("devbox dbx_missing not found");
    const bad = await call(fake, "POST", "/v1/secrets", undefined, {
      "content-type": "application/json",
    });
    expect(bad.status).toBe(400);
  });

  it("echoes x-request-id and records each request with its route template", async () => {
    const r = await call(fake, "GET", "/v1/benchmarks/list_public", undefined, {
      "x-request-id": "req-echo-1",
    });
    expect(r.headers.get("x-request-id")).toBe("req-echo-1");
    expect(fake.requests.at(-1)).toMatchObject({
      method: "GET",
      route: "/v1/benchmarks/list_public",
      path: "/v1/benchmarks/list_public",
      status: 200,
      requestId: "req-echo-1",
    });
    expect(fake.count("/v1/benchmarks/list_public", "GET")).toBeGreaterThanOrEqual(1);
  });

  it("a repeated x-request-id on a POST replays the first answer: one devbox, even after a 500", async () => {
    const before = fake.devboxes().length;
    const first = await call(
      fake,
      "POST",
      "/v1/devboxes",
      { name: "idem" },
      {
        "x-request-id": "stainless-node-retry-1",
      },
    );
    const again = await call(
      fake,
      "POST",
      "/v1/devboxes",
      { name: "idem" },
      {
        "x-request-id": "stainless-node-retry-1",
      },
    );
    expect(again.json.id).toBe(first.json.id);
    expect(fake.requests.at(-1)?.replayed).toBe(true);
    expect(fake.devboxes().length).toBe(before + 1);

    fake.setFaults({ afterCommitRate: 1 });
    const failed = await call(
      fake,
      "POST",
      "/v1/devboxes",
      { name: "idem2" },
      {
        "x-request-id": "stainless-node-retry-2",
      },
    );
    fake.setFaults({});
    expect(failed.status).toBe(500);
    expect(fake.faultCounts.afterCommit).toBe(1);
    const retried = await call(
      fake,
      "POST",
      "/v1/devboxes",
      { name: "idem2" },
      {
        "x-request-id": "stainless-node-retry-2",
      },
    );
    expect(retried.status).toBe(200);
    expect(
      fake
        .devboxes()
        .filter((d) => d.name === "idem2")
        .map((d) => d.id),
    ).toEqual([retried.json.id]);
    for (const d of fake.devboxes()) await call(fake, "POST", `/v1/devboxes/${d.id}/shutdown`);
  });

  it("pagination walks every item with starting_after, newest job first, total_count on request", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await call(fake, "POST", "/v1/secrets", { name: `PAGE_${i}`, value: `v${i}` });
      expect(r.status).toBe(200);
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const q = `limit=2${after ? `&starting_after=${after}` : ""}`;
      const page = await call(fake, "GET", `/v1/secrets?${q}`);
      expect(page.json.total_count).toBeGreaterThanOrEqual(5);
      seen.push(...page.json.secrets.map((s: { name: string }) => s.name));
      if (!page.json.has_more) break;
      after = page.json.secrets.at(-1).id;
    }
    expect(seen.filter((n) => n.startsWith("PAGE_"))).toEqual([
      "PAGE_0",
      "PAGE_1",
      "PAGE_2",
      "PAGE_3",
      "PAGE_4",
    ]);
    const noCount = await call(fake, "GET", "/v1/secrets?limit=1&include_total_count=false");
    expect(noCount.json).not.toHaveProperty("total_count");
    expect(noCount.json.has_more).toBe(true);
    expect((await call(fake, "GET", "/v1/secrets?limit=0")).status).toBe(400);

    const scenarioIds = [fake.scenarios()[0]!.id];
    const agent = [{ type: "job_agent", name: "nop", model_name: "m" }];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const spec = { type: "scenarios", scenario_ids: scenarioIds, agent_configs: agent };
      ids.push((await call(fake, "POST", "/v1/benchmark_jobs", { name: `pg-${i}`, spec })).json.id);
    }
    const jobs: string[] = [];
    after = undefined;
    for (;;) {
      const page = await call(
        fake,
        "GET",
        `/v1/benchmark_jobs?limit=1&search=pg-${after ? `&starting_after=${after}` : ""}`,
      );
      jobs.push(...page.json.jobs.map((j: { id: string }) => j.id));
      if (!page.json.has_more) break;
      after = page.json.jobs.at(-1).id;
    }
    expect(jobs).toEqual([...ids].reverse());
  });

  it("secrets: 409 on a duplicate, 400 on a bad name, the value is never returned", async () => {
    const created = await call(fake, "POST", "/v1/secrets", { name: "BMJ_KEY", value: "s3cr3t" });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^sec_/),
      name: "BMJ_KEY",
      create_time_ms: expect.any(Number),
      update_time_ms: expect.any(Number),
    });
    expect((await call(fake, "POST", "/v1/secrets", { name: "BMJ_KEY", value: "x" })).status).toBe(
      409,
    );
    expect((await call(fake, "POST", "/v1/secrets", { name: "bad-name", value: "x" })).status).toBe(
      400,
    );
    const updated = await call(fake, "POST", "/v1/secrets/BMJ_KEY", { value: "n3w" });
    const got = await call(fake, "GET", "/v1/secrets/BMJ_KEY");
    const list = await call(fake, "GET", "/v1/secrets?limit=5000");
    for (const text of [created.text, updated.text, got.text, list.text]) {
      expect(text).not.toContain("s3cr3t");
      expect(text).not.toContain("n3w");
    }
    expect(fake.secretValue("BMJ_KEY")).toBe("n3w");
    expect(
      (await call(fake, "POST", "/v1/devboxes", { secrets: { K: "NO_SUCH_SECRET" } })).status,
    ).toBe(400);
    const id = await runningDevbox(fake, { secrets: { MY_KEY: "BMJ_KEY" } });
    expect((await exec(fake, id, 'printf %s "$MY_KEY"')).stdout).toBe("n3w");
    expect((await call(fake, "POST", "/v1/secrets/BMJ_KEY/delete")).status).toBe(200);
    expect((await call(fake, "GET", "/v1/secrets/BMJ_KEY")).status).toBe(404);
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("the catalogue lists public and private benchmarks with name and search filters", async () => {
    const pub = await call(fake, "GET", "/v1/benchmarks/list_public?limit=100&search=swe-bench");
    const names = pub.json.benchmarks.map((b: { name: string }) => b.name);
    expect(names).toEqual(
      expect.arrayContaining(["SWE-bench Verified", "SWE-bench Lite", "SWE-Bench Pro"]),
    );
    const exact = await call(fake, "GET", "/v1/benchmarks/list_public?name=SWE-bench%20Verified");
    expect(exact.json.benchmarks).toHaveLength(1);
    const verified = exact.json.benchmarks[0];
    expect(verified).toMatchObject({ id: expect.stringMatching(/^bmd_/), is_public: true });
    expect(verified.scenarioIds.length).toBeGreaterThanOrEqual(3);
    const defs = await call(fake, "GET", `/v1/benchmarks/${verified.id}/definitions`);
    expect(defs.json.scenarios.map((s: { id: string }) => s.id)).toEqual(verified.scenarioIds);
    expect(defs.json.scenarios[0]).toMatchObject({
      id: expect.stringMatching(/^scn_/),
      input_context: { problem_statement: expect.any(String) },
      scoring_contract: { scoring_function_parameters: expect.any(Array) },
    });
    const mine = await call(fake, "GET", "/v1/benchmarks?search=swe");
    expect(mine.json.benchmarks).toEqual([]);
    const priv = await call(fake, "GET", "/v1/benchmarks?name=my-bench");
    expect(priv.json.benchmarks[0].is_public).toBe(false);
    expect((await call(fake, "GET", "/v1/scenarios/scn_missing")).status).toBe(404);
  });

  it("fault injection is reproducible for a seed, counted, and 429 carries Retry-After", async () => {
    const statuses = async (): Promise<number[]> => {
      fake.setFaults({
        rate5xx: 0.3,
        rate429: 0.3,
        retryAfterSeconds: 2,
        seed: 42,
        routes: /^\/v1\/benchmarks/,
      });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await call(fake, "GET", "/v1/benchmarks/list_public?limit=1");
        if (r.status === 429) expect(r.headers.get("retry-after")).toBe("2");
        out.push(r.status);
      }
      return out;
    };
    const c0 = { ...fake.faultCounts };
    const first = await statuses();
    const second = await statuses();
    expect(second).toEqual(first);
    const n500 = first.filter((s) => s === 500).length;
    const n429 = first.filter((s) => s === 429).length;
    expect(n500).toBeGreaterThan(0);
    expect(n429).toBeGreaterThan(0);
    expect(first.filter((s) => s !== 200)).toHaveLength(n500 + n429);
    expect(fake.faultCounts.status5xx - c0.status5xx).toBe(2 * n500);
    expect(fake.faultCounts.status429 - c0.status429).toBe(2 * n429);
    // Unmatched routes are never affected.
    expect((await call(fake, "GET", "/v1/secrets")).status).toBe(200);
    fake.setFaults({ rate429: 1, retryAfterMs: 150 });
    const limited = await call(fake, "GET", "/v1/secrets");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after-ms")).toBe("150");
    fake.setFaults({});
  });

  it("a reset fault destroys the socket without an answer", async () => {
    fake.setFaults({ resetRate: 1 });
    await expect(fetch(`${fake.baseUrl}/v1/secrets`)).rejects.toThrow();
    fake.setFaults({});
    expect(fake.faultCounts.reset).toBe(1);
    expect(fake.requests.at(-1)).toMatchObject({ fault: "reset", status: 0 });
    fake.setFaults({ slowMs: 20 });
    expect((await call(fake, "GET", "/v1/secrets")).status).toBe(200);
    fake.setFaults({});
    expect(fake.faultCounts.slow).toBe(1);
  });
});

describe("fake Runloop: devboxes run real commands in bubblewrap", () => {
  let fake: FakeRunloop;
  let outside: string;
  beforeAll(async () => {
    fake = await startFakeRunloop({ apiKey: KEY, longPollHoldMs: 300, jobStepMs: 0 });
    outside = await mkdtemp(join(tmpdir(), "rl-fake-outside-"));
    await writeFile(join(outside, "secret.txt"), "host-only-content");
  });
  afterAll(async () => {
    await fake.close();
    await rm(outside, { recursive: true, force: true });
  });

  it("create → provisioning → running; a short hold on an unreached status answers 408", async () => {
    const created = await call(fake, "POST", "/v1/devboxes", {
      name: "box",
      metadata: { purpose: "test" },
      launch_parameters: { keep_alive_time_seconds: 600 },
    });
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^dbx_/),
      status: "provisioning",
      name: "box",
      metadata: { purpose: "test" },
    });
    const id = created.json.id;
    const running = await call(fake, "POST", `/v1/devboxes/${id}/wait_for_status`, {
      statuses: ["running"],
    });
    expect(running.json.status).toBe("running");
    const held = await call(fake, "POST", `/v1/devboxes/${id}/wait_for_status`, {
      statuses: ["suspended"],
    });
    expect(held.status).toBe(408);
    expect(held.json.message).toEqual(expect.any(String));
    const listed = await call(fake, "GET", "/v1/devboxes?status=running");
    expect(listed.json.devboxes.map((d: { id: string }) => d.id)).toContain(id);
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("a command's files are seen by the next command and by read_file_contents / download_file", async () => {
    const id = await runningDevbox(fake, {
      environment_variables: { GREETING: "hi" },
      file_mounts: { "/app/mounted.txt": "from file_mounts" },
    });
    const first = await exec(
      fake,
      id,
      'mkdir -p /testbed && echo "$GREETING $HOME $(pwd)" > /testbed/out.txt && printf "l1\\nl2\\nl3\\n"',
    );
    expect(first.exit_status).toBe(0);
    expect(first.stdout).toBe("l1\nl2\nl3\n");
    const last = await call(fake, "POST", `/v1/devboxes/${id}/execute?last_n=2`, {
      command: "cat /testbed/out.txt /app/mounted.txt; printf 'a\\nb\\nc\\n' >&2; exit 3",
      optimistic_timeout: 20,
    });
    expect(last.json).toMatchObject({
      exit_status: 3,
      stdout: "hi /home/user /home/user\nfrom file_mounts",
      stdout_truncated: false,
      stderr: "b\nc\n",
      stderr_truncated: true,
    });
    const read = await call(fake, "POST", `/v1/devboxes/${id}/read_file_contents`, {
      file_path: "/testbed/out.txt",
    });
    expect(read.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(read.text).toBe("hi /home/user /home/user\n");
    const download = await call(fake, "POST", `/v1/devboxes/${id}/download_file`, {
      path: "/testbed/out.txt",
    });
    expect(download.headers.get("content-type")).toBe("application/octet-stream");
    expect(download.text).toBe("hi /home/user /home/user\n");
    const missing = await call(fake, "POST", `/v1/devboxes/${id}/read_file_contents`, {
      file_path: "/testbed/none.txt",
    });
    expect(missing.status).toBe(404);

    await call(fake, "POST", `/v1/devboxes/${id}/write_file_contents`, {
      file_path: "notes/a/b.txt",
      contents: "written",
    });
    expect((await exec(fake, id, "cat /home/user/notes/a/b.txt")).stdout).toBe("written");
    const form = new FormData();
    form.set("path", "/tmp/up/blob.bin");
    form.set("file", new Blob([Buffer.from([0, 1, 2, 255, 10])]), "blob.bin");
    expect((await call(fake, "POST", `/v1/devboxes/${id}/upload_file`, form)).status).toBe(200);
    const back = await call(fake, "POST", `/v1/devboxes/${id}/download_file`, {
      path: "/tmp/up/blob.bin",
    });
    expect([...back.buf]).toEqual([0, 1, 2, 255, 10]);
    expect((await exec(fake, id, "od -An -tu1 /tmp/up/blob.bin")).stdout.trim()).toBe(
      "0   1   2 255  10",
    );

    const logs = await call(fake, "GET", `/v1/devboxes/${id}/logs`);
    const execLogs = logs.json.logs.filter((l: { source: string }) => l.source === "exec");
    expect(execLogs.at(-1)).toMatchObject({
      level: expect.any(String),
      source: "exec",
      timestamp_ms: expect.any(Number),
      cmd: "od -An -tu1 /tmp/up/blob.bin",
      cmd_id: expect.any(String),
      exit_code: 0,
    });
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("blueprints preinstall files, launch_commands run before running, unknown images are 400", async () => {
    fake.seedBlueprint("bpt_tools", { name: "tools", files: { "/srv/tool.sh": "echo tool-ok\n" } });
    expect((await call(fake, "POST", "/v1/devboxes", { blueprint_id: "bpt_nope" })).status).toBe(
      400,
    );
    expect((await call(fake, "POST", "/v1/devboxes", { snapshot_id: "snp_nope" })).status).toBe(
      400,
    );
    const id = await runningDevbox(fake, {
      blueprint_name: "tools",
      launch_parameters: { launch_commands: ["echo setup > /srv/setup.txt"] },
    });
    expect((await call(fake, "GET", `/v1/devboxes/${id}`)).json.blueprint_id).toBe("bpt_tools");
    const sync = await call(fake, "POST", `/v1/devboxes/${id}/execute_sync`, {
      command: "sh /srv/tool.sh; cat /srv/setup.txt",
    });
    expect(sync.json).toEqual({
      devbox_id: id,
      exit_status: 0,
      stdout: "tool-ok\nsetup\n",
      stderr: "",
    });
    const failing = await call(fake, "POST", "/v1/devboxes", {
      launch_parameters: { launch_commands: ["exit 7"] },
    });
    const end = await call(fake, "POST", `/v1/devboxes/${failing.json.id}/wait_for_status`, {
      statuses: ["running", "failure"],
    });
    expect(end.json).toMatchObject({ status: "failure", failure_reason: "execution_failed" });
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("file paths never leave the devbox: traversal and symlinks out are refused", async () => {
    const id = await runningDevbox(fake);
    const host = join(outside, "secret.txt");
    await exec(
      fake,
      id,
      `ln -s ${host} /home/user/abs-link && ln -s ../../../../../../../..${host} /home/user/rel-link && ln -s /etc/shadow /home/user/shadow-link`,
    );
    const attempts = [
      "../../etc/passwd",
      "../../../../etc/passwd",
      "/etc/passwd",
      host,
      "abs-link",
      "rel-link",
      "shadow-link",
      `../../../../../../..${host}`,
    ];
    for (const file_path of attempts) {
      for (const [route, body] of [
        ["read_file_contents", { file_path }],
        ["download_file", { path: file_path }],
      ] as const) {
        const r = await call(fake, "POST", `/v1/devboxes/${id}/${route}`, body);
        expect([400, 404], `${route} ${file_path}`).toContain(r.status);
        expect(r.text).not.toContain("host-only-content");
        expect(r.text).not.toContain("root:");
      }
    }
    const write = await call(fake, "POST", `/v1/devboxes/${id}/write_file_contents`, {
      file_path: "abs-link",
      contents: "overwrite?",
    });
    expect(write.status).toBe(200);
    expect(existsSync(host)).toBe(true);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(host, "utf8")).toBe("host-only-content");
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("kill ends an execution's process group (exit 137); wait_for_status holds with 408 first", async () => {
    const id = await runningDevbox(fake);
    const started = await call(fake, "POST", `/v1/devboxes/${id}/execute_async`, {
      command: "sleep 31331 & sleep 31332",
    });
    expect(started.json).toMatchObject({ status: "running", execution_id: expect.any(String) });
    const eid = started.json.execution_id;
    await vi.waitFor(() => expect(pgrep("^sleep 3133[12]$")).toHaveLength(2));
    const held = await call(fake, "POST", `/v1/devboxes/${id}/executions/${eid}/wait_for_status`, {
      statuses: ["completed"],
    });
    expect(held.status).toBe(408);
    const killed = await call(fake, "POST", `/v1/devboxes/${id}/executions/${eid}/kill`, {
      kill_process_group: true,
    });
    expect(killed.json).toMatchObject({ status: "completed", exit_status: 137 });
    expect(pgrep("^sleep 3133[12]$")).toEqual([]);
    const again = await call(fake, "GET", `/v1/devboxes/${id}/executions/${eid}`);
    expect(again.json.status).toBe("completed");
    await call(fake, "POST", `/v1/devboxes/${id}/shutdown`);
  });

  it("shutdown kills every process of the devbox (by host pid) and leaves no live devbox", async () => {
    const a = await runningDevbox(fake);
    const b = await runningDevbox(fake, { launch_parameters: { keep_alive_time_seconds: 0.3 } });
    await call(fake, "POST", `/v1/devboxes/${a}/execute_async`, {
      command: "sleep 31341",
    });
    await call(fake, "POST", `/v1/devboxes/${a}/execute_async`, {
      command: "bash -c 'sleep 31342 & wait'",
    });
    await vi.waitFor(() => expect(pgrep("^sleep 3134[12]$")).toHaveLength(2));
    const pids = [...pgrep("^sleep 3134[12]$").map(Number), ...fake.processIds(a)];
    expect(fake.processIds(a)).toHaveLength(2);
    const down = await call(fake, "POST", `/v1/devboxes/${a}/shutdown`);
    expect(down.json).toMatchObject({ status: "shutdown", shutdown_reason: "api_shutdown" });
    for (const pid of pids) expect(processAlive(pid), `pid ${pid}`).toBe(false);
    expect((await call(fake, "POST", `/v1/devboxes/${a}/shutdown`)).json.status).toBe("shutdown");
    const refused = await call(fake, "POST", `/v1/devboxes/${a}/execute`, { command: "true" });
    expect(refused.status).toBe(400);
    // b is idle: keep_alive_time_seconds shuts it down.
    await vi.waitFor(async () => {
      const view = await call(fake, "GET", `/v1/devboxes/${b}`);
      expect(view.json).toMatchObject({
        status: "shutdown",
        shutdown_reason: "keep_alive_timeout",
      });
    });
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("close() kills running commands and removes the devbox directories", async () => {
    const other = await startFakeRunloop({ apiKey: KEY, jobStepMs: 0 });
    let pids: number[];
    try {
      const id = await runningDevbox(other);
      await call(other, "POST", `/v1/devboxes/${id}/execute_async`, { command: "sleep 31351" });
      await vi.waitFor(() => expect(pgrep("^sleep 31351$")).toHaveLength(1));
      pids = [...pgrep("^sleep 31351$").map(Number), ...other.processIds()];
    } finally {
      await other.close();
    }
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    expect(existsSync(other.rootDir)).toBe(false);
    expect(other.liveDevboxes()).toBe(0);
  });
});

describe("fake Runloop: scenario runs", () => {
  let fake: FakeRunloop;
  beforeAll(async () => {
    fake = await startFakeRunloop({ apiKey: KEY, longPollHoldMs: 300, jobStepMs: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });

  const scenario = (name: string) => fake.scenarios().find((s) => s.name === name)!;

  async function start(name: string) {
    const r = await call(fake, "POST", "/v1/scenarios/start_run", {
      scenario_id: scenario(name).id,
      run_name: `run-${name}`,
      metadata: { k: "v" },
    });
    expect(r.json).toMatchObject({
      id: expect.stringMatching(/^scr_/),
      devbox_id: expect.stringMatching(/^dbx_/),
      state: "running",
      metadata: { k: "v" },
      name: `run-${name}`,
    });
    await call(fake, "POST", `/v1/devboxes/${r.json.devbox_id}/wait_for_status`, {
      statuses: ["running"],
    });
    return r.json as { id: string; devbox_id: string };
  }

  async function scored(id: string) {
    const r = await call(fake, "POST", `/v1/scenarios/runs/${id}/score`);
    expect(r.json.state).toBe("scoring");
    let view: Answer["json"];
    await vi.waitFor(async () => {
      view = (await call(fake, "GET", `/v1/scenarios/runs/${id}`)).json;
      expect(view.state).toBe("scored");
    });
    return view.scoring_contract_result;
  }

  it("score runs the scorers in the devbox: a passing and a failing command, weights normalized", async () => {
    const pass = await start("hello-world");
    await exec(fake, pass.devbox_id, "echo 'Hello, world!' > /app/hello.txt");
    const fail = await start("fix-permissions");
    const partial = await start("count-lines");
    await exec(fake, partial.devbox_id, "echo 4 > /app/count.txt");

    expect((await call(fake, "POST", `/v1/scenarios/runs/${pass.id}/complete`)).status).toBe(400);
    expect(await scored(pass.id)).toEqual({
      score: 1,
      scoring_function_results: [
        { scoring_function_name: "hello", score: 1, output: "", state: "complete" },
      ],
    });
    expect((await scored(fail.id)).score).toBe(0);
    const weighted = await scored(partial.id);
    expect(weighted.score).toBe(0.25);
    expect(weighted.scoring_function_results.map((r: { score: number }) => r.score)).toEqual([
      1, 0,
    ]);

    const done = await call(fake, "POST", `/v1/scenarios/runs/${pass.id}/complete`);
    expect(done.json.state).toBe("completed");
    expect(done.json.duration_ms).toEqual(expect.any(Number));
    const box = await call(fake, "GET", `/v1/devboxes/${pass.devbox_id}`);
    expect(box.json.status).toBe("shutdown");
    const canceled = await call(fake, "POST", `/v1/scenarios/runs/${fail.id}/cancel`);
    expect(canceled.json.state).toBe("canceled");
    await call(fake, "POST", `/v1/scenarios/runs/${partial.id}/complete`);
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("download_logs is a ZIP named <runId>_… with a directory entry, nested /logs files and the exec log", async () => {
    const run = await start("django__django-11099");
    await exec(
      fake,
      run.devbox_id,
      "mkdir -p /logs/agent/sub && echo agent-said > /logs/agent/output.txt && echo deep > /logs/agent/sub/x.txt",
    );
    const r = await call(fake, "POST", `/v1/scenarios/runs/${run.id}/download_logs`, undefined, {
      accept: "application/zip",
    });
    expect(r.headers.get("content-type")).toBe("application/zip");
    expect(r.headers.get("content-disposition")).toBe(
      'attachment; filename="scenario_run_logs.zip"',
    );
    const entries = await unzip(r.buf);
    const names = [...entries.keys()];
    expect(names.every((n) => n.startsWith(`${run.id}_`))).toBe(true);
    expect(entries.get(`${run.id}_logs/`)).toBeNull();
    expect(entries.get(`${run.id}_logs/agent/`)).toBeNull();
    expect(entries.get(`${run.id}_logs/agent/output.txt`)).toBe("agent-said\n");
    expect(entries.get(`${run.id}_logs/agent/sub/x.txt`)).toBe("deep\n");
    expect(entries.get(`${run.id}_devbox_exec.log`)).toContain("/logs/agent/output.txt");
    // After the devbox is gone the logs are still there.
    await call(fake, "POST", `/v1/scenarios/runs/${run.id}/cancel`);
    const after = await unzip(
      (await call(fake, "POST", `/v1/scenarios/runs/${run.id}/download_logs`)).buf,
    );
    expect(after.get(`${run.id}_logs/agent/output.txt`)).toBe("agent-said\n");
  });
});

describe("fake Runloop: benchmark jobs", () => {
  let fake: FakeRunloop;
  const outcome: OutcomeFn = (agent, _model, scenario, attempt) => {
    if (agent === "flaky" && scenario.name === "astropy__astropy-12907") {
      return {
        state: "FAILED",
        failure: { exception_type: "AgentError", exception_message: `boom ${attempt}` },
      };
    }
    return defaultOutcome(agent, _model, scenario, attempt);
  };
  beforeAll(async () => {
    fake = await startFakeRunloop({
      apiKey: KEY,
      jobStepMs: 0,
      outcome,
      jobFailure: (job) =>
        job.metadata.fail === "yes" ? "could not start the orchestrator" : null,
    });
    fake.setSecret("BMJ_ANTHROPIC_API_KEY", "sk-test");
  });
  afterAll(async () => {
    await fake.close();
  });

  const verified = () => fake.benchmarks().find((b) => b.name === "SWE-bench Verified")!;
  const body = (agents: Array<[string, string]>, orchestrator?: Record<string, unknown>) => ({
    name: "job",
    spec: {
      type: "benchmark",
      benchmark_id: verified().id,
      agent_configs: agents.map(([name, model_name]) => ({
        name,
        type: "job_agent",
        model_name,
        timeout_seconds: 7200,
        agent_environment: { secrets: { ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY" } },
      })),
      orchestrator_config: {
        n_attempts: 1,
        n_concurrent_trials: 10,
        timeout_multiplier: 1,
        quiet: false,
        ...orchestrator,
      },
    },
    metadata: { team: "evals" },
  });

  it("validates the body: unknown benchmark or scenario 404, unknown secret 400", async () => {
    const unknownBenchmark = body([["oracle", "m"]]);
    unknownBenchmark.spec.benchmark_id = "bmd_nope";
    expect((await call(fake, "POST", "/v1/benchmark_jobs", unknownBenchmark)).status).toBe(404);
    const unknownScenario = {
      spec: {
        type: "scenarios",
        scenario_ids: ["scn_nope"],
        agent_configs: [{ type: "job_agent", name: "oracle" }],
      },
    };
    expect((await call(fake, "POST", "/v1/benchmark_jobs", unknownScenario)).status).toBe(404);
    const badSecret = body([["oracle", "m"]]);
    badSecret.spec.agent_configs[0]!.agent_environment.secrets.ANTHROPIC_API_KEY = "BMJ_NOPE";
    const r = await call(fake, "POST", "/v1/benchmark_jobs", badSecret);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/BMJ_NOPE/);
    expect((await call(fake, "POST", "/v1/benchmark_jobs", {})).status).toBe(400);
  });

  it("a job steps queued → running (in_progress_runs) → completed (benchmark_outcomes) per the outcome function", async () => {
    const created = await call(
      fake,
      "POST",
      "/v1/benchmark_jobs",
      body(
        [
          ["oracle", "o"],
          ["flaky", "f"],
        ],
        { n_attempts: 2, n_concurrent_trials: 2 },
      ),
    );
    const job = created.json;
    expect(job).toMatchObject({
      id: expect.stringMatching(/^bmj_/),
      name: "job",
      state: "queued",
      create_time_ms: expect.any(Number),
      job_source: { type: "benchmark", benchmark_id: verified().id },
      job_spec: { scenario_ids: verified().scenarioIds },
      benchmark_outcomes: [],
      in_progress_runs: [],
      metadata: { team: "evals" },
    });
    fake.step(job.id);
    const running = (await call(fake, "GET", `/v1/benchmark_jobs/${job.id}`)).json;
    expect(running.state).toBe("running");
    expect(running.in_progress_runs).toHaveLength(2);
    expect(running.in_progress_runs[0]).toMatchObject({
      benchmark_run_id: expect.stringMatching(/^bmr_/),
      state: "running",
      start_time_ms: expect.any(Number),
      agent_config: { type: "job_agent", name: "oracle", model_name: "o" },
    });
    fake.step(job.id);
    const runId = running.in_progress_runs[1].benchmark_run_id;
    const scenarioRuns = await call(fake, "GET", `/v1/benchmark_runs/${runId}/scenario_runs`);
    expect(scenarioRuns.json.runs).toHaveLength(2);
    expect(scenarioRuns.json.runs[0]).toMatchObject({ state: "running", benchmark_run_id: runId });
    expect(fake.liveDevboxes()).toBe(4);

    const final = fake.runJob(job.id) as Answer["json"];
    expect(final.state).toBe("completed");
    expect(final.in_progress_runs).toEqual([]);
    const [oracle, flaky] = final.benchmark_outcomes;
    expect(oracle).toMatchObject({
      agent_name: "oracle",
      model_name: "o",
      n_completed: 6,
      n_failed: 0,
      n_timeout: 0,
      average_score: 1,
    });
    expect(oracle.scenario_outcomes).toHaveLength(6);
    const expected = [0, 1].flatMap((attempt) =>
      verified().scenarioIds.map((id) => {
        const view = fake.scenarios().find((s) => s.id === id)!;
        return outcome("flaky", "f", view, attempt).state;
      }),
    );
    expect(flaky.scenario_outcomes.map((o: { state: string }) => o.state)).toEqual(expected);
    expect(flaky).toMatchObject({
      agent_name: "flaky",
      model_name: "f",
      n_completed: expected.filter((s) => s === "COMPLETED").length,
      n_failed: expected.filter((s) => s === "FAILED").length,
      n_timeout: expected.filter((s) => s === "TIMEOUT").length,
    });
    const astropy = flaky.scenario_outcomes.filter(
      (o: { scenario_name: string }) => o.scenario_name === "astropy__astropy-12907",
    );
    expect(astropy.map((o: { failure_reason: unknown }) => o.failure_reason)).toEqual([
      { exception_type: "AgentError", exception_message: "boom 0" },
      { exception_type: "AgentError", exception_message: "boom 1" },
    ]);
    for (const o of flaky.scenario_outcomes) {
      expect(o).toMatchObject({
        scenario_definition_id: expect.stringMatching(/^scn_/),
        scenario_name: expect.any(String),
        scenario_run_id: expect.stringMatching(/^scr_/),
        duration_ms: expect.any(Number),
      });
      if (o.state === "COMPLETED") expect(o.score).toEqual(expect.any(Number));
      else expect(o).not.toHaveProperty("score");
    }
    const sr = (
      await call(fake, "GET", `/v1/scenarios/runs/${oracle.scenario_outcomes[0].scenario_run_id}`)
    ).json;
    expect(sr).toMatchObject({ state: "completed", scoring_contract_result: { score: 1 } });
    expect(fake.liveDevboxes()).toBe(0);

    const zip = await call(fake, "POST", `/v1/scenarios/runs/${sr.id}/download_logs`);
    const entries = await unzip(zip.buf);
    expect(entries.get(`${sr.id}_logs/agent/output.txt`)).toContain("oracle");
    const runZip = await call(
      fake,
      "POST",
      `/v1/benchmark_runs/${oracle.benchmark_run_id}/download_logs`,
    );
    expect(runZip.headers.get("content-disposition")).toContain("benchmark_run_logs.zip");
    expect(
      [...(await unzip(runZip.buf)).keys()].filter((n) => n.endsWith("agent/output.txt")),
    ).toHaveLength(6);
    const runView = await call(fake, "GET", `/v1/benchmark_runs/${oracle.benchmark_run_id}`);
    expect(runView.json).toMatchObject({ state: "completed", score: 1 });
  });

  it("cancelling a benchmark run: scenario runs canceled, outcomes CANCELED, the job cancelled", async () => {
    const job = (await call(fake, "POST", "/v1/benchmark_jobs", body([["nop", "m"]]))).json;
    fake.step(job.id);
    fake.step(job.id);
    const runId = fake.job(job.id)!.in_progress_runs as Array<{ benchmark_run_id: string }>;
    const cancel = await call(
      fake,
      "POST",
      `/v1/benchmark_runs/${runId[0]!.benchmark_run_id}/cancel`,
    );
    expect(cancel.json.state).toBe("canceled");
    const after = (await call(fake, "GET", `/v1/benchmark_jobs/${job.id}`)).json;
    expect(after.state).toBe("cancelled");
    expect(after.in_progress_runs).toEqual([]);
    const outcomes = after.benchmark_outcomes[0].scenario_outcomes;
    expect(outcomes.map((o: { state: string }) => o.state)).toEqual([
      "CANCELED",
      "CANCELED",
      "CANCELED",
    ]);
    const runs = await call(
      fake,
      "GET",
      `/v1/benchmark_runs/${runId[0]!.benchmark_run_id}/scenario_runs?state=canceled`,
    );
    expect(runs.json.runs).toHaveLength(3);
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("jobFailure fails a job with a reason and no outcomes; failJob fails a running one", async () => {
    const doomed = body([["oracle", "m"]]);
    doomed.metadata = { team: "evals", fail: "yes" } as typeof doomed.metadata;
    const job = (await call(fake, "POST", "/v1/benchmark_jobs", doomed)).json;
    const final = fake.runJob(job.id) as Answer["json"];
    expect(final).toMatchObject({
      state: "failed",
      failure_reason: "could not start the orchestrator",
      benchmark_outcomes: [],
      in_progress_runs: [],
    });
    const other = (await call(fake, "POST", "/v1/benchmark_jobs", body([["oracle", "m"]]))).json;
    fake.step(other.id);
    fake.step(other.id);
    fake.failJob(other.id, "quota exceeded");
    const failed = (await call(fake, "GET", `/v1/benchmark_jobs/${other.id}`)).json;
    expect(failed).toMatchObject({ state: "failed", failure_reason: "quota exceeded" });
    expect(fake.liveDevboxes()).toBe(0);
  });

  it("with a step interval a job finishes on its own", async () => {
    const auto = await startFakeRunloop({ apiKey: KEY, jobStepMs: 5 });
    try {
      const spec = {
        type: "scenarios",
        scenario_ids: auto
          .scenarios()
          .slice(0, 2)
          .map((s) => s.id),
        agent_configs: [{ type: "job_agent", name: "oracle", model_name: "m" }],
      };
      const job = (await call(auto, "POST", "/v1/benchmark_jobs", { spec })).json;
      expect(job.name).toEqual(expect.any(String));
      await vi.waitFor(
        async () => {
          const view = (await call(auto, "GET", `/v1/benchmark_jobs/${job.id}`)).json;
          expect(view.state).toBe("completed");
          expect(view.benchmark_outcomes[0].n_completed).toBe(2);
        },
        { timeout: 10_000, interval: 20 },
      );
    } finally {
      await auto.close();
    }
  });
});
