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
import { cpuUsage, memoryUsage } from "node:process";
import "../../devkit/pages/lying-storage.js";
import type { LoadedSegment, PlaylistSegment, SwarmcastEngineOptions } from "../../sdk/src/engine-entry";
import { hlsDefaults, withPmlAdjustments, type SimulatedPlayerConfig } from "./player-config";
import { SimulatedPlayer } from "./simulated-player";
import { installWebRtc, PeerTraffic, type BytesByAddress, type ConnectionCounts } from "./webrtc-probe";
import type { FaultCounters, VirtualSnapshot, VirtualViewerConfig } from "./virtual-protocol";

type EngineModule = typeof import("../../sdk/src/engine-entry");

/** PML's stock urgent window (p2p-media-loader-core's default `highDemandTimeWindow`). */
const PML_HIGH_DEMAND_SEC = 15;

/** The SDK options of a mode: the SDK's own, or stock PML's under the same player. */
function engineOptions(config: VirtualViewerConfig, onCorruptedServed: () => void): SwarmcastEngineOptions {
  const base = { trackers: config.trackers, swarmId: config.swarmId, iceServers: config.iceServers };
  if (config.mode === "pml-defaults") {
    return {
      ...base,
      liveEdge: { enabled: false },
      integrity: "off",
      core: { highDemandTimeWindow: PML_HIGH_DEMAND_SEC },
    };
  }
  const options: SwarmcastEngineOptions = { ...base, ...(config.sdkOptions as Partial<SwarmcastEngineOptions>) };
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
  const loadEngine = async () => (await import(config.engineModule)) as EngineModule;
  if (config.mode === "swarmcast")
    playerConfig.liveSyncDurationCount = (await loadEngine()).DEFAULT_SWARMCAST_CONFIG.hls.liveSyncDurationCount;

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
  const noteError = (message: string) => {
    errorCount++;
    errors.push(message.slice(0, 200));
    if (errors.length > 5) errors.shift();
  };

  let engine: import("../../sdk/src/engine-entry").LiveEngine | undefined;
  let load: (segment: PlaylistSegment) => Promise<LoadedSegment>;
  if (config.mode === "http-only") {
    load = async (segment) => {
      const started = performance.now();
      const response = await fetch(segment.url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.arrayBuffer();
      http.bytes += data.byteLength;
      return { data, bandwidthBps: (data.byteLength * 8 * 1000) / Math.max(1, performance.now() - started) };
    };
  } else {
    const { createLiveEngine } = await loadEngine();
    const live = createLiveEngine(engineOptions(config, () => faults.corruptedServed++));
    engine = live;
    load = (segment) => live.loadSegment(segment);
    live.on("error", (e) => {
      faults.errorsByKind[e.kind] = (faults.errorsByKind[e.kind] ?? 0) + 1;
      noteError(`${e.kind}: ${e.message}`);
    });
  }

  const consume: typeof load = mediaCheck
    ? async (segment) => {
        const loaded = await load(segment);
        mediaCheck.check(segment.url, loaded.data, sources.get(segment.url) ?? "unknown");
        return loaded;
      }
    : load;
  const player = new SimulatedPlayer(config.manifestUrl, playerConfig, consume);
  const renditions = await loadManifestRetrying(player);
  const levelOf = (url: string): number => {
    const index = renditions.findIndex((r) => url.startsWith(r.url.slice(0, r.url.lastIndexOf("/") + 1)));
    return index < 0 ? 0 : index;
  };
  const add = (list: number[], level: number, bytes: number) => (list[level] = (list[level] ?? 0) + bytes);
  if (engine) {
    engine.on("segment", ({ url, bytes, source, peerId }) => {
      add(source === "http" ? bySource.http : bySource.p2p, levelOf(url), bytes);
      if (mediaCheck) {
        sources.set(url, peerId ? `${source} ${peerId}` : source);
        if (sources.size > 50) sources.delete(sources.keys().next().value as string);
      }
    });
    if (config.logUploads) {
      engine.core?.addEventListener("onChunkUploaded", (bytes, peerId) =>
        process.stdout.write(JSON.stringify({ type: "upload", at: Date.now(), bytes, peerId }) + "\n"),
      );
    }
    engine.setManifest(config.manifestUrl, renditions);
    engine.bindPlayer(player);
  }
  const highDemand =
    config.mode === "pml-defaults"
      ? PML_HIGH_DEMAND_SEC
      : (engine?.core?.getConfig().mainStream.highDemandTimeWindow ?? 0);
  await player.start((playlist, current) =>
    config.mode === "http-only"
      ? current
      : withPmlAdjustments(
          current,
          { maxBufferLength: false, liveSyncDurationCount: config.mode === "swarmcast" },
          { targetDuration: playlist.targetDuration, segments: playlist.segments.length },
          highDemand,
        ),
  );

  const snapshot = (): VirtualSnapshot => {
    const now = Date.now();
    const c = player.counters;
    const stats = engine?.stats();
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
      peers: stats ? stats.peers.length : 0,
      latency: player.latency(),
      hlsFatal: 0,
      hlsNonFatal: c.loadErrors,
      playerErrors: errorCount,
      recentErrors: c.lastLoadError ? [...errors, `segment load: ${c.lastLoadError}`] : [...errors],
      level: player.level,
      levelSwitches: c.levelSwitches,
      bytesByLevel: { http: engine ? [...bySource.http] : [...c.bytesByLevel], p2p: [...bySource.p2p] },
      bandwidthEstimate: player.bandwidthEstimate(),
      connections: { ...connections },
      cpuMicros: cpu.user + cpu.system,
      rssBytes: memoryUsage.rss(),
      peerBytesByAddress: peerBytes,
      faults: faultCounters(),
      ...(stats
        ? {
            uploadCap: {
              capKbps: stats.upload.capKbps,
              limitedCount: stats.upload.limitedCount,
              refusedRequests: stats.upload.refusedRequests,
            },
          }
        : {}),
    };
  };
  function faultCounters(): FaultCounters {
    const stats = engine?.stats();
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
    engine?.destroy();
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
