import type { Protocol } from "../model-server.js";

/** Placeholder: being written (issue 4). */
export const anthropic: Protocol = {
  name: "anthropic",
  matches: () => false,
  parse() {
    throw new Error("anthropic protocol not written yet");
  },
  reply() {
    throw new Error("anthropic protocol not written yet");
  },
  error(res, status, message) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message } }));
  },
};
