import type { HealthReason } from "./health/playback-health";
import type { DeliverySource, SwarmcastStats } from "./stats/accumulator";

export interface PeerEvent {
  peerId: string;
  /** "main" for the video (or muxed) rendition, "secondary" for a separate audio one. */
  streamType: "main" | "secondary";
}

export interface HealthEvent {
  /** `struggling`: early fetching and serving paused; `ok`: resumed. */
  state: "ok" | "struggling";
  /** What is wrong (empty when `ok`). */
  reasons: HealthReason[];
}

export interface SegmentEvent {
  url: string;
  bytes: number;
  source: DeliverySource;
  /** Set when the segment came from a peer. */
  peerId?: string;
}

export type SwarmcastErrorKind =
  /** Tracker unreachable, closed or refusing: playback goes on from HTTP. */
  | "tracker"
  /** A WebRTC peer failed; other peers and HTTP take over. */
  | "peer"
  /** hls.js network error (playlist or segment over HTTP). */
  | "network"
  /** hls.js media (decode / MSE) error. */
  | "media"
  /** hls.js mux / key / other error. */
  | "other"
  /**
   * A segment from a peer failed its SHA-256 check (the peer is dropped, the segment comes
   * over HTTP), or the published hashes could not be read.
   */
  | "integrity";

export interface SwarmcastErrorEvent {
  kind: SwarmcastErrorKind;
  message: string;
  /** True when playback stopped and recovery gave up. */
  fatal: boolean;
  /** The original error or hls.js error data. */
  cause: unknown;
}

export interface LatencyEvent {
  /** Seconds added by this step (one segment duration). */
  addedSec: number;
  /** Seconds added since the session started. */
  totalAddedSec: number;
  /** Share of recent new segments that came from the CDN late, which called for the step. */
  lateShare: number;
}

export interface SwarmcastEventMap {
  /** Every `statsIntervalMs`. */
  stats: SwarmcastStats;
  "peer-connect": PeerEvent;
  "peer-close": PeerEvent;
  /** A whole segment arrived, from HTTP or a peer. */
  segment: SegmentEvent;
  error: SwarmcastErrorEvent;
  /** This viewer's playback started or stopped struggling (`playbackHealth`). */
  health: HealthEvent;
  /** The player fell back one segment behind the live edge, for peers to have time (`adaptiveLatency`). */
  latency: LatencyEvent;
}

export type SwarmcastEventName = keyof SwarmcastEventMap;

/** Every event name, for code that forwards all of them (the player re-emits the engine's). */
export const SWARMCAST_EVENT_NAMES = [
  "stats",
  "peer-connect",
  "peer-close",
  "segment",
  "error",
  "health",
  "latency",
] as const satisfies readonly SwarmcastEventName[];
export type Listener<K extends SwarmcastEventName> = (payload: SwarmcastEventMap[K]) => void;

/** A small typed emitter. A throwing listener is reported on the console and does not stop the others. */
export class Emitter<M extends object> {
  private listeners = new Map<keyof M, Set<(payload: never) => void>>();

  on<K extends keyof M>(event: K, fn: (payload: M[K]) => void): () => void {
    if (typeof fn !== "function") {
      throw new TypeError(`Swarmcast: on("${String(event)}", fn) needs a function`);
    }
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof M>(event: K, fn: (payload: M[K]) => void): void {
    this.listeners.get(event)?.delete(fn);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (payload: M[K]) => void)(payload);
      } catch (err) {
        console.error(`Swarmcast: a "${String(event)}" listener threw`, err);
      }
    }
  }

  listenerCount(event: keyof M): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}
