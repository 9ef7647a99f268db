import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleepFor } from "node:timers/promises";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { EnvironmentError } from "../core/errors.js";
import {
  apiErrorMessage,
  oneLine,
  RunloopApiError,
  RunloopConnectionError,
  RunloopPollTimeoutError,
  RunloopResponseError,
} from "./errors.js";
import { pageSchema } from "./schemas.js";

export const DEFAULT_BASE_URL = "https://api.runloop.ai";
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_MAX_RETRY_TIME_MS = 120_000;
/** Per call of a long poll: the server holds the request (~25–30 s) and answers 408 to loop again. */
export const LONG_POLL_CALL_TIMEOUT_MS = 600_000;
const MAX_BACKOFF_MS = 60_000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly (string | number)[];
export type Query = Readonly<Record<string, QueryValue>>;

export interface Clock {
  /** Epoch milliseconds (HTTP-date Retry-After is measured against it). */
  now(): number;
}
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** One finished attempt, for logging and counting API calls. */
export interface AttemptEvent {
  method: HttpMethod;
  path: string;
  /** 0 for the first attempt. */
  attempt: number;
  status?: number;
  error?: string;
  /** Set when another attempt follows after this delay. */
  retryInMs?: number;
}

export interface RunloopHttpOptions {
  apiKey: string;
  /** Default https://api.runloop.ai; validated by parseBaseUrl. */
  baseUrl?: string;
  /** Per attempt, covering headers and body. Default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 5. */
  maxRetries?: number;
  /** No retry starts once this much time has passed since the first attempt (sleep included). Default 120 s. */
  maxRetryTimeMs?: number;
  userAgent?: string;
  /** Extra headers (e.g. from RUNLOOP_CUSTOM_HEADERS); they cannot replace Authorization or x-request-id. */
  headers?: Readonly<Record<string, string>>;
  /** An undici dispatcher (Agent, ProxyAgent, MockAgent) for the connection pool; default: Node's global one. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  sleep?: Sleep;
  /** In [0, 1); drives the backoff jitter. */
  random?: () => number;
  onAttempt?: (event: AttemptEvent) => void;
}

export interface RequestOptions<S extends z.ZodType> extends SendOptions {
  /** Every response is parsed; pass z.unknown() for an answer you ignore. */
  schema: S;
}

/** What every call takes, whatever it answers. */
export interface SendOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data instead of `body` (file uploads). */
  form?: () => FormData;
  /** x-request-id for a non-GET request; default `rli-<uuid>`. The same on every retry. */
  idempotencyKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  signal?: AbortSignal;
}

export interface DownloadOptions extends SendOptions {
  /** The response body is streamed to this file (through `<file>.part`, renamed when complete). */
  destFile: string;
  /** Accept header; default application/octet-stream. */
  accept?: string;
}

export interface PaginateOptions {
  /** Page size (the server's default is 20). */
  limit?: number;
  query?: Query;
  signal?: AbortSignal;
}

export interface LongPollOptions<S extends z.ZodType> {
  schema: S;
  body?: unknown;
  query?: Query;
  /** True when the result is final; otherwise the call is repeated at once. */
  shouldStop: (result: z.output<S>) => boolean;
  /** Overall; default none (wait forever, like the SDK). */
  timeoutMs?: number;
  /** Per call; default 600 s. */
  callTimeoutMs?: number;
  signal?: AbortSignal;
}

interface Internal {
  /** Absolute clock time after which no attempt starts and attempts are cut short. */
  deadline?: number;
  /** Long polls: a 408 ends the call at once (the caller loops) instead of being retried with backoff. */
  endOn408?: boolean;
}

/** Reads a 2xx answer inside the attempt's timeout; a throw counts as a failed attempt (retried). */
type Consume<T> = (response: Response) => Promise<T>;

type Outcome<T> =
  | { kind: "ok"; status: number; value: T }
  | { kind: "response"; status: number; headers: Headers; text: string }
  | { kind: "error"; error: unknown; timedOut: boolean };

/**
 * Typed transport for the Runloop API: Bearer auth, JSON in and out, zod-validated answers, retries with
 * backoff bounded in count and time, idempotency keys, per-attempt timeouts, pagination and long polls.
 * Requests go through `globalThis.fetch` (Node's undici) with the injected undici dispatcher, so msw can
 * intercept them in tests and a real Agent or ProxyAgent carries them otherwise. No message ever holds the key.
 */
export class RunloopHttp {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryTimeMs: number;
  readonly #apiKey: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #onAttempt: ((event: AttemptEvent) => void) | undefined;

  constructor(options: RunloopHttpOptions) {
    if (typeof options.apiKey !== "string" || options.apiKey.trim() === "") {
      throw new TypeError("Expected `apiKey` to be a non-empty string");
    }
    this.#apiKey = options.apiKey;
    this.baseUrl = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, "baseUrl");
    this.timeoutMs = checkNumber("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
    this.maxRetries = checkNumber("maxRetries", options.maxRetries ?? DEFAULT_MAX_RETRIES, 0, true);
    this.maxRetryTimeMs = checkNumber(
      "maxRetryTimeMs",
      options.maxRetryTimeMs ?? DEFAULT_MAX_RETRY_TIME_MS,
      0,
    );
    const custom: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower !== "authorization" && lower !== "x-request-id") custom[lower] = value;
    }
    this.#headers = {
      accept: "application/json",
      "user-agent": options.userAgent ?? "rli-bench",
      ...custom,
      authorization: `Bearer ${this.#apiKey}`,
    };
    this.#dispatcher = options.dispatcher;
    this.#clock = options.clock ?? Date;
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.#random = options.random ?? Math.random;
    this.#onAttempt = options.onAttempt;
  }

  /** One API call, retried as the SDK does; resolves to the schema's output or throws a Runloop*Error. */
  request<S extends z.ZodType>(
    method: HttpMethod,
    path: string,
    options: RequestOptions<S>,
  ): Promise<z.output<S>> {
    return this.#json(method, path, options, {});
  }

  /** A call whose 2xx answer is plain text (e.g. read_file_contents). */
  requestText(method: HttpMethod, path: string, options: SendOptions = {}): Promise<string> {
    return this.#send(method, path, options, {}, "text/plain, */*", (response) => response.text());
  }

  /**
   * A call whose 2xx answer is a file (download_file, download_logs): streamed to `<destFile>.part`, then
   * renamed, so a failed or retried download never leaves a partial file under the real name. Resolves to
   * the number of bytes written.
   */
  async download(method: HttpMethod, path: string, options: DownloadOptions): Promise<number> {
    const part = `${options.destFile}.part`;
    // Created before the first request: a missing directory or a read-only one is reported at once, not
    // retried as if the network had failed.
    await writeFile(part, "", { mode: 0o600 });
    return this.#send(
      method,
      path,
      { ...options, timeoutMs: options.timeoutMs ?? LONG_POLL_CALL_TIMEOUT_MS },
      {},
      options.accept ?? "application/octet-stream",
      async (response) => {
        let bytes = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        const source = response.body
          ? Readable.fromWeb(response.body as import("node:stream/web").ReadableStream)
          : Readable.from([]);
        await pipeline(source, counter, createWriteStream(part, { mode: 0o600 }));
        await rename(part, options.destFile);
        return bytes;
      },
    ).catch(async (err: unknown) => {
      await rm(part, { force: true });
      throw err;
    });
  }

  /** Every item of a list endpoint, fetching pages with `limit` and `starting_after=<last id>` while `has_more`. */
  async *paginate<S extends z.ZodType<{ id: string }>>(
    path: string,
    itemsKey: string,
    itemSchema: S,
    options: PaginateOptions = {},
  ): AsyncGenerator<z.output<S>, void, undefined> {
    const schema = pageSchema(itemsKey, itemSchema);
    let startingAfter: string | undefined;
    for (;;) {
      const page = (await this.request("GET", path, {
        schema,
        signal: options.signal,
        query: { ...options.query, limit: options.limit, starting_after: startingAfter },
      })) as Record<string, unknown> & { has_more?: boolean | null };
      const items = page[itemsKey] as z.output<S>[];
      yield* items;
      const last = items.at(-1);
      if (page.has_more === false || last === undefined) return;
      if (last.id === startingAfter) {
        throw new RunloopResponseError(
          "GET",
          path,
          200,
          `GET ${path}: pagination does not advance (starting_after=${last.id} returned the same last item)`,
        );
      }
      startingAfter = last.id;
    }
  }

  /**
   * Repeat a blocking call (e.g. wait_for_status) with no pause while the server answers 408 or
   * `shouldStop` says the result is not final. Other retryable failures are retried with backoff inside
   * each call, within the overall timeout. Throws RunloopPollTimeoutError at the timeout, the abort
   * reason on abort.
   */
  async longPoll<S extends z.ZodType>(
    method: HttpMethod,
    path: string,
    options: LongPollOptions<S>,
  ): Promise<z.output<S>> {
    const timeoutMs = options.timeoutMs;
    const deadline = timeoutMs === undefined ? undefined : this.#clock.now() + timeoutMs;
    let last: unknown;
    const timedOut = () =>
      new RunloopPollTimeoutError(
        timeoutMs ?? 0,
        last,
        oneLine(
          this.#redact(
            `${method} ${path}: long poll timed out after ${timeoutMs} ms; last result: ${
              last === undefined ? "none" : JSON.stringify(last)
            }`,
          ),
        ),
      );
    for (;;) {
      throwIfAborted(options.signal);
      if (deadline !== undefined && this.#clock.now() >= deadline) throw timedOut();
      try {
        const result = await this.#json(
          method,
          path,
          {
            schema: options.schema,
            body: options.body,
            query: options.query,
            signal: options.signal,
            timeoutMs: options.callTimeoutMs ?? LONG_POLL_CALL_TIMEOUT_MS,
          },
          { deadline, endOn408: true },
        );
        if (options.shouldStop(result)) return result;
        last = result;
      } catch (err) {
        if (err instanceof RunloopApiError && err.status === 408) continue;
        if (deadline !== undefined && this.#clock.now() >= deadline) {
          if (err instanceof RunloopConnectionError && err.timedOut) throw timedOut();
        }
        throw err;
      }
    }
  }

  async #json<S extends z.ZodType>(
    method: HttpMethod,
    path: string,
    options: RequestOptions<S>,
    internal: Internal,
  ): Promise<z.output<S>> {
    const { status, text } = await this.#send(
      method,
      path,
      options,
      internal,
      "application/json",
      async (response) => ({ status: response.status, text: await response.text() }),
    );
    return this.#parse(method, path, status, text, options.schema);
  }

  async #send<T>(
    method: HttpMethod,
    path: string,
    options: SendOptions,
    internal: Internal,
    accept: string,
    consume: Consume<T>,
  ): Promise<T> {
    if (!path.startsWith("/"))
      throw new TypeError(`Expected a path starting with "/", got ${path}`);
    const url = this.#url(path, options.query);
    const requestId =
      method === "GET" ? undefined : (options.idempotencyKey ?? `rli-${randomUUID()}`);
    const headers: Record<string, string> = { ...this.#headers, accept };
    if (requestId !== undefined) headers["x-request-id"] = requestId;
    let body: (() => string | FormData) | undefined;
    if (options.form !== undefined) {
      // A fresh FormData per attempt: fetch sets the multipart boundary itself.
      body = options.form;
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      const json = JSON.stringify(options.body);
      body = () => json;
    }
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const attemptTimeoutMs = options.timeoutMs ?? this.timeoutMs;
    const started = this.#clock.now();

    for (let attempt = 0; ; attempt++) {
      throwIfAborted(options.signal);
      const remaining =
        internal.deadline === undefined ? Infinity : internal.deadline - this.#clock.now();
      const timeoutMs = Math.max(1, Math.min(attemptTimeoutMs, remaining));
      const outcome = await this.#attempt(
        url,
        method,
        headers,
        body?.(),
        timeoutMs,
        options.signal,
        consume,
      );

      if (outcome.kind === "ok") {
        this.#onAttempt?.({ method, path, attempt, status: outcome.status });
        return outcome.value;
      }

      let retryable: boolean;
      let delayMs: number;
      if (outcome.kind === "response") {
        retryable =
          !(internal.endOn408 && outcome.status === 408) &&
          shouldRetry(outcome.status, outcome.headers);
        delayMs = retryDelayMs(outcome.headers, attempt, this.#random, this.#clock.now());
      } else {
        retryable = true;
        delayMs = backoffDelayMs(attempt, this.#random);
      }
      const now = this.#clock.now();
      const retry =
        retryable &&
        attempt < maxRetries &&
        now + delayMs - started <= this.maxRetryTimeMs &&
        (internal.deadline === undefined || now + delayMs < internal.deadline);
      this.#onAttempt?.({
        method,
        path,
        attempt,
        ...(outcome.kind === "response"
          ? { status: outcome.status }
          : { error: this.#causeText(outcome.error, outcome.timedOut, timeoutMs) }),
        ...(retry ? { retryInMs: delayMs } : {}),
      });
      if (!retry) throw this.#failure(method, path, outcome, attempt + 1, timeoutMs, requestId);
      try {
        await this.#sleep(delayMs, options.signal);
      } catch (err) {
        throwIfAborted(options.signal);
        throw err;
      }
    }
  }

  async #attempt<T>(
    url: string,
    method: HttpMethod,
    headers: Record<string, string>,
    body: string | FormData | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    consume: Consume<T>,
  ): Promise<Outcome<T>> {
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      // Node's fetch takes an undici dispatcher; msw replaces globalThis.fetch, so look it up per call.
      const init = { method, headers, body, signal: combined, dispatcher: this.#dispatcher };
      const response = await globalThis.fetch(url, init as RequestInit);
      if (response.status >= 200 && response.status < 300) {
        return { kind: "ok", status: response.status, value: await consume(response) };
      }
      const text = await response.text();
      return { kind: "response", status: response.status, headers: response.headers, text };
    } catch (error) {
      throwIfAborted(signal);
      return { kind: "error", error, timedOut: timer.signal.aborted };
    } finally {
      clearTimeout(handle);
    }
  }

  #parse<S extends z.ZodType>(
    method: HttpMethod,
    path: string,
    status: number,
    text: string,
    schema: S,
  ): z.output<S> {
    let data: unknown;
    if (text.trim() !== "") {
      try {
        data = JSON.parse(text);
      } catch {
        throw new RunloopResponseError(
          method,
          path,
          status,
          oneLine(
            this.#redact(`${method} ${path}: the response is not JSON: ${text.slice(0, 200)}`),
          ),
        );
      }
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
      .join("; ");
    throw new RunloopResponseError(
      method,
      path,
      status,
      oneLine(this.#redact(`${method} ${path}: unexpected response: ${issues}`)),
    );
  }

  #failure(
    method: HttpMethod,
    path: string,
    outcome: Exclude<Outcome<unknown>, { kind: "ok" }>,
    attempts: number,
    timeoutMs: number,
    requestId: string | undefined,
  ): Error {
    if (outcome.kind === "response") {
      const body = this.#redactDeep(parseBody(outcome.text));
      return new RunloopApiError(
        outcome.status,
        body,
        outcome.headers.get("x-request-id") ?? requestId,
        method,
        path,
        apiErrorMessage(outcome.status, body),
      );
    }
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    const message = outcome.timedOut
      ? `the Runloop API at ${this.baseUrl} did not answer ${method} ${path} within ${timeoutMs} ms (${tries})`
      : `cannot reach the Runloop API at ${this.baseUrl}: ${this.#causeText(outcome.error, false, timeoutMs)} (${tries})`;
    return new RunloopConnectionError(
      this.baseUrl,
      outcome.timedOut,
      attempts,
      oneLine(this.#redact(message)),
      {
        cause: outcome.error,
      },
    );
  }

  #causeText(error: unknown, timedOut: boolean, timeoutMs: number): string {
    if (timedOut) return `timed out after ${timeoutMs} ms`;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = cause instanceof Error ? Reflect.get(cause, "code") : undefined;
    const text = cause instanceof Error ? cause.message : String(cause);
    return this.#redact(
      typeof code === "string" && !text.includes(code) ? `${code} ${text}` : text,
    );
  }

  #url(path: string, query: Query | undefined): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, String(v));
      else url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  #redact(text: string): string {
    return this.#apiKey.length < 4 ? text : text.split(this.#apiKey).join("[redacted]");
  }

  #redactDeep(body: unknown): unknown {
    if (typeof body === "string") return this.#redact(body);
    if (body === undefined) return body;
    const json = JSON.stringify(body);
    return json !== this.#redact(json) ? JSON.parse(this.#redact(json)) : body;
  }
}

/** The SDK's rule: x-should-retry decides if present; else 408, 409, 429 and 5xx are retried. */
export function shouldRetry(status: number, headers: Headers): boolean {
  const header = headers.get("x-should-retry");
  if (header === "true") return true;
  if (header === "false") return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** retry-after-ms (ms), else retry-after (seconds or HTTP date), else jittered backoff for retry n (0-based). */
export function retryDelayMs(
  headers: Headers,
  retry: number,
  random: () => number,
  now: number,
): number {
  return headerDelayMs(headers, now) ?? backoffDelayMs(retry, random);
}

export function headerDelayMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get("retry-after");
  if (after !== null && after.trim() !== "") {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** min(1 s·2^n, 60 s)·(1 − rand·0.25): about 1, 2, 4, 8, 16 s, never below three quarters of that. */
export function backoffDelayMs(retry: number, random: () => number): number {
  return Math.min(1000 * 2 ** retry, MAX_BACKOFF_MS) * (1 - random() * 0.25);
}

/**
 * A validated API base URL without a trailing slash: https, or plain http only on loopback (for tests and
 * fake servers). Throws a one-line EnvironmentError naming `source` and the bad value.
 */
export function parseBaseUrl(raw: string, source = "RUNLOOP_BASE_URL"): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new EnvironmentError(
      `${source} ${JSON.stringify(raw)} is not a URL; expected e.g. ${DEFAULT_BASE_URL}`,
    );
  }
  if (url.username || url.password) {
    throw new EnvironmentError(`${source} must not contain a user name or password`);
  }
  const shown = JSON.stringify(raw);
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new EnvironmentError(
      `${source} ${shown} must use https (plain http is allowed only on 127.0.0.1, ::1 and localhost)`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new EnvironmentError(`${source} ${shown} must be an https URL`);
  }
  if (url.search || url.hash) {
    throw new EnvironmentError(`${source} ${shown} must not have a query or fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** RUNLOOP_CUSTOM_HEADERS: newline-separated `Name: value` pairs. Errors name the line, never its value. */
export function parseCustomHeaders(
  raw: string | undefined,
  source = "RUNLOOP_CUSTOM_HEADERS",
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [index, line] of (raw ?? "").split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new EnvironmentError(`${source} line ${index + 1}: expected "Name: value"`);
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The client settings that come from the environment; a missing key is a one-line hint. */
export function runloopEnv(env: NodeJS.ProcessEnv = process.env): {
  apiKey: string;
  baseUrl: string;
  headers: Record<string, string>;
} {
  const apiKey = env.RUNLOOP_API_KEY?.trim();
  if (!apiKey) {
    throw new EnvironmentError(
      "RUNLOOP_API_KEY is not set: export RUNLOOP_API_KEY=<your key> (from the Runloop dashboard)",
    );
  }
  return {
    apiKey,
    baseUrl: parseBaseUrl(env.RUNLOOP_BASE_URL || DEFAULT_BASE_URL),
    headers: parseCustomHeaders(env.RUNLOOP_CUSTOM_HEADERS),
  };
}

function checkNumber(name: string, value: number, min: number, integer = false): number {
  if (
    typeof value !== "number" ||
    Number.isNaN(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new TypeError(
      `Expected \`${name}\` to be ${integer ? "an integer" : "a number"} >= ${min}, got ${value}`,
    );
  }
  return value;
}

function parseBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}
