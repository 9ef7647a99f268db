import yazl from "yazl";

export type ZipSpec =
  | { name: string; data: string; mode?: number; compress?: boolean }
  | { name: string; dir: true };

/**
 * A ZIP built by yazl. yazl refuses unsafe names, so each entry is stored under a placeholder of the
 * same length and the placeholder's bytes are swapped for the real name afterwards (the name is in the
 * local header and in the central directory; no checksum covers it).
 */
export async function zipOf(entries: readonly ZipSpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const swaps: [string, string][] = [];
  entries.forEach((e, i) => {
    // A directory is stored as `<name>/`: the placeholder stands for the name without its slash.
    const real = "dir" in e ? e.name.replace(/\/$/, "") : e.name;
    const bytes = Buffer.byteLength(real);
    const placeholder = `${String.fromCharCode(65 + (i % 26))}${"q".repeat(Math.max(0, bytes - 1))}`;
    swaps.push([placeholder, real]);
    if ("dir" in e) {
      zip.addEmptyDirectory(placeholder);
    } else {
      zip.addBuffer(Buffer.from(e.data), placeholder, {
        mode: e.mode ?? 0o100644,
        compress: e.compress ?? true,
      });
    }
  });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  for (const [stored, real] of swaps) swapAll(buf, stored, real);
  return buf;
}

/** Overwrites every occurrence of `from` in `buf` (in place) with `to`, of the same byte length. */
function swapAll(buf: Buffer, from: string, to: string): void {
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  if (b.length !== a.length) throw new Error(`${to} must have as many bytes as ${from}`);
  for (let i = buf.indexOf(a); i !== -1; i = buf.indexOf(a, i + 1)) b.copy(buf, i);
}

/** Set the uncompressed size an entry's central directory record declares. */
export function declareSize(buf: Buffer, name: string, size: number): Buffer {
  const sig = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let i = buf.indexOf(sig); i !== -1; i = buf.indexOf(sig, i + 1)) {
    const nameLen = buf.readUInt16LE(i + 28);
    if (buf.subarray(i + 46, i + 46 + nameLen).toString() === name) {
      buf.writeUInt32LE(size, i + 24);
      return buf;
    }
  }
  throw new Error(`no central directory record for ${name}`);
}
