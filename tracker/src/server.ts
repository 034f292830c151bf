/**
 * Transport: one TCP (or TLS) listener for /health, /metrics, /stats.json and WebSocket
 * upgrades. Upgrades are checked (draining, Origin, per-IP count, token) before the 101 is
 * sent; accepted sockets share one set of handlers that find their Connection through a symbol
 * property.
 */
import { readFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { createHash } from "node:crypto";
import { Connection, type FrameSink, kConnection } from "./connection";
import { HeadReader, type RequestHead } from "./http-head";
import { TrackerCore } from "./core";
import { createMetrics } from "./metrics";
import type { TrackerOptions } from "./options";
import { type RejectReason, TrackerStats } from "./stats";
import { TOKEN_REASON_TEXT, verifyToken } from "./token";

/**
 * What a socket is doing: reading its request head, serving as a WebSocket, or (null) done.
 * One property and one set of listeners for the socket's whole life: adding and removing
 * listeners per phase would leave each socket with a dictionary-mode event table.
 */
type Tracked = Duplex & { [kConnection]?: Connection | HeadReader | null };
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
/** Seconds a client has to send its request head. */
const HEAD_TIMEOUT_MS = 10_000;

function nowSeconds(): number {
  return Date.now() / 1000;
}

export class TrackerServer implements FrameSink {
  readonly stats = new TrackerStats();
  readonly core: TrackerCore;
  readonly registry: Registry;
  readonly listener: net.Server;
  private readonly handshaking = new Set<Duplex>();
  private readonly perIp = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private draining = false;
  private closing: Promise<void> | null = null;
  private readonly allowAnyOrigin: boolean;
  private readonly origins: Set<string>;

  constructor(
    readonly options: TrackerOptions,
    readonly log: Logger,
  ) {
    this.core = new TrackerCore(options, this.stats, log);
    this.registry = createMetrics(this.core, this.stats, true);
    this.origins = new Set(options.origins);
    this.allowAnyOrigin = this.origins.size === 0 || this.origins.has("*");

    const onSocket = (socket: net.Socket) => this.onSocket(socket);
    this.listener = options.cert
      ? tls.createServer({ cert: readFileSync(options.cert), key: readFileSync(options.key) }, onSocket)
      : net.createServer({ noDelay: true }, onSocket);
    this.listener.on("tlsClientError", (_err: Error, socket: Duplex) => socket.destroy());

    const sweepMs = Math.min(options.interval * 500, 10_000);
    this.timers.push(setInterval(() => this.core.sweep(nowSeconds()), sweepMs));
    const idleCheckMs = Math.max(250, Math.min(options.limits.idleTimeout * 250, 10_000));
    if (options.limits.idleTimeout > 0) this.timers.push(setInterval(() => this.closeIdle(), idleCheckMs));
    this.timers.push(setInterval(() => this.expireHeads(), 1000));
    if (options.limits.pingInterval > 0) {
      this.timers.push(setInterval(() => this.heartbeat(), options.limits.pingInterval * 1000));
    }
    for (const t of this.timers) t.unref();
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.listener.once("error", reject);
      this.listener.listen(this.options.port, this.options.host, () => {
        this.listener.off("error", reject);
        resolve(this.listener.address() as AddressInfo);
      });
    });
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private onSocket(socket: net.Socket): void {
    const t = socket as Tracked;
    t[kConnection] = new HeadReader(Date.now() + HEAD_TIMEOUT_MS);
    this.handshaking.add(socket);
    // No 'end' listener: the listener does not allow half-open sockets, so Node ends ours.
    socket.on("data", this.handleData);
    socket.on("error", this.handleError);
    socket.on("close", this.handleClose);
  }

  private onHead(socket: Tracked, head: RequestHead | { error: string }): void {
    this.handshaking.delete(socket);
    socket[kConnection] = null;
    if ("error" in head) {
      if (head.error === "too_large") respond(socket, 431, "text/plain; charset=utf-8", "request head too large\n");
      else respond(socket, 400, "text/plain; charset=utf-8", "malformed request\n");
      return;
    }
    if ((head.headers.upgrade ?? "").toLowerCase() === "websocket") this.onUpgrade(head, socket);
    else void this.onRequest(head, socket);
  }

  private async onRequest(req: RequestHead, socket: Duplex): Promise<void> {
    const path = req.url.split("?")[0];
    try {
      if (req.method !== "GET") {
        respond(socket, 405, "text/plain; charset=utf-8", "only GET\n", "Allow: GET\r\n");
      } else if (path === "/health") {
        const body = JSON.stringify({
          status: this.draining ? "draining" : "ok",
          connections: this.core.connections.size,
          uptime: Math.round((Date.now() - this.stats.startedAt) / 1000),
        });
        respond(socket, this.draining ? 503 : 200, "application/json", body);
      } else if (path === "/metrics") {
        const text = await this.registry.metrics();
        respond(socket, 200, this.registry.contentType, text);
      } else if (path === "/stats.json") {
        respond(socket, 200, "application/json", JSON.stringify(this.snapshot()));
      } else {
        respond(socket, 404, "text/plain; charset=utf-8", "swarmcast tracker: connect over WebSocket\n");
      }
    } catch (err) {
      this.log.error({ err }, "HTTP handler failed");
      respond(socket, 500, "text/plain; charset=utf-8", "internal error\n");
    }
  }

  snapshot() {
    const s = this.stats;
    return {
      connections: this.core.connections.size,
      swarms: this.core.swarms.size,
      peers: this.core.peerCount,
      pendingOffers: this.core.pendingOffers,
      connectionsAccepted: s.connectionsAccepted,
      messages: s.messages,
      announces: s.announces,
      scrapes: s.scrapes,
      answers: s.answers,
      offersRelayed: s.offersRelayed,
      answersRelayed: s.answersRelayed,
      peersSwept: s.peersSwept,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      framesOut: s.framesOut,
      writes: s.writes,
      failures: Object.fromEntries(s.failures),
      rejectedConnections: Object.fromEntries(s.rejections),
      uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
      draining: this.draining,
    };
  }

  // ---- upgrade --------------------------------------------------------------------------

  private clientIp(req: RequestHead, socket: Duplex): string {
    if (this.options.trustProxy) {
      const first = req.headers["x-forwarded-for"]?.split(",")[0]?.trim();
      if (first) return first;
    }
    const addr = (socket as net.Socket).remoteAddress ?? "";
    return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  }

  private refuse(socket: Duplex, status: number, reason: RejectReason, text: string, ip: string, headers = ""): void {
    this.stats.reject(reason);
    this.log.warn({ ip, reason, status }, `connection refused: ${text}`);
    respond(socket, status, "text/plain; charset=utf-8", `${text}\n`, headers);
  }

  private onUpgrade(req: RequestHead, socket: Duplex): void {
    const ip = this.clientIp(req, socket);
    const head = req.rest;
    if (this.draining) return this.refuse(socket, 503, "draining", "tracker is shutting down", ip);

    const key = req.headers["sec-websocket-key"];
    if (
      req.method !== "GET" ||
      (req.headers.upgrade ?? "").toLowerCase() !== "websocket" ||
      typeof key !== "string" ||
      !/^[A-Za-z0-9+/]{22}==$/.test(key)
    ) {
      return this.refuse(socket, 400, "bad_handshake", "not a valid WebSocket handshake", ip);
    }
    if (req.headers["sec-websocket-version"] !== "13") {
      return this.refuse(socket, 426, "bad_handshake", "unsupported WebSocket version (13 needed)", ip, "Sec-WebSocket-Version: 13\r\n");
    }

    if (!this.allowAnyOrigin) {
      const origin = req.headers.origin;
      if (origin === undefined || !this.origins.has(origin)) {
        return this.refuse(socket, 403, "origin_not_allowed", `origin ${JSON.stringify(origin ?? "")} is not allowed`, ip);
      }
    }

    const maxPerIp = this.options.limits.maxConnectionsPerIp;
    const count = this.perIp.get(ip) ?? 0;
    if (maxPerIp > 0 && count >= maxPerIp) {
      return this.refuse(socket, 429, "too_many_connections_from_ip", `too many connections from ${ip} (limit ${maxPerIp})`, ip);
    }

    let sub: string | undefined;
    if (this.options.secret) {
      const url = new URL(req.url ?? "/", "http://tracker");
      const check = verifyToken(this.options.secret, url.searchParams.get(TOKEN_QUERY_PARAM));
      if (!check.ok) return this.refuse(socket, check.status, check.reason, TOKEN_REASON_TEXT[check.reason], ip);
      sub = check.claims.sub;
    }
    if (socket.destroyed) return;

    this.perIp.set(ip, count + 1);
    const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const conn = new Connection(socket, ip, this.options.limits.messageBurst, nowSeconds());
    (socket as Tracked)[kConnection] = conn;
    this.handshaking.delete(socket);
    this.stats.connectionsAccepted++;
    this.core.attach(conn);
    if (sub !== undefined) this.log.debug({ ip, sub }, "token accepted");
    if (head.length > 0) this.handleData.call(socket as Tracked, head);
  }

  // ---- sockets --------------------------------------------------------------------------

  /** FrameSink: complete messages go to the protocol core; never lets an exception escape. */
  onMessage(conn: Connection, data: Buffer): void {
    try {
      this.core.onMessage(conn, data, nowSeconds());
    } catch (err) {
      // onMessage validates everything it reads; this is the last line that keeps one bad
      // frame from ever taking the process down.
      this.log.error({ err, ip: conn.ip }, "unexpected error while handling a frame");
    }
  }

  onProtocolError(conn: Connection, code: number): void {
    this.stats.fail(code === 1009 ? "frame_too_large" : code === 1007 ? "invalid_utf8" : "protocol_error");
    this.log.debug({ ip: conn.ip, code }, "WebSocket protocol error");
  }

  private readonly handleData: (this: Tracked, chunk: Buffer) => void = (() => {
    const self = this;
    return function (this: Tracked, chunk: Buffer) {
      const state = this[kConnection];
      if (state instanceof Connection) {
        if (!state.closed) state.receive(chunk, self.options.limits.maxPayload, self);
      } else if (state instanceof HeadReader) {
        const head = state.push(chunk);
        if (head !== null) self.onHead(this, head);
      }
    };
  })();

  /** Sockets that have not sent a complete request head in time get a 408. */
  private expireHeads(): void {
    const now = Date.now();
    for (const socket of this.handshaking) {
      const state = (socket as Tracked)[kConnection];
      if (state instanceof HeadReader && state.deadline > now) continue;
      this.handshaking.delete(socket);
      (socket as Tracked)[kConnection] = null;
      respond(socket, 408, "text/plain; charset=utf-8", "request head timed out\n");
    }
  }

  private readonly handleError: (this: Tracked, err: Error) => void = (() => {
    const self = this;
    return function (this: Tracked, err: Error) {
      const state = this[kConnection];
      if (!(state instanceof Connection)) return;
      self.stats.fail("socket_error");
      self.log.debug({ ip: state.ip, err: err.message }, "socket error");
    };
  })();

  private readonly handleClose: (this: Tracked) => void = (() => {
    const self = this;
    return function (this: Tracked) {
      const state = this[kConnection];
      if (state instanceof Connection) {
        self.core.detach(state);
        self.forget(state);
      } else self.handshaking.delete(this);
    };
  })();

  private forget(conn: Connection): void {
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
  }

  private closeIdle(): void {
    const limit = this.options.limits.idleTimeout;
    const deadline = nowSeconds() - limit;
    for (const conn of this.core.connections) {
      if (conn.lastMessage < deadline) {
        this.stats.connectionsClosedIdle++;
        conn.close(4000, "idle");
        this.core.detach(conn);
      }
    }
  }

  private heartbeat(): void {
    for (const conn of this.core.connections) {
      if (!conn.alive) {
        this.stats.connectionsClosedHeartbeat++;
        conn.terminate();
        this.core.detach(conn);
        continue;
      }
      conn.alive = false;
      conn.ping();
    }
  }

  // ---- shutdown -------------------------------------------------------------------------

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stops accepting, reports 503 on /health for drainGrace, closes sockets with 1001. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.log.info({ connections: this.core.connections.size }, "draining");
    if (this.options.drainGrace > 0) await sleep(this.options.drainGrace * 1000);
    for (const t of this.timers) clearInterval(t);
    const streams = [...this.core.connections].map((c) => {
      c.close(1001, "tracker is shutting down");
      return c.stream;
    });
    const closed = streams.map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once("close", () => resolve()))));
    const timeout = sleep(this.options.drainTimeout * 1000);
    await Promise.race([Promise.all(closed), timeout.promise]);
    timeout.cancel();
    for (const s of streams) if (!s.destroyed) s.destroy();
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.log.info("stopped");
  }
}

/** Writes a complete HTTP response and closes the connection (no keep-alive is offered). */
function respond(socket: Duplex, status: number, type: string, body: string, headers = ""): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: ${type}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${headers}\r\n${body}`,
  );
}


function sleep(ms: number): Promise<void> & { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Object.assign(promise, { promise, cancel: () => clearTimeout(timer) });
}
