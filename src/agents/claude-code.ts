import type { AgentDefinition } from "./installed.js";
import { AgentSetupError } from "./types.js";

/** claude-code: being wired up (issue 4). */
export const claudeCode: AgentDefinition = {
  name: "claude-code",
  package: { name: "@anthropic-ai/claude-code", version: "2.1.332" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"], requiresAny: true },
  passEnv: ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"],
  transcript: "/logs/agent/claude-code.txt",
  prepare() {
    throw new AgentSetupError("claude-code is not wired up yet");
  },
  async parseUsage() {
    throw new AgentSetupError("claude-code is not wired up yet");
  },
};
