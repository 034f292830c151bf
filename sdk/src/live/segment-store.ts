import type { CommonCoreConfig, SegmentStorage, StreamConfig, StreamType } from "p2p-media-loader-core";

interface StoredSegment {
  streamId: string;
  segmentId: number;
  startTime: number;
  endTime: number;
  /** Present once the bytes are here; before that, `pending` resolves to them (or undefined on failure). */
  data: ArrayBuffer | undefined;
  pending: Promise<ArrayBuffer | undefined> | undefined;
  /** For a segment relayed while PML pulls it from a peer (see {@link LiveSegmentStore.relay}). */
  relay?: { settle: (data: ArrayBuffer | undefined) => void; expiry: ReturnType<typeof setTimeout> };
}

export interface LiveSegmentStoreOptions {
  /** Seconds of media kept behind the playhead, so peers a little behind can still pull them. */
  keepBehindSec: number;
  /** Byte budget of the store, MiB (PML's `segmentMemoryStorageLimit` wins when set). */
  limitMiB: number;
  /**
   * A peer's read of a relayed segment waits this long for the bytes at most, then is answered
   * "absent" (the peer gives up on a holder silent for 2 s, and the upload may still wait its turn).
   */
  relayReadWaitMs: number;
  /** A relayed segment whose pull neither completed nor failed within this long is withdrawn, ms. */
  relayExpiryMs: number;
}

const BYTES_PER_MIB = 1024 * 1024;

/** What the store holds now (`stats().storage`). */
export interface SegmentStoreUsage {
  /** Segments held with their bytes. */
  segments: number;
  /** Segments announced while their CDN fetch is still running. */
  pending: number;
  /** Segments announced while PML pulls them from a peer (relayed). */
  relaying: number;
  /** Bytes of the segments held. */
  bytes: number;
  /** Byte budget, bytes. */
  limitBytes: number;
}

/**
 * PML's segment store, with one addition: a segment can be put in "in flight" — announced to
 * peers as held while this viewer is still fetching it from the CDN. A peer that asks for it
 * meanwhile gets the bytes as soon as the fetch completes (PML awaits `getSegmentData`), so the
 * swarm learns who is fetching a new live segment within one round trip instead of one fetch
 * time, and nobody else starts a second CDN fetch of it.
 *
 * A segment PML is pulling from a peer can be announced the same way ({@link relay}): peers ask
 * this viewer as well as the first holder, and the segment spreads from every viewer that has
 * started receiving it, not only from those that have all of it. PML itself must not see such a
 * segment as held (it would stop its own pull), so {@link hasSegment} leaves it out; it is
 * announced through {@link getStoredSegmentIds} and served once PML stores the pulled bytes,
 * which PML has checked (`validateP2PSegment`) by then.
 */
export class LiveSegmentStore implements SegmentStorage {
  private readonly items = new Map<string, StoredSegment>();
  private onChange: ((streamId: string) => void) | undefined;
  private position = 0;
  private limitMiB: number;
  private usedBytes = 0;
  private destroyed = false;
  private readonly listeners = new Set<(streamId: string, segmentId: number) => void>();
  /** The swarm and stream ids PML last used per stream type: the SDK stores under the same ids. */
  readonly lastIds = new Map<StreamType, { swarmId: string; streamId: string }>();

  constructor(private readonly options: LiveSegmentStoreOptions) {
    this.limitMiB = options.limitMiB;
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async initialize(coreConfig: CommonCoreConfig, _main: StreamConfig, _secondary: StreamConfig): Promise<void> {
    if (coreConfig.segmentMemoryStorageLimit) this.limitMiB = coreConfig.segmentMemoryStorageLimit;
  }

  onPlaybackUpdated(position: number, _rate?: number): void {
    this.position = position;
  }

  onSegmentRequested(
    swarmId: string,
    streamId: string,
    _segmentId: number,
    _s: number,
    _e: number,
    streamType: StreamType,
  ): void {
    this.lastIds.set(streamType, { swarmId, streamId });
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async storeSegment(
    swarmId: string,
    streamId: string,
    segmentId: number,
    data: ArrayBuffer,
    startTime: number,
    endTime: number,
    streamType: StreamType,
    _isLive?: boolean,
  ): Promise<void> {
    this.lastIds.set(streamType, { swarmId, streamId });
    this.put(streamId, segmentId, startTime, endTime, data);
  }

  /**
   * Announces `segmentId` as held while `fetching` runs. Resolves to whether it was stored.
   * A failed or empty fetch removes the entry again, and peers are told.
   */
  async storeWhenFetched(
    streamId: string,
    segmentId: number,
    startTime: number,
    endTime: number,
    fetching: Promise<ArrayBuffer | undefined>,
  ): Promise<boolean> {
    const key = keyOf(streamId, segmentId);
    if (this.items.has(key)) return false;
    const pending = fetching.then(
      (data) => (data && data.byteLength > 0 ? data : undefined),
      () => undefined,
    );
    const item: StoredSegment = { streamId, segmentId, startTime, endTime, data: undefined, pending };
    this.items.set(key, item);
    this.changed(streamId);
    const data = await pending;
    if (this.items.get(key) !== item) return false;
    item.pending = undefined;
    if (!data || this.destroyed) {
      this.items.delete(key);
      this.changed(streamId);
      return false;
    }
    item.data = data;
    this.usedBytes += data.byteLength;
    this.evict();
    this.notify(streamId, segmentId);
    return true;
  }

  /**
   * Announces `segmentId`, which PML is pulling from a peer, as held: a peer that asks for it
   * gets it once PML stores it (within `relayReadWaitMs`, else "absent"). Returns false when the
   * store already has an entry for it. {@link withdrawRelay} takes the announcement back.
   */
  relay(streamId: string, segmentId: number, startTime: number, endTime: number): boolean {
    const key = keyOf(streamId, segmentId);
    if (this.items.has(key) || this.destroyed) return false;
    let settle!: (data: ArrayBuffer | undefined) => void;
    const pending = new Promise<ArrayBuffer | undefined>((resolve) => (settle = resolve));
    const expiry = setTimeout(() => this.withdrawRelay(streamId, segmentId), this.options.relayExpiryMs);
    this.items.set(key, {
      streamId,
      segmentId,
      startTime,
      endTime,
      data: undefined,
      pending,
      relay: { settle, expiry },
    });
    this.changed(streamId);
    return true;
  }

  /**
   * Takes back a {@link relay} announcement whose pull failed; a stored segment stays. Returns
   * whether there was one to take back.
   */
  withdrawRelay(streamId: string, segmentId: number): boolean {
    const key = keyOf(streamId, segmentId);
    const item = this.items.get(key);
    if (!item?.relay) return false;
    settleRelay(item, undefined);
    this.items.delete(key);
    this.changed(streamId);
    return true;
  }

  isRelaying(streamId: string, segmentId: number): boolean {
    return this.items.get(keyOf(streamId, segmentId))?.relay !== undefined;
  }

  private put(streamId: string, segmentId: number, startTime: number, endTime: number, data: ArrayBuffer): void {
    const key = keyOf(streamId, segmentId);
    const old = this.items.get(key);
    if (old?.data) this.usedBytes -= old.data.byteLength;
    // A relayed segment is announced already: peers need not hear of it again.
    const announced = old?.relay !== undefined;
    if (old) settleRelay(old, data);
    this.items.set(key, { streamId, segmentId, startTime, endTime, data, pending: undefined });
    this.usedBytes += data.byteLength;
    this.evict();
    if (!announced) this.changed(streamId);
    this.notify(streamId, segmentId);
  }

  async getSegmentData(_swarmId: string, streamId: string, segmentId: number): Promise<ArrayBuffer | undefined> {
    const item = this.items.get(keyOf(streamId, segmentId));
    if (!item) return undefined;
    if (item.data) return item.data;
    if (!item.relay || !item.pending) return await item.pending;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), this.options.relayReadWaitMs)),
    );
    try {
      return await Promise.race([item.pending, giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * True for in-flight CDN fetches too: PML must neither fetch them again nor ask peers for them.
   * False for relayed segments: PML is pulling those itself.
   */
  hasSegment(_swarmId: string, streamId: string, segmentId: number): boolean {
    const item = this.items.get(keyOf(streamId, segmentId));
    return item !== undefined && item.relay === undefined;
  }

  /** Whether peers are told this viewer holds the segment (held, fetched or relayed). */
  announces(streamId: string, segmentId: number): boolean {
    return this.items.has(keyOf(streamId, segmentId));
  }

  /** Seconds of media in a held segment, or undefined for one not held. */
  segmentDuration(streamId: string, segmentId: number): number | undefined {
    const item = this.items.get(keyOf(streamId, segmentId));
    return item ? item.endTime - item.startTime : undefined;
  }

  /** Whether the bytes of the segment are here (not just being fetched). */
  hasData(streamId: string, segmentId: number): boolean {
    return this.items.get(keyOf(streamId, segmentId))?.data !== undefined;
  }

  /** Whether the segment is announced while this viewer's CDN fetch of it runs. */
  isInFlight(streamId: string, segmentId: number): boolean {
    const item = this.items.get(keyOf(streamId, segmentId));
    return item !== undefined && item.data === undefined && item.relay === undefined;
  }

  getStoredSegmentIds(_swarmId: string, streamId: string): number[] {
    const ids: number[] = [];
    for (const item of this.items.values()) if (item.streamId === streamId) ids.push(item.segmentId);
    return ids;
  }

  getUsage(): { totalCapacity: number; usedCapacity: number } {
    return { totalCapacity: this.limitMiB, usedCapacity: this.bytesAhead() / BYTES_PER_MIB };
  }

  setSegmentChangeCallback(callback: (streamId: string) => void): void {
    this.onChange = callback;
  }

  usage(): SegmentStoreUsage {
    let segments = 0;
    let relaying = 0;
    for (const item of this.items.values()) {
      if (item.data) segments++;
      else if (item.relay) relaying++;
    }
    return {
      segments,
      pending: this.items.size - segments - relaying,
      relaying,
      bytes: this.usedBytes,
      limitBytes: this.limitMiB * BYTES_PER_MIB,
    };
  }

  /** Calls `fn` whenever the bytes of a segment arrive (from any source). */
  onStored(fn: (streamId: string, segmentId: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  destroy(): void {
    this.destroyed = true;
    for (const item of this.items.values()) settleRelay(item, undefined);
    this.items.clear();
    this.listeners.clear();
    this.usedBytes = 0;
  }

  /**
   * Whether one more segment of the usual size fits the byte budget once what lies behind the
   * playhead is dropped: a viewer far behind the live edge (paused, or playing slower than real
   * time) stops fetching new segments early instead of filling the store with them.
   */
  roomForAnother(): boolean {
    const { segments } = this.usage();
    const typical = segments > 0 ? this.usedBytes / segments : 0;
    return this.bytesAhead() + typical <= this.limitMiB * BYTES_PER_MIB;
  }

  /** Bytes of the held segments that end at or after the playhead. */
  private bytesAhead(): number {
    let ahead = 0;
    for (const item of this.items.values()) {
      if (item.data && item.endTime >= this.position) ahead += item.data.byteLength;
    }
    return ahead;
  }

  /**
   * Drops segments well behind the playhead; then, while over the byte budget, the rest behind it
   * (oldest first) and then those ahead of it, farthest first: the ones the player needs next
   * stay. Segments still being fetched hold no bytes and stay announced.
   */
  private evict(): void {
    const limitBytes = this.limitMiB * BYTES_PER_MIB;
    const affected = new Set<string>();
    const drop = (key: string, item: StoredSegment & { data: ArrayBuffer }): void => {
      this.items.delete(key);
      this.usedBytes -= item.data.byteLength;
      affected.add(item.streamId);
    };
    const held = [...this.items.entries()].filter((entry): entry is [string, StoredSegment & { data: ArrayBuffer }] =>
      Boolean(entry[1].data),
    );
    const keep: typeof held = [];
    for (const entry of held) {
      if (entry[1].endTime < this.position - this.options.keepBehindSec) drop(...entry);
      else keep.push(entry);
    }
    if (this.usedBytes > limitBytes) {
      const behind = keep.filter(([, item]) => item.endTime < this.position);
      const ahead = keep.filter(([, item]) => item.endTime >= this.position);
      behind.sort((a, b) => a[1].startTime - b[1].startTime);
      ahead.sort((a, b) => b[1].startTime - a[1].startTime);
      for (const entry of [...behind, ...ahead]) {
        if (this.usedBytes <= limitBytes) break;
        drop(...entry);
      }
    }
    for (const streamId of affected) this.changed(streamId);
  }

  private changed(streamId: string): void {
    if (!this.destroyed) this.onChange?.(streamId);
  }

  private notify(streamId: string, segmentId: number): void {
    for (const fn of this.listeners) fn(streamId, segmentId);
  }
}

/** Hands a relayed segment's waiting reads their bytes (or nothing) and ends its relay. */
function settleRelay(item: StoredSegment, data: ArrayBuffer | undefined): void {
  if (!item.relay) return;
  item.relay.settle(data);
  clearTimeout(item.relay.expiry);
  item.relay = undefined;
}

function keyOf(streamId: string, segmentId: number): string {
  return `${streamId}|${segmentId}`;
}
