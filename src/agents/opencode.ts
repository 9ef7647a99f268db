import type { AgentDefinition } from "./installed.js";
import { AgentSetupError } from "./types.js";

/** opencode: being wired up (issue 4). */
export const opencode: AgentDefinition = {
  name: "opencode",
  package: { name: "opencode-ai", version: "1.18.33" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  passEnv: ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"],
  transcript: "/logs/agent/opencode.txt",
  prepare() {
    throw new AgentSetupError("opencode is not wired up yet");
  },
  async parseUsage() {
    throw new AgentSetupError("opencode is not wired up yet");
  },
};
