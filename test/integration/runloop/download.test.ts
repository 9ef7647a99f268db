import { createHash, randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RunloopClient } from "../../../src/runloop/client.js";
import { RunloopApiError, RunloopConnectionError } from "../../../src/runloop/errors.js";
import { RunloopHttp } from "../../../src/runloop/http.js";

const KEY = "rl_api_integration_key_0123456789";
const REQUEST_ID = /^rli-[0-9a-f-]{36}$/;

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A real HTTP server on 127.0.0.1 whose handlers answer requests in order (the last one repeats). */
let server: Server;
let baseUrl: string;
let handlers: Handler[] = [];
let seen: Array<{
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}> = [];
const agent = new Agent({ keepAliveTimeout: 2_000, connectTimeout: 2_000 });
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const handler = handlers[Math.min(seen.length, handlers.length) - 1]!;
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "rli-download-it-"));
});

afterEach(async () => {
  server.closeAllConnections();
  handlers = [];
  seen = [];
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function makeClient(maxRetries?: number) {
  const delays: number[] = [];
  const client = new RunloopClient(
    new RunloopHttp({
      apiKey: KEY,
      baseUrl,
      dispatcher: agent,
      random: () => 0,
      sleep: async (ms: number) => {
        delays.push(ms);
      },
      ...(maxRetries === undefined ? {} : { maxRetries }),
    }),
  );
  return { client, delays };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The whole body with a Content-Length, in 64 KiB writes. */
function bytes(payload: Buffer, type = "application/octet-stream"): Handler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": type, "content-length": String(payload.length) });
    for (let at = 0; at < payload.length; at += 65_536)
      res.write(payload.subarray(at, at + 65_536));
    res.end();
  };
}

/** The body chunked (no Content-Length). */
function chunked(payload: Buffer, type: string): Handler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": type, "transfer-encoding": "chunked" });
    for (let at = 0; at < payload.length; at += 100_000)
      res.write(payload.subarray(at, at + 100_000));
    res.end();
  };
}

/** Announces the whole length, sends the first half, then drops the connection. */
function halfThenReset(payload: Buffer): Handler {
  return (req, res) => {
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": String(payload.length),
    });
    res.write(payload.subarray(0, payload.length / 2), () => req.socket.destroy());
  };
}

function json(status: number, body: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}

describe("downloads over real HTTP", () => {
  it("downloadFile streams a multi-megabyte random body byte for byte", async () => {
    const payload = randomBytes(4 * 1024 * 1024 + 3);
    handlers = [bytes(payload)];
    const dest = join(dir, "big.bin");
    const size = await makeClient().client.devboxes.downloadFile("dbx/1", "/data/big.bin", dest);
    expect(size).toBe(payload.length);
    expect(sha256(await readFile(dest))).toBe(sha256(payload));
    expect(await readdir(dir)).toEqual(["big.bin"]);
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/devboxes/dbx%2F1/download_file");
    expect(request.headers.accept).toBe("application/octet-stream");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-request-id"]).toMatch(REQUEST_ID);
    expect(JSON.parse(request.body.toString("utf8"))).toEqual({ path: "/data/big.bin" });
  });

  it("restarts cleanly after the connection resets mid-body", async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const dest = join(dir, "big.bin");
    let partAtRetry: number | undefined;
    handlers = [
      halfThenReset(payload),
      (req, res, body) => {
        // The first attempt's partial file is still there when the retry starts.
        partAtRetry = existsSync(`${dest}.part`) ? statSync(`${dest}.part`).size : undefined;
        bytes(payload)(req, res, body);
      },
    ];
    const { client, delays } = makeClient();
    const size = await client.devboxes.downloadFile("dbx_1", "/f", dest);
    expect(size).toBe(payload.length);
    expect(sha256(await readFile(dest))).toBe(sha256(payload));
    expect(await readdir(dir)).toEqual(["big.bin"]);
    expect(seen).toHaveLength(2);
    expect(delays).toEqual([1000]);
    expect(partAtRetry).toBeDefined();
    expect(partAtRetry).toBeLessThanOrEqual(payload.length / 2);
    expect(seen[0]!.headers["x-request-id"]).toMatch(REQUEST_ID);
    expect(seen[1]!.headers["x-request-id"]).toBe(seen[0]!.headers["x-request-id"]);
  });

  it("leaves neither the file nor a .part when every attempt breaks off mid-body", async () => {
    const payload = randomBytes(1024 * 1024);
    handlers = [halfThenReset(payload)];
    const dest = join(dir, "never.bin");
    const err = await failure(makeClient(2).client.devboxes.downloadFile("dbx_1", "/f", dest));
    expect(err).toBeInstanceOf(RunloopConnectionError);
    expect(err.message).toContain(`cannot reach the Runloop API at ${baseUrl}`);
    expect(err.message).toContain("(3 attempts)");
    expect(err.message).not.toContain(KEY);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.headers["x-request-id"])).size).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves no file on an API error and reports it without the key", async () => {
    handlers = [json(404, { message: `no logs for this run (auth ${KEY})` })];
    const dest = join(dir, "logs.zip");
    const err = await failure(makeClient().client.benchmarkRuns.downloadLogs("bmr_1", dest));
    expect(err).toBeInstanceOf(RunloopApiError);
    expect(err).toMatchObject({
      status: 404,
      message: "404 no logs for this run (auth [redacted])",
    });
    expect(seen).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it("scenarios.runs.downloadLogs streams a chunked ZIP with Accept: application/zip", async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(3_000_001)]);
    handlers = [json(502, { message: "bad gateway" }), chunked(zip, "application/zip")];
    const dest = join(dir, "run.zip");
    const size = await makeClient().client.scenarios.runs.downloadLogs("sr 1", dest);
    expect(size).toBe(zip.length);
    expect(sha256(await readFile(dest))).toBe(sha256(zip));
    expect(await readdir(dir)).toEqual(["run.zip"]);
    expect(seen.map((s) => [s.method, s.url, s.headers.accept, s.body.length])).toEqual([
      ["POST", "/v1/scenarios/runs/sr%201/download_logs", "application/zip", 0],
      ["POST", "/v1/scenarios/runs/sr%201/download_logs", "application/zip", 0],
    ]);
    expect(seen[1]!.headers["x-request-id"]).toBe(seen[0]!.headers["x-request-id"]);
  });
});

describe("uploads over real HTTP", () => {
  it("uploadFile sends the exact bytes as multipart on every attempt", async () => {
    const data = Buffer.concat([
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a, 0x2d, 0x2d]),
      randomBytes(512 * 1024),
    ]);
    handlers = [json(503, { message: "busy" }), json(200, {})];
    const { client } = makeClient();
    await client.devboxes.uploadFile("dbx_1", "/home/user/archive.tar", data);
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/v1/devboxes/dbx_1/upload_file");
      const type = request.headers["content-type"]!;
      expect(type).toMatch(/^multipart\/form-data; boundary=/);
      expect(request.body.includes(data)).toBe(true);
      const form = await new Response(request.body, {
        headers: { "content-type": type },
      }).formData();
      expect(form.get("path")).toBe("/home/user/archive.tar");
      const file = form.get("file") as File;
      expect(file.name).toBe("archive.tar");
      expect(sha256(new Uint8Array(await file.arrayBuffer()))).toBe(sha256(data));
    }
    expect(seen[0]!.headers["x-request-id"]).toMatch(REQUEST_ID);
    expect(seen[1]!.headers["x-request-id"]).toBe(seen[0]!.headers["x-request-id"]);
  });
});
