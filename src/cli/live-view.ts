import type { AgentRef, JobEvent } from "../core/schemas.js";
import { renderProgress, trialLine } from "../report/live.js";
import { applyEvent, emptyProgress } from "../report/progress.js";
import type { Paint } from "../report/text.js";
import type { Io } from "./io.js";
import { paintFor } from "./output.js";

export interface ProgressView {
  onEvent(e: JobEvent): void;
  stop(): void;
}

/** Lines redrawn in place on stderr. */
export interface LiveScreen {
  /** Draw now (the screen also redraws itself every 250 ms). */
  redraw(): void;
  /** Clear the screen area and give the cursor back. */
  stop(): void;
}

/**
 * `render(rows)` redrawn in place on stderr every 250 ms (log-update), or null when stderr is not a
 * terminal with a size (then the caller prints lines instead).
 */
export async function createLiveScreen(
  io: Io,
  render: (rows: number) => string[],
): Promise<LiveScreen | null> {
  // A terminal of zero size (a pseudo-terminal nobody sized, as in some CI runners) would show nothing.
  const sized = (io.errStream?.rows ?? 0) > 0 && (io.errStream?.columns ?? 0) > 0;
  if (io.errStream === undefined || !sized) return null;
  const { createLogUpdate } = await import("log-update");
  const stream = io.errStream;
  const update = createLogUpdate(stream, { showCursor: false });
  const draw = (): void => {
    update(render(stream.rows ?? io.stderrRows).join("\n"));
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  draw();
  return {
    redraw: draw,
    stop() {
      clearInterval(timer);
      update.clear();
      update.done();
    },
  };
}

/** Progress on stderr: redrawn in place on a terminal, one line per finished trial otherwise. */
export async function createProgressView(
  io: Io,
  header: { jobId: string; name: string },
  agents: readonly AgentRef[],
  totalTrials: number,
  live: boolean,
  history: readonly JobEvent[] = [],
): Promise<ProgressView> {
  const progress = emptyProgress(agents, totalTrials);
  for (const e of history) applyEvent(progress, e);
  const paint: Paint = await paintFor(io, "err");
  const screen = live
    ? await createLiveScreen(io, (rows) =>
        renderProgress(progress, header, Date.now(), rows, paint),
      )
    : null;
  if (screen === null) {
    return {
      onEvent(e) {
        applyEvent(progress, e);
        if (e.type === "trial_finished")
          io.err(`${trialLine(e, progress.finished, progress.totalTrials)}\n`);
      },
      stop() {},
    };
  }
  return {
    onEvent(e) {
      applyEvent(progress, e);
    },
    stop() {
      screen.stop();
    },
  };
}
