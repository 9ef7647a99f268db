import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunloopHttp } from "../../../src/runloop/http.js";

const BASE = "https://runloop.test";
const server = setupServer();
let requests = 0;
beforeAll(() => {
  server.use(
    http.post(`${BASE}/v1/devboxes/:id/download_file`, () => {
      requests++;
      return HttpResponse.arrayBuffer(new Uint8Array([1, 2, 3]).buffer);
    }),
  );
  server.listen({ onUnhandledRequest: "error" });
});
afterAll(() => server.close());

describe("download: problems on this machine are not network failures", () => {
  const make = () => new RunloopHttp({ apiKey: "k-123456", baseUrl: BASE, sleep: async () => {} });

  it("a destination in a missing directory fails at once, without a request or a retry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rli-dl-"));
    try {
      const before = requests;
      await expect(
        make().download("POST", "/v1/devboxes/dbx_1/download_file", {
          destFile: join(dir, "missing", "out.bin"),
          body: { path: "/x" },
        }),
      ).rejects.toMatchObject({ code: "ENOENT" });
      expect(requests).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a good destination gets the bytes and no .part file is left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rli-dl-"));
    try {
      const n = await make().download("POST", "/v1/devboxes/dbx_1/download_file", {
        destFile: join(dir, "out.bin"),
        body: { path: "/x" },
      });
      expect(n).toBe(3);
      expect(readdirSync(dir)).toEqual(["out.bin"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
