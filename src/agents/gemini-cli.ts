import type { AgentDefinition } from "./installed.js";
import { AgentSetupError } from "./types.js";

/** gemini-cli: being wired up (issue 4). */
export const geminiCli: AgentDefinition = {
  name: "gemini-cli",
  package: { name: "@google/gemini-cli", version: "0.61.0" },
  requiresModel: true,
  keys: { names: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], requiresAny: true },
  passEnv: ["GOOGLE_GEMINI_BASE_URL"],
  transcript: "/logs/agent/gemini-cli.txt",
  prepare() {
    throw new AgentSetupError("gemini-cli is not wired up yet");
  },
  async parseUsage() {
    throw new AgentSetupError("gemini-cli is not wired up yet");
  },
};
