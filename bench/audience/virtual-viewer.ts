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
import { cpuUsage, memoryUsage } from "node:process";
import type { LoadedSegment, PlaylistSegment, Rendition, SwarmcastEngineOptions } from "../../sdk/src/engine-entry";
import { hlsDefaults, withPmlAdjustments, type SimulatedPlayerConfig } from "./player-config";
import { SimulatedPlayer } from "./simulated-player";
import { installWebRtc, PeerTraffic, type BytesByAddress, type ConnectionCounts } from "./webrtc-probe";
import type { VirtualSnapshot, VirtualViewerConfig } from "./virtual-protocol";

type EngineModule = typeof import("../../sdk/src/engine-entry");
type StockPmlModule = typeof import("./stock-pml");

/** The P2P path of a mode as the viewer drives it: the SDK's engine, or stock PML. */
interface P2PPath {
  setManifest(manifestUrl: string, renditions: Rendition[]): void;
  bindPlayer(player: SimulatedPlayer): void;
  loadSegment(segment: PlaylistSegment): Promise<LoadedSegment>;
  onSegment(listener: (event: { url: string; bytes: number; source: string }) => void): void;
  onChunkUploaded(listener: (bytes: number, peerId: string) => void): void;
  /** PML's urgent window, seconds (how far ahead hls.js may buffer under PML). */
  highDemandSec(): number;
  stats(): Pick<VirtualSnapshot, "httpBytes" | "p2pBytes" | "uploadedBytes" | "peers" | "uploadCap">;
  destroy(): void;
}

async function swarmcastPath(config: VirtualViewerConfig, noteError: (message: string) => void): Promise<P2PPath> {
  const { createLiveEngine } = (await import(config.engineModule)) as EngineModule;
  const engine = createLiveEngine({
    trackers: config.trackers,
    swarmId: config.swarmId,
    iceServers: config.iceServers,
    ...(config.sdkOptions as Partial<SwarmcastEngineOptions>),
  });
  engine.on("error", (e) => noteError(`${e.kind}: ${e.message}`));
  return {
    setManifest: (url, renditions) => engine.setManifest(url, renditions),
    bindPlayer: (player) => engine.bindPlayer(player),
    loadSegment: (segment) => engine.loadSegment(segment),
    onSegment: (listener) => engine.on("segment", listener),
    onChunkUploaded: (listener) => engine.core?.addEventListener("onChunkUploaded", listener),
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
      };
    },
    destroy: () => engine.destroy(),
  };
}

async function stockPmlPath(config: VirtualViewerConfig, noteError: (message: string) => void): Promise<P2PPath> {
  const { StockPmlEngine } = (await import(config.stockPmlModule)) as StockPmlModule;
  const pml = new StockPmlEngine(
    { trackers: config.trackers, swarmId: config.swarmId, iceServers: config.iceServers },
    noteError,
  );
  return {
    setManifest: (url, renditions) => pml.setManifest(url, renditions),
    bindPlayer: (player) => pml.bindPlayer(player),
    loadSegment: (segment) => pml.loadSegment(segment),
    onSegment: (listener) => pml.onSegment(listener),
    onChunkUploaded: (listener) => pml.core.addEventListener("onChunkUploaded", listener),
    highDemandSec: () => pml.core.getConfig().mainStream.highDemandTimeWindow,
    stats: () => pml.stats(),
    destroy: () => pml.destroy(),
  };
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
  if (config.mode === "swarmcast")
    playerConfig.liveSyncDurationCount = (
      (await import(config.engineModule)) as EngineModule
    ).DEFAULT_SWARMCAST_CONFIG.hls.liveSyncDurationCount;

  const http = { bytes: 0 };
  const bySource = { http: [] as number[], p2p: [] as number[] };
  const errors: string[] = [];
  let errorCount = 0;
  const noteError = (message: string) => {
    errorCount++;
    errors.push(message.slice(0, 200));
    if (errors.length > 5) errors.shift();
  };

  const path =
    config.mode === "swarmcast"
      ? await swarmcastPath(config, noteError)
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

  const player = new SimulatedPlayer(config.manifestUrl, playerConfig, load);
  const renditions = await player.loadManifest();
  const levelOf = (url: string): number => {
    const index = renditions.findIndex((r) => url.startsWith(r.url.slice(0, r.url.lastIndexOf("/") + 1)));
    return index < 0 ? 0 : index;
  };
  const add = (list: number[], level: number, bytes: number) => (list[level] = (list[level] ?? 0) + bytes);
  if (path) {
    path.onSegment(({ url, bytes, source }) =>
      add(source === "p2p" ? bySource.p2p : bySource.http, levelOf(url), bytes),
    );
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
          { maxBufferLength: false, liveSyncDurationCount: config.mode === "swarmcast" },
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
      ...(stats?.uploadCap ? { uploadCap: stats.uploadCap } : {}),
    };
  };
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
