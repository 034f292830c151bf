import type { CoreEventMap } from "p2p-media-loader-core";
import type { LiveSegmentStore } from "./segment-store";

export interface PeerRelayConfig {
  /**
   * A viewer whose uplink sends at least this many copies of a segment in time relays the new
   * live segments it pulls from peers; 0: never.
   */
  minCopies: number;
}

/** A new live segment of the main stream the edge fetcher watches. */
export interface RelaySegment {
  sn: number;
  start: number;
  end: number;
}

export interface PeerRelayHooks {
  /** The store PML uses now, or undefined before PML created it. */
  store(): LiveSegmentStore | undefined;
  /** The live segment at `url`, when it is one the edge fetcher watches (main stream, current level). */
  segmentAt(url: string): RelaySegment | undefined;
  /** How many copies of a segment lasting `durationSec` this viewer could send in time (undefined: unmeasured). */
  serveCopies(durationSec: number): number | undefined;
}

export interface PeerRelayStats {
  /** Segments announced while being pulled from a peer. */
  relayed: number;
  /** Of those, the ones whose pull failed and whose announcement was taken back. */
  relayWithdrawn: number;
}

interface Pull {
  segment: RelaySegment;
  announced: boolean;
}

/**
 * Announces a new live segment this viewer is pulling from a peer as soon as its first bytes
 * arrive (the holder admitted the request), so the segment spreads from every viewer that is
 * receiving it instead of only from those that have all of it: with one seed and uplinks that
 * send two or three copies in time, the swarm's second hop starts one transfer earlier. A
 * peer asking meanwhile is served once the pull completes (`LiveSegmentStore.relay`).
 *
 * Only a viewer with uplink to spare relays ({@link PeerRelayConfig.minCopies}): one that can
 * send a single copy in time would make its requesters wait for its pull and then for its
 * upload, and they would do better to ask the holder. PML pulls one segment per peer at a time,
 * which is how a chunk (`onChunkDownloaded` names only the peer) is matched to its segment.
 */
export class PeerRelay {
  private readonly pulls = new Map<string, Pull>();
  private readonly counts: PeerRelayStats = { relayed: 0, relayWithdrawn: 0 };

  constructor(
    private readonly config: PeerRelayConfig,
    private readonly hooks: PeerRelayHooks,
  ) {}

  /** PML events the relay listens to, for `addEventListener`. */
  readonly pmlListeners: Partial<CoreEventMap> = {
    onSegmentStart: ({ segment, downloadSource, peerId }) => {
      if (downloadSource !== "p2p" || peerId === undefined || this.config.minCopies <= 0) return;
      this.end(peerId);
      const relaySegment = this.hooks.segmentAt(segment.url);
      if (relaySegment) this.pulls.set(peerId, { segment: relaySegment, announced: false });
    },
    onChunkDownloaded: (_bytes, source, peerId) => {
      if (source !== "p2p" || peerId === undefined) return;
      const pull = this.pulls.get(peerId);
      if (!pull || pull.announced) return;
      pull.announced = true;
      this.announce(pull.segment);
    },
    onSegmentLoaded: ({ downloadSource, peerId }) => {
      // PML stores the bytes next, which settles the relay; nothing is withdrawn.
      if (downloadSource === "p2p" && peerId !== undefined) this.pulls.delete(peerId);
    },
    onSegmentError: ({ downloadSource, peerId }) => {
      if (downloadSource === "p2p" && peerId !== undefined) this.end(peerId);
    },
    onSegmentAbort: ({ downloadSource, peerId }) => {
      if (downloadSource === "p2p" && peerId !== undefined) this.end(peerId);
    },
    onPeerClose: ({ peerId }) => this.end(peerId),
  };

  stats(): PeerRelayStats {
    return { ...this.counts };
  }

  private announce(segment: RelaySegment): void {
    const store = this.hooks.store();
    const ids = store?.lastIds.get("main");
    if (!store || !ids) return;
    if ((this.hooks.serveCopies(segment.end - segment.start) ?? 0) < this.config.minCopies) return;
    if (store.relay(ids.streamId, segment.sn, segment.start, segment.end)) this.counts.relayed++;
  }

  /** The pull from `peerId` ended without the bytes: its announcement, if any, is taken back. */
  private end(peerId: string): void {
    const pull = this.pulls.get(peerId);
    if (!pull) return;
    this.pulls.delete(peerId);
    if (!pull.announced) return;
    const store = this.hooks.store();
    const ids = store?.lastIds.get("main");
    if (store && ids && store.withdrawRelay(ids.streamId, pull.segment.sn)) this.counts.relayWithdrawn++;
  }
}
