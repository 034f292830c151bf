import type { CoreEventMap, SegmentAbortDetails } from "p2p-media-loader-core";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";

/**
 * Which of a segment's holders PML should pass over when it draws one.
 *
 * PML 2.3.1 draws the peer for a segment among the holders it finds free, weighted by the
 * bandwidth each has shown this viewer. The holder whose transfer of the segment was just given
 * up (it stalled behind other viewers' requests on that holder's uplink, or PML timed it out) is
 * then the likeliest draw again, and the new request waits behind the same uploads until PML's
 * no-bytes timeout: in the partial CDN outage runs, viewers whose CDN failed stalled 0.5–2.3 s
 * on such second draws of the same holder while another holder sent the segment in 0.1–0.2 s.
 * A build-time patch (`patchPmlHolderDraw` in rollup.config.mjs) hands this the holders PML
 * found, before it draws: those whose attempt at the segment failed or was given up within
 * `forgetMs` are passed over while another holder is left.
 */
export interface GivenUpHoldersConfig {
  /** How long a holder whose attempt at a segment ended without it is passed over for it, ms. */
  forgetMs: number;
}

/** Segments followed at once; the oldest is dropped first (a viewer needs a few at a time). */
const TRACKED_SEGMENTS = 64;

export class GivenUpHolders {
  /** Segment URL → peer id → when its attempt ended without the segment. */
  private readonly bySegment = new Map<string, Map<string, number>>();

  constructor(
    private readonly config: GivenUpHoldersConfig = DEFAULT_SWARMCAST_CONFIG.givenUpHolders,
    private readonly clock: () => number = Date.now,
  ) {}

  private readonly attemptEnded = ({ segment, downloadSource, peerId }: SegmentAbortDetails): void => {
    if (downloadSource === "p2p" && peerId !== undefined) this.giveUp(segment.url, peerId);
  };

  /** PML events that end a peer's attempt, for `addEventListener`. */
  readonly pmlListeners: Partial<CoreEventMap> = {
    onSegmentError: this.attemptEnded,
    onSegmentAbort: this.attemptEnded,
    onSegmentLoaded: ({ segmentUrl }) => {
      this.bySegment.delete(segmentUrl);
    },
  };

  /** Whether `peerId`'s attempt at `segmentUrl` ended without it within `forgetMs`. */
  givenUpLately(segmentUrl: string, peerId: string): boolean {
    const at = this.bySegment.get(segmentUrl)?.get(peerId);
    return at !== undefined && at > this.clock() - this.config.forgetMs;
  }

  /** Removes from `holders`, in place, those given up for `segmentUrl` lately, unless none would be left. */
  passOver(segmentUrl: string, holders: Array<{ id: string }>): void {
    const givenUp = this.bySegment.get(segmentUrl);
    if (!givenUp || holders.length < 2) return;
    const lately = (peerId: string) => this.givenUpLately(segmentUrl, peerId);
    if (holders.every((holder) => lately(holder.id))) return;
    for (let i = holders.length - 1; i >= 0; i--) if (lately(holders[i].id)) holders.splice(i, 1);
  }

  private giveUp(segmentUrl: string, peerId: string): void {
    const givenUp = this.bySegment.get(segmentUrl) ?? new Map<string, number>();
    givenUp.set(peerId, this.clock());
    this.bySegment.delete(segmentUrl);
    this.bySegment.set(segmentUrl, givenUp);
    if (this.bySegment.size > TRACKED_SEGMENTS) this.bySegment.delete(this.bySegment.keys().next().value as string);
  }
}

/** Each PML segment store's viewer's given-up holders: PML's peer loader knows its store, not the session. */
const byStore = new WeakMap<object, GivenUpHolders>();

/** Tells the draw patch which given-up holders apply to the viewer whose PML uses `store`. */
export function setGivenUpHolders(store: object, holders: GivenUpHolders): void {
  byStore.set(store, holders);
}

/** The given-up holders of the viewer whose PML uses `store`; undefined for a store the SDK did not create. */
export function givenUpHoldersOf(store: object | undefined): GivenUpHolders | undefined {
  return store ? byStore.get(store) : undefined;
}

/**
 * The call the build-time patch puts into PML's peer loader (`P2PLoader.downloadSegment`), with
 * the holders it found and its segment store, before it draws one.
 */
export function passOverGivenUpHolders(holders: Array<{ id: string }>, segment: { url: string }, store?: object): void {
  givenUpHoldersOf(store)?.passOver(segment.url, holders);
}
