import { SEGMENT_HASH_TAG } from "../../../shared/protocol";
import type { SegmentByteRange } from "./hash-index";
import { normaliseSha256Hex } from "./sha256";

/** The tag name as hls.js stores it in a fragment's `tagList`: without the leading '#'. */
const TAG_NAME = SEGMENT_HASH_TAG.slice(1);

/** The parts of an hls.js Fragment this module reads. */
export interface FragmentLike {
  url: string;
  /** hls.js form: [start, end) with end exclusive, or [] / [undefined…] for a whole file. */
  byteRange: number[];
  tagList: string[][];
}

export interface PlaylistHash {
  url: string;
  byteRange: SegmentByteRange | undefined;
  /** Lower-case hex, or undefined when the segment carries no valid tag. */
  hash: string | undefined;
}

/** hls.js's exclusive-end byte range as PML's inclusive one (what validateP2PSegment receives). */
export function toInclusiveRange(range: number[]): SegmentByteRange | undefined {
  const [start, end] = range;
  if (typeof start !== "number" || typeof end !== "number" || !(end > start)) return undefined;
  return { start, end: end - 1 };
}

/**
 * Reads `#EXT-X-SWARMCAST-SHA256:<hex>` off each fragment. hls.js keeps unknown tags in the
 * fragment that follows them as `[name, value]`; the last valid one before the URI wins.
 */
export function hashesFromFragments(fragments: ReadonlyArray<FragmentLike | null>): PlaylistHash[] {
  const out: PlaylistHash[] = [];
  for (const frag of fragments) {
    // Delta playlists leave skipped fragments as null until hls.js merges them.
    if (!frag) continue;
    let hash: string | undefined;
    for (const tag of frag.tagList) {
      if (tag[0] === TAG_NAME) hash = normaliseSha256Hex(tag[1]) ?? hash;
    }
    out.push({ url: frag.url, byteRange: toInclusiveRange(frag.byteRange), hash });
  }
  return out;
}
