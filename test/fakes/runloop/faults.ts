import { mulberry32 } from "../../helpers/prng.js";
/**
 * Fault injection for the fake Runloop server. Each request whose path matches `routes` draws five
 * numbers from a seeded PRNG (always five, whatever the rates, so one seed gives one sequence of
 * decisions for one sequence of requests) and gets at most one of reset, 5xx or 429, in that priority;
 * a request that got none of them may still be slowed down or answered 500 after the work is done.
 */
export interface Faults {
  /** Probability of a 500 before any work is done. */
  rate5xx?: number;
  /** Probability of a 429 before any work is done. */
  rate429?: number;
  /** 429's `Retry-After` in seconds (default 1 when retryAfterMs is unset). */
  retryAfterSeconds?: number;
  /** 429's `retry-after-ms`; when set, no Retry-After is sent. */
  retryAfterMs?: number;
  /** Probability of destroying the socket without answering. */
  resetRate?: number;
  /** Delay before answering, for the requests slowRate selects. */
  slowMs?: number;
  /** Probability of the slowMs delay (default 1 when slowMs is set). */
  slowRate?: number;
  /** PRNG seed (default 1); setFaults reseeds. */
  seed?: number;
  /** Which request paths are affected (default all). */
  routes?: RegExp;
  /** Probability of doing the work and then answering 500 (the retry replays the stored answer). */
  afterCommitRate?: number;
}

export interface FaultCounts {
  status5xx: number;
  status429: number;
  reset: number;
  slow: number;
  afterCommit: number;
}

export type FaultKind = "reset" | "5xx" | "429" | "afterCommit";

export interface FaultDecision {
  kind: FaultKind | null;
  slowMs: number;
}

/** mulberry32: small, fast and good enough to make fault sequences reproducible. */
const prng = mulberry32;

export class FaultInjector {
  readonly counts: FaultCounts = { status5xx: 0, status429: 0, reset: 0, slow: 0, afterCommit: 0 };
  private faults: Faults = {};
  private random: () => number = prng(1);

  constructor(faults: Faults = {}) {
    this.set(faults);
  }

  set(faults: Faults): void {
    for (const [name, rate] of Object.entries({
      rate5xx: faults.rate5xx,
      rate429: faults.rate429,
      resetRate: faults.resetRate,
      slowRate: faults.slowRate,
      afterCommitRate: faults.afterCommitRate,
    })) {
      if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
        throw new RangeError(`faults.${name} must be within [0, 1], got ${rate}`);
      }
    }
    this.faults = { ...faults };
    this.random = prng(faults.seed ?? 1);
  }

  get current(): Faults {
    return { ...this.faults };
  }

  decide(path: string): FaultDecision {
    const f = this.faults;
    if (f.routes !== undefined) {
      f.routes.lastIndex = 0;
      if (!f.routes.test(path)) return { kind: null, slowMs: 0 };
    }
    const [reset, fail, limit, slow, after] = [1, 2, 3, 4, 5].map(() => this.random()) as [
      number,
      number,
      number,
      number,
      number,
    ];
    let slowMs = 0;
    if ((f.slowMs ?? 0) > 0 && slow < (f.slowRate ?? 1)) {
      slowMs = f.slowMs!;
      this.counts.slow++;
    }
    let kind: FaultKind | null = null;
    if (reset < (f.resetRate ?? 0)) kind = "reset";
    else if (fail < (f.rate5xx ?? 0)) kind = "5xx";
    else if (limit < (f.rate429 ?? 0)) kind = "429";
    else if (after < (f.afterCommitRate ?? 0)) kind = "afterCommit";
    if (kind === "reset") this.counts.reset++;
    if (kind === "5xx") this.counts.status5xx++;
    if (kind === "429") this.counts.status429++;
    if (kind === "afterCommit") this.counts.afterCommit++;
    return { kind, slowMs };
  }

  /** Headers of an injected 429. */
  retryHeaders(): Record<string, string> {
    if (this.faults.retryAfterMs !== undefined) {
      return { "retry-after-ms": String(this.faults.retryAfterMs) };
    }
    return { "retry-after": String(this.faults.retryAfterSeconds ?? 1) };
  }
}
