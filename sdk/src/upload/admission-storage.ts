import type { CommonCoreConfig, SegmentStorage } from "p2p-media-loader-core";

/**
 * Wraps a PML segment store so that each read for a peer asks `admit()` first; a refused read
 * returns nothing, which PML answers with "absent" (the peer takes the segment elsewhere).
 *
 * PML reads the store for two reasons: a peer's request, and this viewer's own playback. The
 * second is always preceded, in the same synchronous run, by `onSegmentRequested` for that
 * segment, which is how the two are told apart.
 */
export function admittingStorage(store: SegmentStorage, admit: () => boolean): SegmentStorage {
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
    if (!store.hasSegment(swarmId, streamId, segmentId) || !admit()) return Promise.resolve(undefined);
    return getSegmentData(swarmId, streamId, segmentId);
  };
  return store;
}

/** PML's `customSegmentStorageFactory` with every store it makes admitting, or nothing without one. */
export function withAdmission(
  factory: CommonCoreConfig["customSegmentStorageFactory"],
  admit: () => boolean,
): Pick<CommonCoreConfig, "customSegmentStorageFactory"> {
  if (!factory) return {};
  return { customSegmentStorageFactory: (isLive) => admittingStorage(factory(isLive), admit) };
}
