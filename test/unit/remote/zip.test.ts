import { lstat, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entryPath, extractZip } from "../../../src/remote/zip.js";
import { tempDir } from "../../helpers/tasks.js";
import { declareSize, zipOf } from "../../helpers/zips.js";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function extract(buf: Buffer, opts: Parameters<typeof extractZip>[2] = {}) {
  const file = join(tmp.dir, "in.zip");
  await writeFile(file, buf);
  const dest = join(tmp.dir, "out");
  const result = await extractZip(file, dest, opts);
  return { dest, result };
}

async function tree(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(`${p}/`, ...(await tree(join(dir, e.name), p)));
    else out.push(p);
  }
  return out.sort();
}

describe("entryPath", () => {
  it.each([
    ["../evil", "`..` in the path"],
    ["a/../../evil", "`..` in the path"],
    ["/etc/passwd", "absolute path"],
    ["C:/Windows/x", "drive letter"],
    ["c:x", "drive letter"],
    ["a\\b", "backslash in the name"],
    ["a\0b", "NUL in the name"],
    ["./", "empty path"],
  ])("refuses %j (%s)", (name, reason) => {
    expect(entryPath(name)).toEqual({ ok: false, reason });
  });

  it("strips the scenario run prefix and drops empty and . segments", () => {
    expect(entryPath("scr_1_logs//./agent/out.txt", "scr_1_")).toEqual({
      ok: true,
      segments: ["logs", "agent", "out.txt"],
      dir: false,
    });
    expect(entryPath("scr_1_logs/", "scr_1_")).toEqual({ ok: true, segments: ["logs"], dir: true });
    expect(entryPath("other.txt", "scr_1_")).toEqual({
      ok: true,
      segments: ["other.txt"],
      dir: false,
    });
  });

  it("applies the .. check after stripping (a prefix cannot hide it)", () => {
    expect(entryPath("scr_1_../x", "scr_1_")).toEqual({ ok: false, reason: "`..` in the path" });
  });
});

describe("extractZip", () => {
  it("extracts nested entries and directory entries, stripping the prefix", async () => {
    const buf = await zipOf([
      { name: "scr_1_agent.log", data: "agent" },
      { name: "scr_1_logs/", dir: true },
      { name: "scr_1_logs/verifier/out.txt", data: "verifier" },
      { name: "scr_1_deep/a/b/c.txt", data: "c" },
    ]);
    const { dest, result } = await extract(buf, { stripPrefix: "scr_1_" });
    expect(await tree(dest)).toEqual([
      "agent.log",
      "deep/",
      "deep/a/",
      "deep/a/b/",
      "deep/a/b/c.txt",
      "logs/",
      "logs/verifier/",
      "logs/verifier/out.txt",
    ]);
    expect(await readFile(join(dest, "logs/verifier/out.txt"), "utf8")).toBe("verifier");
    expect(result).toMatchObject({ files: 3, dirs: 1, bytes: 14, skipped: [] });
  });

  it("skips `..`, absolute, drive-letter and backslash entries and keeps the rest", async () => {
    const buf = await zipOf([
      { name: "../escape.txt", data: "x" },
      { name: "a/../../escape2.txt", data: "x" },
      { name: "/tmp/abs-escape.txt", data: "x" },
      { name: "C:/win.txt", data: "x" },
      { name: "..\\win2.txt", data: "x" },
      { name: "ok.txt", data: "fine" },
    ]);
    const { dest, result } = await extract(buf);
    expect(await tree(dest)).toEqual(["ok.txt"]);
    expect(await tree(tmp.dir)).toEqual(["in.zip", "out/", "out/ok.txt"]);
    expect(result.skipped.map((s) => [s.name, s.reason])).toEqual([
      ["../escape.txt", "`..` in the path"],
      ["a/../../escape2.txt", "`..` in the path"],
      ["/tmp/abs-escape.txt", "absolute path"],
      ["C:/win.txt", "drive letter"],
      ["..\\win2.txt", "backslash in the name"],
    ]);
  });

  it("skips symlink entries instead of creating links", async () => {
    const buf = await zipOf([
      { name: "link", data: "/etc/passwd", mode: 0o120777, compress: false },
      { name: "real.txt", data: "r" },
    ]);
    const { dest, result } = await extract(buf);
    expect(await tree(dest)).toEqual(["real.txt"]);
    expect(result.skipped).toEqual([{ name: "link", reason: "symbolic link" }]);
  });

  it("skips special files (a fifo)", async () => {
    const buf = await zipOf([{ name: "fifo", data: "", mode: 0o010644 }]);
    const { result } = await extract(buf);
    expect(result.skipped).toEqual([{ name: "fifo", reason: "special file" }]);
  });

  it("keeps the first of two entries with the same name", async () => {
    const buf = await zipOf([
      { name: "dup.txt", data: "first" },
      { name: "dup.txt", data: "second" },
    ]);
    const { dest, result } = await extract(buf);
    expect(await readFile(join(dest, "dup.txt"), "utf8")).toBe("first");
    expect(result.skipped).toEqual([
      { name: "dup.txt", reason: "repeated entry: the first one was kept" },
    ]);
  });

  it("never writes through a symlink already in the target", async () => {
    const buf = await zipOf([{ name: "x.txt", data: "payload" }]);
    const file = join(tmp.dir, "in.zip");
    await writeFile(file, buf);
    const dest = join(tmp.dir, "out");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dest);
    const victim = join(tmp.dir, "victim.txt");
    await writeFile(victim, "untouched");
    await symlink(victim, join(dest, "x.txt"));
    const result = await extractZip(file, dest);
    expect(await readFile(victim, "utf8")).toBe("untouched");
    expect((await lstat(join(dest, "x.txt"))).isSymbolicLink()).toBe(true);
    expect(result.skipped).toEqual([{ name: "x.txt", reason: "cannot extract: EEXIST" }]);
  });

  it("skips an entry whose declared size passes the byte limit, before reading it", async () => {
    const buf = declareSize(
      await zipOf([
        { name: "huge.bin", data: "tiny" },
        { name: "small.txt", data: "s" },
      ]),
      "huge.bin",
      0xfffffff0,
    );
    const { dest, result } = await extract(buf, { maxBytes: 1024 ** 3 });
    expect(await tree(dest)).toEqual(["small.txt"]);
    expect(result.skipped).toEqual([
      {
        name: "huge.bin",
        reason: `its ${0xfffffff0} bytes would pass the ${1024 ** 3}-byte limit`,
      },
    ]);
  });

  it("fails an entry that holds more bytes than it declares, and goes on", async () => {
    const buf = declareSize(
      await zipOf([
        { name: "liar.txt", data: "x".repeat(5000) },
        { name: "after.txt", data: "a" },
      ]),
      "liar.txt",
      10,
    );
    const { dest, result } = await extract(buf);
    expect(await tree(dest)).toEqual(["after.txt"]);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.name).toBe("liar.txt");
    expect(result.skipped[0]?.reason).toMatch(/^cannot extract: .*too many bytes/);
  });

  it("stops after the entry limit", async () => {
    const buf = await zipOf(
      Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: String(i) })),
    );
    const { dest, result } = await extract(buf, { maxEntries: 3 });
    expect(await tree(dest)).toEqual(["f0.txt", "f1.txt", "f2.txt"]);
    expect(result.skipped).toEqual([
      { name: "f3.txt", reason: "more than 3 entries: this one and the rest were not extracted" },
    ]);
  });

  it("never overwrites reserved names", async () => {
    const buf = await zipOf([
      { name: "scr_1_results.json", data: "{}" },
      { name: "scr_1_sub/results.json", data: "{}" },
    ]);
    const { dest, result } = await extract(buf, {
      stripPrefix: "scr_1_",
      reserved: new Set(["results.json"]),
    });
    expect(await tree(dest)).toEqual(["sub/", "sub/results.json"]);
    expect(result.skipped).toEqual([
      { name: "scr_1_results.json", reason: "reserved name (rli writes this file)" },
    ]);
  });

  it("rejects a file that is not a ZIP", async () => {
    await expect(extract(Buffer.from("not a zip at all, just text"))).rejects.toThrow();
  });
});
