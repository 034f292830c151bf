/**
 * Reads one HTTP/1.1 request head from a fresh TCP (or TLS) socket. The tracker answers plain
 * GETs (/health, /metrics, /stats.json) and WebSocket upgrades, nothing else, so it takes the
 * head itself instead of running Node's HTTP server: an HTTP server's parser and bookkeeping
 * outlive the upgrade and cost more memory per idle WebSocket than the tracker's own state.
 */

export interface RequestHead {
  method: string;
  url: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Bytes that followed the head (the first WebSocket frames, if the client was quick). */
  rest: Buffer;
}

/** Longest accepted request head, as Node's own default. */
export const MAX_HEAD_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseHead(text: string): Omit<RequestHead, "rest"> | null {
  const lines = text.split("\r\n");
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (m === null) return null;
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { method: m[1], url: m[2], headers };
}

/** Accumulates bytes until the blank line that ends a request head. */
export class HeadReader {
  private buf: Buffer | null = null;

  /** `deadline`: when the head must be complete, ms since the epoch. */
  constructor(readonly deadline: number) {}

  /** The head once complete, null while incomplete, or the reason it can never be served. */
  push(chunk: Buffer): RequestHead | null | { error: "too_large" | "malformed" } {
    const buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return { error: "too_large" };
      this.buf = buf;
      return null;
    }
    this.buf = null;
    if (end > MAX_HEAD_BYTES) return { error: "too_large" };
    const head = parseHead(buf.toString("latin1", 0, end));
    if (head === null) return { error: "malformed" };
    return { ...head, rest: buf.subarray(end + 4) };
  }
}
