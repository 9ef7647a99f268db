import type { AgentDefinition } from "./installed.js";
import { AgentSetupError } from "./types.js";

/** codex: being wired up (issue 4). */
export const codex: AgentDefinition = {
  name: "codex",
  package: { name: "@openai/codex", version: "0.171.0" },
  requiresModel: true,
  keys: { names: ["OPENAI_API_KEY"], requiresAny: true },
  passEnv: ["OPENAI_BASE_URL"],
  transcript: "/logs/agent/codex.txt",
  prepare() {
    throw new AgentSetupError("codex is not wired up yet");
  },
  async parseUsage() {
    throw new AgentSetupError("codex is not wired up yet");
  },
};
