import { segmentKey, type SegmentByteRange, type SegmentHashIndex } from "./hash-index";
import { sha256Hex } from "./sha256";
import type { SpotChecker, SpotCheckStats } from "./spot-check";

/**
 * - `required`: a segment from a peer must match a published hash; segments without one are
 *   not taken from peers.
 * - `if-present`: segments with a published hash must match it; others are accepted.
 * - `off`: no check.
 */
export type IntegrityMode = "required" | "if-present" | "off";

export const INTEGRITY_MODES: readonly IntegrityMode[] = ["required", "if-present", "off"];

/**
 * Why a segment from a peer was refused. `mismatch` and `spot-mismatch` prove the peer sent
 * bytes other than the CDN's; `unverifiable` (no WebCrypto here) and `missing-hash` do not.
 */
export type IntegrityVerdict = "mismatch" | "missing-hash" | "spot-mismatch" | "unverifiable";

export interface IntegrityStats {
  mode: IntegrityMode;
  /** Segments from peers whose SHA-256 matched the published one. */
  verifiedSegments: number;
  /** Segments from peers whose SHA-256 did not match: each dropped its peer and went to HTTP. */
  failures: number;
  /** Segments from peers with no published hash: accepted (`if-present`) or refused (`required`). */
  unhashedSegments: number;
  /** Time spent hashing segments from peers, in milliseconds. */
  verifyMsTotal: number;
  /** Segments hashed. */
  verifyCount: number;
  /** Longest single hash, in milliseconds. */
  verifyMsMax: number;
  /** Integrity failures per peer id, kept after the peer is dropped. */
  failuresByPeer: Record<string, number>;
  /** Peers refused for good after sending bytes that did not match (see sdk/README.md "Banned peers"). */
  bannedPeers: number;
  /** Offers and answers from banned peers dropped before PML saw them. */
  bannedSignalsDropped: number;
  /**
   * Streams ("main", "secondary") whose segments from peers are taken without a published
   * hash to check them against: `"if-present"` on a playlist without hashes (or `"off"`).
   */
  unverifiedStreams: string[];
  /** Spot checks of unhashed segments against CDN byte ranges (`spotCheck` option). */
  spotChecks: SpotCheckStats;
  /**
   * Segments completed over HTTP whose bytes did not match the published hash: PML resumes an
   * abandoned peer download from the CDN with a Range request, so such a segment can carry a
   * peer's bytes. Each was fetched again from the CDN in full.
   */
  httpRefetches: number;
  /** Segments whose full CDN copy did not match the published hash either: played as the CDN sent them. */
  cdnMismatches: number;
}

export interface VerifierOptions {
  mode: Exclude<IntegrityMode, "off">;
  index: SegmentHashIndex;
  /** Resolves once every hash source that was configured has been read (e.g. a JSON map). */
  ready?: Promise<unknown>;
  digest?: (data: ArrayBuffer) => Promise<string>;
  clock?: () => number;
  /** Checks a random byte range of unhashed segments against the CDN. */
  spotCheck?: SpotChecker;
  /** The CDN's own copy of `url` does not match its published hash (see {@link SegmentVerifier.verifyHttp}). */
  onCdnMismatch?: (url: string) => void;
}

/** Recent refusals remembered for attributing them to a peer; older ones are dropped. */
const MAX_REMEMBERED_VERDICTS = 64;
/** Segments whose HTTP copy was refused once, remembered so the second full CDN copy is taken. */
const MAX_REFETCHED = 64;

/**
 * Checks segment bytes against the published SHA-256. It knows nothing of PML or hls.js:
 * {@link verify} has the shape of PML's `validateP2PSegment`.
 */
export class SegmentVerifier {
  private readonly digest: (data: ArrayBuffer) => Promise<string>;
  private readonly clock: () => number;
  private readonly verdicts = new Map<string, IntegrityVerdict>();
  private readonly counters = zeroCounters();
  private readonly failuresByPeer = new Map<string, number>();
  private readonly refetched = new Set<string>();

  constructor(private readonly options: VerifierOptions) {
    this.digest = options.digest ?? sha256Hex;
    this.clock = options.clock ?? (() => performance.now());
  }

  get mode(): Exclude<IntegrityMode, "off"> {
    return this.options.mode;
  }

  /** True when `data` may be handed to the player. Never throws. */
  readonly verify = async (
    url: string,
    byteRange: SegmentByteRange | undefined,
    data: ArrayBuffer,
  ): Promise<boolean> => {
    const expected = await this.publishedHash(url, byteRange);
    if (expected === undefined) {
      this.counters.unhashedSegments++;
      if (this.options.mode === "required") {
        this.remember(url, byteRange, "missing-hash");
        return false;
      }
      if ((await this.options.spotCheck?.check(url, byteRange, data)) === "mismatch") {
        this.counters.failures++;
        this.remember(url, byteRange, "spot-mismatch");
        return false;
      }
      return true;
    }
    const started = this.clock();
    let actual: string;
    try {
      actual = await this.digest(data);
    } catch {
      // Without WebCrypto nothing can be verified: refuse, HTTP stays correct. Not the peer's fault.
      this.remember(url, byteRange, "unverifiable");
      this.counters.failures++;
      return false;
    }
    const elapsed = this.clock() - started;
    this.counters.verifyCount++;
    this.counters.verifyMsTotal += elapsed;
    if (elapsed > this.counters.verifyMsMax) this.counters.verifyMsMax = elapsed;
    if (actual === expected) {
      this.counters.verifiedSegments++;
      return true;
    }
    this.counters.failures++;
    this.remember(url, byteRange, "mismatch");
    return false;
  };

  /**
   * For PML's `validateHTTPSegment`. A segment PML completed over HTTP may start with a peer's
   * bytes (PML resumes an abandoned peer download with a Range request from where the peer
   * stopped): with a published hash, it must match. The first mismatch refuses it, so PML
   * clears the bytes and fetches the whole segment from the CDN; a second mismatch of the same
   * segment is the CDN's own copy (a wrong published hash) and is played, and counted, as the
   * CDN sent it: the CDN stays the source of truth. Never throws.
   */
  readonly verifyHttp = async (
    url: string,
    byteRange: SegmentByteRange | undefined,
    data: ArrayBuffer,
  ): Promise<boolean> => {
    const expected = await this.publishedHash(url, byteRange);
    if (expected === undefined) return true;
    let actual: string;
    try {
      actual = await this.digest(data);
    } catch {
      return true; // nothing can be verified here; the CDN's bytes stand
    }
    if (actual === expected) return true;
    const key = segmentKey(url, byteRange);
    if (this.refetched.delete(key)) {
      this.counters.cdnMismatches++;
      this.options.onCdnMismatch?.(url);
      return true;
    }
    this.refetched.add(key);
    if (this.refetched.size > MAX_REFETCHED) this.refetched.delete(this.refetched.values().next().value as string);
    this.counters.httpRefetches++;
    this.remember(url, byteRange, "mismatch");
    return false;
  };

  /** The published hash of a segment, once every configured hash source has been read. */
  private async publishedHash(url: string, byteRange: SegmentByteRange | undefined): Promise<string | undefined> {
    // A map that failed to load leaves the playlist tags; its error is reported elsewhere.
    if (this.options.ready) await this.options.ready.catch(() => undefined);
    return this.options.index.get(url, byteRange);
  }

  /** Why the last refusal of this segment happened, consumed by the caller that saw the peer. */
  takeVerdict(url: string, byteRange: SegmentByteRange | undefined): IntegrityVerdict | undefined {
    const key = segmentKey(url, byteRange);
    const verdict = this.verdicts.get(key);
    this.verdicts.delete(key);
    return verdict;
  }

  /** Counts a refusal against the peer that sent the segment; returns that peer's total. */
  blamePeer(peerId: string): number {
    const count = (this.failuresByPeer.get(peerId) ?? 0) + 1;
    this.failuresByPeer.set(peerId, count);
    return count;
  }

  failuresOf(peerId: string): number {
    return this.failuresByPeer.get(peerId) ?? 0;
  }

  stats(): IntegrityStats {
    return {
      mode: this.options.mode,
      ...this.counters,
      failuresByPeer: Object.fromEntries(this.failuresByPeer),
      bannedPeers: 0,
      bannedSignalsDropped: 0,
      unverifiedStreams: [],
      spotChecks: this.options.spotCheck?.stats() ?? { checked: 0, mismatches: 0, bytesFetched: 0 },
    };
  }

  private remember(url: string, byteRange: SegmentByteRange | undefined, verdict: IntegrityVerdict): void {
    const key = segmentKey(url, byteRange);
    this.verdicts.delete(key);
    this.verdicts.set(key, verdict);
    if (this.verdicts.size > MAX_REMEMBERED_VERDICTS) {
      this.verdicts.delete(this.verdicts.keys().next().value as string);
    }
  }
}

function zeroCounters(): Omit<
  IntegrityStats,
  "mode" | "failuresByPeer" | "unverifiedStreams" | "spotChecks" | "bannedPeers" | "bannedSignalsDropped"
> {
  return {
    verifiedSegments: 0,
    failures: 0,
    unhashedSegments: 0,
    verifyMsTotal: 0,
    verifyCount: 0,
    verifyMsMax: 0,
    httpRefetches: 0,
    cdnMismatches: 0,
  };
}

/** The stats of a player that verifies nothing (integrity "off"). */
export function integrityOffStats(): IntegrityStats {
  return {
    mode: "off",
    ...zeroCounters(),
    failuresByPeer: {},
    bannedPeers: 0,
    bannedSignalsDropped: 0,
    unverifiedStreams: ["main", "secondary"],
    spotChecks: { checked: 0, mismatches: 0, bytesFetched: 0 },
  };
}
