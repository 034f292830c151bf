/**
 * Reverse proxy from the page server to the origin and tracker it started on loopback, so a
 * page opened under any host name (or from another machine with --host) reaches both through
 * the address it was loaded from, while they never listen beyond loopback.
 */
import { request, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

/** Forwards an HTTP request to `target` (http://host:port) under `path`. */
export function proxyHttp(req: IncomingMessage, res: ServerResponse, target: string, path: string): void {
  const base = new URL(target);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers.host = base.host;
  const upstream = request({ hostname: base.hostname, port: base.port, method: req.method, path, headers }, (up) => {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(up.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
  });
  upstream.on("error", (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "access-control-allow-origin": "*" });
      res.end(`the local origin did not answer: ${err.message}\n`);
    } else {
      res.destroy();
    }
  });
  // A viewer that goes away mid-segment must stop the upstream transfer too.
  res.on("close", () => upstream.destroy());
  req.pipe(upstream);
}

/**
 * Splices a WebSocket upgrade onto a TCP connection to `target` (ws://host:port): the
 * handshake is replayed with the upstream Host header, then bytes flow both ways untouched.
 * Both sockets are added to `open` until they close.
 */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: string,
  search: string,
  open: Set<Duplex>,
): void {
  const base = new URL(target);
  const upstream: Socket = connect(Number(base.port), base.hostname.replace(/^\[|\]$/g, ""));
  open.add(socket);
  open.add(upstream);
  let connected = false;
  const teardown = () => {
    socket.destroy();
    upstream.destroy();
    open.delete(socket);
    open.delete(upstream);
  };
  socket.on("error", teardown);
  socket.on("close", teardown);
  upstream.on("error", () => {
    // Before the handshake went through, the browser still waits for an HTTP answer.
    if (!connected && socket.writable) {
      socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
      upstream.destroy();
    } else {
      teardown();
    }
  });
  upstream.on("close", teardown);
  upstream.on("connect", () => {
    connected = true;
    const lines = [`GET /${search} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      lines.push(`${name}: ${name.toLowerCase() === "host" ? base.host : req.rawHeaders[i + 1]}`);
    }
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}
