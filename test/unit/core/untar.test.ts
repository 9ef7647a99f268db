import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractTarGz, unsafeEntry } from "../../../src/core/untar.js";
import { exists, filesUnder } from "../../helpers/files.js";
import { type RawEntry, rawTarGz } from "../../helpers/tars.js";
import { tempDir } from "../../helpers/tasks.js";

let tmp: { dir: string; cleanup: () => Promise<void> };
let dest: string;
let outside: string;

beforeEach(async () => {
  tmp = await tempDir("rli-untar-");
  dest = join(tmp.dir, "root", "dest");
  outside = join(tmp.dir, "outside");
  await mkdir(dest, { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, "victim.txt"), "original");
});
afterEach(() => tmp.cleanup());

async function unpack(entries: RawEntry[]) {
  const file = join(tmp.dir, "a.tgz");
  await writeFile(file, rawTarGz(entries));
  return extractTarGz(file, dest);
}

/** Nothing changed outside `dest`: the outside directory holds only its untouched victim. */
async function outsideUntouched(): Promise<void> {
  expect(await readdir(outside)).toEqual(["victim.txt"]);
  expect(await readFile(join(outside, "victim.txt"), "utf8")).toBe("original");
  expect((await readdir(join(tmp.dir, "root"))).sort()).toEqual(["dest"]);
  expect(await exists(ABSOLUTE)).toBe(false);
}

/** Where an absolute entry would land if it were honoured. */
const ABSOLUTE = `/tmp/rli-untar-absolute-${process.pid}.txt`;

const fine: RawEntry = { name: "agent/fine.txt", type: "0", content: "ok" };

describe("extractTarGz against malicious archives", () => {
  const corpus: [string, RawEntry[], RegExp][] = [
    ["dot-dot", [{ name: "../escape.txt", type: "0", content: "x" }], /outside the destination/],
    ["dot-dot inside", [{ name: "a/../../escape.txt", type: "0", content: "x" }], /outside/],
    ["absolute", [{ name: ABSOLUTE, type: "0", content: "x" }], /absolute/],
    [
      "symlink out, then a file through it",
      [
        { name: "link", type: "2", linkname: "../../outside" },
        { name: "link/victim.txt", type: "0", content: "pwned" },
      ],
      /SymbolicLink/,
    ],
    ["absolute symlink", [{ name: "abs-link", type: "2", linkname: "/etc" }], /SymbolicLink/],
    [
      "hardlink to a file outside, then content for it",
      [
        { name: "hl", type: "1", linkname: "../../outside/victim.txt" },
        { name: "hl", type: "0", content: "pwned" },
      ],
      /Link/,
    ],
    ["character device", [{ name: "null", type: "3" }], /CharacterDevice/],
    ["fifo", [{ name: "pipe", type: "6" }], /FIFO/],
    ["backslash", [{ name: "..\\escape.txt", type: "0", content: "x" }], /backslash/],
  ];

  it.each(corpus)(
    "%s: skipped with its reason, nothing written outside, the rest kept",
    async (_n, bad, reason) => {
      const out = await unpack([...bad, fine]);
      expect(out.skipped.map((s) => s.reason).join("; ")).toMatch(reason);
      expect(await readFile(join(dest, "agent", "fine.txt"), "utf8")).toBe("ok");
      await outsideUntouched();
      // No link or special file was made: every entry is a plain directory or a file with one link.
      for (const e of await readdir(dest, { recursive: true, withFileTypes: true })) {
        const st = await lstat(join(e.parentPath, e.name));
        expect(st.isDirectory() || (st.isFile() && st.nlink === 1), e.name).toBe(true);
      }
    },
  );

  it("never writes through a symlink already in the destination", async () => {
    await symlink(outside, join(dest, "pre"));
    const out = await unpack([{ name: "pre/victim.txt", type: "0", content: "pwned" }, fine]);
    expect(out.skipped).toEqual([
      { path: "pre/victim.txt", reason: "it would pass through a symlink" },
    ]);
    await outsideUntouched();
    expect(await exists(join(dest, "agent", "fine.txt"))).toBe(true);
  });

  it("unpacks an honest archive completely", async () => {
    const out = await unpack([
      { name: "agent/", type: "5" },
      { name: "agent/codex.txt", type: "0", content: "transcript" },
      { name: "verifier/reward.txt", type: "0", content: "1\n" },
    ]);
    expect(out).toEqual({ files: 2, skipped: [] });
    expect(await filesUnder(dest)).toEqual(["agent/codex.txt", "verifier/reward.txt"]);
  });
});

describe("unsafeEntry", () => {
  it("allows relative files and directories only", () => {
    expect(unsafeEntry("a/b.txt", "File")).toBeNull();
    expect(unsafeEntry("a/", "Directory")).toBeNull();
    expect(unsafeEntry("./a/./b", "File")).toBeNull();
    expect(unsafeEntry("a/../b", "File")).toBeNull();
    expect(unsafeEntry("C:/x", "File")).toMatch(/absolute/);
    expect(unsafeEntry("x", "SymbolicLink")).toMatch(/SymbolicLink/);
  });
});
