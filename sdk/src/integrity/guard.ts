import type { SegmentErrorDetails, StreamType } from "p2p-media-loader-core";
import type { LivePlayer, PlaylistDetails, PlaylistEvent } from "../live/live-player";
import { SegmentHashIndex, type SegmentByteRange } from "./hash-index";
import { loadIntegrityMap } from "./integrity-map";
import { hashesFromFragments } from "./playlist-hashes";
import { integrityOffStats, SegmentVerifier, type IntegrityMode, type IntegrityStats } from "./verifier";

export interface IntegrityGuardOptions {
  mode: IntegrityMode;
  /** URL of a JSON integrity map (VOD), read once. */
  mapUrl?: string;
  /** Bound of the playlist-tag hash index (segments remembered). */
  maxTagEntries: number;
}

export interface IntegrityProblem {
  message: string;
  /** The segment URL, when the problem is about one. */
  url?: string;
  /** The peer that sent it, when known. */
  peerId?: string;
}

const VALIDATION_FAILED = "p2p-segment-validation-failed";

/**
 * Segment integrity for one player: collects published hashes (playlist tags, JSON map),
 * verifies segments from peers through PML's `validateP2PSegment`, and turns PML's validation
 * failures into per-peer counts and reports. PML itself closes the peer that sent a refused
 * segment and fetches the segment again; this class does not touch PML internals.
 */
export class IntegrityGuard {
  /** For PML's `validateP2PSegment`; undefined when the mode is `off`. */
  readonly validateP2PSegment: ((url: string, byteRange: SegmentByteRange | undefined, data: ArrayBuffer) => Promise<boolean>) | undefined;
  private readonly tags: SegmentHashIndex;
  private readonly map = new SegmentHashIndex(Number.MAX_SAFE_INTEGER);
  private readonly verifier: SegmentVerifier | undefined;
  private readonly mapReady: Promise<void> | undefined;
  private unsubscribePlayer: (() => void) | undefined;
  private setStreamP2P: ((streamType: StreamType, enabled: boolean) => void) | undefined;
  private readonly p2pAllowed = new Map<StreamType, boolean>();
  private readonly lastDetails = new Map<StreamType, PlaylistDetails>();
  private mapSettled = false;
  private destroyed = false;

  constructor(
    private readonly options: IntegrityGuardOptions,
    private readonly report: (problem: IntegrityProblem) => void,
    fetchFn?: typeof fetch,
  ) {
    this.tags = new SegmentHashIndex(options.maxTagEntries);
    if (options.mode === "off") {
      this.validateP2PSegment = undefined;
      return;
    }
    if (options.mapUrl !== undefined) {
      this.mapReady = loadIntegrityMap(options.mapUrl, fetchFn).then(
        ({ entries, problems }) => {
          for (const e of entries) this.map.set(e.url, e.byteRange, e.hash);
          this.mapSettled = true;
          if (problems.length > 0) {
            this.report({
              message: `integrity map ${options.mapUrl}: ${problems.length} entr${problems.length === 1 ? "y" : "ies"} skipped (${problems.slice(0, 3).join("; ")}${problems.length > 3 ? "; …" : ""})`,
            });
          }
          this.recheckCoverage();
        },
        (error: unknown) => {
          this.mapSettled = true;
          this.report({
            message: `${error instanceof Error ? error.message : String(error)}; verifying with playlist tags only`,
          });
          this.recheckCoverage();
        },
      );
    }
    const lookup = {
      get: (url: string, byteRange?: SegmentByteRange) => this.tags.get(url, byteRange) ?? this.map.get(url, byteRange),
    };
    this.verifier = new SegmentVerifier({
      mode: options.mode,
      index: lookup as SegmentHashIndex,
      ready: this.mapReady,
    });
    this.validateP2PSegment = this.verifier.verify;
  }

  /**
   * Reads hashes from every media playlist the player loads. `setStreamP2P` switches P2P off for
   * a stream whose segments lack hashes when the mode is `required`.
   */
  bindPlayer(player: LivePlayer, setStreamP2P?: (streamType: StreamType, enabled: boolean) => void): void {
    if (this.options.mode === "off") return;
    this.setStreamP2P = setStreamP2P;
    const offLoaded = player.on("playlist-loaded", this.onPlaylist);
    const offUpdated = player.on("playlist-updated", this.onPlaylist);
    this.unsubscribePlayer = () => {
      offLoaded();
      offUpdated();
    };
  }

  /** Feed of PML's `onSegmentError`. */
  readonly onSegmentError = (details: SegmentErrorDetails): void => {
    if (!this.verifier || details.error.type !== VALIDATION_FAILED) return;
    const { url, byteRange } = details.segment;
    const verdict = this.verifier.takeVerdict(url, byteRange);
    const peerId = details.peerId;
    if (verdict === "mismatch") {
      const count = peerId !== undefined ? this.verifier.blamePeer(peerId) : 0;
      this.report({
        message:
          `segment ${url} from peer ${peerId ?? "?"} failed its SHA-256 check` +
          `${count > 1 ? ` (${count} times from this peer)` : ""}; peer dropped, segment fetched over HTTP`,
        url,
        peerId,
      });
    } else if (verdict === "missing-hash") {
      this.report({
        message: `segment ${url} has no published SHA-256 and integrity is "required"; fetched over HTTP`,
        url,
        peerId,
      });
    }
  };

  stats(): IntegrityStats {
    return this.verifier ? this.verifier.stats() : integrityOffStats();
  }

  failuresOf(peerId: string): number {
    return this.verifier?.failuresOf(peerId) ?? 0;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.unsubscribePlayer?.();
    this.unsubscribePlayer = undefined;
    this.tags.clear();
    this.map.clear();
  }

  private readonly onPlaylist = ({ streamType, details }: PlaylistEvent) => {
    this.ingest(streamType, details);
  };

  private ingest(streamType: StreamType, details: PlaylistDetails): void {
    if (this.destroyed) return;
    for (const { url, byteRange, hash } of hashesFromFragments(details.segments)) {
      if (hash !== undefined) this.tags.set(url, byteRange, hash);
    }
    this.lastDetails.set(streamType, details);
    this.checkCoverage(streamType, details);
  }

  private recheckCoverage(): void {
    if (this.destroyed) return;
    for (const [streamType, details] of this.lastDetails) this.checkCoverage(streamType, details);
  }

  /** `required`: P2P for a stream only while every segment in its playlist has a hash. */
  private checkCoverage(streamType: StreamType, details: PlaylistDetails): void {
    if (this.options.mode !== "required" || !this.setStreamP2P) return;
    // Until the map is read, coverage is unknown: the verifier waits for it anyway.
    if (this.mapReady && !this.mapSettled) return;
    const covered = hashesFromFragments(details.segments).every(
      ({ url, byteRange, hash }) => hash !== undefined || this.map.get(url, byteRange) !== undefined,
    );
    if (this.p2pAllowed.get(streamType) === covered) return;
    this.p2pAllowed.set(streamType, covered);
    this.setStreamP2P(streamType, covered);
    if (!covered) {
      this.report({
        message: `integrity is "required" but the ${streamType === "main" ? "" : "audio "}playlist has segments without a published SHA-256; P2P is off for it until every segment has one`,
      });
    }
  }
}
