import type { Io } from "../../src/cli/io.js";

export interface CapturedIo {
  io: Io;
  out: () => string;
  err: () => string;
  /** Abort io.interrupt, as a first Ctrl-C would. */
  interrupt: () => void;
}

/** An Io that records stdout and stderr; no terminal, no colour. */
export function captureIo(over: Partial<Io> = {}): CapturedIo {
  let out = "";
  let err = "";
  const ctl = new AbortController();
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    stderrIsTTY: false,
    stderrColumns: 100,
    stderrRows: 30,
    color: false,
    outColor: false,
    env: {},
    interrupt: ctl.signal,
    claimInterrupt: () => {},
    ...over,
  };
  return { io, out: () => out, err: () => err, interrupt: () => ctl.abort() };
}
