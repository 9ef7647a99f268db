/** A non-2xx answer from the Runloop API after retries. The message is `<status> <body.message or JSON>`. */
export class RunloopApiError extends Error {
  override readonly name = "RunloopApiError";
  constructor(
    readonly status: number,
    /** The parsed JSON body (the raw text when it is not JSON), with the API key redacted. */
    readonly body: unknown,
    /** The response's x-request-id, else the idempotency key we sent (none for GET). */
    readonly requestId: string | undefined,
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached (refused, reset, DNS, or every attempt timed out). Names the base URL. */
export class RunloopConnectionError extends Error {
  override readonly name = "RunloopConnectionError";
  constructor(
    readonly baseUrl: string,
    /** The last attempt was aborted by the per-attempt timeout. */
    readonly timedOut: boolean,
    readonly attempts: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A 2xx answer that is not JSON or does not match its schema; names the endpoint and the field. */
export class RunloopResponseError extends Error {
  override readonly name = "RunloopResponseError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A long poll that reached its overall timeout; keeps the last non-final result. */
export class RunloopPollTimeoutError extends Error {
  override readonly name = "RunloopPollTimeoutError";
  constructor(
    readonly timeoutMs: number,
    readonly lastResult: unknown,
    message: string,
  ) {
    super(message);
  }
}

const MAX_MESSAGE_CHARS = 500;

/** The SDK's message rule: `<status> <body.message>`, else `<status> <JSON body>`, else the raw text; one line. */
export function apiErrorMessage(status: number, body: unknown): string {
  let detail: string;
  if (
    body !== null &&
    typeof body === "object" &&
    typeof Reflect.get(body, "message") === "string"
  ) {
    detail = Reflect.get(body, "message") as string;
  } else if (typeof body === "string") {
    detail = body;
  } else {
    detail = body === undefined ? "" : JSON.stringify(body);
  }
  return oneLine(`${status} ${detail}`.trim());
}

/** Collapse whitespace runs to one space and cut to a readable length. */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…` : flat;
}

/** True for a RunloopApiError with status 404 (the resource does not exist or is not visible to this key). */
export function isNotFound(err: unknown): err is RunloopApiError {
  return err instanceof RunloopApiError && err.status === 404;
}
