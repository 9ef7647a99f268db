import { UNKNOWN_USAGE } from "../core/constants.js";
import type { AgentAdapter } from "./types.js";

/** Does nothing: the verifier sees the untouched workspace. For smoke tests and sanity checks. */
export const nop: AgentAdapter = {
  name: "nop",
  requiresModel: false,
  async setup() {},
  async run() {
    return { exitCode: 0, timedOut: false, cancelled: false };
  },
  async usage() {
    return UNKNOWN_USAGE;
  },
};
