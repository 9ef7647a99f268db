/** Formatting shared by every text view: colours, durations, terminal-safe strings. */

export interface Paint {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

export const NO_COLOR: Paint = {
  green: String,
  yellow: String,
  red: String,
  dim: String,
  bold: String,
  cyan: String,
};

/** `1h 2m 3s` / `2m 3s` / `3s`, as Runloop's watch prints durations. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Strip terminal control sequences so that names from task files cannot corrupt the screen. */
export function sanitize(s: string): string {
  return s
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, "") // OSC … BEL or ST, payload included
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "") // CSI
    .replace(/\x1b[ -/]*[0-~]?/g, "") // other escapes: ESC 7, ESC c, ESC ( B
    .replace(/[\n\t]+/g, " ")
    .replace(/[\x00-\x1f\x7f-\x9f]/g, "");
}
