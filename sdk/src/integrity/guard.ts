import type { SegmentErrorDetails, StreamType } from "p2p-media-loader-core";
import type { LivePlayer, PlaylistDetails, PlaylistEvent } from "../live/live-player";
import { SegmentHashIndex, type ListedHash, type SegmentByteRange } from "./hash-index";
import { loadIntegrityMap } from "./integrity-map";
import { hashesFromFragments } from "./playlist-hashes";
import { SpotChecker } from "./spot-check";
import { integrityOffStats, SegmentVerifier, type IntegrityMode, type IntegrityStats } from "./verifier";

export interface IntegrityGuardOptions {
  mode: IntegrityMode;
  /** URL of a JSON integrity map (VOD), read once. */
  mapUrl?: string;
  /** Hashes remembered of segments no loaded playlist lists any more. */
  maxTagEntries: number;
  /** Share of unhashed peer segments spot-checked against the CDN (0: none), and bytes per check. */
  spotCheck?: { share: number; rangeBytes: number };
}

export interface IntegrityProblem {
  message: string;
  /** Also said on the console (a warning nobody subscribed to must still be seen). */
  console?: boolean;
  /** The segment URL, when the problem is about one. */
  url?: string;
  /** The peer that sent it, when known. */
  peerId?: string;
}

const VALIDATION_FAILED = "p2p-segment-validation-failed";
const HTTP_VALIDATION_FAILED = "http-segment-validation-failed";

/**
 * Segment integrity for one player: collects published hashes (playlist tags, JSON map),
 * verifies segments from peers through PML's `validateP2PSegment`, and turns PML's validation
 * failures into per-peer counts and reports. PML itself closes the peer that sent a refused
 * segment and fetches the segment again; this class does not touch PML internals.
 *
 * A peer whose bytes differ from the published hash or from the CDN's range is banned on the
 * first such segment: data channels are reliable and encrypted, so bytes that arrive differing
 * were sent differing. {@link isBanned} is what the tracker socket asks before it hands PML an
 * offer or answer (signaling/reconnecting-socket.ts), so a banned peer never gets a new connection.
 */
export class IntegrityGuard {
  /** For PML's `validateP2PSegment`; undefined when the mode is `off`. */
  readonly validateP2PSegment:
    ((url: string, byteRange: SegmentByteRange | undefined, data: ArrayBuffer) => Promise<boolean>) | undefined;
  /** For PML's `validateHTTPSegment` (segments PML resumed over HTTP after a peer); undefined when the mode is `off`. */
  readonly validateHTTPSegment:
    ((url: string, byteRange: SegmentByteRange | undefined, data: ArrayBuffer) => Promise<boolean>) | undefined;
  private readonly tags: SegmentHashIndex;
  private readonly map = new SegmentHashIndex(Number.MAX_SAFE_INTEGER);
  private readonly verifier: SegmentVerifier | undefined;
  private readonly mapReady: Promise<void> | undefined;
  private unsubscribePlayer: (() => void) | undefined;
  private setStreamP2P: ((streamType: StreamType, enabled: boolean) => void) | undefined;
  private readonly p2pAllowed = new Map<StreamType, boolean>();
  /** Streams whose peer segments go unverified (`if-present` without hashes); each warned once. */
  private readonly unverified = new Set<StreamType>();
  private readonly lastDetails = new Map<StreamType, PlaylistDetails>();
  private readonly banned = new Set<string>();
  private bannedSignalsDropped = 0;
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
      this.validateHTTPSegment = undefined;
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
      ...(options.spotCheck && options.spotCheck.share > 0
        ? { spotCheck: new SpotChecker({ ...options.spotCheck, fetchFn }) }
        : {}),
      onCdnMismatch: (url) =>
        this.report({
          message: `segment ${url} from the CDN does not match its published SHA-256 (twice); played as the CDN sent it: check the published hashes`,
          url,
        }),
    });
    this.validateP2PSegment = this.verifier.verify;
    this.validateHTTPSegment = this.verifier.verifyHttp;
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
    if (this.verifier && details.error.type === HTTP_VALIDATION_FAILED) {
      if (this.verifier.takeVerdict(details.segment.url, details.segment.byteRange) !== "mismatch") return;
      this.report({
        message: `segment ${details.segment.url}, resumed from the CDN after a peer's partial copy, failed its SHA-256 check; fetched again from the CDN in full`,
        url: details.segment.url,
      });
      return;
    }
    if (!this.verifier || details.error.type !== VALIDATION_FAILED) return;
    const { url, byteRange } = details.segment;
    const verdict = this.verifier.takeVerdict(url, byteRange);
    const peerId = details.peerId;
    if (verdict === "mismatch" || verdict === "spot-mismatch") {
      const count = peerId !== undefined ? this.verifier.blamePeer(peerId) : 0;
      if (peerId !== undefined) this.banned.add(peerId);
      this.report({
        message:
          `segment ${url} from peer ${peerId ?? "?"} ${verdict === "mismatch" ? "failed its SHA-256 check" : "did not match the CDN's bytes in a spot check"}` +
          `${count > 1 ? ` (${count} times from this peer)` : ""}; peer dropped and banned, segment fetched over HTTP`,
        url,
        peerId,
      });
    } else if (verdict === "unverifiable") {
      this.report({
        message: `segment ${url} could not be hashed (no WebCrypto: not a secure context?); fetched over HTTP`,
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
    if (!this.verifier) return integrityOffStats();
    return {
      ...this.verifier.stats(),
      bannedPeers: this.banned.size,
      bannedSignalsDropped: this.bannedSignalsDropped,
      unverifiedStreams: [...this.unverified],
    };
  }

  /** Whether `peerId` (PML's peer id) sent bytes that did not match and is refused for good. */
  isBanned(peerId: string): boolean {
    return this.banned.has(peerId);
  }

  /** The tracker socket dropped an offer or answer from a banned peer. */
  noteBannedSignal(): void {
    this.bannedSignalsDropped++;
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
    const listed = hashesFromFragments(details.segments);
    // Keyed by playlist URL: each rendition keeps its hashes while the player holds it.
    this.tags.setPlaylist(
      details.url || streamType,
      listed.filter((h): h is ListedHash => h.hash !== undefined),
    );
    this.lastDetails.set(streamType, details);
    this.checkCoverage(streamType, details);
  }

  private recheckCoverage(): void {
    if (this.destroyed) return;
    for (const [streamType, details] of this.lastDetails) this.checkCoverage(streamType, details);
  }

  /**
   * `required`: P2P for a stream only while every segment in its playlist has a hash.
   * `if-present`: says once per stream, when its segments lack hashes, that bytes from peers
   * go unverified, so a site that configured nothing is not unprotected without a word.
   */
  private checkCoverage(streamType: StreamType, details: PlaylistDetails): void {
    // Until the map is read, coverage is unknown: the verifier waits for it anyway.
    if (this.mapReady && !this.mapSettled) return;
    const covered = hashesFromFragments(details.segments).every(
      ({ url, byteRange, hash }) => hash !== undefined || this.map.get(url, byteRange) !== undefined,
    );
    if (this.options.mode === "if-present") {
      if (covered || this.unverified.has(streamType)) return;
      this.unverified.add(streamType);
      this.report({
        message:
          `the ${streamType === "main" ? "" : "audio "}playlist publishes no SHA-256 for its segments: bytes from peers are NOT verified ` +
          `(integrity "if-present"). Publish hashes with swarmcast-hash, or set integrity: "required"`,
        console: true,
      });
      return;
    }
    if (this.options.mode !== "required" || !this.setStreamP2P) return;
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
