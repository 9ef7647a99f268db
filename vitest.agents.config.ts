import { defineConfig } from "vitest/config";

// The real agent CLIs (installed from npm into the agent cache on first use) against the scripted model
// servers in test/fakes: slow the first time (about 1.5 GB to install), so apart from `npm test`.
export default defineConfig({
  test: {
    include: ["test/agents/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: "forks",
  },
});
