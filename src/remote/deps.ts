import type { RunloopClient } from "../runloop/client.js";
import type { WatchLoopOptions } from "./watch.js";

/** What the Runloop verbs need besides Io: a client factory (so a missing key fails only when used). */
export interface RemoteDeps {
  client: () => RunloopClient;
  /** Test hooks for watch's poll loop. */
  loop?: Pick<WatchLoopOptions, "now" | "sleep" | "giveUpAfterMs">;
}
