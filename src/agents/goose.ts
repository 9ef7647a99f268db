import type { AgentDefinition } from "./installed.js";
import { AgentSetupError } from "./types.js";

/** goose: being wired up (issue 4). */
export const goose: AgentDefinition = {
  name: "goose",
  package: { name: "@aaif/goose-binary-linux-x64", version: "1.52.0" },
  requiresModel: true,
  keys: { names: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY"], requiresAny: false },
  passEnv: ["ANTHROPIC_HOST", "OPENAI_HOST", "OPENAI_BASE_PATH"],
  transcript: "/logs/agent/goose.txt",
  prepare() {
    throw new AgentSetupError("goose is not wired up yet");
  },
  async parseUsage() {
    throw new AgentSetupError("goose is not wired up yet");
  },
};
