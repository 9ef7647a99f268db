import type { Protocol } from "../model-server.js";

/** Placeholder: being written (issue 4). */
export const openaiResponses: Protocol = {
  name: "openai-responses",
  matches: () => false,
  parse() {
    throw new Error("openai-responses protocol not written yet");
  },
  reply() {
    throw new Error("openai-responses protocol not written yet");
  },
  error(res, status, message) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message } }));
  },
};
