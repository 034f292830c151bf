/**
 * Transport: one HTTP (or HTTPS) server for /health, /metrics, /stats.json and WebSocket
 * upgrades. Upgrades are checked (draining, Origin, per-IP count, token) before `ws` completes
 * the handshake; accepted WebSockets share one set of listeners that find their Connection
 * through a symbol property.
 */
import { readFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { WebSocketServer } from "ws";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { Connection, kConnection, type TrackedSocket } from "./connection";
import { TrackerCore } from "./core";
import { createMetrics } from "./metrics";
import type { TrackerOptions } from "./options";
import { type FailureReason, type RejectReason, TrackerStats } from "./stats";
import { TOKEN_REASON_TEXT, verifyToken } from "./token";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  426: "Upgrade Required",
  429: "Too Many Requests",
  503: "Service Unavailable",
};
/** Milliseconds a client has to send its request head. */
const HEAD_TIMEOUT_MS = 10_000;
/** Largest request head, bytes (bigger → 431). */
const MAX_HEAD_BYTES = 16 * 1024;

/** What `ws` reports for a protocol violation, as the tracker's failure reason. */
const WS_ERROR_REASON: Record<string, FailureReason> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: "frame_too_large",
  WS_ERR_INVALID_UTF8: "invalid_utf8",
};

function nowSeconds(): number {
  return Date.now() / 1000;
}

export class TrackerServer {
  readonly stats = new TrackerStats();
  readonly core: TrackerCore;
  readonly registry: Registry;
  readonly listener: http.Server;
  private readonly wss: WebSocketServer;
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

    const serverOptions: http.ServerOptions = {
      noDelay: true,
      maxHeaderSize: MAX_HEAD_BYTES,
      headersTimeout: HEAD_TIMEOUT_MS,
      requestTimeout: HEAD_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    this.listener = options.cert
      ? https.createServer({ ...serverOptions, cert: readFileSync(options.cert), key: readFileSync(options.key) }, onRequest)
      : http.createServer(serverOptions, onRequest);
    this.listener.on("tlsClientError", (_err: Error, socket: Duplex) => socket.destroy());
    this.listener.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));

    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: options.limits.maxPayload,
      skipUTF8Validation: false,
    });

    const sweepMs = Math.min(options.interval * 500, 10_000);
    this.timers.push(setInterval(() => this.core.sweep(nowSeconds()), sweepMs));
    const idleCheckMs = Math.max(250, Math.min(options.limits.idleTimeout * 250, 10_000));
    if (options.limits.idleTimeout > 0) this.timers.push(setInterval(() => this.closeIdle(), idleCheckMs));
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

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method !== "GET") {
        respond(res, 405, "text/plain; charset=utf-8", "only GET\n", { Allow: "GET" });
      } else if (path === "/health") {
        const body = JSON.stringify({
          status: this.draining ? "draining" : "ok",
          connections: this.core.connections.size,
          uptime: Math.round((Date.now() - this.stats.startedAt) / 1000),
        });
        respond(res, this.draining ? 503 : 200, "application/json", body);
      } else if (path === "/metrics") {
        const text = await this.registry.metrics();
        respond(res, 200, this.registry.contentType, text);
      } else if (path === "/stats.json") {
        respond(res, 200, "application/json", JSON.stringify(this.snapshot()));
      } else {
        respond(res, 404, "text/plain; charset=utf-8", "swarmcast tracker: connect over WebSocket\n");
      }
    } catch (err) {
      this.log.error({ err }, "HTTP handler failed");
      if (!res.headersSent) respond(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
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

  private clientIp(req: IncomingMessage, socket: Duplex): string {
    if (this.options.trustProxy) {
      const xff = req.headers["x-forwarded-for"];
      const first = (Array.isArray(xff) ? xff[0] : xff)?.split(",")[0]?.trim();
      if (first) return first;
    }
    const addr = (socket as Duplex & { remoteAddress?: string }).remoteAddress ?? "";
    return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  }

  private refuse(socket: Duplex, status: number, reason: RejectReason, text: string, ip: string, headers = ""): void {
    this.stats.reject(reason);
    this.log.warn({ ip, reason, status }, `connection refused: ${text}`);
    refuseUpgrade(socket, status, `${text}\n`, headers);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", ignoreError);
    const ip = this.clientIp(req, socket);
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
    socket.off("error", ignoreError);

    this.perIp.set(ip, count + 1);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws as TrackedSocket, socket, ip, sub));
  }

  private onOpen(ws: TrackedSocket, socket: Duplex, ip: string, sub: string | undefined): void {
    const conn = new Connection(ws, socket, ip, this.options.limits.messageBurst, nowSeconds());
    ws.on("message", this.handleMessage);
    ws.on("pong", markAlive);
    ws.on("error", this.handleError);
    ws.on("close", this.handleClose);
    this.stats.connectionsAccepted++;
    this.core.attach(conn);
    if (sub !== undefined) this.log.debug({ ip, sub }, "token accepted");
  }

  // ---- WebSockets: one listener of each kind, shared by every connection ----------------

  /** A complete message goes to the protocol core; never lets an exception escape. */
  private readonly handleMessage: (this: TrackedSocket, data: Buffer) => void = (() => {
    const self = this;
    return function (this: TrackedSocket, data: Buffer) {
      const conn = this[kConnection];
      if (conn === undefined || conn.closed) return;
      try {
        self.core.onMessage(conn, data, nowSeconds());
      } catch (err) {
        // onMessage validates everything it reads; this is the last line that keeps one bad
        // frame from ever taking the process down.
        self.log.error({ err, ip: conn.ip }, "unexpected error while handling a frame");
      }
    };
  })();

  /** Protocol violations (ws closes with 1002, 1007 or 1009 itself) and socket errors. */
  private readonly handleError: (this: TrackedSocket, err: Error & { code?: string }) => void = (() => {
    const self = this;
    return function (this: TrackedSocket, err: Error & { code?: string }) {
      const code = err.code ?? "";
      const reason = WS_ERROR_REASON[code] ?? (code.startsWith("WS_ERR_") ? "protocol_error" : "socket_error");
      self.stats.fail(reason);
      self.log.debug({ ip: this[kConnection]?.ip, err: err.message }, reason === "socket_error" ? "socket error" : "WebSocket protocol error");
    };
  })();

  private readonly handleClose: (this: TrackedSocket) => void = (() => {
    const self = this;
    return function (this: TrackedSocket) {
      const conn = this[kConnection];
      if (conn === undefined) return;
      self.core.detach(conn);
      self.forget(conn);
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
    const sockets = [...this.core.connections].map((c) => {
      c.close(1001, "tracker is shutting down");
      return c.ws;
    });
    const closed = sockets.map((ws) =>
      ws.readyState === 3 ? Promise.resolve() : new Promise<void>((resolve) => ws.once("close", () => resolve())),
    );
    const timeout = sleep(this.options.drainTimeout * 1000);
    await Promise.race([Promise.all(closed), timeout.promise]);
    timeout.cancel();
    for (const ws of sockets) if (ws.readyState !== 3) ws.terminate();
    const stopped = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.listener.closeAllConnections();
    await stopped;
    this.wss.close();
    this.log.info("stopped");
  }
}

/** Answers an HTTP request and closes the connection (no keep-alive is offered). */
function respond(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
    ...headers,
  });
  res.end(body);
}

/** Writes an HTTP refusal on an upgrade's raw socket, then closes it. */
function refuseUpgrade(socket: Duplex, status: number, body: string, headers = ""): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${headers}\r\n${body}`,
  );
  // A client that never reads must not keep the socket half-open.
  socket.once("finish", () => socket.destroy());
}

/** Errors on a socket being refused (the client went away) are of no interest. */
/** The pong listener, shared by every socket. */
function markAlive(this: TrackedSocket): void {
  const conn = this[kConnection];
  if (conn !== undefined) conn.alive = true;
}

function ignoreError(): void {}

function sleep(ms: number): Promise<void> & { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Object.assign(promise, { promise, cancel: () => clearTimeout(timer) });
}
