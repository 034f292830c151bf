export interface UrgentWindowOptions {
  /** The configured window (PML's `highDemandTimeWindow`), seconds: the smallest it gets. */
  baseSec: number;
  /** The largest it gets, seconds. */
  maxSec: number;
  /** HTTP fetches of segments the window follows (the slowest of them counts). */
  samples: number;
  /** Kept free beyond the slowest fetch, seconds. */
  marginSec: number;
  /** A new window is applied only when it differs from the current one by this much, seconds. */
  stepSec: number;
}

/**
 * The urgent window follows how long this viewer's CDN takes to deliver a segment. A segment
 * turns urgent `window` seconds before the playhead reaches it; from then on PML loads it over
 * HTTP, and the edge fetcher's hold lets the player's request go. The configured 2 s suit a CDN
 * that delivers a segment in well under 2 s. When the CDN slows down (a congested edge, a
 * weak downlink) and a fetch takes 3 s, a segment that turns urgent 2 s ahead arrives a second
 * late, every time: the viewer stalls where an http-only viewer, which asks as soon as the
 * segment is listed, does not. So the window is the slowest of the recent HTTP fetches plus a
 * margin, never under the configured one; it comes back down once fetches are quick again.
 * Pure logic.
 */
export class UrgentWindow {
  private readonly fetchSec: number[] = [];
  private current: number;

  constructor(private readonly options: UrgentWindowOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`UrgentWindow: ${name} must be a number ≥ 0, got ${value}`);
    }
    this.current = options.baseSec;
  }

  /** Seconds before the playhead reaches a segment that it turns urgent. */
  get seconds(): number {
    return this.current;
  }

  /**
   * How long an HTTP fetch of a segment takes this viewer now, with the margin: the slowest of
   * the recent fetches plus `marginSec`, at most `maxSec`; undefined before the first fetch.
   * Unlike {@link seconds} it is not held up at the configured window.
   */
  fallbackSec(): number | undefined {
    if (this.fetchSec.length === 0) return undefined;
    return Math.min(this.options.maxSec, Math.max(...this.fetchSec) + this.options.marginSec);
  }

  /** An HTTP fetch of a segment took `seconds`. Returns the new window when it changed. */
  noteHttpFetch(seconds: number): number | undefined {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) return undefined;
    this.fetchSec.push(seconds);
    if (this.fetchSec.length > this.options.samples) this.fetchSec.shift();
    const { baseSec, maxSec, marginSec, stepSec } = this.options;
    const wanted = Math.min(maxSec, Math.max(baseSec, Math.max(...this.fetchSec) + marginSec));
    const settled = wanted === baseSec && this.current !== baseSec;
    if (!settled && Math.abs(wanted - this.current) < stepSec) return undefined;
    this.current = wanted;
    return wanted;
  }
}
