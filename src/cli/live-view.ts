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

/** Progress on stderr: redrawn in place on a terminal, one line per finished trial otherwise. */
export async function createProgressView(
  io: Io,
  header: { jobId: string; name: string },
  agents: readonly AgentRef[],
  totalTrials: number,
  live: boolean,
): Promise<ProgressView> {
  const progress = emptyProgress(agents, totalTrials);
  const paint: Paint = await paintFor(io, "err");
  // A terminal of zero size (a pseudo-terminal nobody sized, as in some CI runners) would show nothing.
  const sized = (io.errStream?.rows ?? 0) > 0 && (io.errStream?.columns ?? 0) > 0;
  if (!live || io.errStream === undefined || !sized) {
    return {
      onEvent(e) {
        applyEvent(progress, e);
        if (e.type === "trial_finished")
          io.err(`${trialLine(e, progress.finished, progress.totalTrials)}\n`);
      },
      stop() {},
    };
  }
  const { createLogUpdate } = await import("log-update");
  const stream = io.errStream;
  const update = createLogUpdate(stream, { showCursor: false });
  const draw = (): void => {
    const lines = renderProgress(progress, header, Date.now(), stream.rows ?? io.stderrRows, paint);
    update(lines.join("\n"));
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  draw();
  return {
    onEvent(e) {
      applyEvent(progress, e);
    },
    stop() {
      clearInterval(timer);
      update.clear();
      update.done();
    },
  };
}
