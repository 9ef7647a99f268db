import { describe, expect, it } from "vitest";
import { redactor } from "../../../src/core/redact.js";

describe("redactor", () => {
  it("masks every occurrence of a value with a mask of the same length", () => {
    const r = redactor(["hunter2-long-secret"]);
    expect(r.text("a hunter2-long-secret b hunter2-long-secret")).toBe(
      "a [REDACTED]********* b [REDACTED]*********",
    );
  });

  it("masks short values with stars and ignores values too short to be secrets", () => {
    expect(redactor(["abcdefg"]).text("x abcdefg y")).toBe("x ******* y");
    expect(redactor(["abc", ""]).text("abc abc")).toBe("abc abc");
  });

  it("finds a value where JSON escaped it", () => {
    const r = redactor(['pa"ss\\word']);
    const json = JSON.stringify({ m: 'key pa"ss\\word end' });
    expect(r.text(json)).not.toContain("ss\\\\word");
    expect(JSON.parse(r.text(json)).m).toMatch(/^key \S+ end$/);
  });

  it("masks key-shaped strings it was not told about", () => {
    const r = redactor([]);
    const keys = [
      "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
      "sk-proj-Ab3dEf6hIj9lMn2pQr5tUv8x",
      `AIza${"x".repeat(35)}`,
      `ghp_${"A".repeat(36)}`,
      "AKIAABCDEFGHIJKLMNOP",
    ];
    for (const k of keys) {
      const out = r.text(`use ${k} now`);
      expect(out, k).not.toContain(k);
      expect(out).toHaveLength(`use ${k} now`.length);
    }
    // Never inside a word, never a word-only token: trial ids and prose stay as they are.
    for (const text of [
      "risk-assessment and sk-short",
      "starter_js-task-runner-errors__nop__1",
      "disk-usage-0123456789-abcdefghij",
      "sk-learn-compatible-estimator-wrapper",
    ]) {
      expect(r.text(text)).toBe(text);
    }
  });

  it("works on bytes of any kind, keeping their length, and says when nothing matched", () => {
    const r = redactor(["sécret-välue"]);
    const data = Buffer.concat([
      Buffer.from([0, 255, 1]),
      Buffer.from("sécret-välue", "utf8"),
      Buffer.from([7]),
    ]);
    const out = r.bytes(data);
    expect(out).not.toBeNull();
    expect(out?.length).toBe(data.length);
    expect(out?.includes(Buffer.from("sécret-välue", "utf8"))).toBe(false);
    expect(out?.subarray(0, 3)).toEqual(Buffer.from([0, 255, 1]));
    expect(r.bytes(Buffer.from("nothing here"))).toBeNull();
  });
});
