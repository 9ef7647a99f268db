import type { RemoteDeps } from "../remote/deps.js";
import type { Io } from "./io.js";

export { isRemoteJobId } from "../remote/ids.js";

/** The Runloop client for the read-only verbs, made from the environment when first used. */
export async function remoteDeps(io: Io): Promise<RemoteDeps> {
  const { clientFromEnv } = await import("../runloop/from-env.js");
  return { client: () => clientFromEnv(io.env) };
}
