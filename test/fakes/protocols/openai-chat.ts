import type { Protocol } from "../model-server.js";

/** Placeholder: being written (issue 4). */
export const openaiChat: Protocol = {
  name: "openai-chat",
  matches: () => false,
  parse() {
    throw new Error("openai-chat protocol not written yet");
  },
  reply() {
    throw new Error("openai-chat protocol not written yet");
  },
  error(res, status, message) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message } }));
  },
};
