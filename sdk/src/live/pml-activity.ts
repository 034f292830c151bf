import type { CoreEventMap } from "p2p-media-loader-core";

export interface PmlIdleFallbackConfig {
  /** A player's request for a segment PML has had no attempt running for this long goes to the CDN, ms. */
  idleMs: number;
  /** How often a waiting request looks, ms. */
  tickMs: number;
}

/** Segments whose attempts are followed; older entries are dropped first. */
const TRACKED_SEGMENTS = 128;

/**
 * Which segments PML is working on. PML settles a player's request when one of its attempts (over
 * HTTP or from a peer) succeeds, or when its HTTP attempts are spent; it starts attempts only
 * from its queue. A segment the queue passes over waits with no attempt at all, and the
 * player's request never settles: one PML does not count as urgent while the player needs it
 * (the player ran dry far behind it), one gone from PML's copy of the playlist, one whose only
 * holder just left. Every attempt ends (PML times out one that receives nothing), so a request
 * with none running for a while is one PML has stopped working on, and the CDN gets it.
 */
export class PmlActivity {
  private readonly segments = new Map<string, { attempts: number; changedAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** PML events that start and end attempts, for `addEventListener`. */
  readonly pmlListeners: Partial<CoreEventMap> = {
    onSegmentStart: ({ segment }) => this.change(segment.url, 1),
    onSegmentError: ({ segment }) => this.change(segment.url, -1),
    onSegmentAbort: ({ segment }) => this.change(segment.url, -1),
    onSegmentLoaded: ({ segmentUrl }) => this.change(segmentUrl, -1),
  };

  /**
   * How long PML has had no attempt running for `url`, counting from `since` (when the player's
   * request reached PML) at the earliest; 0 while one runs.
   */
  idleMs(url: string, since: number): number {
    const entry = this.segments.get(url);
    if (entry && entry.attempts > 0) return 0;
    return Math.max(0, this.clock() - Math.max(since, entry?.changedAt ?? -Infinity));
  }

  private change(url: string, delta: number): void {
    const entry = this.segments.get(url) ?? { attempts: 0, changedAt: 0 };
    entry.attempts = Math.max(0, entry.attempts + delta);
    entry.changedAt = this.clock();
    this.segments.delete(url);
    this.segments.set(url, entry);
    if (this.segments.size > TRACKED_SEGMENTS) this.segments.delete(this.segments.keys().next().value as string);
  }
}

/**
 * Calls `onIdle` once the player needs the request's segment (`needed`: urgent, or the player ran
 * dry) and PML has had no attempt running for it for `config.idleMs` since; returns the cancel.
 * The request reached PML now. Before it is needed PML may rightly wait for a peer to have it.
 */
export function watchPmlIdle(
  activity: PmlActivity,
  url: string,
  config: PmlIdleFallbackConfig,
  needed: () => boolean,
  onIdle: () => void,
  clock: () => number = Date.now,
): () => void {
  const since = clock();
  let neededSince: number | undefined;
  const timer = setInterval(() => {
    if (neededSince === undefined) {
      if (!needed()) return;
      neededSince = Math.max(since, clock());
    }
    if (activity.idleMs(url, neededSince) < config.idleMs) return;
    clearInterval(timer);
    onIdle();
  }, config.tickMs);
  return () => clearInterval(timer);
}
