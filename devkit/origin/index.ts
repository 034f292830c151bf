import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EgressCounter, type EgressReport, type ResponseKind } from "./egress.js";
import { decideFault, validateFaultRule, type FaultRule } from "./faults.js";
import { LiveTimeline, renderVodPlaylist } from "./live-timeline.js";
import { loadMediaSource, type MediaSource } from "./media-source.js";

export type { EgressReport, ClientEgress } from "./egress.js";
export type { FaultRule, FaultTarget } from "./faults.js";

export const DEFAULT_ORIGIN_OPTIONS = {
  host: "127.0.0.1",
  port: 0,
  /** The bundled test stream: 2 s H.264/AAC MPEG-TS segments, looped. */
  mediaPlaylist: fileURLToPath(new URL("../media/test-stream/index.m3u8", import.meta.url)),
  /**
   * The bundled ABR ladder's multivariant playlist (3 renditions, 2 s segments), served live at
   * /ladder/master.m3u8, each rendition alone at /ladder/r<i>/index.m3u8. "" turns it off.
   */
  ladderPlaylist: fileURLToPath(new URL("../media/ladder/master.m3u8", import.meta.url)),
  /** Segments listed in the live playlist (a 20 s window for 2 s segments). */
  windowSegments: 10,
  /** Write each segment's SHA-256 into the playlists (see SEGMENT_HASH_TAG). */
  hashTags: true,
  /** Body bytes handed to the socket per write, so aborted downloads count what was sent. */
  writeChunkBytes: 16 * 1024,
};

export type OriginOptions = typeof DEFAULT_ORIGIN_OPTIONS;

export interface Origin {
  /** http://host:port */
  readonly url: string;
  readonly segmentDuration: number;
  /** Live playlist URL; with a client id the path carries it, so egress is counted per client. */
  liveUrl(clientId?: string): string;
  vodUrl(clientId?: string): string;
  /** The ladder's multivariant live playlist (see `ladderPlaylist`). */
  ladderUrl(clientId?: string): string;
  /** One rendition of the ladder as a live media playlist of its own. */
  renditionUrl(index: number, clientId?: string): string;
  /** `BANDWIDTH` of each ladder rendition, bit/s, in playlist order; empty without a ladder. */
  readonly ladderBitrates: number[];
  egress(): EgressReport;
  resetEgress(): void;
  /**
   * Replaces the fault rules. Each rule can target client ids (the `/c/<id>/` of their URLs), a
   * window of wall-clock time, segments or playlists, and answers an error status, resets the
   * connection, holds the response or paces the body.
   */
  setFaults(rules: FaultRule[]): void;
  close(): Promise<void>;
}

const ANONYMOUS_CLIENT = "anonymous";
const CLIENT_PATH = /^\/c\/([A-Za-z0-9._-]{1,64})(\/.*)$/;
const LIVE_SEGMENT_PATH = /^\/live\/seg-(\d{1,12})\.ts$/;
const LADDER_PATH = /^\/ladder\/r(\d{1,2})\/(index\.m3u8|seg-(\d{1,12})\.ts)$/;
/**
 * `/sha256/<path>` answers the SHA-256 (hex) of what `<path>` serves, without fault or egress:
 * the ground truth a bench viewer checks its media against, on streams with or without hash tags.
 */
const SHA256_PREFIX = "/sha256";

interface Rendition {
  /** The `#EXT-X-STREAM-INF` line as written by the encoder. */
  streamInf: string;
  bitrate: number;
  timeline: LiveTimeline;
}

/** Reads a multivariant playlist and the media playlists it lists, as live timelines from `epochMs`. */
function loadLadder(path: string, epochMs: number, windowSegments: number): Rendition[] {
  const renditions: Rendition[] = [];
  let streamInf: string | undefined;
  for (const raw of readFileSync(path, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-STREAM-INF:")) streamInf = line;
    else if (line !== "" && !line.startsWith("#") && streamInf) {
      const media = loadMediaSource(join(dirname(path), line));
      const bitrate = Number(/BANDWIDTH=(\d+)/.exec(streamInf)?.[1] ?? 0);
      renditions.push({ streamInf, bitrate, timeline: new LiveTimeline(media, epochMs, windowSegments) });
      streamInf = undefined;
    }
  }
  if (renditions.length === 0) throw new Error(`${path}: no renditions`);
  return renditions;
}

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-allow-headers": "range, content-type",
  "access-control-expose-headers": "content-length, content-range",
  "access-control-max-age": "600",
};

interface ByteRange {
  start: number;
  end: number;
}

/** Parses a single-range `Range: bytes=a-b | a- | -n` header; undefined if unsatisfiable. */
export function parseRange(header: string, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (match[1] === "") {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : undefined;
}

/**
 * The local "CDN": serves a bundled stream as a live sliding window and as VOD, counts every
 * body byte per client (the egress that offload figures are computed from) and injects faults.
 */
export async function startOrigin(options: Partial<OriginOptions> = {}): Promise<Origin> {
  const config = resolveOriginOptions(options);
  const media: MediaSource = loadMediaSource(config.mediaPlaylist);
  // Start the clock a full window in the past so the first playlist is already full.
  const epochMs = Date.now() - config.windowSegments * media.averageSegmentDuration * 1000 - 100;
  const timeline = new LiveTimeline(media, epochMs, config.windowSegments);
  const ladder =
    config.ladderPlaylist !== "" && existsSync(config.ladderPlaylist)
      ? loadLadder(config.ladderPlaylist, epochMs, config.windowSegments)
      : [];
  const egress = new EgressCounter();
  const state: RequestContext = {
    media,
    timeline,
    egress,
    writer: new ResponseWriter(egress, config.writeChunkBytes),
    lookup: withLadder(catalog(media, timeline, config.hashTags), ladder, config.hashTags),
    faults: [],
  };

  const server = createServer((req, res) => {
    handleRequest(state, req, res).catch((error: unknown) => {
      if (!res.headersSent) state.writer.error(res, ANONYMOUS_CLIENT, 500, String(error));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  const url = await listen(server, config.host, config.port);
  const prefix = clientPrefix(url);

  return {
    url,
    segmentDuration: media.averageSegmentDuration,
    liveUrl: (clientId) => `${prefix(clientId)}/live/index.m3u8`,
    vodUrl: (clientId) => `${prefix(clientId)}/vod/index.m3u8`,
    ladderUrl: (clientId) => `${prefix(clientId)}/ladder/master.m3u8`,
    renditionUrl: (index, clientId) => `${prefix(clientId)}/ladder/r${index}/index.m3u8`,
    ladderBitrates: ladder.map((r) => r.bitrate),
    egress: () => egress.report(),
    resetEgress: () => egress.reset(),
    setFaults(rules) {
      rules.forEach(validateFaultRule);
      state.faults = rules.map((r) => ({ ...r }));
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/** Checks the caller's options and fills in the defaults. */
function resolveOriginOptions(options: Partial<OriginOptions>): OriginOptions {
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULT_ORIGIN_OPTIONS)) throw new Error(`startOrigin: unknown option "${key}"`);
  }
  const config: OriginOptions = { ...DEFAULT_ORIGIN_OPTIONS, ...options };
  if (!Number.isInteger(config.windowSegments) || config.windowSegments < 3) {
    throw new Error(`startOrigin: windowSegments must be an integer >= 3, got ${config.windowSegments}`);
  }
  return config;
}

interface Resource {
  kind: ResponseKind;
  body: Buffer;
  /** Media seconds a segment holds (what a paced fault stretches). */
  durationSec?: number;
  contentType: string;
  cache: string;
}

/** What the origin serves at each path: the live window as of `now`, and the VOD copy. */
function catalog(
  media: MediaSource,
  timeline: LiveTimeline,
  hashTags: boolean,
): (path: string, now: number) => Resource | undefined {
  const vodPlaylist = renderVodPlaylist(media, hashTags);
  const vodSegments = new Map(media.segments.map((s) => [s.uri, s.data]));
  return (path, now) => {
    if (path === "/live/index.m3u8") {
      return {
        kind: "playlist",
        body: Buffer.from(timeline.renderPlaylist(now, hashTags)),
        contentType: "application/vnd.apple.mpegurl",
        cache: "no-cache",
      };
    }
    const live = LIVE_SEGMENT_PATH.exec(path);
    if (live) {
      const sequence = Number(live[1]);
      if (!timeline.isPublished(sequence, now)) return undefined;
      return {
        kind: "segment",
        body: timeline.segment(sequence).source.data,
        durationSec: timeline.segment(sequence).source.duration,
        contentType: "video/mp2t",
        cache: "public, max-age=60",
      };
    }
    if (path === "/vod/index.m3u8") {
      return {
        kind: "playlist",
        body: Buffer.from(vodPlaylist),
        contentType: "application/vnd.apple.mpegurl",
        cache: "public, max-age=60",
      };
    }
    if (path.startsWith("/vod/")) {
      const body = vodSegments.get(path.slice("/vod/".length));
      if (body) return { kind: "segment", body, contentType: "video/mp2t", cache: "public, max-age=3600" };
    }
    return undefined;
  };
}

/** Adds the ladder to a catalog: its multivariant playlist, and each rendition live. */
function withLadder(
  inner: (path: string, now: number) => Resource | undefined,
  ladder: Rendition[],
  hashTags: boolean,
): (path: string, now: number) => Resource | undefined {
  if (ladder.length === 0) return inner;
  const multivariant =
    ["#EXTM3U", "#EXT-X-VERSION:3", ...ladder.flatMap((r, i) => [r.streamInf, `r${i}/index.m3u8`])].join("\n") + "\n";
  return (path, now) => {
    if (path === "/ladder/master.m3u8") {
      return {
        kind: "playlist",
        body: Buffer.from(multivariant),
        contentType: "application/vnd.apple.mpegurl",
        cache: "no-cache",
      };
    }
    const rung = LADDER_PATH.exec(path);
    const rendition = rung ? ladder[Number(rung[1])] : undefined;
    if (!rung || rendition === undefined) return inner(path, now);
    if (rung[3] === undefined) {
      return {
        kind: "playlist",
        body: Buffer.from(rendition.timeline.renderPlaylist(now, hashTags)),
        contentType: "application/vnd.apple.mpegurl",
        cache: "no-cache",
      };
    }
    const sequence = Number(rung[3]);
    if (!rendition.timeline.isPublished(sequence, now)) return undefined;
    return {
      kind: "segment",
      body: rendition.timeline.segment(sequence).source.data,
      durationSec: rendition.timeline.segment(sequence).source.duration,
      contentType: "video/mp2t",
      cache: "public, max-age=60",
    };
  };
}

/** Writes bodies in chunks, counting each chunk as it leaves, so egress follows the wire. */
class ResponseWriter {
  constructor(
    private readonly egress: EgressCounter,
    private readonly chunkBytes: number,
  ) {}

  send(
    res: ServerResponse,
    client: string,
    kind: ResponseKind,
    status: number,
    headers: Record<string, string | number>,
    body: Buffer,
    head: boolean,
    /** Spread the body over this many ms (a throttled edge); 0 sends it as fast as the socket takes it. */
    spreadMs = 0,
  ): void {
    res.writeHead(status, { ...CORS_HEADERS, ...headers, "content-length": body.length });
    if (head) return void res.end();
    if (spreadMs > 0) return this.sendPaced(res, client, kind, body, spreadMs);
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + this.chunkBytes);
        offset += chunk.length;
        this.egress.countBytes(client, kind, chunk.length);
        if (!res.write(chunk)) return void res.once("drain", writeMore);
      }
      res.end();
    };
    res.on("close", () => res.removeAllListeners("drain"));
    writeMore();
  }

  /** One chunk at a time, each when the clock says its share of `spreadMs` has passed. */
  private sendPaced(res: ServerResponse, client: string, kind: ResponseKind, body: Buffer, spreadMs: number): void {
    const started = Date.now();
    let offset = 0;
    let timer: NodeJS.Timeout | undefined;
    res.on("close", () => clearTimeout(timer));
    const writeNext = () => {
      if (res.destroyed) return;
      const chunk = body.subarray(offset, offset + this.chunkBytes);
      offset += chunk.length;
      this.egress.countBytes(client, kind, chunk.length);
      if (offset >= body.length) return void res.end(chunk);
      res.write(chunk);
      const due = started + (spreadMs * offset) / body.length;
      timer = setTimeout(writeNext, Math.max(0, due - Date.now()));
    };
    writeNext();
  }

  error(res: ServerResponse, client: string, status: number, message: string): void {
    this.egress.countError(client);
    res.writeHead(status, { ...CORS_HEADERS, "content-type": "text/plain", "cache-control": "no-store" });
    res.end(message + "\n");
  }
}

interface RequestContext {
  media: MediaSource;
  timeline: LiveTimeline;
  egress: EgressCounter;
  writer: ResponseWriter;
  lookup: (path: string, now: number) => Resource | undefined;
  faults: FaultRule[];
}

/** One request: CORS preflight, /health, then a resource with its faults and byte range. */
async function handleRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://origin");
  if (req.method === "OPTIONS") {
    res.writeHead(204, CORS_HEADERS);
    return void res.end();
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...CORS_HEADERS, allow: "GET, HEAD, OPTIONS" });
    return void res.end();
  }
  if (url.pathname === "/health") {
    res.writeHead(200, { ...CORS_HEADERS, "content-type": "application/json", "cache-control": "no-store" });
    return void res.end(
      JSON.stringify({
        status: "ok",
        segmentDuration: ctx.media.averageSegmentDuration,
        head: ctx.timeline.headSequence(Date.now()),
      }),
    );
  }
  let client = ANONYMOUS_CLIENT;
  let path = url.pathname;
  const scoped = CLIENT_PATH.exec(path);
  if (scoped) {
    client = scoped[1];
    path = scoped[2];
  }
  ctx.egress.countRequest(client);
  const now = Date.now();
  if (path.startsWith(`${SHA256_PREFIX}/`)) {
    const hashed = ctx.lookup(path.slice(SHA256_PREFIX.length), now);
    if (!hashed) return ctx.writer.error(res, client, 404, `not found: ${path}`);
    res.writeHead(200, { ...CORS_HEADERS, "content-type": "text/plain", "cache-control": "no-store" });
    return void res.end(createHash("sha256").update(hashed.body).digest("hex"));
  }
  const target = ctx.lookup(path, now);
  if (!target) return ctx.writer.error(res, client, 404, `not found: ${path}`);

  const fault = decideFault(ctx.faults, client, target.kind, now);
  if (fault.hit) ctx.egress.countFault(client);
  if (fault.delayMs > 0) {
    await new Promise((r) => setTimeout(r, fault.delayMs));
    if (res.destroyed) return;
  }
  if (fault.reset) {
    ctx.egress.countError(client);
    return void res.socket?.resetAndDestroy();
  }
  if (fault.status !== undefined) return ctx.writer.error(res, client, fault.status, `injected fault ${fault.status}`);
  const spreadMs = fault.paceFactor > 0 && target.durationSec ? fault.paceFactor * target.durationSec * 1000 : 0;

  const headers: Record<string, string | number> = {
    "content-type": target.contentType,
    "cache-control": target.cache,
    "accept-ranges": "bytes",
  };
  const head = req.method === "HEAD";
  const rangeHeader = req.headers.range;
  if (rangeHeader && target.kind === "segment") {
    const range = parseRange(rangeHeader, target.body.length);
    if (!range) {
      ctx.egress.countError(client);
      res.writeHead(416, { ...CORS_HEADERS, "content-range": `bytes */${target.body.length}` });
      return void res.end();
    }
    headers["content-range"] = `bytes ${range.start}-${range.end}/${target.body.length}`;
    return ctx.writer.send(
      res,
      client,
      target.kind,
      206,
      headers,
      target.body.subarray(range.start, range.end + 1),
      head,
    );
  }
  if (target.kind === "segment" && !head) res.once("finish", () => ctx.egress.countSegmentDelivered(client, path));
  ctx.writer.send(res, client, target.kind, 200, headers, target.body, head, spreadMs);
}

/** Listens and returns the base URL clients use (loopback for a wildcard host). */
async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolveListen());
  });
  const { port: bound } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${bound}`;
}

/** The URL prefix under which the origin counts a client's requests apart. */
function clientPrefix(url: string): (clientId?: string) => string {
  return (clientId) => {
    if (clientId === undefined) return url;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId))
      throw new Error(`origin: client id must match [A-Za-z0-9._-]{1,64}, got "${clientId}"`);
    return `${url}/c/${clientId}`;
  };
}
