import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const COMMANDS = [
  [],
  ["benchmark-job"],
  ["bmj", "run"],
  ["bmj", "watch"],
  ["bmj", "summary"],
  ["bmj", "list"],
  ["bmj", "logs"],
  ["bmj", "cancel"],
  ["completion"],
];

describe("--help", () => {
  for (const cmd of COMMANDS) {
    it(`rli ${cmd.join(" ")} --help shows examples and exits 0`, async () => {
      const r = await runCli([...cmd, "--help"], { PATH: process.env.PATH });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^Usage: rli /);
      const examples = r.stdout.slice(r.stdout.indexOf("Examples:"));
      expect(r.stdout).toContain("Examples:");
      expect(examples).toMatch(/\n {2}\$ (rli|eval|mkdir|rli completion)/);
    });
  }
});
