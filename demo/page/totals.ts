/**
 * Sums the figures of every viewer in this page (the main player and the added ones), so the
 * chart shows what the audience as a whole took from the CDN and from each other. A viewer that
 * leaves keeps its bytes in the sums. Pure.
 */
import type { SwarmcastStats } from "../../sdk/src/index";

export interface Totals {
  viewers: number;
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
  /** Bytes per second, summed over live viewers. */
  httpRate: number;
  p2pRate: number;
  uploadRate: number;
  /** p2pBytes / (httpBytes + p2pBytes). */
  offloadRatio: number;
  /** Segments from peers whose SHA-256 matched the published one. */
  verifiedSegments: number;
  /** Segments from peers that failed the check (dropped, refetched over HTTP). */
  integrityFailures: number;
}

interface Figures {
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
  httpDownloadRate: number;
  p2pDownloadRate: number;
  uploadRate: number;
  verifiedSegments: number;
  integrityFailures: number;
}

type Input = Pick<
  SwarmcastStats,
  "httpBytes" | "p2pBytes" | "uploadedBytes" | "httpDownloadRate" | "p2pDownloadRate" | "uploadRate"
> &
  Partial<Pick<SwarmcastStats, "integrity" | "integrityFailures">>;

const CUMULATIVE = ["httpBytes", "p2pBytes", "uploadedBytes", "verifiedSegments", "integrityFailures"] as const;

export class ViewerTotals {
  private readonly live = new Map<string, Figures>();
  private readonly retired = { httpBytes: 0, p2pBytes: 0, uploadedBytes: 0, verifiedSegments: 0, integrityFailures: 0 };

  update(viewer: string, stats: Input): void {
    this.live.set(viewer, {
      httpBytes: stats.httpBytes,
      p2pBytes: stats.p2pBytes,
      uploadedBytes: stats.uploadedBytes,
      httpDownloadRate: stats.httpDownloadRate,
      p2pDownloadRate: stats.p2pDownloadRate,
      uploadRate: stats.uploadRate,
      verifiedSegments: stats.integrity?.verifiedSegments ?? 0,
      integrityFailures: stats.integrityFailures ?? 0,
    });
  }

  /** The viewer left: its bytes stay in the sums, its rates drop out. */
  retire(viewer: string): void {
    const last = this.live.get(viewer);
    if (!last) return;
    this.live.delete(viewer);
    for (const key of CUMULATIVE) this.retired[key] += last[key];
  }

  has(viewer: string): boolean {
    return this.live.has(viewer);
  }

  sum(): Totals {
    const t: Totals = {
      viewers: this.live.size,
      ...this.retired,
      httpRate: 0,
      p2pRate: 0,
      uploadRate: 0,
      offloadRatio: 0,
    };
    for (const s of this.live.values()) {
      for (const key of CUMULATIVE) t[key] += s[key];
      t.httpRate += s.httpDownloadRate;
      t.p2pRate += s.p2pDownloadRate;
      t.uploadRate += s.uploadRate;
    }
    const total = t.httpBytes + t.p2pBytes;
    t.offloadRatio = total > 0 ? t.p2pBytes / total : 0;
    return t;
  }
}
