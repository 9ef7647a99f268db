import { Agent } from "undici";
import { RunloopClient } from "./client.js";
import { type AttemptEvent, RunloopHttp, runloopEnv } from "./http.js";

export interface ClientFromEnvOptions {
  onAttempt?: (event: AttemptEvent) => void;
  /** Cap on connections to the API host; default none (a job long-polls on many devboxes at once). */
  connections?: number;
}

/**
 * A RunloopClient configured from RUNLOOP_API_KEY, RUNLOOP_BASE_URL and RUNLOOP_CUSTOM_HEADERS. Throws a
 * one-line EnvironmentError (saying how to set the key) when the key is missing or the URL is bad.
 */
export function clientFromEnv(
  env: NodeJS.ProcessEnv,
  options: ClientFromEnvOptions = {},
): RunloopClient {
  const settings = runloopEnv(env);
  const dispatcher = new Agent({
    ...(options.connections !== undefined ? { connections: options.connections } : {}),
    keepAliveTimeout: 10_000,
    // Long polls are held by the server for ~25 s; the per-call timeout in RunloopHttp bounds them.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  return new RunloopClient(
    new RunloopHttp({
      apiKey: settings.apiKey,
      baseUrl: settings.baseUrl,
      headers: settings.headers,
      userAgent: "rli-bench",
      dispatcher,
      ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    }),
  );
}
