import { setupServer } from "msw/node";
import { RunloopClient } from "../../src/runloop/client.js";
import { RunloopHttp } from "../../src/runloop/http.js";

export const BASE = "https://runloop.test";
export const KEY = "rl_api_0123456789abcdefSECRET";

/** An msw server for one test file: unhandled requests fail the test. */
export function mswServer() {
  return setupServer();
}

/** A client for msw: no real sleeps, no jitter, and no retries unless asked (a failed answer is final). */
export function testClient(maxRetries = 0): RunloopClient {
  return new RunloopClient(
    new RunloopHttp({
      apiKey: KEY,
      baseUrl: BASE,
      maxRetries,
      sleep: async () => {},
      random: () => 0,
    }),
  );
}
