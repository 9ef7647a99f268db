import { type FSWatcher, watch } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { JobEvent } from "../core/schemas.js";
import { EVENTS_FILE } from "./paths.js";

/** Reads events.jsonl incrementally: each call returns the whole lines appended since the last. */
export class EventTail {
  private offset = 0;
  private partial = "";
  /** Keeps a UTF-8 character split across two reads whole. */
  private readonly decoder = new StringDecoder("utf8");

  constructor(readonly path: string) {}

  async read(): Promise<JobEvent[]> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const chunks: Buffer[] = [];
    try {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
        this.offset += bytesRead;
      }
    } finally {
      await fh.close();
    }
    if (chunks.length === 0) return [];
    const text = this.partial + this.decoder.write(Buffer.concat(chunks));
    const lines = text.split("\n");
    // The last piece has no newline yet: a writer is mid-append. Keep it for the next read.
    this.partial = lines.pop() ?? "";
    const events: JobEvent[] = [];
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        events.push(JSON.parse(line) as JobEvent);
      } catch {
        // a corrupt line; later lines are still read
      }
    }
    return events;
  }
}

export interface FollowOptions {
  signal: AbortSignal;
  /** Called with each batch of new events, in order. */
  onEvents(events: JobEvent[]): void;
  /**
   * Checked once per `intervalMs` and after each batch: return a reason to stop following (the job
   * ended, its runner is gone), or null to go on.
   */
  check(): Promise<string | null>;
  /** Upper bound between checks; changes to the file wake the follower sooner. Default 1000 ms. */
  intervalMs?: number;
}

/**
 * Follow a job's event log until `check` says stop or the signal aborts. Wakes on file-system change
 * notifications and otherwise once per interval: no busy loop, and changes are seen within the interval
 * even where notifications are not delivered (network file systems).
 */
export async function followEvents(dir: string, opts: FollowOptions): Promise<string> {
  const tail = new EventTail(join(dir, EVENTS_FILE));
  const interval = opts.intervalMs ?? 1000;
  let wake: (() => void) | null = null;
  // Set by a change or an abort at any time, including while `check` runs; cleared before each read.
  let dirty = false;
  const poke = (): void => {
    dirty = true;
    wake?.();
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, { persistent: false }, poke);
    watcher.on("error", () => {
      watcher?.close();
      watcher = null;
    });
  } catch {
    watcher = null; // no notifications here: the interval alone drives the loop
  }
  opts.signal.addEventListener("abort", poke, { once: true });
  try {
    for (;;) {
      dirty = false;
      const events = await tail.read();
      if (events.length > 0) opts.onEvents(events);
      if (opts.signal.aborted) return "interrupted";
      const reason = await opts.check();
      if (reason !== null) {
        // Events written between the last read and the check (job_finished, say) still count.
        const last = await tail.read();
        if (last.length > 0) opts.onEvents(last);
        return reason;
      }
      if (opts.signal.aborted) return "interrupted";
      if (dirty) continue;
      await new Promise<void>((res) => {
        const timer = setTimeout(res, interval);
        wake = () => {
          clearTimeout(timer);
          res();
        };
      });
      wake = null;
    }
  } finally {
    watcher?.close();
    opts.signal.removeEventListener("abort", poke);
  }
}
