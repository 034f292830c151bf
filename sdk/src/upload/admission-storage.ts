import type { CommonCoreConfig, SegmentStorage } from "p2p-media-loader-core";

/**
 * Decides whether a peer gets a segment of `bytes` lasting `durationSec` (unknown: undefined),
 * at once or when its turn comes; `requester` aborts when the peer stops waiting, and the peer
 * has waited `waitedMs` for the bytes already (a segment still being fetched or relayed).
 */
export type Admit = (
  bytes: number,
  durationSec: number | undefined,
  requester: AbortSignal | undefined,
  waitedMs: number,
) => boolean | Promise<boolean>;

/** Pairs a peer's read with the request it answers: the signal that aborts when the peer stops waiting. */
export type RequesterOf = (segmentId: number) => AbortSignal | undefined;

/** A store that can tell a held segment's duration and what it announces (the SDK's live store can). */
interface TimedStorage extends SegmentStorage {
  segmentDuration?(streamId: string, segmentId: number): number | undefined;
  /** Whether peers are told the segment is here (`hasSegment` leaves relayed segments out). */
  announces?(streamId: string, segmentId: number): boolean;
}

/**
 * Wraps a PML segment store so that each read for a peer asks `admit()` once the bytes are at
 * hand (a segment still being fetched is decided when its fetch completes, when its upload
 * would start); a refused read returns nothing, which PML answers with "absent" (the peer
 * takes the segment elsewhere).
 *
 * PML reads the store for two reasons: a peer's request, and this viewer's own playback. The
 * second is always preceded, in the same synchronous run, by `onSegmentRequested` for that
 * segment, which is how the two are told apart.
 */
export function admittingStorage(store: TimedStorage, admit: Admit, requesterOf?: RequesterOf): SegmentStorage {
  let ownRead: string | undefined;
  const onSegmentRequested = store.onSegmentRequested.bind(store);
  const getSegmentData = store.getSegmentData.bind(store);
  store.onSegmentRequested = (swarmId, streamId, segmentId, ...rest) => {
    ownRead = `${streamId}|${segmentId}`;
    queueMicrotask(() => (ownRead = undefined));
    onSegmentRequested(swarmId, streamId, segmentId, ...rest);
  };
  store.getSegmentData = (swarmId, streamId, segmentId) => {
    const key = `${streamId}|${segmentId}`;
    if (ownRead === key) {
      ownRead = undefined;
      return getSegmentData(swarmId, streamId, segmentId);
    }
    const requester = requesterOf?.(segmentId);
    const announced = store.announces?.(streamId, segmentId) ?? store.hasSegment(swarmId, streamId, segmentId);
    if (!announced) return Promise.resolve(undefined);
    const askedAt = Date.now();
    return getSegmentData(swarmId, streamId, segmentId).then(async (data) => {
      if (!data || requester?.aborted) return undefined;
      const waitedMs = Date.now() - askedAt;
      const go = await admit(data.byteLength, store.segmentDuration?.(streamId, segmentId), requester, waitedMs);
      return go ? data : undefined;
    });
  };
  return store;
}

/** PML's `customSegmentStorageFactory` with every store it makes admitting, or nothing without one. */
export function withAdmission(
  factory: CommonCoreConfig["customSegmentStorageFactory"],
  admit: Admit,
  requesterOf?: RequesterOf,
): Pick<CommonCoreConfig, "customSegmentStorageFactory"> {
  if (!factory) return {};
  return { customSegmentStorageFactory: (isLive) => admittingStorage(factory(isLive), admit, requesterOf) };
}
