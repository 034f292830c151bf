/** What `stats().cdn` says: how the CDN answered this viewer's segment requests. */
export interface CdnHealthStats {
  /** Segment requests to the CDN that failed (error status, network error, no answer in time). */
  failures: number;
  /** The last segment request to the CDN failed and none succeeded since. */
  failing: boolean;
  /** Stretches of failing (a failure after a success, or first, begins one; the next success ends it). */
  outages: number;
  /** Time spent failing, ms, the running stretch included. */
  outageMs: number;
  /** Segments that came from peers while the CDN was failing: what the swarm bridged. */
  peerSegmentsDuringOutage: number;
  /** What the last failure was, for a site's log. */
  lastFailure: string | null;
}

/**
 * Follows the CDN's answers to this viewer's segment requests, from every path that asks it (PML,
 * the live edge fetcher, hls.js's own loader, the engine's fallback), so a site can see an
 * outage and how much of it the peers carried.
 */
export class CdnHealth {
  private failures = 0;
  private outages = 0;
  private pastOutageMs = 0;
  private failingSince: number | null = null;
  private peerSegments = 0;
  private lastFailure: string | null = null;
  private lastFailureAt: number | null = null;

  failed(reason: string, now: number): void {
    this.failures++;
    this.lastFailureAt = now;
    this.lastFailure = reason;
    if (this.failingSince !== null) return;
    this.failingSince = now;
    this.outages++;
  }

  succeeded(now: number): void {
    if (this.failingSince === null) return;
    this.pastOutageMs += now - this.failingSince;
    this.failingSince = null;
  }

  /** The CDN is failing (see {@link CdnHealthStats.failing}) and its last failure came within `ms` before `now`. */
  failedWithin(ms: number, now: number): boolean {
    return this.failingSince !== null && this.lastFailureAt !== null && now - this.lastFailureAt < ms;
  }

  segmentFromPeer(): void {
    if (this.failingSince !== null) this.peerSegments++;
  }

  stats(now: number): CdnHealthStats {
    return {
      failures: this.failures,
      failing: this.failingSince !== null,
      outages: this.outages,
      outageMs: this.pastOutageMs + (this.failingSince === null ? 0 : now - this.failingSince),
      peerSegmentsDuringOutage: this.peerSegments,
      lastFailure: this.lastFailure,
    };
  }
}
