/**
 * Reads one HTTP/1.1 request head from a fresh TCP (or TLS) socket. The tracker answers plain
 * GETs (/health, /metrics, /stats.json) and WebSocket upgrades, nothing else, so it takes the
 * head itself instead of running Node's HTTP server: an HTTP server's parser and bookkeeping
 * outlive the upgrade and cost more memory per idle WebSocket than the tracker's own state.
 */
import type { Duplex } from "node:stream";

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

const kPending = Symbol("swarmcast.head");
export type HeadCallback = (socket: Duplex, err: string | null, head: RequestHead | null) => void;
type Pending = Duplex & { [kPending]?: { buf: Buffer; done: HeadCallback } };

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

function onData(this: Pending, chunk: Buffer): void {
  const p = this[kPending];
  if (p === undefined) return;
  const buf = p.buf.length === 0 ? chunk : Buffer.concat([p.buf, chunk]);
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) return finish(this, "request head too large", null);
    p.buf = buf;
    return;
  }
  if (end > MAX_HEAD_BYTES) return finish(this, "request head too large", null);
  const head = parseHead(buf.toString("latin1", 0, end));
  if (head === null) return finish(this, "malformed request", null);
  finish(this, null, { ...head, rest: buf.subarray(end + 4) });
}

function onTimeout(this: Pending): void {
  finish(this, "request head timed out", null);
}

function onEnd(this: Pending): void {
  finish(this, "connection ended", null);
}

function finish(socket: Pending, err: string | null, head: RequestHead | null): void {
  const p = socket[kPending];
  if (p === undefined) return;
  socket[kPending] = undefined;
  socket.off("data", onData);
  socket.off("timeout", onTimeout);
  socket.off("end", onEnd);
  (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
  p.done(socket, err, head);
}

/** Calls `done` once with the parsed head, or with a reason the request cannot be served. */
export function readHead(socket: Duplex, timeoutMs: number, done: HeadCallback): void {
  (socket as Pending)[kPending] = { buf: Buffer.alloc(0), done };
  (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(timeoutMs);
  socket.on("data", onData);
  socket.on("timeout", onTimeout);
  socket.on("end", onEnd);
}
