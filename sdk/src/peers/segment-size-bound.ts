export interface SegmentSizeBoundOptions {
  /** Bound before any segment was seen, and never exceeded. */
  maxBytes: number;
  /** Once segments were seen: this many times the largest. */
  factor: number;
  /** The seen-based bound never goes under this. */
  floorBytes: number;
}

/** The largest segment a peer may announce: a sane maximum, tightened by the sizes seen so far. */
export class SegmentSizeBound {
  private largest = 0;

  constructor(private readonly options: SegmentSizeBoundOptions) {}

  note(bytes: number): void {
    if (bytes > this.largest) this.largest = bytes;
  }

  readonly limit = (): number => {
    const { maxBytes, factor, floorBytes } = this.options;
    if (this.largest === 0) return maxBytes;
    return Math.min(maxBytes, Math.max(floorBytes, factor * this.largest));
  };
}
