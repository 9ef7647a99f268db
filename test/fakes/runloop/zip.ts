import { ZipFile } from "yazl";

/** One archive member: a file with its bytes, or a directory (name ends with "/"). */
export type ZipEntry = { name: string; data: Buffer } | { name: string; dir: true };

const MTIME = new Date("2025-01-01T00:00:00Z");

/** A ZIP of `entries`, in order, with a fixed mtime so the same entries give the same bytes. */
export function zipBuffer(entries: readonly ZipEntry[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of entries) {
    if ("dir" in entry) zip.addEmptyDirectory(entry.name.replace(/\/+$/, ""), { mtime: MTIME });
    else zip.addBuffer(entry.data, entry.name, { mtime: MTIME });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("error", reject);
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}
