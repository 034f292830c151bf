/**
 * Transport: one HTTP (or HTTPS) server for /health, /metrics, /stats.json and WebSocket
 * upgrades. Upgrades are checked (draining, Origin, per-IP count, token) before `ws` completes
 * the handshake; accepted WebSockets share one set of listeners that find their Connection
 * through a symbol property. Every listener is guarded: nothing a client sends can throw out.
 */
import { timingSafeEqual } from "node:crypto";
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
import { BeaconEndpoint } from "./audience/beacon";
import { registerAudienceMetrics } from "./audience/metrics";
import { OffloadTotals } from "./audience/offload";
import { LocalDirectory, type SwarmDirectory } from "./cluster/directory";
import type { RedisDirectory } from "./cluster/redis-directory";
import { registerClusterMetrics } from "./cluster/metrics";
import { TrackerCore } from "./core";
import { clientAddress } from "./limits/client-address";
import { IpTable } from "./limits/ip-table";
import { OutputQueues } from "./limits/output-queues";
import { createMetrics } from "./metrics";
import type { TrackerOptions } from "./options";
import { type FailureReason, type RejectReason, TrackerStats } from "./stats";
import { type AccessGrant, TOKEN_REASON_TEXT, verifyToken } from "./token";

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
  /** The separate listener of /metrics and /stats.json, when --metrics-port is set. */
  readonly metricsListener: http.Server | null = null;
  private readonly wss: WebSocketServer;
  readonly ips: IpTable;
  readonly output: OutputQueues;
  /** Open sockets per access token (keyed by its signature). */
  private readonly perToken = new Map<string, number>();
  private readonly metricsAuth: Buffer | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private draining = false;
  private closing: Promise<void> | null = null;
  private readonly allowAnyOrigin: boolean;
  private readonly origins: Set<string>;
  /** Byte counters from viewers' stats beacons received by this node. */
  readonly offload = new OffloadTotals();
  private readonly beacon: BeaconEndpoint;

  constructor(
    readonly options: TrackerOptions,
    readonly log: Logger,
    /** With --redis: this node's view of the cluster (startTracker creates it). */
    readonly cluster: RedisDirectory | null = null,
  ) {
    this.origins = new Set(options.origins);
    this.allowAnyOrigin = this.origins.size === 0 || this.origins.has("*");
    const directory: SwarmDirectory = this.cluster ?? new LocalDirectory();
    this.core = new TrackerCore(options, this.stats, log, directory);
    this.ips = new IpTable(options.limits.ipByteBurst);
    this.output = new OutputQueues(options.limits);
    this.registry = createMetrics(this.core, this.stats, this.output, true);
    this.metricsAuth = options.metricsSecret === "" ? null : Buffer.from(`Bearer ${options.metricsSecret}`);
    if (this.cluster !== null) registerClusterMetrics(this.registry, this.cluster);
    this.beacon = new BeaconEndpoint(
      { secret: options.secret, allowAnyOrigin: this.allowAnyOrigin, origins: this.origins },
      (swarm, counts) => {
        this.offload.add(swarm, counts);
        this.cluster?.addOffload(swarm, counts);
      },
    );
    registerAudienceMetrics(this.registry, () => this.audience(), this.beacon.results);

    const serverOptions: http.ServerOptions = {
      noDelay: true,
      maxHeaderSize: MAX_HEAD_BYTES,
      headersTimeout: HEAD_TIMEOUT_MS,
      requestTimeout: HEAD_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res, true);
    this.listener = options.cert
      ? https.createServer(
          { ...serverOptions, cert: readFileSync(options.cert), key: readFileSync(options.key) },
          onRequest,
        )
      : http.createServer(serverOptions, onRequest);
    this.listener.on("tlsClientError", (_err: Error, socket: Duplex) => socket.destroy());
    this.listener.on("clientError", onClientError);
    this.listener.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head);
      } catch (err) {
        // The checks read only what the client sent; anything unforeseen in it is a bad request.
        this.log.warn({ err }, "upgrade handler failed");
        this.stats.reject("bad_request");
        refuseUpgrade(socket, 400, "bad request\n");
      }
    });
    if (options.metricsPort > 0) {
      this.metricsListener = http.createServer(serverOptions, (req, res) => void this.onRequest(req, res, false));
      this.metricsListener.on("clientError", onClientError);
    }

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
    const drainCheckMs = Math.max(100, Math.min(options.limits.queueDrainTimeout * 250 || 1000, 1000));
    this.timers.push(setInterval(() => guard(this.log, () => this.output.check()), drainCheckMs));
    if (options.secret) this.timers.push(setInterval(() => guard(this.log, () => this.closeExpired()), 1000));
    for (const t of this.timers) t.unref();
  }

  async listen(): Promise<AddressInfo> {
    const address = await listenOn(this.listener, this.options.port, this.options.host);
    if (this.metricsListener !== null)
      await listenOn(this.metricsListener, this.options.metricsPort, this.options.metricsHost);
    return address;
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse, main: boolean): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0];
      const isReport = path === "/metrics" || path === "/stats.json";
      if (isReport && main && this.metricsListener !== null) {
        respond(res, 404, "text/plain; charset=utf-8", "not here\n");
      } else if (!isReport && !main) {
        respond(res, 404, "text/plain; charset=utf-8", "only /metrics and /stats.json here\n");
      } else if (isReport && !this.authorized(req)) {
        respond(res, 401, "text/plain; charset=utf-8", "bearer token required\n", {
          "WWW-Authenticate": 'Bearer realm="swarmcast-tracker"',
        });
      } else if (req.method === "POST" && path === "/beacon") {
        this.beacon.handle(req, res, clientAddress(req, req.socket, this.options.trustProxy));
      } else if (req.method !== "GET") {
        respond(res, 405, "text/plain; charset=utf-8", "only GET\n", { Allow: "GET" });
      } else if (path === "/health") {
        const body = JSON.stringify({
          status: this.draining ? "draining" : this.core.directory.degraded ? "degraded" : "ok",
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
      guard(this.log, () => {
        if (!res.headersSent) respond(res, 500, "text/plain; charset=utf-8", "internal error\n");
        else res.destroy();
      });
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const expected = this.metricsAuth;
    if (expected === null) return true;
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
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
      offersDropped: s.offersDropped,
      peerIdsMoved: s.peerIdsMoved,
      connectionsClosedSlow: this.output.closed,
      readPauses: this.core.throttle.pauses,
      connectionsClosedTokenExpired: s.connectionsClosedTokenExpired,
      queuedBytes: this.output.totalQueued,
      trackedIps: this.ips.size,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      framesOut: s.framesOut,
      writes: s.writes,
      failures: Object.fromEntries(s.failures),
      rejectedConnections: Object.fromEntries(s.rejections),
      uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
      draining: this.draining,
      ...(this.cluster === null ? {} : { cluster: this.cluster.describe() }),
      audience: { total: this.audience().total(), swarms: this.audience().top() },
    };
  }

  /** Audience byte counts: the cluster's with --redis, else this node's. */
  audience(): OffloadTotals {
    return this.cluster?.offloadTotals ?? this.offload;
  }

  // ---- upgrade --------------------------------------------------------------------------

  private refuse(socket: Duplex, status: number, reason: RejectReason, text: string, ip: string, headers = ""): void {
    this.stats.reject(reason);
    this.log.warn({ ip, reason, status }, `connection refused: ${text}`);
    refuseUpgrade(socket, status, `${text}\n`, headers);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", ignoreError);
    const ip = clientAddress(req, socket, this.options.trustProxy);
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
      return this.refuse(
        socket,
        426,
        "bad_handshake",
        "unsupported WebSocket version (13 needed)",
        ip,
        "Sec-WebSocket-Version: 13\r\n",
      );
    }

    const origin = req.headers.origin;
    if (!this.allowAnyOrigin) {
      if (origin === undefined || !this.origins.has(origin)) {
        return this.refuse(
          socket,
          403,
          "origin_not_allowed",
          `origin ${JSON.stringify(origin ?? "")} is not allowed`,
          ip,
        );
      }
    }

    // Only sockets that completed their handshake are counted (in onOpen), so refused or
    // failed upgrades never hold a slot.
    const maxPerIp = this.options.limits.maxConnectionsPerIp;
    if (maxPerIp > 0 && this.ips.openCount(ip) >= maxPerIp) {
      return this.refuse(
        socket,
        429,
        "too_many_connections_from_ip",
        `too many connections from ${ip} (limit ${maxPerIp})`,
        ip,
      );
    }

    let grant: AccessGrant | null = null;
    if (this.options.secret) {
      const url = parseRequestUrl(req.url);
      if (url === null) return this.refuse(socket, 400, "bad_request", "request URL does not parse", ip);
      const check = verifyToken(this.options.secret, url.searchParams.get(TOKEN_QUERY_PARAM), {
        maxTtl: this.options.limits.maxTokenTtl,
        origin,
      });
      if (!check.ok) return this.refuse(socket, check.status, check.reason, TOKEN_REASON_TEXT[check.reason], ip);
      grant = check.grant;
      const maxPerToken = this.options.limits.maxConnectionsPerToken;
      if (maxPerToken > 0 && (this.perToken.get(grant.key) ?? 0) >= maxPerToken) {
        const reason = "too_many_connections_per_token";
        return this.refuse(socket, 429, reason, `${TOKEN_REASON_TEXT[reason]} (limit ${maxPerToken})`, ip);
      }
    }
    const cluster = this.cluster;
    const maxPerToken = this.options.limits.maxConnectionsPerToken;
    if (grant === null || cluster === null || maxPerToken === 0) return this.accept(req, socket, head, ip, grant, null);
    // In a cluster the token's sockets on every live node count: Redis holds the counts.
    const tokenKey = grant.key;
    void cluster.reserveToken(tokenKey, maxPerToken).then((ok) =>
      guard(this.log, () => {
        if (ok) return this.accept(req, socket, head, ip, grant, () => cluster.releaseToken(tokenKey));
        const reason = "too_many_connections_per_token";
        this.refuse(socket, 429, reason, `${TOKEN_REASON_TEXT[reason]} (limit ${maxPerToken}, cluster-wide)`, ip);
      }),
    );
  }

  /** Completes an upgrade that passed every check; `release` gives back a token slot if it fails. */
  private accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ip: string,
    grant: AccessGrant | null,
    release: (() => void) | null,
  ): void {
    if (socket.destroyed || this.draining) {
      release?.();
      if (!socket.destroyed) this.refuse(socket, 503, "draining", "tracker is shutting down", ip);
      return;
    }
    let opened = false;
    if (release !== null) socket.once("close", () => opened || release());
    socket.off("error", ignoreError);
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      guard(this.log, () => {
        opened = true;
        this.onOpen(ws, socket, ip, grant);
      }),
    );
  }

  private onOpen(ws: TrackedSocket, socket: Duplex, ip: string, grant: AccessGrant | null): void {
    const { limits } = this.options;
    const ipEntry = this.ips.opened(ip, this.core.clockMs());
    if (grant !== null) this.perToken.set(grant.key, (this.perToken.get(grant.key) ?? 0) + 1);
    const burst = { messages: limits.messageBurst, bytes: limits.byteBurst, offers: limits.offerBurst };
    const conn = new Connection(ws, socket, ipEntry, grant, this.output, burst, nowSeconds());
    ws.on("message", this.handleMessage);
    ws.on("pong", answerPong);
    ws.on("error", this.handleError);
    ws.on("close", this.handleClose);
    this.stats.connectionsAccepted++;
    this.core.attach(conn);
    if (grant?.sub !== undefined) this.log.debug({ ip, sub: grant.sub }, "token accepted");
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
      const code = typeof err?.code === "string" ? err.code : "";
      const reason = WS_ERROR_REASON[code] ?? (code.startsWith("WS_ERR_") ? "protocol_error" : "socket_error");
      self.stats.fail(reason);
      self.log.debug(
        { ip: this[kConnection]?.ip, err: err.message },
        reason === "socket_error" ? "socket error" : "WebSocket protocol error",
      );
    };
  })();

  private readonly handleClose: (this: TrackedSocket) => void = (() => {
    const self = this;
    return function (this: TrackedSocket) {
      const conn = this[kConnection];
      if (conn === undefined) return;
      // 'close' comes once per WebSocket: the one place its counts are given back.
      this[kConnection] = undefined;
      guard(self.log, () => self.forget(conn));
    };
  })();

  private forget(conn: Connection): void {
    this.core.detach(conn);
    this.output.forget(conn);
    this.ips.closed(conn.ipEntry);
    const grant = conn.grant;
    if (grant !== null) {
      const n = (this.perToken.get(grant.key) ?? 1) - 1;
      if (n <= 0) this.perToken.delete(grant.key);
      else this.perToken.set(grant.key, n);
      if (this.cluster !== null && this.options.limits.maxConnectionsPerToken > 0) this.cluster.releaseToken(grant.key);
    }
  }

  /** Sockets live no longer than the token they were opened with. */
  private closeExpired(): void {
    const now = nowSeconds();
    for (const conn of this.core.connections) {
      if (conn.grant !== null && conn.grant.exp <= now) {
        this.stats.connectionsClosedTokenExpired++;
        conn.close(4001, "access token expired");
        this.core.detach(conn);
      }
    }
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
      // Only a pong answering one of our pings sets alive (see Connection.onPong).
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
    this.core.ownership.clear();
    this.core.throttle.clear();
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
    if (this.metricsListener !== null) {
      const metricsStopped = new Promise<void>((resolve) => this.metricsListener!.close(() => resolve()));
      this.metricsListener.closeAllConnections();
      await metricsStopped;
    }
    this.wss.close();
    await this.cluster?.close();
    this.log.info("stopped");
  }
}

/** Answers an HTTP request and closes the connection (no keep-alive is offered). */
function respond(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
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
/** The pong listener, shared by every socket: only a pong answering our ping counts. */
function answerPong(this: TrackedSocket, data: Buffer): void {
  this[kConnection]?.onPong(data);
}

function ignoreError(): void {}

/** A malformed request head: answer 400 (Node's default) without ever throwing. */
function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  try {
    if (socket.writable && err.code !== "ECONNRESET") {
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  } catch {
    // The socket is already gone.
  }
}

/** The request target as a URL, or null when it does not parse (e.g. `http://:80/`). */
function parseRequestUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? "/", "http://tracker");
  } catch {
    return null;
  }
}

/** Runs a callback that must never throw out of an event listener or timer. */
function guard(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error({ err }, "unexpected error in a handler");
  }
}

function listenOn(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function sleep(ms: number): Promise<void> & { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Object.assign(promise, { promise, cancel: () => clearTimeout(timer) });
}
