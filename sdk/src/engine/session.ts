import {
  Core,
  type CoreConfig,
  type CoreEventMap,
  type DynamicCoreConfig,
  type StreamType,
} from "p2p-media-loader-core";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { Emitter, type SwarmcastEventMap } from "../events";
import { healthOffStats, PlaybackHealth } from "../health/playback-health";
import { IntegrityGuard } from "../integrity/guard";
import { AdaptiveLatency } from "../live/adaptive-latency";
import { LiveEdgeFetcher } from "../live/edge-fetcher";
import { playerNeedsSegment } from "../live/edge-timing";
import { PmlActivity } from "../live/pml-activity";
import type { LivePlayer } from "../live/live-player";
import type { ResolvedOptions } from "../options";
import { PlaylistRefresh } from "../live/playlist-refresh";
import { IncomingRequests } from "../peers/incoming-requests";
import type { PeerCommand } from "../peers/peer-commands";
import { PeerConnectionGuard, REFUSED_MESSAGE } from "../peers/peer-connection-guard";
import { watchTracker } from "../signaling/reconnecting-socket";
import { SegmentSizeBound } from "../peers/segment-size-bound";
import { StatsAccumulator, type SwarmcastStats } from "../stats/accumulator";
import { startStatsBeacon } from "../stats/beacon";
import { CdnHealth } from "../stats/cdn-health";
import { withAdmission } from "../upload/admission-storage";
import { UploadGovernor } from "../upload/upload-governor";
import { pmlHttpHolds, UplinkYield } from "../upload/uplink-yield";
import { version } from "../version";
import { messageOf } from "./message-of";
import { describeTrackerWarning, redactToken } from "./tracker-messages";
import { wireIdentity } from "./wire-identity";

/** Whether this runtime has WebRTC data channels. */
export function isP2PSupported(): boolean {
  return typeof RTCPeerConnection === "function";
}

/**
 * The PML object a session drives: hls.js's `HlsJsP2PEngine` in the browser, PML's `Core` in
 * Node. Both speak PML's event map; only their config accessors differ.
 */
export interface P2PCoreHandle {
  addEventListener<K extends keyof CoreEventMap>(name: K, fn: CoreEventMap[K]): void;
  removeEventListener<K extends keyof CoreEventMap>(name: K, fn: CoreEventMap[K]): void;
  applyCoreConfig(config: DynamicCoreConfig): void;
  coreConfig(): Readonly<CoreConfig>;
  destroy(): void;
}

/**
 * The SDK's live P2P logic for one player, independent of which player and which PML adapter:
 * stats and their beacon, integrity, the upload cap and per-request admission, the peer
 * connection limits, the live edge fetcher, the wire identity, and their wiring to PML's events.
 * The hls.js engine (`engine.ts`) and the Node engine (`core-engine.ts`) each add their player.
 */
export class LiveP2PSession {
  readonly emitter = new Emitter<SwarmcastEventMap>();
  readonly p2pEnabled: boolean;
  readonly stats: StatsAccumulator;
  readonly integrity: IntegrityGuard;
  readonly upload: UploadGovernor;
  readonly edge: LiveEdgeFetcher | undefined;
  /** Sizes of segments fetched over HTTP: the bound on what a peer may announce. */
  readonly segmentSizes: SegmentSizeBound;
  readonly peerGuard: PeerConnectionGuard;
  /** Holds uploads while this viewer's own CDN fetches run; undefined when off. */
  readonly uplinkYield: UplinkYield | undefined;
  /** The requests peers sent, so an upload waiting its turn is called off when its peer stops waiting. */
  readonly incomingRequests: IncomingRequests | undefined;
  /** Reloads the live playlist when a peer announces a segment it does not list yet; undefined when off. */
  readonly playlistRefresh: PlaylistRefresh | undefined;
  /** Which segments PML has an attempt running for: a player's request it stopped working on goes to the CDN. */
  readonly pmlActivity = new PmlActivity();
  /** How the CDN answered segment requests, from every path that asks it. */
  readonly cdnHealth = new CdnHealth();
  /** Adds a segment of latency when peers cannot deliver new segments in time. */
  readonly adaptiveLatency: AdaptiveLatency;
  private core: P2PCoreHandle | null = null;
  private player: LivePlayer | undefined;
  private health: PlaybackHealth | undefined;
  private readonly pmlListeners: Partial<CoreEventMap>;
  private readonly yieldListeners: Partial<CoreEventMap>;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private readonly beacon: ReturnType<typeof startStatsBeacon> | undefined;
  private readonly unwatchTrackers: Array<() => void>;
  private destroyed = false;

  constructor(private readonly resolved: ResolvedOptions) {
    this.p2pEnabled = resolved.p2p && isP2PSupported();
    this.stats = new StatsAccumulator({
      rateWindowMs: resolved.rateWindowMs,
      p2pEnabled: this.p2pEnabled,
      now: Date.now(),
    });
    this.integrity = createIntegrityGuard(resolved, this.emitter);
    this.upload = createUploadGovernor(
      resolved,
      this.p2pEnabled,
      (disabled) => this.core?.applyCoreConfig({ isP2PUploadDisabled: disabled }),
      () => this.peerGuard.takeSentBytes(),
    );
    this.segmentSizes = new SegmentSizeBound({
      maxBytes: DEFAULT_SWARMCAST_CONFIG.peerSegmentMaxBytes,
      factor: DEFAULT_SWARMCAST_CONFIG.peerSegmentSizeFactor,
      floorBytes: DEFAULT_SWARMCAST_CONFIG.peerSegmentFloorBytes,
    });
    const { maxHoldMs, passThroughBytes } = DEFAULT_SWARMCAST_CONFIG.uplinkYield;
    const yieldOptions = { maxHoldMs, passThroughBytes };
    this.uplinkYield =
      this.p2pEnabled && resolved.uplinkYield && resolved.upload !== false
        ? new UplinkYield(yieldOptions, (held) => this.upload.setUplinkHeld(held))
        : undefined;
    this.yieldListeners = this.uplinkYield ? pmlHttpHolds(this.uplinkYield) : {};
    this.incomingRequests = this.upload.ordersUploads ? new IncomingRequests() : undefined;
    this.playlistRefresh =
      this.p2pEnabled && resolved.playlistRefresh
        ? new PlaylistRefresh(DEFAULT_SWARMCAST_CONFIG.playlistRefresh)
        : undefined;
    this.peerGuard = createPeerGuard(resolved, this.segmentSizes, this.emitter, this.uplinkYield, [
      this.incomingRequests?.onPeerCommand,
      this.playlistRefresh?.onPeerCommand,
    ]);
    this.pmlListeners = createPmlListeners(this, resolved.trackers);
    this.unwatchTrackers = this.p2pEnabled ? watchTrackers(resolved, this.stats, this.emitter, this.integrity) : [];
    this.adaptiveLatency = new AdaptiveLatency(
      { ...DEFAULT_SWARMCAST_CONFIG.adaptiveLatency, enabled: resolved.adaptiveLatency },
      () => this.player,
      (addedSec, lateShare) =>
        this.emitter.emit("latency", { addedSec, totalAddedSec: this.adaptiveLatency.stats().addedSec, lateShare }),
    );
    this.edge = this.p2pEnabled ? createEdgeFetcher(resolved, this) : undefined;
    this.timer = startStatsTimer(resolved.statsIntervalMs, this.emitter, () => this.snapshot(Date.now()));
    this.beacon =
      resolved.statsBeaconUrl === undefined
        ? undefined
        : startStatsBeacon({
            url: resolved.statsBeaconUrl,
            swarm: beaconSwarm(resolved),
            intervalMs: DEFAULT_SWARMCAST_CONFIG.statsBeaconIntervalMs,
            read: () => this.snapshot(Date.now()),
          });
    if (resolved.p2p && !this.p2pEnabled) reportNoWebRtc(this.emitter);
  }

  get destroyedAlready(): boolean {
    return this.destroyed;
  }

  /**
   * PML core config: the user's, plus the SDK's wire identity, the peer connection guard,
   * integrity, the upload cap, and the segment store (the edge fetcher's or the page's) with
   * each peer's read admitted by the upload governor.
   */
  coreConfig(): Partial<CoreConfig> {
    const user = this.resolved.coreConfig;
    return {
      ...user,
      ...wireIdentity(user),
      rtcConfig: this.peerGuard.rtcConfig(user.rtcConfig),
      validateP2PSegment: this.integrity.validateP2PSegment,
      ...bothValidate(user.validateHTTPSegment, this.integrity.validateHTTPSegment),
      isP2PUploadDisabled: this.upload.initiallyDisabled,
      ...withAdmission(
        this.edge?.createStore ?? user.customSegmentStorageFactory,
        this.upload.admit,
        this.incomingRequests && ((segmentId) => this.incomingRequests?.take(segmentId)),
      ),
    };
  }

  /** Subscribes the session to the PML object built from {@link coreConfig}. */
  attachCore(core: P2PCoreHandle): void {
    this.core = core;
    for (const listeners of this.pmlListenerSets()) addListeners(core, listeners);
  }

  /** The PML listeners of the session and of each of its parts: added in attachCore, removed in destroy. */
  private pmlListenerSets(): Array<Partial<CoreEventMap>> {
    const edge = this.edge;
    const edgeSets = edge ? [edge.pmlListeners, edge.relay.pmlListeners, edge.givenUpHolders.pmlListeners] : [];
    return [this.pmlListeners, ...edgeSets, this.pmlActivity.pmlListeners, this.yieldListeners];
  }

  /** Connects the edge fetcher and integrity to the player (after PML has subscribed to it). */
  bindPlayer(player: LivePlayer): void {
    this.player = player;
    this.edge?.bindPlayer(player);
    this.playlistRefresh?.bindPlayer(player);
    if (this.p2pEnabled && this.resolved.playbackHealth) this.watchHealth(player);
    const core = this.core;
    if (core) {
      this.integrity.bindPlayer(player, (streamType: StreamType, enabled: boolean) =>
        core.applyCoreConfig({
          [streamType === "main" ? "mainStream" : "secondaryStream"]: { isP2PDisabled: !enabled },
        }),
      );
    }
  }

  /**
   * Whether the player needs the segment starting at `startSec` now: it is in PML's urgent
   * window, or the player has run dry (or is not playing yet).
   */
  needsNow(startSec: number): boolean {
    return playerNeedsSegment(this.player, startSec, this.edge?.highDemandSec ?? baseHighDemandSec(this.resolved));
  }

  /** The edge fetcher's urgent window moved with the CDN's fetch times: PML's follows. */
  setUrgentWindow(seconds: number): void {
    this.core?.applyCoreConfig({ mainStream: { highDemandTimeWindow: seconds } });
  }

  /** While the player struggles, the edge fetcher and uploads pause (health/playback-health.ts). */
  private watchHealth(player: LivePlayer): void {
    this.health?.destroy();
    this.health = new PlaybackHealth(
      DEFAULT_SWARMCAST_CONFIG.playbackHealth,
      {
        bufferAhead: () => player.bufferAhead?.(),
        frames: () => player.frames?.(),
        hidden: () => globalThis.document?.visibilityState === "hidden",
      },
      (struggling, reasons) => {
        this.edge?.setPaused(struggling);
        this.upload.setPausedForPlayback(struggling);
        this.emitter.emit("health", { state: struggling ? "struggling" : "ok", reasons });
      },
    );
    this.health.start();
  }

  /** Whether P2P is on for the main stream now (integrity can switch it off). */
  p2pActive(): boolean {
    const config = this.core?.coreConfig();
    return !!config && !config.mainStream?.isP2PDisabled;
  }

  /** A segment the player fetched over HTTP itself, outside PML. */
  countHttpSegment(url: string, bytes: number): void {
    this.cdnHealth.succeeded(Date.now());
    this.segmentSizes.note(bytes);
    this.stats.bytesDownloaded(bytes, "http", undefined, Date.now());
    this.stats.segmentLoaded("http", undefined);
    this.emitter.emit("segment", { url, bytes, source: "http" });
  }

  /** A segment request to the CDN that failed, whichever path made it. */
  countHttpFailure(url: string, reason: string): void {
    this.cdnHealth.failed(`${reason} (${url.split("?")[0]})`, Date.now());
  }

  snapshot(now: number): SwarmcastStats {
    const integrityStats = this.integrity.stats();
    return {
      version,
      ...this.stats.snapshot(now),
      integrityFailures: integrityStats.failures,
      integrity: integrityStats,
      upload: { ...this.upload.stats(), yield: this.uplinkYield?.stats() ?? null },
      peerConnections: this.peerGuard.stats(),
      health: this.health?.stats() ?? healthOffStats(),
      storage: this.edge?.storeUsage() ?? null,
      cdn: this.cdnHealth.stats(now),
      playlistRefreshes: this.playlistRefresh?.stats().refreshes ?? 0,
      liveEdge: this.edge?.stats() ?? null,
      adaptiveLatency: this.adaptiveLatency.stats(),
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.beacon?.stop();
    this.health?.destroy();
    this.integrity.destroy();
    this.upload.destroy();
    this.uplinkYield?.destroy();
    this.playlistRefresh?.unbind();
    this.peerGuard.destroy();
    for (const unwatch of this.unwatchTrackers) unwatch();
    this.edge?.destroy();
    if (this.core) {
      for (const listeners of this.pmlListenerSets()) removeListeners(this.core, listeners);
      this.core.destroy();
      this.core = null;
    }
    this.emitter.clear();
  }
}

function createIntegrityGuard(resolved: ResolvedOptions, emitter: Emitter<SwarmcastEventMap>): IntegrityGuard {
  return new IntegrityGuard(
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
}

function createUploadGovernor(
  resolved: ResolvedOptions,
  p2pEnabled: boolean,
  setUploadDisabled: (disabled: boolean) => void,
  sentBytes: () => Promise<number>,
): UploadGovernor {
  return new UploadGovernor(
    {
      upload: resolved.upload,
      minBatteryLevel: DEFAULT_SWARMCAST_CONFIG.uploadMinBatteryLevel,
      maxUploadKbps: resolved.maxUploadKbps,
      windowMs: DEFAULT_SWARMCAST_CONFIG.uploadCapWindowMs,
      tickMs: DEFAULT_SWARMCAST_CONFIG.uploadCapTickMs,
      maxChunkBytes: resolved.coreConfig.webRtcMaxMessageSize ?? Core.DEFAULT_STREAM_CONFIG.webRtcMaxMessageSize,
      initialSegmentBytes: DEFAULT_SWARMCAST_CONFIG.uploadCapInitialSegmentBytes,
      // Requests are admitted one by one where the session wraps the segment store (coreConfig()).
      perRequest: !!resolved.coreConfig.customSegmentStorageFactory || (p2pEnabled && resolved.liveEdge.enabled),
      ...(resolved.uplinkBudget
        ? {
            uplink: {
              ...DEFAULT_SWARMCAST_CONFIG.uplinkBudget,
              sentBytes,
              ...(resolved.serialUploads ? { queue: DEFAULT_SWARMCAST_CONFIG.serialUploads } : {}),
            },
          }
        : {}),
    },
    setUploadDisabled,
  );
}

type SegmentValidator = NonNullable<CoreConfig["validateHTTPSegment"]>;

/** PML's `validateHTTPSegment` from the page's and the SDK's: a segment must pass both. */
function bothValidate(
  page: SegmentValidator | undefined,
  sdk: SegmentValidator | undefined,
): Pick<CoreConfig, "validateHTTPSegment"> {
  if (!page || !sdk) return page || sdk ? { validateHTTPSegment: page ?? sdk } : {};
  return {
    validateHTTPSegment: async (url, byteRange, data) =>
      (await page(url, byteRange, data)) && (await sdk(url, byteRange, data)),
  };
}

function createPeerGuard(
  resolved: ResolvedOptions,
  segmentSizes: SegmentSizeBound,
  emitter: Emitter<SwarmcastEventMap>,
  uplinkYield: UplinkYield | undefined,
  commandListeners: Array<((channel: RTCDataChannel, command: PeerCommand) => void) | undefined>,
): PeerConnectionGuard {
  const listeners = commandListeners.filter((listener) => listener !== undefined);
  return new PeerConnectionGuard({
    maxConnections: resolved.maxPeerConnections,
    maxSegmentBytes: segmentSizes.limit,
    ...(resolved.peerChoice ? { choice: DEFAULT_SWARMCAST_CONFIG.peerChoice } : {}),
    ...(uplinkYield ? { onDataChannel: (channel: RTCDataChannel) => uplinkYield.attach(channel) } : {}),
    ...(listeners.length > 0
      ? {
          onPeerCommand: (channel: RTCDataChannel, command: PeerCommand) =>
            listeners.forEach((l) => l(channel, command)),
        }
      : {}),
    onOversize: (size, limit) =>
      emitter.emit("error", {
        kind: "peer",
        message: `a peer announced a ${size}-byte segment (limit ${limit}); peer dropped before any of it was buffered`,
        fatal: false,
        cause: { size, limit },
      }),
  });
}

/** The swarm a beacon reports for: the swarm id, else the playlist URL without its query. */
function beaconSwarm(resolved: ResolvedOptions): string {
  const id = resolved.coreConfig.swarmId;
  if (typeof id === "string" && id !== "") return id;
  return (resolved.src ?? globalThis.location?.href ?? "default").split("?")[0];
}

/** PML's events turned into stats, upload accounting and the SDK's own events. */
function createPmlListeners(session: LiveP2PSession, trackers: string[]): Partial<CoreEventMap> {
  const { stats: acc, upload, integrity, emitter, segmentSizes } = session;
  return {
    onChunkDownloaded: (bytes, source, peerId) => acc.bytesDownloaded(bytes, source, peerId, Date.now()),
    onChunkUploaded: (bytes, peerId) => {
      acc.bytesUploaded(bytes, peerId, Date.now());
      upload.onChunkUploaded(bytes, peerId);
    },
    onSegmentError: (details) => {
      integrity.onSegmentError(details);
      if (details.downloadSource === "http") session.countHttpFailure(details.segment.url, details.error.type);
    },
    onSegmentLoaded: ({ segmentUrl, bytesLength, downloadSource, peerId }) => {
      if (downloadSource === "http") session.cdnHealth.succeeded(Date.now());
      else session.cdnHealth.segmentFromPeer();
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
      const message = describeTrackerWarning(messageOf(warning), trackers);
      acc.trackerProblem("warning", message);
      emitter.emit("error", { kind: "tracker", message, fatal: false, cause: warning });
    },
  };
}

/** PML's urgent window as configured (the edge fetcher widens it when the CDN slows down). */
function baseHighDemandSec(resolved: ResolvedOptions): number {
  return (
    resolved.coreConfig.mainStream?.highDemandTimeWindow ??
    resolved.coreConfig.highDemandTimeWindow ??
    Core.DEFAULT_STREAM_CONFIG.highDemandTimeWindow
  );
}

/** The edge fetcher announces segments through its own store: a page's own store wins, without it. */
function createEdgeFetcher(resolved: ResolvedOptions, session: LiveP2PSession): LiveEdgeFetcher | undefined {
  if (!resolved.liveEdge.enabled || resolved.coreConfig.customSegmentStorageFactory) return undefined;
  return new LiveEdgeFetcher(resolved.liveEdge, baseHighDemandSec(resolved), {
    onHttpSegment: (url, bytes) => {
      session.upload.onSegmentLoaded(bytes);
      session.countHttpSegment(url, bytes);
    },
    onHttpFailure: (url, reason) => session.countHttpFailure(url, reason),
    p2pActive: () => session.p2pActive(),
    serveCopies: (durationSec) => session.upload.serveCopies(durationSec),
    onUrgentWindow: (seconds) => session.setUrgentWindow(seconds),
    cdnFailing: (withinMs) => session.cdnHealth.failedWithin(withinMs, Date.now()),
    onSegmentOutcome: (outcome, durationSec) => session.adaptiveLatency.note(outcome, durationSec),
    ...(session.uplinkYield ? { holdUplink: () => session.uplinkYield!.hold() } : {}),
  });
}

function startStatsTimer(
  intervalMs: number,
  emitter: Emitter<SwarmcastEventMap>,
  snapshot: () => SwarmcastStats,
): ReturnType<typeof setInterval> | undefined {
  if (intervalMs <= 0) return undefined;
  return setInterval(() => {
    if (emitter.listenerCount("stats") > 0) emitter.emit("stats", snapshot());
  }, intervalMs);
}

function reportNoWebRtc(emitter: Emitter<SwarmcastEventMap>): void {
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

function addListeners(core: P2PCoreHandle, listeners: Partial<CoreEventMap>): void {
  for (const [name, fn] of Object.entries(listeners)) core.addEventListener(name as keyof CoreEventMap, fn);
}

function removeListeners(core: P2PCoreHandle, listeners: Partial<CoreEventMap>): void {
  for (const [name, fn] of Object.entries(listeners)) core.removeEventListener(name as keyof CoreEventMap, fn);
}

/**
 * The tracker connections keep themselves alive (signaling/reconnecting-socket.ts): one error per
 * outage, however many attempts it takes. They also drop offers and answers from peers integrity
 * banned.
 */
function watchTrackers(
  resolved: ResolvedOptions,
  stats: StatsAccumulator,
  emitter: Emitter<SwarmcastEventMap>,
  integrity: IntegrityGuard,
): Array<() => void> {
  return resolved.trackers.map((url) =>
    watchTracker(url, {
      schedule: resolved.trackerReconnect,
      onLoss: ({ url: lost, wasConnected, retryInMs }) => {
        const retry = `retrying in ${(retryInMs / 1000).toFixed(1)} s`;
        const message = wasConnected
          ? `tracker ${redactToken(lost)} connection lost (${retry}); playing on from HTTP and connected peers`
          : `${describeTrackerWarning(`Error connecting to ${lost}`, resolved.trackers)} (${retry})`;
        stats.trackerProblem("error", message);
        emitter.emit("error", {
          kind: "tracker",
          message,
          fatal: false,
          cause: { url: redactToken(lost), wasConnected, retryInMs },
        });
      },
      onReconnect: () => stats.trackerReconnected(),
      refuses: (peerId) => integrity.isBanned(peerId),
      onRefused: () => integrity.noteBannedSignal(),
    }),
  );
}
