// A peer that lies: a segment store implementing PML's SegmentStorage interface that hands out a
// damaged copy of what it stores (same length, a byte flipped every 4 KiB). PML uploads whatever
// getSegmentData returns, so every segment its owner serves is corrupted. Reads for its own
// playback stay intact (PML announces those with onSegmentRequested just before), so the liar
// keeps playing and stays in the swarm like a real attacker would.
//
// A classic script with no imports or exports, so a page loads it with <script src> and Node with
// a side-effect import: both get `globalThis.SwarmcastLyingStorage` (types: lying-storage.d.ts).
// Used through PML's `core.customSegmentStorageFactory` (live edge fetcher off: it brings a
// store of its own).
globalThis.SwarmcastLyingStorage = class LyingStorage {
  /** @param {() => void} [onCorruptedServed] called for every corrupted copy handed out */
  constructor(onCorruptedServed = () => {}) {
    this.items = new Map();
    this.onChange = () => {};
    this.onCorruptedServed = onCorruptedServed;
    this.ownRead = undefined;
  }
  async initialize() {}
  onPlaybackUpdated() {}
  onSegmentRequested(swarmId, streamId, segmentId) {
    this.ownRead = `${streamId}|${segmentId}`;
    queueMicrotask(() => (this.ownRead = undefined));
  }
  async storeSegment(swarmId, streamId, segmentId, data) {
    this.items.set(`${streamId}|${segmentId}`, { streamId, segmentId, data });
    const ofStream = [...this.items.values()].filter((i) => i.streamId === streamId);
    for (const old of ofStream.slice(0, Math.max(0, ofStream.length - 30)))
      this.items.delete(`${streamId}|${old.segmentId}`);
    this.onChange(streamId);
  }
  async getSegmentData(swarmId, streamId, segmentId) {
    const key = `${streamId}|${segmentId}`;
    const item = this.items.get(key);
    if (!item) return undefined;
    if (this.ownRead === key) {
      this.ownRead = undefined;
      return item.data;
    }
    const copy = item.data.slice(0);
    const bytes = new Uint8Array(copy);
    for (let i = 188; i < bytes.length; i += 4096) bytes[i] ^= 0x5a;
    this.onCorruptedServed();
    return copy;
  }
  getUsage() {
    return { totalCapacity: 1000, usedCapacity: this.items.size };
  }
  hasSegment(swarmId, streamId, segmentId) {
    return this.items.has(`${streamId}|${segmentId}`);
  }
  getStoredSegmentIds(swarmId, streamId) {
    return [...this.items.values()].filter((i) => i.streamId === streamId).map((i) => i.segmentId);
  }
  setSegmentChangeCallback(callback) {
    this.onChange = callback;
  }
  destroy() {
    this.items.clear();
  }
};
