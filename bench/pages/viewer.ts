/**
 * One bench viewer inside a Chromium page: plays the live stream in one of the bench modes and
 * keeps cumulative counters that the bench polls with `benchViewer.snapshot()`. Every figure is
 * cumulative since start(), so the bench can take deltas over any window.
 */

import type Hls from "hls.js";
import type * as SwarmcastModule from "../../sdk/src/index";
import type * as BenchPmlModule from "./pml-page";

export type ViewerMode = "http-only" | "pml-defaults" | "swarmcast";

export interface ViewerConfig {
  mode: ViewerMode;
  /** Live playlist URL carrying this viewer's client id. */
  src: string;
  trackers: string[];
  swarmId: string;
  /** Script providing the player: the swarmcast IIFE build, or the bench's PML bundle. */
  libUrl: string;
  /** swarmcast mode: the options given to Swarmcast.attach besides src. */
  sdkOptions?: Record<string, unknown>;
  /** STUN/TURN servers of the emulated network (none on loopback). */
  iceServers?: RTCIceServer[];
}

export interface ViewerSnapshot {
  /** Epoch ms of this snapshot. */
  at: number;
  startedAt: number;
  /** Epoch ms of the first rendered frame, or null before it. */
  firstFrameAt: number | null;
  /** First frame rendered, not paused, not stalled. */
  playing: boolean;
  /** Stalls after the first frame (waiting → playing). */
  stalls: number;
  /** Stalled milliseconds after the first frame, the running stall included. */
  stalledMs: number;
  /** Milliseconds since the first frame. */
  watchMs: number;
  /** Segment bytes received over HTTP. */
  httpBytes: number;
  /** Segment bytes received from peers. */
  p2pBytes: number;
  /** Segment bytes sent to peers. */
  uploadedBytes: number;
  peers: number;
  /** hls.js distance to the live edge in seconds, or null before it is known. */
  latency: number | null;
  /** Seconds between now and the program date-time at the playhead (the origin's clock), or null before it is known. */
  clockLatency?: number | null;
  /** Virtual viewers: how long after the newest listed segment's publication the first playlist load came back, s. */
  startLagSec?: number | null;
  hlsFatal: number;
  hlsNonFatal: number;
  /** SDK `error` events (swarmcast mode) or PML segment/peer/tracker errors (pml-defaults). */
  playerErrors: number;
  /** Last few error texts, newest last. */
  recentErrors: string[];
  /** hls.js `loadLevel` (the rendition being loaded), null before hls.js picked one. */
  level?: number | null;
  /** Rendition changes of hls.js (`LEVEL_SWITCHED` after the first). */
  levelSwitches?: number;
  /** Segment bytes per rendition index, whatever their source (hls.js `FRAG_LOADED`). */
  segmentBytesByLevel?: number[];
  /** hls.js bandwidth estimate, bit/s. */
  bandwidthEstimate?: number;
  /** SDK `error` events by kind (swarmcast mode), hls.js errors by type otherwise. */
  errorsByKind?: Record<string, number>;
  /** The SDK's tracker and integrity counters (swarmcast mode). */
  tracker?: { errors: number; reconnects: number };
  integrity?: { failures: number; bannedPeers: number; failuresByPeer: Record<string, number> };
  /** Remote peer ids connected now (swarmcast mode). */
  peerIds?: string[];
  /** The SDK's view of the CDN (`stats().cdn`, swarmcast mode). */
  cdn?: { failures: number; outageMs: number; peerSegmentsDuringOutage: number };
  /** Timers the page has pending (timeouts not yet run, intervals not cleared). */
  timers?: number;
  /** The SDK's latency steps (`stats().adaptiveLatency`, swarmcast mode). */
  adaptiveLatency?: SwarmcastModule.AdaptiveLatencyStats;
  /** The SDK's live segment store (`stats().storage`, swarmcast mode). */
  storage?: { segments: number; pending: number; bytes: number } | null;
  /**
   * Milliseconds from the player's start to the first time each step of hls.js's start happened
   * (`manifest`, `level`: the first media playlist, whose edge sets the start position;
   * `fragLoading`, `fragLoaded`, `fragBuffered`: the first segment; `frame`: the first frame).
   */
  startSteps?: Partial<Record<StartStep, number>>;
}

/** The steps of a player's start the page times. */
export type StartStep = "manifest" | "level" | "fragLoading" | "fragLoaded" | "fragBuffered" | "frame";

/** What the page plays with, for the record. */
export interface ViewerVersions {
  hls: string;
  /** The SDK's version in the swarmcast and http-only modes. */
  swarmcast: string | null;
}

declare global {
  interface Window {
    /** The SDK's script-tag build (swarmcast and http-only modes). */
    Swarmcast?: typeof SwarmcastModule;
    /** The bench's PML bundle (pml-defaults mode). */
    BenchPml?: typeof BenchPmlModule;
    benchViewer: {
      start(config: ViewerConfig): Promise<ViewerVersions>;
      snapshot(): ViewerSnapshot;
      stop(): void;
    };
  }
}

const RECENT_ERRORS = 5;

/**
 * Counts the page's pending timers. Installed before the player's script loads, so every timer
 * hls.js, PML and the SDK set goes through it; a soak watches the count for leaks.
 */
function countTimers(): () => number {
  const pending = new Set<number>();
  const setT = window.setTimeout.bind(window);
  const clearT = window.clearTimeout.bind(window);
  const setI = window.setInterval.bind(window);
  const clearI = window.clearInterval.bind(window);
  window.setTimeout = ((handler: TimerHandler, ms?: number, ...args: unknown[]) => {
    if (typeof handler !== "function") return setT(handler, ms, ...args);
    const id: number = setT(
      (...a: unknown[]) => {
        pending.delete(id);
        (handler as (...x: unknown[]) => void)(...a);
      },
      ms,
      ...args,
    );
    pending.add(id);
    return id;
  }) as typeof window.setTimeout;
  window.setInterval = ((handler: TimerHandler, ms?: number, ...args: unknown[]) => {
    const id = setI(handler, ms, ...args);
    pending.add(id);
    return id;
  }) as typeof window.setInterval;
  // Either clear function clears either kind of timer.
  window.clearTimeout = ((id?: number) => {
    if (id !== undefined) pending.delete(id);
    clearT(id);
  }) as typeof window.clearTimeout;
  window.clearInterval = ((id?: number) => {
    if (id !== undefined) pending.delete(id);
    clearI(id);
  }) as typeof window.clearInterval;
  return () => pending.size;
}

const pendingTimers = countTimers();

class Viewer {
  private readonly video: HTMLVideoElement;
  private startedAt = 0;
  private firstFrameAt: number | null = null;
  private readonly startSteps: NonNullable<ViewerSnapshot["startSteps"]> = {};
  private stalls = 0;
  private stalledMs = 0;
  private stallStartedAt: number | null = null;
  private http = 0;
  private p2p = 0;
  private uploaded = 0;
  private peerCount = 0;
  private hlsFatal = 0;
  private hlsNonFatal = 0;
  private playerErrors = 0;
  private readonly recentErrors: string[] = [];
  private readonly errorsByKind: Record<string, number> = {};
  private readonly bytesByLevel: number[] = [];
  private levelSwitches = -1;
  private hls: Hls | null = null;
  private player: SwarmcastModule.SwarmcastPlayer | null = null;

  constructor() {
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.width = 320;
    document.body.append(this.video);
    this.watchPlayback();
  }

  async start(config: ViewerConfig): Promise<ViewerVersions> {
    await loadScript(config.libUrl);
    this.startedAt = Date.now();
    if (config.mode === "swarmcast") this.startSwarmcast(config);
    else if (config.mode === "pml-defaults") this.startPml(config);
    else this.startHttpOnly(config);
    this.video.play().catch(() => undefined);
    const Hls = config.mode === "pml-defaults" ? window.BenchPml?.Hls : window.Swarmcast?.Hls;
    return {
      hls: Hls?.version ?? "unknown",
      swarmcast: config.mode === "pml-defaults" ? null : (window.Swarmcast?.version ?? null),
    };
  }

  stop(): void {
    if (this.player) this.player.destroy();
    else this.hls?.destroy();
  }

  snapshot(): ViewerSnapshot {
    const now = Date.now();
    const running = this.stallStartedAt === null ? 0 : now - this.stallStartedAt;
    let latency: number | null = null;
    if (this.hls && this.firstFrameAt !== null) {
      const value = this.hls.latency;
      latency = Number.isFinite(value) && value > 0 ? value : null;
    }
    const playingDate = this.firstFrameAt !== null ? this.hls?.playingDate : null;
    const clockLatency = playingDate ? (now - playingDate.getTime()) / 1000 : null;
    const stats = this.player?.stats();
    if (stats) {
      this.http = stats.httpBytes;
      this.p2p = stats.p2pBytes;
      this.uploaded = stats.uploadedBytes;
      this.peerCount = stats.peers.length;
    }
    return {
      at: now,
      startedAt: this.startedAt,
      firstFrameAt: this.firstFrameAt,
      playing: this.firstFrameAt !== null && this.stallStartedAt === null && !this.video.paused,
      stalls: this.stalls,
      stalledMs: this.stalledMs + running,
      watchMs: this.firstFrameAt === null ? 0 : now - this.firstFrameAt,
      httpBytes: this.http,
      p2pBytes: this.p2p,
      uploadedBytes: this.uploaded,
      peers: this.peerCount,
      latency,
      startSteps: { ...this.startSteps },
      clockLatency,
      hlsFatal: this.hlsFatal,
      hlsNonFatal: this.hlsNonFatal,
      playerErrors: this.playerErrors,
      recentErrors: [...this.recentErrors],
      level: this.hls && this.hls.loadLevel >= 0 ? this.hls.loadLevel : null,
      levelSwitches: Math.max(0, this.levelSwitches),
      segmentBytesByLevel: Array.from(this.bytesByLevel, (b) => b ?? 0),
      bandwidthEstimate: this.hls?.bandwidthEstimate ?? 0,
      errorsByKind: { ...this.errorsByKind },
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
            adaptiveLatency: { ...stats.adaptiveLatency },
            storage: stats.storage
              ? { segments: stats.storage.segments, pending: stats.storage.pending, bytes: stats.storage.bytes }
              : null,
          }
        : {}),
      timers: pendingTimers(),
    };
  }

  private startHttpOnly(config: ViewerConfig): void {
    const Hls = required(window.Swarmcast, "Swarmcast").Hls;
    // Stock hls.js: the broadcaster's player today.
    const hls = new Hls();
    this.watchHls(hls, Hls);
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
      this.http += data.frag?.stats?.loaded ?? data.payload?.byteLength ?? 0;
    });
    hls.loadSource(config.src);
    hls.attachMedia(this.video);
  }

  private startPml(config: ViewerConfig): void {
    const { Hls, HlsJsP2PEngine } = required(window.BenchPml, "BenchPml");
    const HlsWithP2P = HlsJsP2PEngine.injectMixin(Hls);
    // PML's stock configuration: only what a page must give it.
    const hls = new HlsWithP2P({
      p2p: {
        core: {
          announceTrackers: config.trackers,
          swarmId: config.swarmId,
          rtcConfig: { iceServers: config.iceServers ?? [] },
        },
      },
    });
    this.watchHls(hls, Hls);
    const engine = hls.p2pEngine;
    engine.addEventListener("onChunkDownloaded", (bytes: number, source: string) => {
      if (source === "p2p") this.p2p += bytes;
      else this.http += bytes;
    });
    engine.addEventListener("onChunkUploaded", (bytes: number) => {
      this.uploaded += bytes;
    });
    engine.addEventListener("onPeerConnect", () => this.peerCount++);
    engine.addEventListener("onPeerClose", () => (this.peerCount = Math.max(0, this.peerCount - 1)));
    const countError = (name: string, error: unknown) => {
      this.playerErrors++;
      this.remember(`pml ${name}: ${describeError(error)}`);
    };
    engine.addEventListener("onSegmentError", (details) => countError("onSegmentError", details.error));
    engine.addEventListener("onPeerError", (details) => countError("onPeerError", details.error));
    engine.addEventListener("onTrackerError", (details) => countError("onTrackerError", details.error));
    hls.loadSource(config.src);
    hls.attachMedia(this.video);
  }

  private startSwarmcast(config: ViewerConfig): void {
    const sdk = required(window.Swarmcast, "Swarmcast");
    const options = {
      src: config.src,
      trackers: config.trackers,
      swarmId: config.swarmId,
      iceServers: config.iceServers ?? [],
      ...config.sdkOptions,
    };
    // attach() throws a SwarmcastOptionError naming a bad option; the bench reports it as is.
    this.player = sdk.attach(this.video, options);
    this.player.on("error", (event) => {
      this.playerErrors++;
      this.errorsByKind[event.kind] = (this.errorsByKind[event.kind] ?? 0) + 1;
      this.remember(`sdk: ${event.message}`);
    });
    if (this.player.hls) this.watchHls(this.player.hls, sdk.Hls);
  }

  private watchHls(hls: Hls, HlsClass: typeof Hls): void {
    this.hls = hls;
    const E = HlsClass.Events;
    const step = (name: StartStep) => () => {
      this.startSteps[name] ??= Date.now() - this.startedAt;
    };
    hls.once(E.MANIFEST_PARSED, step("manifest"));
    hls.once(E.LEVEL_LOADED, step("level"));
    hls.once(E.FRAG_LOADING, step("fragLoading"));
    hls.once(E.FRAG_LOADED, step("fragLoaded"));
    hls.once(E.FRAG_BUFFERED, step("fragBuffered"));
    hls.on(HlsClass.Events.FRAG_LOADED, (_e, data) => {
      const level = data.frag?.level ?? 0;
      this.bytesByLevel[level] = (this.bytesByLevel[level] ?? 0) + (data.frag?.stats?.loaded ?? 0);
    });
    hls.on(HlsClass.Events.LEVEL_SWITCHED, () => this.levelSwitches++);
    hls.on(HlsClass.Events.ERROR, (_e, data) => {
      // The SDK reports hls.js errors as its own `error` events; counted once, there.
      if (!this.player) this.errorsByKind[data.type] = (this.errorsByKind[data.type] ?? 0) + 1;
      if (data.fatal) this.hlsFatal++;
      else this.hlsNonFatal++;
      this.remember(`hls.js ${data.fatal ? "fatal " : ""}${data.type}: ${data.details}`);
    });
  }

  private watchPlayback(): void {
    const video = this.video;
    const firstFrame = () => {
      if (this.firstFrameAt !== null) return;
      this.firstFrameAt = Date.now();
      this.startSteps.frame = this.firstFrameAt - this.startedAt;
    };
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(firstFrame);
    video.addEventListener("playing", () => {
      if (this.firstFrameAt === null && !("requestVideoFrameCallback" in video)) firstFrame();
      if (this.stallStartedAt !== null) {
        this.stalledMs += Date.now() - this.stallStartedAt;
        this.stallStartedAt = null;
      }
    });
    video.addEventListener("waiting", () => {
      // Stalls before the first frame are startup time, not rebuffering.
      if (this.firstFrameAt === null || this.stallStartedAt !== null) return;
      this.stallStartedAt = Date.now();
      this.stalls++;
    });
    video.addEventListener("error", () => {
      this.remember(`video element error ${video.error?.code}: ${video.error?.message ?? ""}`);
    });
  }

  private remember(text: string): void {
    this.recentErrors.push(text.slice(0, 300));
    if (this.recentErrors.length > RECENT_ERRORS) this.recentErrors.shift();
  }
}

function required<T>(value: T | undefined, name: string): T {
  if (!value) throw new Error(`bench viewer: global ${name} is missing; the player script did not load`);
  return value;
}

/** Readable text of whatever PML passed as an error: Error, string or plain value. */
function describeError(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function loadScript(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`bench viewer: could not load ${url}`));
    document.head.append(script);
  });
}

let viewer: Viewer | null = null;

window.benchViewer = {
  start(config) {
    if (viewer) throw new Error("bench viewer: already started");
    viewer = new Viewer();
    return viewer.start(config);
  },
  snapshot() {
    if (!viewer) throw new Error("bench viewer: not started");
    return viewer.snapshot();
  },
  stop() {
    viewer?.stop();
  },
};
