import { badRequest } from "./http.js";

export interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** The parts of a multipart/form-data body; 400 when the body or its boundary is malformed. */
export function parseMultipart(contentType: string, body: Buffer): Part[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!/^multipart\/form-data/i.test(contentType) || boundary === undefined) {
    throw badRequest("expected a multipart/form-data body with a boundary");
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw badRequest("multipart body has no parts");
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === "--") break;
    if (body.subarray(at, at + 2).toString() === "\r\n") at += 2;
    const headerEnd = body.indexOf("\r\n\r\n", at);
    if (headerEnd < 0) throw badRequest("multipart part without headers");
    const headers = body.subarray(at, headerEnd).toString("utf8");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd + 4);
    if (next < 0) throw badRequest("multipart body is not terminated");
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw badRequest("multipart part without a name");
    parts.push({
      name,
      ...(filename !== undefined ? { filename } : {}),
      data: body.subarray(headerEnd + 4, next),
    });
    at = next + 2;
  }
  return parts;
}
