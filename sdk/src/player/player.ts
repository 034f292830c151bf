import Hls, { ErrorDetails, ErrorTypes, Events, type ErrorData } from "hls.js";
import type { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { createEngineFromResolved, type SwarmcastEngine } from "../engine/engine";
import { Emitter, SWARMCAST_EVENT_NAMES, type SwarmcastErrorKind, type SwarmcastEventMap } from "../events";
import { resolveOptions, SwarmcastOptionError, type SwarmcastOptions } from "../options";
import type { SwarmcastStats } from "../stats/accumulator";
import { RecoveryBudget } from "./recovery";

const MANIFEST_ERRORS = new Set<string>([
  ErrorDetails.MANIFEST_LOAD_ERROR,
  ErrorDetails.MANIFEST_LOAD_TIMEOUT,
  ErrorDetails.MANIFEST_PARSING_ERROR,
]);

const players = new WeakMap<HTMLMediaElement, SwarmcastPlayer>();

function describeElement(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object" && typeof (value as Element).tagName === "string") {
    return `<${(value as Element).tagName.toLowerCase()}>`;
  }
  return typeof value;
}

function isMediaElement(value: unknown): value is HTMLMediaElement {
  if (typeof value !== "object" || value === null) return false;
  const tag = (value as Element).tagName;
  return (tag === "VIDEO" || tag === "AUDIO") && typeof (value as HTMLMediaElement).canPlayType === "function";
}

function errorKind(data: ErrorData): SwarmcastErrorKind {
  if (data.type === ErrorTypes.NETWORK_ERROR) return "network";
  if (data.type === ErrorTypes.MEDIA_ERROR) return "media";
  return "other";
}

/** A media element playing an HLS stream through hls.js with P2P delivery. */
export class SwarmcastPlayer {
  /** The hls.js instance, or null where the browser plays HLS natively (no MSE, no P2P). */
  readonly hls: Hls | null;
  private readonly engine: SwarmcastEngine;
  private readonly emitter = new Emitter<SwarmcastEventMap>();
  private readonly unsubscribes: Array<() => void> = [];
  private readonly recovery = new RecoveryBudget(
    DEFAULT_SWARMCAST_CONFIG.maxRecoveryAttempts,
    DEFAULT_SWARMCAST_CONFIG.recoveryWindowMs,
  );
  private isDestroyed = false;
  private recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly src: string;

  /** Use {@link attach}. */
  constructor(
    readonly video: HTMLMediaElement,
    options: SwarmcastOptions,
  ) {
    if (!isMediaElement(video)) {
      throw new SwarmcastOptionError(
        "video",
        `attach(video, options): "video" must be a <video> (or <audio>) element, got ${describeElement(video)}`,
      );
    }
    if (players.has(video)) {
      throw new SwarmcastOptionError(
        "video",
        "attach(video, options): this element already has a Swarmcast player; destroy() it first",
      );
    }
    const resolved = resolveOptions(options, { requireSrc: true });
    const src = resolved.src as string;
    this.src = src;
    const native = !Hls.isSupported() && video.canPlayType("application/vnd.apple.mpegurl") !== "";
    if (!Hls.isSupported() && !native) {
      throw new Error("Swarmcast: this browser plays HLS neither through Media Source Extensions nor natively");
    }

    this.engine = createEngineFromResolved(native ? { ...resolved, p2p: false } : resolved);
    for (const name of SWARMCAST_EVENT_NAMES) {
      this.unsubscribes.push(this.engine.on(name, (payload) => this.emitter.emit(name, payload as never)));
    }

    if (native) {
      this.hls = null;
      video.src = src;
    } else {
      const hls = new Hls(this.engine.hlsConfig);
      this.hls = hls;
      this.engine.bindHls(hls);
      hls.on(Events.ERROR, this.onHlsError);
      hls.on(Events.MANIFEST_PARSED, this.onManifestParsed);
      hls.loadSource(src);
      hls.attachMedia(video);
    }
    players.set(video, this);
  }

  /** Byte, segment, peer and tracker figures since attach. */
  stats(): SwarmcastStats {
    return this.engine.stats();
  }

  /** Whether peer-to-peer delivery is on. */
  get p2pEnabled(): boolean {
    return this.engine.p2pEnabled;
  }

  /** The PML engine, or null when P2P is off. */
  get p2pEngine(): HlsJsP2PEngine | null {
    return this.engine.p2pEngine;
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): () => void {
    return this.emitter.on(event, fn);
  }

  off<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): void {
    this.emitter.off(event, fn);
  }

  /** Stops playback and releases hls.js, peers, the tracker connection, timers and listeners. Idempotent. */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    clearTimeout(this.recoveryTimer);
    if (this.hls) {
      this.hls.off(Events.ERROR, this.onHlsError);
      this.hls.off(Events.MANIFEST_PARSED, this.onManifestParsed);
      this.hls.destroy();
    } else {
      this.video.removeAttribute("src");
      this.video.load();
    }
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.engine.destroy();
    this.emitter.clear();
    if (players.get(this.video) === this) players.delete(this.video);
  }

  private readonly onManifestParsed = () => {
    if (this.video.autoplay && this.video.paused) {
      // Autoplay policy may refuse; the page's controls still work.
      this.video.play().catch(() => undefined);
    }
  };

  private readonly onHlsError = (_event: unknown, data: ErrorData) => {
    const hls = this.hls;
    if (!hls || this.isDestroyed) return;
    const kind = errorKind(data);
    const message = `hls.js ${data.type}: ${data.details}${data.error ? ` (${data.error.message})` : ""}`;
    if (!data.fatal) {
      this.emitter.emit("error", { kind, message, fatal: false, cause: data });
      return;
    }
    const attempt = kind === "network" || kind === "media" ? this.recovery.take(Date.now()) : 0;
    if (attempt === 0) {
      hls.stopLoad();
      this.emitter.emit("error", { kind, message, fatal: true, cause: data });
      return;
    }
    if (kind === "media") {
      this.emitter.emit("error", { kind, message: `${message}; recovering`, fatal: false, cause: data });
      hls.recoverMediaError();
      return;
    }
    const delayMs = DEFAULT_SWARMCAST_CONFIG.recoveryDelayMs * 2 ** (attempt - 1);
    this.emitter.emit("error", {
      kind,
      message: `${message}; retrying in ${delayMs / 1000} s`,
      fatal: false,
      cause: data,
    });
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = setTimeout(() => {
      if (this.isDestroyed) return;
      // Without a parsed manifest there is nothing for startLoad() to resume.
      if (MANIFEST_ERRORS.has(data.details)) hls.loadSource(this.src);
      else hls.startLoad();
    }, delayMs);
  };
}

/**
 * Plays `options.src` in `video` with hls.js and P2P delivery.
 * Throws {@link SwarmcastOptionError} naming the bad option.
 */
export function attach(video: HTMLMediaElement, options: SwarmcastOptions): SwarmcastPlayer {
  return new SwarmcastPlayer(video, options);
}

/** The player attached to `video`, if any. */
export function getPlayer(video: HTMLMediaElement): SwarmcastPlayer | undefined {
  return players.get(video);
}
