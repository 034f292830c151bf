// Must stay the first import: see peers/peer-connection-guard.ts.
import "../peers/install";
import Hls, { type HlsConfig } from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import { Core, type CoreEventMap } from "p2p-media-loader-core";
import { Emitter, type SwarmcastEventMap } from "../events";
import { resolveOptions, type ResolvedOptions, type SwarmcastEngineOptions } from "../options";
import { StatsAccumulator, type SwarmcastStats } from "../stats/accumulator";
import { startStatsBeacon } from "../stats/beacon";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { IntegrityGuard } from "../integrity/guard";
import { UploadGovernor } from "../upload/upload-governor";
import { withAdmission } from "../upload/admission-storage";
import { PeerConnectionGuard, REFUSED_MESSAGE } from "../peers/peer-connection-guard";
import { SegmentSizeBound } from "../peers/segment-size-bound";
import { TOKEN_QUERY_PARAM } from "../../../shared/protocol";
import { createCountingLoader } from "./counting-loader";
import { messageOf } from "./message-of";
import { LiveEdgeFetcher } from "../live/edge-fetcher";
import { version } from "../version";
import { bindDefaultSwarmId, wireIdentity } from "./wire-identity";
import { watchTracker } from "../signaling/reconnecting-socket";

/**
 * P2P delivery for an hls.js instance the page owns.
 *
 * ```ts
 * const engine = createP2PEngine({ trackers: ["wss://tracker.example"], hls: { maxBufferLength: 20 } });
 * const hls = new Hls(engine.hlsConfig);
 * engine.bindHls(hls);          // before loadSource()
 * hls.loadSource(url); hls.attachMedia(video);
 * ```
 */
export interface SwarmcastEngine {
  /** hls.js config to construct hls.js with: the SDK defaults, the `hls` option, and PML's loaders. */
  readonly hlsConfig: Partial<HlsConfig>;
  /** The PML engine, or null when P2P is off. For advanced use (dynamic config, raw events). */
  readonly p2pEngine: HlsJsP2PEngine | null;
  /** Whether peer-to-peer delivery is on. */
  readonly p2pEnabled: boolean;
  /** Connects the engine to the hls.js instance built from {@link hlsConfig}. Call before `loadSource`. */
  bindHls(hls: Hls): void;
  stats(): SwarmcastStats;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): () => void;
  off<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): void;
  /** Closes peers and the tracker connection, stops timers, drops listeners. Idempotent. */
  destroy(): void;
}

/**
 * A browser cannot read why a WebSocket upgrade was refused (the HTTP 401/403 body is hidden),
 * so "Error connecting to <url>" is all PML reports. Says what it likely means, without
 * repeating the access token into logs.
 */
function describeTrackerWarning(message: string, trackers: string[]): string {
  const connecting = /^Error connecting to (\S+)/.exec(message);
  if (!connecting) return `tracker warning: ${redactToken(message)}`;
  const url = redactToken(connecting[1]);
  const sentToken = trackers.some((t) => new URL(t).searchParams.has(TOKEN_QUERY_PARAM));
  return (
    `tracker ${url} unreachable or refused the connection ` +
    (sentToken
      ? "(a private tracker refuses a forged or expired token: check the token option)"
      : "(a private tracker refuses viewers without a token: set the token option)") +
    "; playing on from HTTP"
  );
}

function redactToken(text: string): string {
  return text.replace(new RegExp(`([?&]${TOKEN_QUERY_PARAM}=)[^&\\s]*`, "g"), "$1…");
}

/** Whether this browser has WebRTC data channels. */
export function isP2PSupported(): boolean {
  return typeof RTCPeerConnection === "function";
}

/** Builds an engine from options already validated (shared by {@link createP2PEngine} and `attach`). */
export function createEngineFromResolved(resolved: ResolvedOptions): SwarmcastEngine {
  const emitter = new Emitter<SwarmcastEventMap>();
  const p2pWanted = resolved.p2p;
  const p2pEnabled = p2pWanted && isP2PSupported();
  const acc = new StatsAccumulator({
    rateWindowMs: resolved.rateWindowMs,
    p2pEnabled,
    now: Date.now(),
  });
  let destroyed = false;

  const integrity = new IntegrityGuard(
    {
      mode: resolved.integrity,
      mapUrl: resolved.integrityMap,
      maxTagEntries: DEFAULT_SWARMCAST_CONFIG.integrityMaxTagEntries,
      spotCheck: { share: resolved.spotCheck, rangeBytes: DEFAULT_SWARMCAST_CONFIG.spotCheckBytes },
    },
    (problem) => {
      if (problem.console) console.warn(`Swarmcast: ${problem.message}`);
      emitter.emit("error", {
        kind: "integrity",
        message: problem.message,
        fatal: false,
        cause: { url: problem.url, peerId: problem.peerId },
      });
    },
  );
  const upload = new UploadGovernor(
    {
      upload: resolved.upload,
      minBatteryLevel: DEFAULT_SWARMCAST_CONFIG.uploadMinBatteryLevel,
      maxUploadKbps: resolved.maxUploadKbps,
      windowMs: DEFAULT_SWARMCAST_CONFIG.uploadCapWindowMs,
      tickMs: DEFAULT_SWARMCAST_CONFIG.uploadCapTickMs,
      maxChunkBytes: resolved.coreConfig.webRtcMaxMessageSize ?? Core.DEFAULT_STREAM_CONFIG.webRtcMaxMessageSize,
      initialSegmentBytes: DEFAULT_SWARMCAST_CONFIG.uploadCapInitialSegmentBytes,
      // Requests are admitted one by one where the SDK wraps the segment store (see below).
      perRequest: !!resolved.coreConfig.customSegmentStorageFactory || (p2pEnabled && resolved.liveEdge.enabled),
    },
    (disabled) => p2pEngine?.applyDynamicConfig({ core: { isP2PUploadDisabled: disabled } }),
  );
  const segmentSizes = new SegmentSizeBound({
    maxBytes: DEFAULT_SWARMCAST_CONFIG.peerSegmentMaxBytes,
    factor: DEFAULT_SWARMCAST_CONFIG.peerSegmentSizeFactor,
    floorBytes: DEFAULT_SWARMCAST_CONFIG.peerSegmentFloorBytes,
  });
  const peerGuard = new PeerConnectionGuard({
    maxConnections: resolved.maxPeerConnections,
    maxSegmentBytes: segmentSizes.limit,
    onOversize: (size, limit) =>
      emitter.emit("error", {
        kind: "peer",
        message: `a peer announced a ${size}-byte segment (limit ${limit}); peer dropped before any of it was buffered`,
        fatal: false,
        cause: { size, limit },
      }),
  });
  // The tracker connections keep themselves alive (tracker/reconnecting-socket.ts): one error
  // per outage, however many attempts it takes.
  const unwatchTrackers = p2pEnabled
    ? resolved.trackers.map((url) =>
        watchTracker(url, {
          schedule: resolved.trackerReconnect,
          onLoss: ({ url: lost, wasConnected, retryInMs }) => {
            const retry = `retrying in ${(retryInMs / 1000).toFixed(1)} s`;
            const message = wasConnected
              ? `tracker ${redactToken(lost)} connection lost (${retry}); playing on from HTTP and connected peers`
              : `${describeTrackerWarning(`Error connecting to ${lost}`, resolved.trackers)} (${retry})`;
            acc.trackerProblem("error", message);
            emitter.emit("error", {
              kind: "tracker",
              message,
              fatal: false,
              cause: { url: redactToken(lost), wasConnected, retryInMs },
            });
          },
          onReconnect: () => acc.trackerReconnected(),
        }),
      )
    : [];
  const snapshot = (now: number): SwarmcastStats => {
    const integrityStats = integrity.stats();
    return {
      version,
      ...acc.snapshot(now),
      integrityFailures: integrityStats.failures,
      integrity: integrityStats,
      upload: upload.stats(),
      peerConnections: peerGuard.stats(),
    };
  };

  const baseLoader = resolved.hlsConfig.loader ?? Hls.DefaultConfig.loader;
  const loader = createCountingLoader(baseLoader, (url, bytes) => {
    segmentSizes.note(bytes);
    const now = Date.now();
    acc.bytesDownloaded(bytes, "http", undefined, now);
    acc.segmentLoaded("http", undefined);
    emitter.emit("segment", { url, bytes, source: "http" });
  });

  let p2pEngine: HlsJsP2PEngine | null = null;
  const pmlListeners: Partial<CoreEventMap> = {
    onChunkDownloaded: (bytes, source, peerId) => acc.bytesDownloaded(bytes, source, peerId, Date.now()),
    onChunkUploaded: (bytes, peerId) => {
      acc.bytesUploaded(bytes, peerId, Date.now());
      upload.onChunkUploaded(bytes, peerId);
    },
    onSegmentError: integrity.onSegmentError,
    onSegmentLoaded: ({ segmentUrl, bytesLength, downloadSource, peerId }) => {
      upload.onSegmentLoaded(bytesLength);
      if (downloadSource === "http") segmentSizes.note(bytesLength);
      acc.segmentLoaded(downloadSource, peerId);
      emitter.emit("segment", {
        url: segmentUrl,
        bytes: bytesLength,
        source: downloadSource,
        ...(peerId !== undefined ? { peerId } : {}),
      });
    },
    onPeerConnect: ({ peerId, streamType }) => {
      acc.peerConnected(peerId, Date.now());
      upload.onPeerConnect(peerId);
      emitter.emit("peer-connect", { peerId, streamType });
    },
    onPeerClose: ({ peerId, streamType }) => {
      acc.peerClosed(peerId);
      upload.onPeerClose(peerId);
      emitter.emit("peer-close", { peerId, streamType });
    },
    onPeerError: ({ peerId, error }) => {
      emitter.emit("error", {
        kind: "peer",
        message: `peer ${peerId}: ${messageOf(error)}`,
        fatal: false,
        cause: error,
      });
    },
    onTrackerError: ({ error }) => {
      const message = `tracker error: ${redactToken(messageOf(error))}; playing on from HTTP`;
      acc.trackerProblem("error", message);
      emitter.emit("error", { kind: "tracker", message, fatal: false, cause: error });
    },
    onTrackerWarning: ({ warning }) => {
      // An offer refused at the connection cap: counted in stats, not a tracker problem.
      if (messageOf(warning).includes(REFUSED_MESSAGE)) return;
      const message = describeTrackerWarning(messageOf(warning), resolved.trackers);
      acc.trackerProblem("warning", message);
      emitter.emit("error", { kind: "tracker", message, fatal: false, cause: warning });
    },
  };

  // The edge fetcher announces segments through its own store: a page's own store wins, without it.
  const edge =
    p2pEnabled && resolved.liveEdge.enabled && !resolved.coreConfig.customSegmentStorageFactory
      ? new LiveEdgeFetcher(
          resolved.liveEdge,
          resolved.coreConfig.mainStream?.highDemandTimeWindow ??
            resolved.coreConfig.highDemandTimeWindow ??
            Core.DEFAULT_STREAM_CONFIG.highDemandTimeWindow,
          {
            onHttpSegment: (url, bytes) => {
              segmentSizes.note(bytes);
              const now = Date.now();
              acc.bytesDownloaded(bytes, "http", undefined, now);
              acc.segmentLoaded("http", undefined);
              upload.onSegmentLoaded(bytes);
              emitter.emit("segment", { url, bytes, source: "http" });
            },
            p2pActive: () => {
              const core = p2pEngine?.getConfig().core;
              return !!core && !core.mainStream?.isP2PDisabled;
            },
          },
        )
      : undefined;

  let hlsConfig: Partial<HlsConfig>;
  if (p2pEnabled) {
    p2pEngine = new HlsJsP2PEngine({
      core: {
        ...resolved.coreConfig,
        ...wireIdentity(resolved.coreConfig),
        rtcConfig: peerGuard.rtcConfig(resolved.coreConfig.rtcConfig),
        validateP2PSegment: integrity.validateP2PSegment,
        isP2PUploadDisabled: upload.initiallyDisabled,
        ...withAdmission(edge?.createStore ?? resolved.coreConfig.customSegmentStorageFactory, upload.admit),
      },
    });
    for (const [name, fn] of Object.entries(pmlListeners)) {
      p2pEngine.addEventListener(name as keyof CoreEventMap, fn);
    }
    for (const [name, fn] of Object.entries(edge?.pmlListeners ?? {})) {
      p2pEngine.addEventListener(name as keyof CoreEventMap, fn);
    }
    const { fLoader, pLoader } = p2pEngine.getConfigForHlsJs();
    hlsConfig = {
      ...resolved.hlsConfig,
      loader,
      fLoader: (edge
        ? edge.wrapFragmentLoader(fLoader as NonNullable<HlsConfig["fLoader"]>)
        : fLoader) as HlsConfig["fLoader"],
      pLoader: pLoader as HlsConfig["pLoader"],
    };
  } else {
    hlsConfig = { ...resolved.hlsConfig, loader };
    if (p2pWanted) {
      // Reported once listeners had a chance to subscribe.
      queueMicrotask(() =>
        emitter.emit("error", {
          kind: "peer",
          message: "WebRTC is not available in this browser; playing from HTTP only",
          fatal: false,
          cause: undefined,
        }),
      );
    }
  }

  const timer =
    resolved.statsIntervalMs > 0
      ? setInterval(() => {
          if (emitter.listenerCount("stats") > 0) emitter.emit("stats", snapshot(Date.now()));
        }, resolved.statsIntervalMs)
      : undefined;

  const beacon =
    resolved.statsBeaconUrl === undefined
      ? undefined
      : startStatsBeacon({
          url: resolved.statsBeaconUrl,
          swarm: beaconSwarm(resolved),
          intervalMs: DEFAULT_SWARMCAST_CONFIG.statsBeaconIntervalMs,
          read: () => snapshot(Date.now()),
        });

  let boundHls: Hls | null = null;
  return {
    hlsConfig,
    p2pEngine,
    p2pEnabled,
    bindHls(hls: Hls) {
      if (destroyed) throw new Error("Swarmcast: bindHls() on a destroyed engine");
      if (boundHls && boundHls !== hls) {
        throw new Error(
          "Swarmcast: this engine is already bound to another hls.js instance; create one engine per instance",
        );
      }
      boundHls = hls;
      p2pEngine?.bindHls(hls);
      if (p2pEngine && resolved.coreConfig.swarmId === undefined) bindDefaultSwarmId(hls, p2pEngine);
      edge?.bindHls(hls);
      if (p2pEngine) {
        const engine = p2pEngine;
        integrity.bindHls(hls, (streamType, enabled) =>
          engine.applyDynamicConfig({
            core: { [streamType === "main" ? "mainStream" : "secondaryStream"]: { isP2PDisabled: !enabled } },
          }),
        );
      }
    },
    stats: () => snapshot(Date.now()),
    on: (event, fn) => emitter.on(event, fn),
    off: (event, fn) => emitter.off(event, fn),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (timer !== undefined) clearInterval(timer);
      beacon?.stop();
      integrity.destroy();
      upload.destroy();
      peerGuard.destroy();
      for (const unwatch of unwatchTrackers) unwatch();
      edge?.destroy();
      if (p2pEngine) {
        for (const [name, fn] of Object.entries(pmlListeners)) {
          p2pEngine.removeEventListener(name as keyof CoreEventMap, fn);
        }
        for (const [name, fn] of Object.entries(edge?.pmlListeners ?? {})) {
          p2pEngine.removeEventListener(name as keyof CoreEventMap, fn);
        }
        p2pEngine.destroy();
      }
      emitter.clear();
      boundHls = null;
    },
  };
}

/**
 * P2P for a page that builds its own hls.js instance: validates `options`
 * (see {@link SwarmcastEngineOptions}) and returns a {@link SwarmcastEngine}.
 */
export function createP2PEngine(options: SwarmcastEngineOptions): SwarmcastEngine {
  return createEngineFromResolved(resolveOptions(options, { requireSrc: false }));
}

/** The swarm a beacon reports for: the swarm id, else the playlist URL without its query. */
function beaconSwarm(resolved: ResolvedOptions): string {
  const id = resolved.coreConfig.swarmId;
  if (typeof id === "string" && id !== "") return id;
  return (resolved.src ?? globalThis.location?.href ?? "default").split("?")[0];
}
