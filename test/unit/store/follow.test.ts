import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobEvent } from "../../../src/core/schemas.js";
import { EventTail, type FollowOptions, followEvents } from "../../../src/store/follow.js";
import { JOB_ID } from "../../helpers/factories.js";
import { jsonLine as line } from "../../helpers/files.js";
import { tempDir } from "../../helpers/tasks.js";
import { within } from "../../helpers/wait.js";

function ev(seq: number, trial = `t${seq}`): JobEvent {
  return {
    schema_version: 1,
    ts: "2024-05-01T12:00:00.000Z",
    seq,
    type: "phase_started",
    trial_id: trial,
    phase: "agent_run",
  };
}

function finishedEv(seq: number): JobEvent {
  return {
    schema_version: 1,
    ts: "2024-05-01T12:00:00.000Z",
    seq,
    type: "job_finished",
    job_id: JOB_ID,
    state: "completed",
  };
}

let dir: string;
let path: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, "events.jsonl");
});

afterEach(async () => {
  await cleanup();
});

describe("EventTail", () => {
  it("returns nothing for a missing file, then the events once it exists", async () => {
    const tail = new EventTail(path);
    expect(await tail.read()).toEqual([]);
    writeFileSync(path, line(ev(0)));
    expect(await tail.read()).toEqual([ev(0)]);
  });

  it("returns each event once: only what was appended since the last read", async () => {
    const tail = new EventTail(path);
    writeFileSync(path, line(ev(0)) + line(ev(1)));
    expect(await tail.read()).toEqual([ev(0), ev(1)]);
    expect(await tail.read()).toEqual([]);
    appendFileSync(path, line(ev(2)));
    expect(await tail.read()).toEqual([ev(2)]);
  });

  it("keeps a partial last line until the rest of it is written", async () => {
    const tail = new EventTail(path);
    const whole = line(ev(1));
    writeFileSync(path, line(ev(0)) + whole.slice(0, 20));
    expect(await tail.read()).toEqual([ev(0)]);
    appendFileSync(path, whole.slice(20, 40));
    expect(await tail.read()).toEqual([]);
    appendFileSync(path, whole.slice(40) + line(ev(2)));
    expect(await tail.read()).toEqual([ev(1), ev(2)]);
  });

  it("keeps a partial line split inside a multi-byte character intact", async () => {
    const tail = new EventTail(path);
    const bytes = Buffer.from(line(ev(0, "b/日本")), "utf8");
    const cut = bytes.indexOf(Buffer.from("日", "utf8")) + 1; // inside 日's three bytes
    writeFileSync(path, bytes.subarray(0, cut));
    expect(await tail.read()).toEqual([]);
    appendFileSync(path, bytes.subarray(cut));
    expect(await tail.read()).toEqual([ev(0, "b/日本")]);
  });

  it("skips corrupt and blank lines and reads the lines after them", async () => {
    const tail = new EventTail(path);
    writeFileSync(path, `${line(ev(0))}{"seq":1,"ty\n\n   \nnot json\n${line(ev(2))}`);
    expect(await tail.read()).toEqual([ev(0), ev(2)]);
  });

  it("reads a file larger than its 64 KiB buffer in one call", async () => {
    const tail = new EventTail(path);
    const events = Array.from({ length: 1500 }, (_, i) => ev(i, `trial-${"x".repeat(40)}-${i}`));
    writeFileSync(path, events.map(line).join(""));
    expect(await tail.read()).toEqual(events);
  });
});

/** followEvents with every batch collected; `check` defaults to "never stop". */
function follow(opts: Partial<FollowOptions> & { signal: AbortSignal }) {
  const batches: JobEvent[][] = [];
  const all = () => batches.flat();
  const done = followEvents(dir, {
    check: async () => null,
    ...opts,
    onEvents: (events) => {
      batches.push(events);
      opts.onEvents?.(events);
    },
  });
  return { batches, all, done };
}

describe("followEvents", () => {
  it("delivers events appended while it follows, in order, and stops when check says so", async () => {
    const ac = new AbortController();
    const { all, done } = follow({
      signal: ac.signal,
      intervalMs: 50,
      check: async () => (all().some((e) => e.type === "job_finished") ? "ended" : null),
    });
    for (let i = 0; i < 5; i++) {
      appendFileSync(path, line(ev(i)));
      await sleep(20);
    }
    appendFileSync(path, line(finishedEv(5)));
    expect(await done).toBe("ended");
    expect(all()).toEqual([ev(0), ev(1), ev(2), ev(3), ev(4), finishedEv(5)]);
  });

  it("delivers the events already in the file first, as one batch", async () => {
    writeFileSync(path, line(ev(0)) + line(ev(1)));
    const ac = new AbortController();
    const { batches, done } = follow({ signal: ac.signal, check: async () => "stop" });
    expect(await done).toBe("stop");
    expect(batches).toEqual([[ev(0), ev(1)]]);
  });

  it("returns check's reason and still delivers events written just before the stop", async () => {
    writeFileSync(path, line(ev(0)));
    const ac = new AbortController();
    let checks = 0;
    const { batches, done } = follow({
      signal: ac.signal,
      intervalMs: 20,
      check: async () => {
        checks++;
        if (checks < 2) return null;
        appendFileSync(path, line(finishedEv(1)));
        return "job ended";
      },
    });
    expect(await done).toBe("job ended");
    expect(batches).toEqual([[ev(0)], [finishedEv(1)]]);
  });

  it("returns 'interrupted' without calling check when the signal is already aborted", async () => {
    writeFileSync(path, line(ev(0)));
    const ac = new AbortController();
    ac.abort();
    let checks = 0;
    const { all, done } = follow({
      signal: ac.signal,
      check: async () => {
        checks++;
        return null;
      },
    });
    expect(await done).toBe("interrupted");
    expect(all()).toEqual([ev(0)]);
    expect(checks).toBe(0);
  });

  it("returns 'interrupted' promptly when aborted while it waits out a long interval", async () => {
    const ac = new AbortController();
    let checks = 0;
    const { done } = follow({
      signal: ac.signal,
      intervalMs: 60_000,
      check: async () => {
        checks++;
        return null;
      },
    });
    expect(await within(2_000, () => checks === 1)).toBe(true);
    await sleep(50);
    ac.abort();
    expect(await done).toBe("interrupted");
  });

  it("returns 'interrupted' promptly when aborted while check is running", async () => {
    const ac = new AbortController();
    const { done } = follow({
      signal: ac.signal,
      intervalMs: 60_000,
      check: async () => {
        ac.abort();
        await sleep(50);
        return null;
      },
    });
    try {
      const outcome = await Promise.race([done, sleep(2_000).then(() => "still waiting")]);
      expect(outcome).toBe("interrupted");
    } finally {
      appendFileSync(path, "\n"); // wakes a follower stuck in its 60 s wait
      await Promise.race([done, sleep(2_000)]);
    }
  });

  it("sees an append within the interval's bound thanks to file-system notifications", async () => {
    writeFileSync(path, "");
    const ac = new AbortController();
    let checks = 0;
    const { all, done } = follow({
      signal: ac.signal,
      intervalMs: 60_000,
      check: async () => {
        checks++;
        return null;
      },
    });
    try {
      expect(await within(2_000, () => checks === 1)).toBe(true);
      await sleep(100);
      appendFileSync(path, line(ev(0)));
      expect(await within(2_000, () => all().length === 1)).toBe(true);
      expect(all()).toEqual([ev(0)]);
      appendFileSync(path, line(ev(1)));
      expect(await within(2_000, () => all().length === 2)).toBe(true);
      expect(all()).toEqual([ev(0), ev(1)]);
    } finally {
      ac.abort();
      await done;
    }
  });

  it("sees an event written while check is running without waiting out the interval", async () => {
    writeFileSync(path, "");
    const ac = new AbortController();
    let checks = 0;
    const { all, done } = follow({
      signal: ac.signal,
      intervalMs: 60_000,
      check: async () => {
        checks++;
        if (checks === 1) {
          appendFileSync(path, line(ev(0)));
          await sleep(100); // the change notification arrives while check is still running
        }
        return null;
      },
    });
    try {
      expect(await within(2_000, () => all().length === 1)).toBe(true);
    } finally {
      ac.abort();
      await done;
    }
  });

  it("follows a job directory whose events.jsonl does not exist yet", async () => {
    const ac = new AbortController();
    const { all, done } = follow({
      signal: ac.signal,
      intervalMs: 50,
      check: async () => (all().length > 0 ? "seen" : null),
    });
    await sleep(100);
    writeFileSync(path, line(ev(0)));
    expect(await done).toBe("seen");
    expect(all()).toEqual([ev(0)]);
  });
});
