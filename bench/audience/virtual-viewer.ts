/**
 * One virtual viewer: a Node process that plays a live stream with the simulated player
 * through the SDK's engine entry (`sdk/dist/swarmcast-engine.mjs`) over real WebRTC.
 *
 *   node dist/bench/virtual-viewer.mjs '<VirtualViewerConfig as JSON>'
 *
 * (bundled by bench/rollup.viewer.mjs; `tsx bench/audience/virtual-viewer.ts` runs the source.)
 *
 * It writes one JSON line per sample to stdout ({ type: "sample", snapshot }) and a last one
 * when it gets SIGTERM or its stdin closes, then exits. One process per viewer: PML keeps one
 * peer id per module instance, and a network namespace belongs to a process.
 */
import { createHash } from "node:crypto";
import type { Core } from "p2p-media-loader-core";
import { cpuUsage, memoryUsage } from "node:process";
import "../../devkit/pages/lying-storage.js";
import type {
  LoadedSegment,
  PlaylistSegment,
  Rendition,
  SwarmcastEngineOptions,
  SwarmcastStats,
} from "../../sdk/src/engine-entry";
import { hlsDefaults, withPmlAdjustments, type SimulatedPlayerConfig } from "./player-config";
import { SegmentTrace } from "./segment-trace";
import { HttpCauses } from "./http-causes";
import { SimulatedPlayer } from "./simulated-player";
import { installWebRtc, PeerTraffic, type BytesByAddress, type ConnectionCounts } from "./webrtc-probe";
import type {
  FaultCounters,
  TracedStall,
  ViewerResources,
  VirtualSnapshot,
  VirtualViewerConfig,
} from "./virtual-protocol";

type EngineModule = typeof import("../../sdk/src/engine-entry");
type StockPmlModule = typeof import("./stock-pml");

/** The P2P path of a mode as the viewer drives it: the SDK's engine, or stock PML. */
interface P2PPath {
  setManifest(manifestUrl: string, renditions: Rendition[]): void;
  bindPlayer(player: SimulatedPlayer): void;
  loadSegment(segment: PlaylistSegment): Promise<LoadedSegment>;
  onSegment(listener: (event: { url: string; bytes: number; source: string; peerId?: string }) => void): void;
  onChunkUploaded(listener: (bytes: number, peerId: string) => void): void;
  /** PML's core, whose segment events the stall record traces; null when P2P is off. */
  core: Pick<Core, "addEventListener"> | null;
  /** PML's urgent window, seconds (how far ahead hls.js may buffer under PML). */
  highDemandSec(): number;
  stats(): Pick<
    VirtualSnapshot,
    | "httpBytes"
    | "p2pBytes"
    | "uploadedBytes"
    | "peers"
    | "uploadCap"
    | "uplink"
    | "playlistRefreshes"
    | "liveEdge"
    | "adaptiveLatency"
  >;
  /** The SDK's own stats (the swarmcast mode only). */
  sdkStats?(): SwarmcastStats;
  destroy(): void;
}

async function swarmcastPath(
  config: VirtualViewerConfig,
  noteError: (message: string, kind: string) => void,
  onCorruptedServed: () => void,
): Promise<P2PPath> {
  const { createLiveEngine } = (await import(config.engineModule)) as EngineModule;
  const engine = createLiveEngine(engineOptions(config, onCorruptedServed));
  engine.on("error", (e) => noteError(`${e.kind}: ${e.message}`, e.kind));
  return {
    setManifest: (url, renditions) => engine.setManifest(url, renditions),
    bindPlayer: (player) => engine.bindPlayer(player),
    loadSegment: (segment) => engine.loadSegment(segment),
    onSegment: (listener) => engine.on("segment", listener),
    onChunkUploaded: (listener) => engine.core?.addEventListener("onChunkUploaded", listener),
    core: engine.core,
    highDemandSec: () => engine.core?.getConfig().mainStream.highDemandTimeWindow ?? 0,
    stats: () => {
      const stats = engine.stats();
      return {
        httpBytes: stats.httpBytes,
        p2pBytes: stats.p2pBytes,
        uploadedBytes: stats.uploadedBytes,
        peers: stats.peers.length,
        uploadCap: {
          capKbps: stats.upload.capKbps,
          limitedCount: stats.upload.limitedCount,
          refusedRequests: stats.upload.refusedRequests,
        },
        uplink: stats.upload.uplink ?? undefined,
        playlistRefreshes: stats.playlistRefreshes,
        ...(stats.liveEdge ? { liveEdge: stats.liveEdge } : {}),
        adaptiveLatency: stats.adaptiveLatency,
      };
    },
    sdkStats: () => engine.stats(),
    destroy: () => engine.destroy(),
  };
}

async function stockPmlPath(
  config: VirtualViewerConfig,
  noteError: (message: string, kind: string) => void,
): Promise<P2PPath> {
  const { StockPmlEngine } = (await import(config.stockPmlModule)) as StockPmlModule;
  const pml = new StockPmlEngine(
    { trackers: config.trackers, swarmId: config.swarmId, iceServers: config.iceServers },
    (message) => noteError(message, "pml"),
  );
  return {
    setManifest: (url, renditions) => pml.setManifest(url, renditions),
    bindPlayer: (player) => pml.bindPlayer(player),
    loadSegment: (segment) => pml.loadSegment(segment),
    onSegment: (listener) => pml.onSegment(listener),
    onChunkUploaded: (listener) => pml.core.addEventListener("onChunkUploaded", listener),
    core: pml.core,
    highDemandSec: () => pml.core.getConfig().mainStream.highDemandTimeWindow,
    stats: () => pml.stats(),
    destroy: () => pml.destroy(),
  };
}

/** How far back an HTTP attempt's step looks at this viewer's own uploads, ms. */
const UPLOAD_LOOKBACK_MS = 8000;

/**
 * PML's steps for each segment, into the stall record's trace. An HTTP attempt's step says what
 * this viewer handed its peers in the seconds before: on a slow uplink that is still queued on
 * the link while the fetch runs.
 */
function traceSegments(path: P2PPath, trace: SegmentTrace): void {
  const peer = (id: string | undefined) => (id ? ` ${id.slice(-6)}` : "");
  const uploads: Array<{ at: number; bytes: number }> = [];
  path.onChunkUploaded((bytes) => {
    const now = Date.now();
    uploads.push({ at: now, bytes });
    while (uploads.length > 0 && now - uploads[0].at > UPLOAD_LOOKBACK_MS) uploads.shift();
  });
  const uploadedBefore = (now: number): string => {
    const bytes = uploads.filter((u) => now - u.at <= UPLOAD_LOOKBACK_MS).reduce((a, u) => a + u.bytes, 0);
    return ` (uploaded ${Math.round(bytes / 1000)} KB in the ${UPLOAD_LOOKBACK_MS / 1000} s before)`;
  };
  path.core?.addEventListener("onSegmentStart", ({ segment, downloadSource, peerId }) =>
    trace.note(
      segment.url,
      `pml start ${downloadSource}${peer(peerId)}${downloadSource === "http" ? uploadedBefore(Date.now()) : ""}`,
    ),
  );
  path.core?.addEventListener("onSegmentError", ({ segment, downloadSource, peerId, error }) =>
    trace.note(segment.url, `pml error ${downloadSource}${peer(peerId)}: ${error.type}`),
  );
  path.core?.addEventListener("onSegmentAbort", ({ segment, downloadSource, peerId }) =>
    trace.note(segment.url, `pml abort ${downloadSource ?? "-"}${peer(peerId)}`),
  );
  path.core?.addEventListener("onSegmentLoaded", ({ segmentUrl, downloadSource, peerId }) =>
    trace.note(segmentUrl, `pml loaded ${downloadSource}${peer(peerId)}`),
  );
  path.onSegment(({ url, source, peerId }) => trace.note(url, `segment ${source}${peer(peerId)}`));
}

/** The SDK options of the swarmcast mode; a liar serves corrupted bytes from its own store. */
function engineOptions(config: VirtualViewerConfig, onCorruptedServed: () => void): SwarmcastEngineOptions {
  const options: SwarmcastEngineOptions = {
    trackers: config.trackers,
    swarmId: config.swarmId,
    iceServers: config.iceServers,
    ...(config.sdkOptions as Partial<SwarmcastEngineOptions>),
  };
  if (config.role === "liar") {
    // The live edge fetcher brings a segment store of its own; the liar needs PML to use this one.
    options.core = {
      ...options.core,
      customSegmentStorageFactory: () =>
        new globalThis.SwarmcastLyingStorage(onCorruptedServed) as unknown as ReturnType<
          NonNullable<NonNullable<SwarmcastEngineOptions["core"]>["customSegmentStorageFactory"]>
        >,
    };
    options.liveEdge = { enabled: false };
  }
  return options;
}

/** The origin's `/sha256/` URL of a segment URL (`…/c/<id>/path` → `…/c/<id>/sha256/path`). */
export function sha256UrlOf(segmentUrl: string): string {
  const url = new URL(segmentUrl);
  const scoped = /^(\/c\/[^/]+)(\/.*)$/.exec(url.pathname);
  url.pathname = scoped ? `${scoped[1]}/sha256${scoped[2]}` : `/sha256${url.pathname}`;
  return url.href;
}

/**
 * Checks every segment the player consumes against the origin's hash of it: bytes a peer
 * corrupted that got past the SDK would show here. Checks run beside playback, never in its way.
 */
class MediaCheck {
  readonly counts = { checked: 0, mismatched: 0, mismatchedBytes: 0, unchecked: 0 };
  /** The last few mismatches: URL and where the bytes came from. */
  readonly mismatches: string[] = [];

  check(url: string, data: ArrayBuffer, source: string): void {
    const actual = createHash("sha256").update(new Uint8Array(data)).digest("hex");
    fetch(sha256UrlOf(url))
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const expected = (await response.text()).trim();
        this.counts.checked++;
        if (expected !== actual) {
          this.counts.mismatched++;
          this.counts.mismatchedBytes += data.byteLength;
          this.mismatches.push(`${url} (${source})`);
          if (this.mismatches.length > 5) this.mismatches.shift();
        }
      })
      .catch(() => this.counts.unchecked++);
  }
}

/** Attempts at the first manifest load: on a saturated machine the origin can miss the first ones. */
const MANIFEST_ATTEMPTS = 10;
/** How often a virtual viewer takes its settled heap figure (a full collection), ms. */
const HEAP_SETTLE_INTERVAL_MS = 60_000;

/** hls.js retries its manifest load too (`manifestLoadPolicy`); a viewer that gave up at once would never play. */
async function loadManifestRetrying(player: SimulatedPlayer): ReturnType<SimulatedPlayer["loadManifest"]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await player.loadManifest();
    } catch (error) {
      if (attempt >= MANIFEST_ATTEMPTS) throw error;
      process.stderr.write(
        `manifest load failed (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as VirtualViewerConfig;
  const traffic = new PeerTraffic();
  const connections: ConnectionCounts =
    config.mode === "http-only" ? { attempts: 0, connected: 0, relayed: 0, failed: 0 } : installWebRtc(traffic);
  let peerBytes: BytesByAddress = {};
  const playerConfig: SimulatedPlayerConfig = {
    ...hlsDefaults(),
    ...(config.fixedLevel !== undefined ? { fixedLevel: config.fixedLevel } : {}),
  };
  if (config.mode === "swarmcast") {
    // The page's own hls settings (--sdk-config '{"hls":{...}}') win over the SDK's, as in Chromium.
    const pageHls = (config.sdkOptions as { hls?: { liveSyncDurationCount?: number } } | undefined)?.hls;
    playerConfig.liveSyncDurationCount =
      pageHls?.liveSyncDurationCount ??
      ((await import(config.engineModule)) as EngineModule).DEFAULT_SWARMCAST_CONFIG.hls.liveSyncDurationCount;
  }

  const faults = {
    errorsByKind: {} as Record<string, number>,
    unhandledRejections: 0,
    consoleErrors: 0,
    corruptedServed: 0,
  };
  // Counted, not fatal: a rejection nobody handled is a defect the run reports, not a crash.
  process.on("unhandledRejection", (reason) => {
    faults.unhandledRejections++;
    process.stderr.write(`unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`);
  });
  const consoleError = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    faults.consoleErrors++;
    consoleError(...args);
  };
  const mediaCheck = config.verifyMedia ? new MediaCheck() : undefined;
  /** Where each recent segment came from, for the record of a mismatch. */
  const sources = new Map<string, string>();
  const http = { bytes: 0 };
  const bySource = { http: [] as number[], p2p: [] as number[] };
  const errors: string[] = [];
  let errorCount = 0;
  const noteError = (message: string, kind: string) => {
    faults.errorsByKind[kind] = (faults.errorsByKind[kind] ?? 0) + 1;
    errorCount++;
    errors.push(message.slice(0, 200));
    if (errors.length > 5) errors.shift();
  };

  const path =
    config.mode === "swarmcast"
      ? await swarmcastPath(config, noteError, () => faults.corruptedServed++)
      : config.mode === "pml-defaults"
        ? await stockPmlPath(config, noteError)
        : undefined;
  const load = path
    ? (segment: PlaylistSegment) => path.loadSegment(segment)
    : async (segment: PlaylistSegment): Promise<LoadedSegment> => {
        const started = performance.now();
        const response = await fetch(segment.url);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const data = await response.arrayBuffer();
        http.bytes += data.byteLength;
        return { data, bandwidthBps: (data.byteLength * 8 * 1000) / Math.max(1, performance.now() - started) };
      };

  const trace = new SegmentTrace();
  const consume: typeof load = async (segment) => {
    trace.note(segment.url, "requested");
    const loaded = await load(segment).catch((error: unknown) => {
      trace.note(segment.url, `failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    });
    trace.note(segment.url, "delivered");
    mediaCheck?.check(segment.url, loaded.data, sources.get(segment.url) ?? "unknown");
    return loaded;
  };
  const player = new SimulatedPlayer(config.manifestUrl, playerConfig, consume);
  const renditions = await loadManifestRetrying(player);
  const levelOf = (url: string): number => {
    const index = renditions.findIndex((r) => url.startsWith(r.url.slice(0, r.url.lastIndexOf("/") + 1)));
    return index < 0 ? 0 : index;
  };
  const add = (list: number[], level: number, bytes: number) => (list[level] = (list[level] ?? 0) + bytes);
  const httpCauses = path?.core ? new HttpCauses(path.core) : undefined;
  if (path) {
    traceSegments(path, trace);
    path.onSegment(({ url, bytes, source, peerId }) => {
      add(source === "p2p" ? bySource.p2p : bySource.http, levelOf(url), bytes);
      httpCauses?.noteSegment(url, bytes, source);
      if (mediaCheck) {
        sources.set(url, peerId ? `${source} ${peerId}` : source);
        if (sources.size > 50) sources.delete(sources.keys().next().value as string);
      }
    });
    if (config.logUploads) {
      path.onChunkUploaded((bytes, peerId) =>
        process.stdout.write(JSON.stringify({ type: "upload", at: Date.now(), bytes, peerId }) + "\n"),
      );
    }
    path.setManifest(config.manifestUrl, renditions);
    path.bindPlayer(player);
  }
  await player.start((playlist, current) =>
    path
      ? withPmlAdjustments(
          current,
          // The SDK sets liveSyncDurationCount and keeps hls.js's buffer on live streams
          // (sdk/src/hlsjs/live-forward-buffer.ts); stock PML rewrites both.
          { maxBufferLength: config.mode === "swarmcast", liveSyncDurationCount: config.mode === "swarmcast" },
          { targetDuration: playlist.targetDuration, segments: playlist.segments.length },
          path.highDemandSec(),
        )
      : current,
  );

  const snapshot = (): VirtualSnapshot => {
    const now = Date.now();
    const c = player.counters;
    const stats = path?.stats();
    const running = c.stallSince !== null ? now - c.stallSince : 0;
    const cpu = cpuUsage();
    return {
      at: now,
      startedAt: c.startedAt,
      firstFrameAt: c.firstFrameAt,
      playing: c.firstFrameAt !== null && c.stallSince === null,
      stalls: c.stalls,
      stalledMs: c.stalledMs + running,
      watchMs: c.firstFrameAt === null ? 0 : now - c.firstFrameAt,
      httpBytes: stats ? stats.httpBytes : http.bytes,
      p2pBytes: stats ? stats.p2pBytes : 0,
      uploadedBytes: stats ? stats.uploadedBytes : 0,
      peers: stats ? stats.peers : 0,
      latency: player.latency(),
      clockLatency: player.clockLatency(),
      startLagSec: player.startLagSec(),
      hlsFatal: 0,
      hlsNonFatal: c.loadErrors,
      playerErrors: errorCount,
      recentErrors: c.lastLoadError ? [...errors, `segment load: ${c.lastLoadError}`] : [...errors],
      level: player.level,
      levelSwitches: c.levelSwitches,
      bytesByLevel: { http: path ? [...bySource.http] : [...c.bytesByLevel], p2p: [...bySource.p2p] },
      bandwidthEstimate: player.bandwidthEstimate(),
      connections: { ...connections },
      cpuMicros: cpu.user + cpu.system,
      rssBytes: memoryUsage.rss(),
      peerBytesByAddress: peerBytes,
      faults: faultCounters(),
      ...(stats?.uploadCap ? { uploadCap: stats.uploadCap } : {}),
      ...(stats?.uplink ? { uplink: stats.uplink } : {}),
      ...(stats?.playlistRefreshes !== undefined ? { playlistRefreshes: stats.playlistRefreshes } : {}),
      ...(stats?.liveEdge ? { liveEdge: stats.liveEdge } : {}),
      ...(stats?.adaptiveLatency ? { adaptiveLatency: stats.adaptiveLatency } : {}),
      ...(httpCauses ? { httpCauses: structuredClone(httpCauses.counts) } : {}),
      resources: resources(),
      stallLog: stallLog(),
    };
  };
  /** A stall's trace is kept once the stall is over (the segment's steps are forgotten later). */
  const tracedStalls = new Map<number, TracedStall>();
  function stallLog(): TracedStall[] {
    return player.stallLog.map((stall) => {
      const kept = tracedStalls.get(stall.at);
      if (kept) return kept;
      const traced = { ...stall, trace: stall.url ? trace.describe(stall.url, stall.at) : [] };
      if (stall.durationMs !== null) {
        tracedStalls.set(stall.at, traced);
        if (tracedStalls.size > 40) tracedStalls.delete(tracedStalls.keys().next().value as number);
      }
      return traced;
    });
  }
  /**
   * The heap after a full collection, taken once a minute: heapUsed between collections counts
   * garbage V8 has not yet swept, and V8 lets that grow with the allocation rate (an uploading
   * viewer's), which reads as a leak when there is none.
   */
  let settledHeap: { at: number; bytes: number } | undefined;
  function settledHeapBytes(): number {
    const now = Date.now();
    if (!settledHeap || now - settledHeap.at >= HEAP_SETTLE_INTERVAL_MS) {
      (globalThis as { gc?: () => void }).gc?.();
      settledHeap = { at: now, bytes: memoryUsage().heapUsed };
    }
    return settledHeap.bytes;
  }
  function resources(): ViewerResources {
    const storage = path?.sdkStats?.().storage ?? null;
    return {
      heapUsedBytes: settledHeapBytes(),
      timers: process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length,
      storeSegments: storage ? storage.segments + storage.pending : null,
      storeBytes: storage ? storage.bytes : null,
    };
  }
  function faultCounters(): FaultCounters {
    const stats = path?.sdkStats?.();
    return {
      errorsByKind: { ...faults.errorsByKind },
      loadFailures: player.counters.loadErrors,
      unhandledRejections: faults.unhandledRejections,
      consoleErrors: faults.consoleErrors,
      ...(stats
        ? {
            tracker: { errors: stats.tracker.errors, reconnects: stats.tracker.reconnects },
            integrity: {
              failures: stats.integrity.failures,
              bannedPeers: stats.integrity.bannedPeers,
              failuresByPeer: { ...stats.integrity.failuresByPeer },
            },
            peerIds: stats.peers.map((p) => p.id),
            cdn: {
              failures: stats.cdn.failures,
              outageMs: stats.cdn.outageMs,
              peerSegmentsDuringOutage: stats.cdn.peerSegmentsDuringOutage,
            },
          }
        : {}),
      ...(mediaCheck ? { media: { ...mediaCheck.counts, last: [...mediaCheck.mismatches] } } : {}),
      ...(config.role === "liar" ? { corruptedServed: faults.corruptedServed } : {}),
    };
  }
  const write = () => process.stdout.write(JSON.stringify({ type: "sample", snapshot: snapshot() }) + "\n");
  // Each sample carries the per-address traffic read at the one before (getStats is asynchronous).
  const timer = setInterval(() => {
    write();
    void traffic.read().then((bytes) => (peerBytes = bytes));
  }, config.sampleIntervalMs);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    write();
    player.stop();
    path?.destroy();
    setTimeout(() => process.exit(0), 100).unref();
  };
  process.once("SIGTERM", end);
  process.once("SIGINT", end);
  process.stdin.on("end", end);
  process.stdin.resume();
  write();
}

main().catch((error: unknown) => {
  process.stdout.write(
    JSON.stringify({
      type: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }) + "\n",
  );
  process.exit(1);
});
