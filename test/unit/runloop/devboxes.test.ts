import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpResponse } from "msw";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  RunloopApiError,
  RunloopConnectionError,
  RunloopResponseError,
} from "../../../src/runloop/errors.js";
import { rejection } from "../../helpers/errors.js";
import {
  collect,
  json,
  KEY,
  makeClient,
  mockRunloop,
  sha256,
  status,
} from "../../helpers/msw-runloop.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REQUEST_ID = /^rli-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** An id that needs encoding: a slash, a space, a query and a fragment marker. */
const ODD_ID = "dbx/1 ?x=#";
const ODD_ID_PATH = "dbx%2F1%20%3Fx%3D%23";

const { server, route } = mockRunloop();

const devbox = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  status: "running",
  create_time_ms: 1,
  end_time_ms: null,
  launch_parameters: {},
  metadata: { purpose: "test" },
  state_transitions: [],
  capabilities: [],
  ...extra,
});
const execution = (extra: Record<string, unknown> = {}) => ({
  devbox_id: "dbx_1",
  execution_id: "exe_1",
  status: "completed",
  exit_status: 0,
  stdout: "hello\n",
  stderr: "",
  shell_name: null,
  ...extra,
});

describe("devboxes.create, retrieve, list", () => {
  it("create posts the body to /v1/devboxes with a fresh rli-<uuid> request id", async () => {
    const seen = route("post", "/v1/devboxes", json(devbox("dbx_1", { status: "provisioning" })));
    const body = {
      name: "rli-task-1",
      blueprint_id: "bpt_1",
      environment_variables: { A: "1" },
      secrets: { OPENAI_API_KEY: "OPENAI" },
      launch_parameters: {
        keep_alive_time_seconds: 3600,
        after_idle: { idle_time_seconds: 600, on_idle: "shutdown" as const },
        launch_commands: ["echo hi"],
        resource_size_request: "SMALL",
        architecture: "arm64" as const,
      },
    };
    const { client } = makeClient();
    const created = await client.devboxes.create(body);
    expect(created).toMatchObject({ id: "dbx_1", status: "provisioning" });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/v1/devboxes", query: {}, body });
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("create sends the caller's idempotency key on every retry", async () => {
    const seen = route("post", "/v1/devboxes", status(503), json(devbox("dbx_1")));
    await makeClient().client.devboxes.create({}, { idempotencyKey: "create-dbx-once" });
    expect(seen.map((s) => s.headers.get("x-request-id"))).toEqual([
      "create-dbx-once",
      "create-dbx-once",
    ]);
    expect(seen.map((s) => s.body)).toEqual([{}, {}]);
  });

  it("retrieve gets /v1/devboxes/{id} with the id as one encoded segment and no request id", async () => {
    const seen = route("get", "/v1/devboxes/:id", status(503), json(devbox(ODD_ID)));
    const got = await makeClient().client.devboxes.retrieve(ODD_ID);
    expect(got.id).toBe(ODD_ID);
    expect(seen.map((s) => [s.method, s.path, s.query, s.bytes.length])).toEqual([
      ["GET", `/v1/devboxes/${ODD_ID_PATH}`, {}, 0],
      ["GET", `/v1/devboxes/${ODD_ID_PATH}`, {}, 0],
    ]);
    expect(seen.map((s) => s.headers.get("x-request-id"))).toEqual([null, null]);
  });

  it("list pages through the devboxes key with limit, status and starting_after", async () => {
    const pages = [
      { devboxes: [devbox("a"), devbox("b")], has_more: true, total_count: 3 },
      { devboxes: [devbox("c")], has_more: false, total_count: 3 },
    ];
    const seen = route("get", "/v1/devboxes", (n) => HttpResponse.json(pages[n - 1]));
    const listed = await collect(
      makeClient().client.devboxes.list({ limit: 2, status: "running" }),
    );
    expect(listed.map((d) => d.id)).toEqual(["a", "b", "c"]);
    expect(seen.map((s) => s.query)).toEqual([
      { limit: "2", status: "running" },
      { limit: "2", status: "running", starting_after: "b" },
    ]);
  });

  it("rejects an empty id before any request", async () => {
    const { client, attempts } = makeClient();
    await expect(client.devboxes.retrieve("")).rejects.toThrow(TypeError);
    await expect(client.devboxes.execute("", { command: "ls" })).rejects.toThrow(TypeError);
    await expect(client.devboxes.executions.kill("dbx_1", "")).rejects.toThrow(TypeError);
    await expect(client.devboxes.uploadFile("", "/a", new Uint8Array())).rejects.toThrow(TypeError);
    expect(attempts).toEqual([]);
  });
});

describe("devboxes.awaitRunning", () => {
  it("long-polls wait_for_status through 408s and starting states until running", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/wait_for_status",
      status(408, { message: "still waiting" }),
      json(devbox(ODD_ID, { status: "provisioning" })),
      status(408),
      json(devbox(ODD_ID, { status: "queued" })),
      json(devbox(ODD_ID, { status: "initializing" })),
      json(devbox(ODD_ID, { status: "running", extra_field: { nested: true } })),
    );
    const { client, attempts } = makeClient();
    const view = await client.devboxes.awaitRunning(ODD_ID);
    expect(view).toMatchObject({ id: ODD_ID, status: "running", extra_field: { nested: true } });
    expect(seen).toHaveLength(6);
    for (const request of seen) {
      expect(request).toMatchObject({
        method: "POST",
        path: `/v1/devboxes/${ODD_ID_PATH}/wait_for_status`,
        query: {},
        body: { statuses: ["running", "failure", "shutdown"] },
      });
    }
    // A 408 ends the call and the poll calls again; it is never retried with a backoff.
    expect(attempts.every((a) => a.retryInMs === undefined)).toBe(true);
  });

  it("throws a one-line error naming the status and failure reason when the devbox fails", async () => {
    route(
      "post",
      "/v1/devboxes/:id/wait_for_status",
      json(devbox("dbx_1", { status: "provisioning" })),
      json(devbox("dbx_1", { status: "failure", failure_reason: "out_of_memory" })),
    );
    const err = await rejection(makeClient().client.devboxes.awaitRunning("dbx_1"));
    expect(err.message).toBe("devbox dbx_1 is failure (out_of_memory), not running");
    expect(err.message).not.toContain("\n");
  });

  it("throws naming shutdown and its reason when the devbox was shut down", async () => {
    route(
      "post",
      "/v1/devboxes/:id/wait_for_status",
      json(devbox("dbx_1", { status: "shutdown", shutdown_reason: "keep_alive_timeout" })),
    );
    const err = await rejection(makeClient().client.devboxes.awaitRunning("dbx_1"));
    expect(err.message).toBe("devbox dbx_1 is shutdown (keep_alive_timeout), not running");
  });

  it("names the status alone when no reason is given", async () => {
    route("post", "/v1/devboxes/:id/wait_for_status", json(devbox("dbx_1", { status: "failure" })));
    const err = await rejection(makeClient().client.devboxes.awaitRunning("dbx_1"));
    expect(err.message).toBe("devbox dbx_1 is failure, not running");
  });

  it("rejects a wait_for_status answer without a status, naming the field", async () => {
    const { status: _omitted, ...noStatus } = devbox("dbx_1");
    route("post", "/v1/devboxes/:id/wait_for_status", json(noStatus));
    const err = await rejection(makeClient().client.devboxes.awaitRunning("dbx_1"));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toMatch(
      /^POST \/v1\/devboxes\/dbx_1\/wait_for_status: unexpected response: /,
    );
    expect(err.message).toContain("status");
  });
});

describe("devboxes.execute and executions", () => {
  it("execute posts the command with a generated uuid command_id and last_n", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/execute",
      json(execution({ status: "running", exit_status: null })),
    );
    const { client } = makeClient();
    const result = await client.devboxes.execute(
      ODD_ID,
      { command: "ls -la /", optimistic_timeout: 25, shell_name: "main" },
      { lastN: 50 },
    );
    expect(result).toMatchObject({ execution_id: "exe_1", status: "running", exit_status: null });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: `/v1/devboxes/${ODD_ID_PATH}/execute`,
      query: { last_n: "50" },
    });
    const body = seen[0]!.body as Record<string, unknown>;
    expect(body).toEqual({
      command: "ls -la /",
      optimistic_timeout: 25,
      shell_name: "main",
      command_id: expect.stringMatching(UUID),
    });
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("execute keeps a given command_id, makes a new one per call, and resends the same one on retry", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/execute",
      status(503),
      json(execution()),
      json(execution()),
      json(execution()),
    );
    const { client } = makeClient();
    await client.devboxes.execute("dbx_1", { command: "true" });
    await client.devboxes.execute("dbx_1", { command: "true" });
    await client.devboxes.execute("dbx_1", { command: "true", command_id: "cmd-fixed" });
    const ids = seen.map((s) => (s.body as { command_id: string }).command_id);
    const keys = seen.map((s) => s.headers.get("x-request-id"));
    expect(seen).toHaveLength(4);
    // Attempts 1 and 2 are one call retried after the 503.
    expect(ids[1]).toBe(ids[0]);
    expect(keys[1]).toBe(keys[0]);
    expect(ids[2]).toMatch(UUID);
    expect(ids[2]).not.toBe(ids[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(ids[3]).toBe("cmd-fixed");
    // No last_n unless asked.
    expect(seen.map((s) => s.query)).toEqual([{}, {}, {}, {}]);
  });

  it("executions.retrieve gets both ids encoded, with last_n", async () => {
    const seen = route(
      "get",
      "/v1/devboxes/:devboxId/executions/:executionId",
      json(execution({ execution_id: "exe/2" })),
    );
    const got = await makeClient().client.devboxes.executions.retrieve(ODD_ID, "exe/2", {
      lastN: 10,
    });
    expect(got.execution_id).toBe("exe/2");
    expect(seen.map((s) => [s.method, s.path, s.query, s.headers.get("x-request-id")])).toEqual([
      ["GET", `/v1/devboxes/${ODD_ID_PATH}/executions/exe%2F2`, { last_n: "10" }, null],
    ]);
  });

  it("executions.awaitCompleted loops on 408 and unfinished answers and stops on completed", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:devboxId/executions/:executionId/wait_for_status",
      status(408),
      json(execution({ status: "running", exit_status: null })),
      status(408),
      json(execution({ status: "completed", exit_status: 3, stderr: "boom" })),
    );
    const { client } = makeClient();
    const done = await client.devboxes.executions.awaitCompleted("dbx_1", "exe 1", { lastN: 5 });
    expect(done).toMatchObject({ status: "completed", exit_status: 3, stderr: "boom" });
    expect(seen).toHaveLength(4);
    for (const request of seen) {
      expect(request).toMatchObject({
        method: "POST",
        path: "/v1/devboxes/dbx_1/executions/exe%201/wait_for_status",
        query: { last_n: "5" },
        body: { statuses: ["completed"] },
      });
    }
  });

  it("executions.kill posts kill_process_group: true", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:devboxId/executions/:executionId/kill",
      json(execution({ exit_status: 137 })),
    );
    const killed = await makeClient().client.devboxes.executions.kill(ODD_ID, "exe_1");
    expect(killed.exit_status).toBe(137);
    expect(seen.map((s) => [s.method, s.path, s.query, s.body])).toEqual([
      [
        "POST",
        `/v1/devboxes/${ODD_ID_PATH}/executions/exe_1/kill`,
        {},
        { kill_process_group: true },
      ],
    ]);
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("accepts unknown execution fields and rejects a missing execution_id, naming it", async () => {
    route(
      "post",
      "/v1/devboxes/:id/execute",
      json(execution({ brand_new: [1, 2], stdout_truncated: false })),
      json({ devbox_id: "dbx_1", status: "completed" }),
    );
    const { client } = makeClient();
    const first = await client.devboxes.execute("dbx_1", { command: "true" });
    expect(first).toMatchObject({ brand_new: [1, 2], stdout_truncated: false });
    const err = await rejection(client.devboxes.execute("dbx_1", { command: "true" }));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err).toMatchObject({ method: "POST", path: "/v1/devboxes/dbx_1/execute", status: 200 });
    expect(err.message).toMatch(/^POST \/v1\/devboxes\/dbx_1\/execute: unexpected response: /);
    expect(err.message).toContain("execution_id");
  });
});

describe("devboxes.shutdown and logs", () => {
  it("shutdown posts force in the query and no body", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/shutdown",
      json(devbox(ODD_ID, { status: "shutdown" })),
    );
    const { client } = makeClient();
    const view = await client.devboxes.shutdown(ODD_ID, { force: true });
    await client.devboxes.shutdown(ODD_ID);
    expect(view.status).toBe("shutdown");
    expect(seen.map((s) => [s.method, s.path, s.query, s.bytes.length])).toEqual([
      ["POST", `/v1/devboxes/${ODD_ID_PATH}/shutdown`, { force: "true" }, 0],
      ["POST", `/v1/devboxes/${ODD_ID_PATH}/shutdown`, {}, 0],
    ]);
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("shutdown retries a 409 with the same request id", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/shutdown",
      status(409, { message: "snapshot in progress" }),
      json(devbox("dbx_1", { status: "shutdown" })),
    );
    await makeClient().client.devboxes.shutdown("dbx_1", { idempotencyKey: "stop-1" });
    expect(seen.map((s) => s.headers.get("x-request-id"))).toEqual(["stop-1", "stop-1"]);
  });

  it("logs gets /v1/devboxes/{id}/logs with execution_id and parses the entries", async () => {
    const entry = {
      level: "info",
      source: "exec",
      timestamp_ms: 5,
      cmd: "ls",
      cmd_id: "exe_1",
      exit_code: 0,
      message: "ok",
      shell_name: null,
      future: "field",
    };
    const seen = route("get", "/v1/devboxes/:id/logs", json({ logs: [entry], extra: 1 }));
    const { client } = makeClient();
    const logs = await client.devboxes.logs(ODD_ID, { executionId: "exe 1" });
    expect(logs.logs).toEqual([entry]);
    expect(seen.map((s) => [s.method, s.path, s.query, s.headers.get("x-request-id")])).toEqual([
      ["GET", `/v1/devboxes/${ODD_ID_PATH}/logs`, { execution_id: "exe 1" }, null],
    ]);
  });

  it("logs without the logs array is a RunloopResponseError naming logs", async () => {
    route("get", "/v1/devboxes/:id/logs", json({ entries: [] }));
    const err = await rejection(makeClient().client.devboxes.logs("dbx_1"));
    expect(err).toBeInstanceOf(RunloopResponseError);
    expect(err.message).toMatch(/^GET \/v1\/devboxes\/dbx_1\/logs: unexpected response: logs: /);
  });
});

describe("devboxes file calls", () => {
  it("writeFileContents posts file_path and contents as JSON and accepts any answer", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/write_file_contents",
      json(devbox("dbx_1")),
      () => new HttpResponse(null, { status: 200 }),
    );
    const { client } = makeClient();
    const contents = "line 1\nπ ≈ 3.14 — ünïcödé 🚀\n";
    await expect(
      client.devboxes.writeFileContents(ODD_ID, "/home/user/a b.txt", contents),
    ).resolves.toBeUndefined();
    await expect(client.devboxes.writeFileContents(ODD_ID, "/x", "")).resolves.toBeUndefined();
    expect(seen.map((s) => [s.method, s.path, s.body])).toEqual([
      [
        "POST",
        `/v1/devboxes/${ODD_ID_PATH}/write_file_contents`,
        { file_path: "/home/user/a b.txt", contents },
      ],
      [
        "POST",
        `/v1/devboxes/${ODD_ID_PATH}/write_file_contents`,
        { file_path: "/x", contents: "" },
      ],
    ]);
  });

  it("readFileContents returns the text/plain body as is, even when it looks like JSON", async () => {
    const texts = ['{"not": "parsed"}\n', "  spaced\r\nlines\n\n", "ünïcödé 🚀", ""];
    const seen = route(
      "post",
      "/v1/devboxes/:id/read_file_contents",
      (n) =>
        new HttpResponse(texts[n - 1], {
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
    );
    const { client } = makeClient();
    const got: string[] = [];
    for (const _ of texts) got.push(await client.devboxes.readFileContents(ODD_ID, "/etc/a.txt"));
    expect(got).toEqual(texts);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: `/v1/devboxes/${ODD_ID_PATH}/read_file_contents`,
      query: {},
      body: { file_path: "/etc/a.txt" },
    });
    expect(seen[0]!.headers.get("accept")).toContain("text/plain");
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("readFileContents retries a 503 with the same request id, then returns the text", async () => {
    const seen = route(
      "post",
      "/v1/devboxes/:id/read_file_contents",
      status(503),
      () => new HttpResponse("content", { status: 200 }),
    );
    expect(await makeClient().client.devboxes.readFileContents("dbx_1", "/a")).toBe("content");
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.get("x-request-id")).toBe(seen[0]!.headers.get("x-request-id"));
  });

  it("uploadFile sends multipart/form-data with path and the file's exact bytes", async () => {
    const seen = route("post", "/v1/devboxes/:id/upload_file", json({}));
    // Every byte value, plus sequences that are not valid UTF-8 (lone continuation, overlong, CR LF).
    const data = new Uint8Array([
      ...Array.from({ length: 256 }, (_, i) => i),
      0xff,
      0xfe,
      0xc3,
      0x28,
      0x80,
      0xc0,
      0xaf,
      0x0d,
      0x0a,
      0x2d,
      0x2d,
    ]);
    await makeClient().client.devboxes.uploadFile(ODD_ID, "/home/user/bin/data.bin", data);
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request).toMatchObject({
      method: "POST",
      path: `/v1/devboxes/${ODD_ID_PATH}/upload_file`,
      query: {},
    });
    expect(request.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(request.headers.get("x-request-id")).toMatch(REQUEST_ID);
    const form = request.form!;
    expect([...form.keys()].sort()).toEqual(["file", "path"]);
    expect(form.get("path")).toBe("/home/user/bin/data.bin");
    const file = form.get("file") as File;
    expect(file.name).toBe("data.bin");
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    // The raw body carries the bytes untouched (no UTF-8 re-encoding).
    expect(request.bytes.includes(Buffer.from(data))).toBe(true);
  });

  it("uploadFile sends only the bytes of a Uint8Array view, not its whole buffer", async () => {
    const seen = route("post", "/v1/devboxes/:id/upload_file", json({}));
    const whole = new Uint8Array([1, 2, 0xff, 0xfe, 0x00, 0x80, 9, 9]);
    const view = whole.subarray(2, 6);
    await makeClient().client.devboxes.uploadFile("dbx_1", "/tmp/v", view);
    const file = seen[0]!.form!.get("file") as File;
    expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([0xff, 0xfe, 0x00, 0x80]);
  });

  it("uploadFile builds a fresh multipart body for each retry after a 503, with one request id", async () => {
    const seen = route("post", "/v1/devboxes/:id/upload_file", status(503), status(503), json({}));
    const data = randomBytes(256 * 1024);
    data[0] = 0xff;
    const { client, attempts } = makeClient();
    await client.devboxes.uploadFile("dbx_1", "/work/blob", data);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(seen).toHaveLength(3);
    const keys = new Set(seen.map((s) => s.headers.get("x-request-id")));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(REQUEST_ID);
    for (const request of seen) {
      expect(request.form!.get("path")).toBe("/work/blob");
      const file = request.form!.get("file") as File;
      expect(file.size).toBe(data.length);
      expect(sha256(new Uint8Array(await file.arrayBuffer()))).toBe(sha256(data));
    }
  });
});

describe("devboxes.downloadFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "rli-devbox-download-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("streams a multi-megabyte binary body to the file exactly, through no leftover .part", async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const seen = route(
      "post",
      "/v1/devboxes/:id/download_file",
      () => new HttpResponse(payload, { headers: { "content-type": "application/octet-stream" } }),
    );
    const dest = join(dir, "out.bin");
    const bytes = await makeClient().client.devboxes.downloadFile(ODD_ID, "/home/u/big.bin", dest);
    expect(bytes).toBe(payload.length);
    expect(sha256(await readFile(dest))).toBe(sha256(payload));
    expect(await readdir(dir)).toEqual(["out.bin"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: `/v1/devboxes/${ODD_ID_PATH}/download_file`,
      query: {},
      body: { path: "/home/u/big.bin" },
    });
    expect(seen[0]!.headers.get("accept")).toBe("application/octet-stream");
    expect(seen[0]!.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  it("replaces a stale .part and an older destination file", async () => {
    const dest = join(dir, "out.bin");
    await writeFile(`${dest}.part`, "stale partial download from a crash, longer than the body");
    await writeFile(dest, "old");
    route("post", "/v1/devboxes/:id/download_file", () => new HttpResponse(Buffer.from([0, 255])));
    expect(await makeClient().client.devboxes.downloadFile("dbx_1", "/f", dest)).toBe(2);
    expect([...(await readFile(dest))]).toEqual([0, 255]);
    expect(await readdir(dir)).toEqual(["out.bin"]);
  });

  it("retries with the same request id and leaves no file when every attempt fails", async () => {
    const seen = route("post", "/v1/devboxes/:id/download_file", status(503, { message: "busy" }));
    const dest = join(dir, "never.bin");
    const { client, attempts } = makeClient(2);
    const err = await rejection(client.devboxes.downloadFile("dbx_1", "/f", dest));
    expect(err).toBeInstanceOf(RunloopApiError);
    expect(err).toMatchObject({ status: 503, message: "503 busy" });
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(new Set(seen.map((s) => s.headers.get("x-request-id"))).size).toBe(1);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it("restarts after a body that breaks off and leaves no file when it always breaks off", async () => {
    const payload = randomBytes(64 * 1024);
    const broken = () =>
      new HttpResponse(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(payload.subarray(0, payload.length / 2)));
            controller.error(new Error("connection reset"));
          },
        }),
      );
    const whole = () => new HttpResponse(payload);
    const dest = join(dir, "out.bin");

    const once = route("post", "/v1/devboxes/:id/download_file", broken, whole);
    expect(await makeClient().client.devboxes.downloadFile("dbx_1", "/f", dest)).toBe(
      payload.length,
    );
    expect(sha256(await readFile(dest))).toBe(sha256(payload));
    expect(await readdir(dir)).toEqual(["out.bin"]);
    expect(once).toHaveLength(2);
    expect(once[1]!.headers.get("x-request-id")).toBe(once[0]!.headers.get("x-request-id"));

    server.resetHandlers();
    await rm(dest);
    const always = route("post", "/v1/devboxes/:id/download_file", broken);
    const err = await rejection(makeClient(1).client.devboxes.downloadFile("dbx_1", "/f", dest));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err.message).toContain("(2 attempts)");
    expect(always).toHaveLength(2);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("devbox errors", () => {
  it("an API error after retries is a RunloopApiError with status and message, never the key", async () => {
    const echo = { message: `bad token Bearer ${KEY} for devbox`, headers: { auth: KEY } };
    const seen = route("post", "/v1/devboxes/:id/execute", status(500, echo));
    const { client, attempts } = makeClient();
    const err = await rejection(client.devboxes.execute("dbx_1", { command: "true" }));
    expect(seen).toHaveLength(6);
    expect(err).toBeInstanceOf(RunloopApiError);
    const apiErr = err as RunloopApiError;
    expect(apiErr).toMatchObject({
      status: 500,
      method: "POST",
      path: "/v1/devboxes/dbx_1/execute",
    });
    expect(apiErr.message).toBe("500 bad token Bearer [redacted] for devbox");
    expect(apiErr.requestId).toBe(seen[0]!.headers.get("x-request-id"));
    const everything = `${apiErr.message} ${String(apiErr.stack)} ${JSON.stringify(apiErr.body)} ${JSON.stringify(attempts)}`;
    expect(everything).not.toContain(KEY);
  });

  it("a 4xx on a text or file call is not retried and keeps its message", async () => {
    const read = route(
      "post",
      "/v1/devboxes/:id/read_file_contents",
      status(404, { message: `no such file (key ${KEY})` }),
    );
    const upload = route(
      "post",
      "/v1/devboxes/:id/upload_file",
      () => new HttpResponse(`denied for ${KEY}`, { status: 403 }),
    );
    const { client } = makeClient();
    const readErr = await rejection(client.devboxes.readFileContents("dbx_1", "/nope"));
    expect(readErr).toBeInstanceOf(RunloopApiError);
    expect(readErr).toMatchObject({ status: 404, message: "404 no such file (key [redacted])" });
    const uploadErr = await rejection(
      client.devboxes.uploadFile("dbx_1", "/a", new Uint8Array([1])),
    );
    expect(uploadErr).toBeInstanceOf(RunloopApiError);
    expect(uploadErr).toMatchObject({ status: 403, message: "403 denied for [redacted]" });
    expect(JSON.stringify((uploadErr as RunloopApiError).body)).not.toContain(KEY);
    expect(read).toHaveLength(1);
    expect(upload).toHaveLength(1);
  });
});
