import type { PlaybackHealthStats } from "../health/playback-health";
import type { TrustStats } from "../integrity/trust-stats";
import type { SegmentStoreUsage } from "../live/segment-store";
import type { AdaptiveLatencyStats } from "../live/adaptive-latency";
import type { LiveEdgeStats } from "../live/edge-fetcher";
import type { CdnHealthStats } from "./cdn-health";
import { SlidingRate } from "./rate";

export type DeliverySource = "http" | "p2p";

/** One connected peer, as seen from this viewer. */
export interface PeerStats {
  id: string;
  /** Bytes received from this peer. */
  bytesDown: number;
  /** Bytes sent to this peer. */
  bytesUp: number;
  /** Bytes per second received over the rate window. */
  downRate: number;
  /** Bytes per second sent over the rate window. */
  upRate: number;
  /** Whole segments received from this peer. */
  segmentsDown: number;
  /** Epoch milliseconds of the connection. */
  connectedAt: number;
}

export interface TrackerStats {
  /** Tracker errors so far (unreachable, refused, closed). */
  errors: number;
  /** Tracker warnings so far (failure replies, retries). */
  warnings: number;
  /** Text of the last error or warning, or null. */
  lastError: string | null;
  /** Times a lost tracker connection came back (the viewer announced again). */
  reconnects: number;
}

/** What `player.stats()` returns. Byte counts are cumulative since attach. */
export interface SwarmcastStats extends TrustStats {
  /** The SDK's version (its tracker peer id carries it too). */
  version: string;
  /** Whether peer-to-peer delivery is on for this player. */
  p2pEnabled: boolean;
  /** Segment bytes downloaded from the origin/CDN over HTTP. */
  httpBytes: number;
  /** Segment bytes received from peers. */
  p2pBytes: number;
  /** Segment bytes sent to peers. */
  uploadedBytes: number;
  /** p2pBytes / (httpBytes + p2pBytes); 0 before any byte. */
  offloadRatio: number;
  /** Segments downloaded over HTTP. */
  httpSegments: number;
  /** Segments received from peers. */
  p2pSegments: number;
  /** Bytes per second downloaded (HTTP + P2P) over the rate window. */
  downloadRate: number;
  /** Bytes per second downloaded over HTTP over the rate window. */
  httpDownloadRate: number;
  /** Bytes per second received from peers over the rate window. */
  p2pDownloadRate: number;
  /** Bytes per second sent to peers over the rate window. */
  uploadRate: number;
  /** Peers connected now. */
  peers: PeerStats[];
  tracker: TrackerStats;
  /** This viewer's playback health (`playbackHealth`): while struggling it neither fetches early nor serves. */
  health: PlaybackHealthStats;
  /**
   * Segments held for peers in the SDK's live store; null when the page brings its own store
   * (`customSegmentStorageFactory`), the live edge fetcher is off, or before PML created the store.
   */
  storage: SegmentStoreUsage | null;
  /** How the CDN answered this viewer's segment requests: failures, outages and what peers bridged. */
  cdn: CdnHealthStats;
  /** Live playlist reloads asked for because a peer announced a segment it did not list yet (`playlistRefresh`). */
  playlistRefreshes: number;
  /** What the live edge fetcher did: segments this viewer seeded, draws reopened after a refusal; null when it is off. */
  liveEdge: LiveEdgeStats | null;
  /** Latency steps taken because peers could not deliver new segments in time (`adaptiveLatency`), and the late share now. */
  adaptiveLatency: AdaptiveLatencyStats;
}

interface PeerEntry {
  id: string;
  connections: number;
  bytesDown: number;
  bytesUp: number;
  segmentsDown: number;
  connectedAt: number;
  down: SlidingRate;
  up: SlidingRate;
}

/**
 * Pure byte and segment accounting: it is fed events with explicit timestamps and knows
 * nothing of hls.js, PML or the DOM.
 */
export class StatsAccumulator {
  private httpBytes = 0;
  private p2pBytes = 0;
  private uploadedBytes = 0;
  private httpSegments = 0;
  private p2pSegments = 0;
  private readonly httpRate: SlidingRate;
  private readonly p2pRate: SlidingRate;
  private readonly upRate: SlidingRate;
  private readonly peers = new Map<string, PeerEntry>();
  private readonly tracker: TrackerStats = { errors: 0, warnings: 0, lastError: null, reconnects: 0 };

  constructor(private readonly options: { rateWindowMs: number; p2pEnabled: boolean; now: number }) {
    this.httpRate = new SlidingRate(options.rateWindowMs, options.now);
    this.p2pRate = new SlidingRate(options.rateWindowMs, options.now);
    this.upRate = new SlidingRate(options.rateWindowMs, options.now);
  }

  /** Bytes of segment data received; partial and aborted downloads count, they cost egress. */
  bytesDownloaded(bytes: number, source: DeliverySource, peerId: string | undefined, now: number): void {
    if (!(bytes > 0)) return;
    if (source === "http") {
      this.httpBytes += bytes;
      this.httpRate.add(bytes, now);
      return;
    }
    this.p2pBytes += bytes;
    this.p2pRate.add(bytes, now);
    const peer = peerId === undefined ? undefined : this.peers.get(peerId);
    if (peer) {
      peer.bytesDown += bytes;
      peer.down.add(bytes, now);
    }
  }

  /** Bytes of segment data sent to a peer. */
  bytesUploaded(bytes: number, peerId: string, now: number): void {
    if (!(bytes > 0)) return;
    this.uploadedBytes += bytes;
    this.upRate.add(bytes, now);
    const peer = this.peers.get(peerId);
    if (peer) {
      peer.bytesUp += bytes;
      peer.up.add(bytes, now);
    }
  }

  /** A whole segment arrived. */
  segmentLoaded(source: DeliverySource, peerId: string | undefined): void {
    if (source === "http") {
      this.httpSegments++;
      return;
    }
    this.p2pSegments++;
    const peer = peerId === undefined ? undefined : this.peers.get(peerId);
    if (peer) peer.segmentsDown++;
  }

  /** A peer connected. The same peer may connect once per stream (video, audio). */
  peerConnected(peerId: string, now: number): void {
    const peer = this.peers.get(peerId);
    if (peer) {
      peer.connections++;
      return;
    }
    this.peers.set(peerId, {
      id: peerId,
      connections: 1,
      bytesDown: 0,
      bytesUp: 0,
      segmentsDown: 0,
      connectedAt: now,
      down: new SlidingRate(this.options.rateWindowMs, now),
      up: new SlidingRate(this.options.rateWindowMs, now),
    });
  }

  peerClosed(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.connections--;
    if (peer.connections <= 0) this.peers.delete(peerId);
  }

  trackerProblem(kind: "error" | "warning", message: string): void {
    if (kind === "error") this.tracker.errors++;
    else this.tracker.warnings++;
    this.tracker.lastError = message;
  }

  trackerReconnected(): void {
    this.tracker.reconnects++;
  }

  get connectedPeers(): number {
    return this.peers.size;
  }

  /** Everything but the integrity and upload-cap figures, which the engine adds. */
  snapshot(
    now: number,
  ): Omit<
    SwarmcastStats,
    keyof TrustStats | "version" | "health" | "storage" | "cdn" | "playlistRefreshes" | "liveEdge" | "adaptiveLatency"
  > {
    const total = this.httpBytes + this.p2pBytes;
    const httpDownloadRate = this.httpRate.rate(now);
    const p2pDownloadRate = this.p2pRate.rate(now);
    return {
      p2pEnabled: this.options.p2pEnabled,
      httpBytes: this.httpBytes,
      p2pBytes: this.p2pBytes,
      uploadedBytes: this.uploadedBytes,
      offloadRatio: total === 0 ? 0 : this.p2pBytes / total,
      httpSegments: this.httpSegments,
      p2pSegments: this.p2pSegments,
      downloadRate: httpDownloadRate + p2pDownloadRate,
      httpDownloadRate,
      p2pDownloadRate,
      uploadRate: this.upRate.rate(now),
      peers: [...this.peers.values()].map((p) => ({
        id: p.id,
        bytesDown: p.bytesDown,
        bytesUp: p.bytesUp,
        downRate: p.down.rate(now),
        upRate: p.up.rate(now),
        segmentsDown: p.segmentsDown,
        connectedAt: p.connectedAt,
      })),
      tracker: { ...this.tracker },
    };
  }
}
