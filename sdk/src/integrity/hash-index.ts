import { normaliseSha256Hex } from "./sha256";

/** A byte range as PML passes it: both ends inclusive. */
export interface SegmentByteRange {
  start: number;
  end: number;
}

/**
 * Identity of a segment: its absolute URL, plus `|start-end` (inclusive) for a byte range,
 * the form PML uses for segment runtime ids.
 */
export function segmentKey(url: string, byteRange?: SegmentByteRange): string {
  return byteRange ? `${url}|${byteRange.start}-${byteRange.end}` : url;
}

function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * Expected SHA-256 per segment. Bounded: once `maxEntries` is reached the entries set
 * longest ago go first, which for a live window are the segments that slid out of it.
 */
export class SegmentHashIndex {
  private readonly entries = new Map<string, string>();

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`SegmentHashIndex: maxEntries must be an integer ≥ 1, got ${maxEntries}`);
    }
  }

  /** Records a hash; a hash that is not 64 hex digits is ignored and false returned. */
  set(url: string, byteRange: SegmentByteRange | undefined, hash: string): boolean {
    const hex = normaliseSha256Hex(hash);
    if (!hex) return false;
    const key = segmentKey(url, byteRange);
    // Re-inserting moves the entry to the young end, so live segments still listed stay.
    this.entries.delete(key);
    this.entries.set(key, hex);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return true;
  }

  /**
   * The expected hash of a segment. Falls back to the URL without its query, so a CDN's
   * signed or cache-busting parameters do not hide a hash published for the bare URL.
   */
  get(url: string, byteRange?: SegmentByteRange): string | undefined {
    const exact = this.entries.get(segmentKey(url, byteRange));
    if (exact !== undefined) return exact;
    const bare = withoutQuery(url);
    return bare === url ? undefined : this.entries.get(segmentKey(bare, byteRange));
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
