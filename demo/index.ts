/**
 * `startDemo()`: the live origin (unless --stream), the tracker (unless --tracker) and the page
 * server, which serves the page, its scripts, /config.json, /swarm.json, and reaches the local
 * origin (/origin/…) and tracker (/tracker) through itself.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { startOrigin, type Origin } from "../devkit/origin/index.js";
import { isAssetPath, loadAsset, requiredAssetFiles } from "./assets.js";
import { DemoOptionError, LOCAL_SWARM_ID, resolveDemoOptions, type DemoOptions } from "./options.js";
import type { DemoConfig } from "./page/settings.js";
import { proxyHttp, proxyUpgrade } from "./proxy.js";
import { startLocalTracker, type LocalTracker } from "./tracker.js";

export {
  DEFAULT_DEMO_OPTIONS,
  DemoOptionError,
  HELP,
  parseDemoArgs,
  resolveDemoOptions,
  type DemoOptions,
} from "./options.js";
export type { DemoConfig } from "./page/settings.js";

const LOOPBACK = "127.0.0.1";
const ORIGIN_PREFIX = "/origin";
const TRACKER_PATH = "/tracker";
/** Longest wait for the origin or tracker to stop before close() moves on. */
const STOP_TIMEOUT_MS = 5000;
const VERSION = (
  JSON.parse(readFileSync(new URL("../sdk/package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface Demo {
  /** URL of the page, e.g. http://127.0.0.1:8080/ */
  url: string;
  options: DemoOptions;
  /** What the page receives at /config.json. */
  config: DemoConfig;
  /** The local origin, when no --stream was given. */
  origin: Origin | null;
  /** The local tracker, when no --tracker was given. */
  tracker: LocalTracker | null;
  /** Stops the page server, tracker and origin. Idempotent. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Settles when `work` does or after `ms`, whichever is first; never rejects. */
function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text.endsWith("\n") ? text : `${text}\n`);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(JSON.stringify(value));
}

function listenError(err: NodeJS.ErrnoException, options: DemoOptions): Error {
  if (err.code === "EADDRINUSE") {
    return new DemoOptionError(
      "--port",
      `port ${options.port} on ${options.host} is already in use; pick another one (e.g. --port ${options.port + 1}, or --port 0 for any free port)`,
    );
  }
  if (err.code === "EACCES") {
    return new DemoOptionError(
      "--port",
      `not allowed to listen on port ${options.port}; ports below 1024 need privileges, try --port 8080`,
    );
  }
  if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") {
    return new DemoOptionError(
      "--host",
      `cannot listen on "${options.host}": no such local address (${err.code}); try --host 127.0.0.1 or --host 0.0.0.0`,
    );
  }
  return err;
}

export async function startDemo(input: Partial<DemoOptions> = {}): Promise<Demo> {
  const options = resolveDemoOptions(input);
  checkAssetFiles();
  const backends = await startBackends(options);
  const { origin, tracker } = backends;
  const ctx: RequestContext = { options, config: demoConfig(options, origin, tracker), origin, tracker };

  const server = createServer((req, res) => {
    try {
      handleRequest(ctx, req, res);
    } catch (err) {
      if (!res.headersSent) sendText(res, 500, `demo server error: ${(err as Error).message}`);
      else res.destroy();
    }
  });
  // Every socket, whatever state it is in (keep-alive, mid-request, mid-upgrade), so close()
  // never waits on a browser that keeps a connection open.
  const connections = trackConnections(server);
  const upgraded = new Set<Duplex>();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://demo");
    if (!tracker || url.pathname !== TRACKER_PATH) {
      socket.on("error", () => undefined);
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    proxyUpgrade(req, socket, head, tracker.url, url.search, upgraded);
  });
  server.keepAliveTimeout = 30_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(listenError(err as NodeJS.ErrnoException, options)));
      server.listen(options.port, options.host, () => resolve());
    });
  } catch (err) {
    await backends.stop();
    throw err;
  }
  server.on("error", () => undefined);
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost(options.host)}:${port}/`,
    options: { ...options, port },
    config: ctx.config,
    origin,
    tracker,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of [...connections, ...upgraded]) socket.destroy();
        upgraded.clear();
        await closed;
        await backends.stop();
      })();
      return closing;
    },
  };
}

function checkAssetFiles(): void {
  for (const { file, hint } of requiredAssetFiles()) {
    if (!existsSync(file)) throw new Error(`the demo needs ${file}${hint ? `: ${hint}` : ""}`);
  }
}

interface Backends {
  /** The local live origin, unless --stream names another. */
  origin: Origin | null;
  /** The local tracker, unless --tracker names another. */
  tracker: LocalTracker | null;
  /** Stops what was started, newest first, each within STOP_TIMEOUT_MS. */
  stop(): Promise<void>;
}

/** Starts the local origin and tracker the options ask for; stops both if either fails. */
async function startBackends(options: DemoOptions): Promise<Backends> {
  const started: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of started.splice(0).reverse()) await bounded(stopOne(), STOP_TIMEOUT_MS);
  };
  let origin: Origin | null = null;
  let tracker: LocalTracker | null = null;
  try {
    if (options.stream === "") {
      const running = await startOrigin({ host: LOOPBACK, port: 0 });
      origin = running;
      started.push(() => running.close());
    }
    if (options.tracker === "") {
      const running = await startLocalTracker(LOOPBACK);
      tracker = running;
      started.push(() => running.close());
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, tracker, stop };
}

/** What the page reads from /config.json. */
function demoConfig(options: DemoOptions, origin: Origin | null, tracker: LocalTracker | null): DemoConfig {
  return {
    src: origin ? `${ORIGIN_PREFIX}/live/index.m3u8` : options.stream,
    tracker: tracker ? TRACKER_PATH : options.tracker,
    swarm: origin ? LOCAL_SWARM_ID : null,
    localStream: origin !== null,
    localTracker: tracker !== null,
    swarmStats: tracker ? "/swarm.json" : null,
    version: VERSION,
  };
}

interface RequestContext {
  options: DemoOptions;
  config: DemoConfig;
  origin: Origin | null;
  tracker: LocalTracker | null;
}

/** Every HTTP request: the origin proxy, the JSON endpoints, the embed page, the page's assets. */
function handleRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://demo");
  const path = url.pathname;
  if (ctx.origin && (path === ORIGIN_PREFIX || path.startsWith(`${ORIGIN_PREFIX}/`))) {
    return proxyHttp(req, res, ctx.origin.url, path.slice(ORIGIN_PREFIX.length) + url.search);
  }
  // Viewers' stats beacons (the SDK derives /beacon from the tracker URL) go to the tracker.
  if (ctx.tracker && path === "/beacon" && req.method === "POST") {
    return proxyHttp(req, res, ctx.tracker.httpUrl, path + url.search);
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return sendText(res, 405, `${req.method} is not allowed here`, { allow: "GET, HEAD" });
  }
  switch (path) {
    case "/config.json":
      return sendJson(res, 200, ctx.config);
    case "/swarm.json":
      if (!ctx.tracker)
        return sendJson(res, 404, {
          error: "the demo uses an external tracker (--tracker); its swarm is not visible here",
        });
      return sendJson(res, 200, ctx.tracker.swarm());
    case "/health":
      return sendJson(res, 200, { status: "ok" });
    case "/embed.html":
      try {
        const html = embedPage(ctx, req, url);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
        });
        return void res.end(req.method === "HEAD" ? undefined : html);
      } catch (err) {
        return sendText(res, 503, (err as Error).message);
      }
  }
  if (isAssetPath(path)) return serveAsset(req, res, path);
  sendText(res, 404, `not found: ${path}\nthe demo page is at /`);
}

/** embed.html with the stream, tracker and swarm of this demo (or of the query string) filled in. */
function embedPage(ctx: RequestContext, req: IncomingMessage, url: URL): string {
  const asset = loadAsset("/embed.html");
  if (!asset) throw new Error("embed.html is not an asset");
  const host = req.headers.host ?? `${LOOPBACK}:${ctx.options.port}`;
  const src = new URL(url.searchParams.get("src") || ctx.config.src, `http://${host}/`).toString();
  const trackerUrl =
    url.searchParams.get("tracker") || (ctx.tracker ? `ws://${host}${TRACKER_PATH}` : ctx.config.tracker);
  let extra = "";
  const swarm = url.searchParams.get("swarm") || (url.searchParams.get("src") ? null : ctx.config.swarm);
  if (swarm) extra += `\n       data-swarmcast-swarm="${escapeAttribute(swarm)}"`;
  // No STUN is reachable from a loopback-only setup; host candidates are all peers need.
  if (ctx.tracker && !url.searchParams.get("tracker"))
    extra += `\n       data-swarmcast-ice=""\n       data-swarmcast-stats-beacon="on"`;
  return asset.body
    .toString("utf8")
    .replace(/data-swarmcast-src="[^"]*"/, `data-swarmcast-src="${escapeAttribute(src)}"`)
    .replace(/data-swarmcast-tracker="[^"]*"/, () => `data-swarmcast-tracker="${escapeAttribute(trackerUrl)}"${extra}`);
}

/** A page asset, with its ETag, and gzipped when the browser takes it. */
function serveAsset(req: IncomingMessage, res: ServerResponse, path: string): void {
  let asset;
  try {
    asset = loadAsset(path);
  } catch (err) {
    return sendText(res, 503, (err as Error).message);
  }
  if (!asset) return sendText(res, 404, `not found: ${path}`);
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, { etag: asset.etag, "cache-control": "no-cache" });
    return void res.end();
  }
  const gzip = asset.gzipped !== null && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip ? (asset.gzipped as Buffer) : asset.body;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": asset.contentType,
    "content-length": body.length,
    "cache-control": "no-cache",
    etag: asset.etag,
    vary: "accept-encoding",
    ...(gzip ? { "content-encoding": "gzip" } : {}),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** The live set of the server's sockets. */
function trackConnections(server: Server): Set<Socket> {
  const connections = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
  });
  return connections;
}

/** The host to print in the URL: localhost for a wildcard, brackets around IPv6. */
function shownHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
