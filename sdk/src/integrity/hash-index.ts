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

/** One published hash as a playlist lists it. */
export interface ListedHash {
  url: string;
  byteRange: SegmentByteRange | undefined;
  hash: string;
}

/**
 * Expected SHA-256 per segment. Hashes of segments listed in a playlist that is still loaded
 * are never dropped (hls.js does not reload a VOD playlist, so a dropped hash would never come
 * back and the segment would go unchecked). Only hashes no loaded playlist lists any more, such
 * as segments that slid out of a live window, are bounded: past `maxUnlisted` of them, the ones
 * unlisted longest ago go first.
 */
export class SegmentHashIndex {
  private readonly entries = new Map<string, string>();
  /** Keys each loaded playlist lists. */
  private readonly playlists = new Map<string, Set<string>>();
  /** How many loaded playlists list a key. */
  private readonly listedBy = new Map<string, number>();
  /** Keys no playlist lists, oldest first. */
  private readonly unlisted = new Set<string>();

  constructor(private readonly maxUnlisted: number) {
    if (!Number.isInteger(maxUnlisted) || maxUnlisted < 1) {
      throw new RangeError(`SegmentHashIndex: maxEntries must be an integer ≥ 1, got ${maxUnlisted}`);
    }
  }

  /** Records a hash no playlist holds on to; one that is not 64 hex digits is ignored and false returned. */
  set(url: string, byteRange: SegmentByteRange | undefined, hash: string): boolean {
    const hex = normaliseSha256Hex(hash);
    if (!hex) return false;
    const key = segmentKey(url, byteRange);
    this.entries.set(key, hex);
    if (!this.listedBy.has(key)) {
      // Re-inserting moves the entry to the young end.
      this.unlisted.delete(key);
      this.unlisted.add(key);
      this.trim();
    }
    return true;
  }

  /**
   * Records what one loaded playlist (by its URL) lists now, replacing what it listed before:
   * its hashes are kept as long as it lists them. Invalid hashes are skipped.
   */
  setPlaylist(playlistUrl: string, listed: Iterable<ListedHash>): void {
    const keys = new Set<string>();
    for (const { url, byteRange, hash } of listed) {
      const hex = normaliseSha256Hex(hash);
      if (!hex) continue;
      const key = segmentKey(url, byteRange);
      this.entries.set(key, hex);
      keys.add(key);
    }
    const before = this.playlists.get(playlistUrl) ?? new Set<string>();
    for (const key of keys) {
      if (before.has(key)) continue;
      this.listedBy.set(key, (this.listedBy.get(key) ?? 0) + 1);
      this.unlisted.delete(key);
    }
    for (const key of before) if (!keys.has(key)) this.unlist(key);
    this.playlists.set(playlistUrl, keys);
    this.trim();
  }

  /** A playlist is unloaded: its hashes fall under the size limit. */
  dropPlaylist(playlistUrl: string): void {
    for (const key of this.playlists.get(playlistUrl) ?? []) this.unlist(key);
    this.playlists.delete(playlistUrl);
    this.trim();
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
    this.playlists.clear();
    this.listedBy.clear();
    this.unlisted.clear();
  }

  private unlist(key: string): void {
    const count = (this.listedBy.get(key) ?? 0) - 1;
    if (count > 0) {
      this.listedBy.set(key, count);
      return;
    }
    this.listedBy.delete(key);
    this.unlisted.add(key);
  }

  private trim(): void {
    while (this.unlisted.size > this.maxUnlisted) {
      const oldest = this.unlisted.values().next().value as string;
      this.unlisted.delete(oldest);
      this.entries.delete(oldest);
    }
  }
}
