/** PML's SegmentStorage, as far as a lying store implements it (see lying-storage.js). */
interface SwarmcastLyingStorage {
  /** Segments stored; the store serves each corrupted. */
  readonly items: Map<string, unknown>;
  destroy(): void;
}

declare global {
  var SwarmcastLyingStorage: new (onCorruptedServed?: () => void) => SwarmcastLyingStorage;
}

export {};
