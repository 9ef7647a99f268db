import type { Protocol } from "../model-server.js";

/** Placeholder: being written (issue 4). */
export const gemini: Protocol = {
  name: "gemini",
  matches: () => false,
  parse() {
    throw new Error("gemini protocol not written yet");
  },
  reply() {
    throw new Error("gemini protocol not written yet");
  },
  error(res, status, message) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message } }));
  },
};
