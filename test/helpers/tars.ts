import { gzipSync } from "node:zlib";

/** One raw tar entry: typeflag 0 file, 1 hardlink, 2 symlink, 3 char device, 5 directory, 6 fifo. */
export interface RawEntry {
  name: string;
  type: "0" | "1" | "2" | "3" | "5" | "6";
  content?: string;
  linkname?: string;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value.slice(0, length), offset, length, "latin1");
}

function octal(n: number, length: number): string {
  return `${n.toString(8).padStart(length - 1, "0")}\0`;
}

/**
 * A gzipped ustar archive written byte by byte, so a test can hold entries no tar tool would make
 * (`..` names, absolute names, links pointing anywhere).
 */
export function rawTarGz(entries: readonly RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content ?? "", "utf8");
    const h = Buffer.alloc(512, 0);
    field(h, 0, 100, e.name);
    field(h, 100, 8, octal(e.type === "5" ? 0o755 : 0o644, 8));
    field(h, 108, 8, octal(0, 8));
    field(h, 116, 8, octal(0, 8));
    field(h, 124, 12, octal(e.type === "0" ? body.length : 0, 12));
    field(h, 136, 12, octal(1_700_000_000, 12));
    field(h, 148, 8, "        ");
    field(h, 156, 1, e.type);
    field(h, 157, 100, e.linkname ?? "");
    field(h, 257, 6, "ustar\0");
    field(h, 263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h);
    if (e.type === "0" && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512, 0));
    }
  }
  blocks.push(Buffer.alloc(1024, 0));
  return gzipSync(Buffer.concat(blocks));
}
