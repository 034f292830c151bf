import { createHash } from "node:crypto";
import { SEGMENT_HASH_TAG } from "../../shared/protocol";

/** A segment of a media playlist, as `swarmcast-hash` hashed it. */
export interface HashedSegment {
  /** The URI as written in the playlist. */
  uri: string;
  /** Inclusive byte range, when the playlist gives one. */
  byteRange?: { start: number; end: number };
  /** Lower-case hex SHA-256 of the segment's bytes (of its range, if any). */
  hash: string;
}

export interface TagResult {
  /** The playlist with one hash tag before each segment, old hash tags removed. */
  text: string;
  segments: HashedSegment[];
  /** True for a multivariant playlist: it lists playlists, not segments, and is left as is. */
  multivariant: boolean;
  /** URIs of the media playlists a multivariant playlist lists. */
  variants: string[];
}

/** Reads a segment's bytes given its playlist URI (the caller resolves it). */
export type SegmentReader = (uri: string) => Uint8Array;

export class PlaylistError extends Error {
  override name = "PlaylistError";
}

const BYTERANGE = /^#EXT-X-BYTERANGE:\s*(\d+)(?:@(\d+))?\s*$/;
const URI_ATTRIBUTE = /URI="([^"]+)"/;

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes `#EXT-X-SWARMCAST-SHA256:<hex>` on the line before the first tag of each segment
 * (so before its `#EXTINF`), dropping any hash tag already there: running it twice gives the
 * same playlist. Line endings of the input are kept.
 */
export function tagPlaylist(text: string, readSegment: SegmentReader, name = "playlist"): TagResult {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  if ((lines[0] ?? "").replace(/^\uFEFF/, "").trim() !== "#EXTM3U") {
    throw new PlaylistError(`${name}: not an HLS playlist (first line is not #EXTM3U)`);
  }
  const isMultivariant = lines.some((l) => l.startsWith("#EXT-X-STREAM-INF") || l.startsWith("#EXT-X-MEDIA:"));
  if (isMultivariant) {
    const variants: string[] = [];
    lines.forEach((line, i) => {
      if (line.startsWith("#EXT-X-STREAM-INF")) {
        const uri = lines.slice(i + 1).find((l) => l.trim() !== "" && !l.startsWith("#"));
        if (uri) variants.push(uri.trim());
      } else if (line.startsWith("#EXT-X-MEDIA:")) {
        const uri = URI_ATTRIBUTE.exec(line)?.[1];
        if (uri) variants.push(uri);
      }
    });
    return { text, segments: [], multivariant: true, variants: [...new Set(variants)] };
  }

  const out: string[] = [];
  const segments: HashedSegment[] = [];
  const cache = new Map<string, Uint8Array>();
  const read = (uri: string) => {
    let data = cache.get(uri);
    if (!data) {
      data = readSegment(uri);
      cache.clear(); // byte ranges walk one file at a time
      cache.set(uri, data);
    }
    return data;
  };
  // Lines of the segment being read, from its first tag to its URI.
  const pending: string[] = [];
  let range: { length: number; offset?: number } | undefined;
  const nextOffset = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (i === 0 || trimmed === "") {
      out.push(...pending.splice(0), line);
      continue;
    }
    if (trimmed.startsWith(SEGMENT_HASH_TAG + ":") || trimmed === SEGMENT_HASH_TAG) continue;
    if (trimmed.startsWith("#")) {
      const br = BYTERANGE.exec(trimmed);
      if (br) range = { length: Number(br[1]), offset: br[2] === undefined ? undefined : Number(br[2]) };
      // Playlist-wide tags before the first segment tag stay where they are.
      if (pending.length === 0 && !isSegmentTag(trimmed)) out.push(line);
      else pending.push(line);
      continue;
    }
    const uri = trimmed;
    let data: Uint8Array;
    try {
      data = read(uri);
    } catch (error) {
      throw new PlaylistError(
        `${name}, line ${i + 1}: cannot read segment "${uri}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    let byteRange: HashedSegment["byteRange"];
    if (range) {
      const start = range.offset ?? nextOffset.get(uri) ?? 0;
      const end = start + range.length - 1;
      if (end >= data.length) {
        throw new PlaylistError(
          `${name}, line ${i + 1}: byte range ${start}-${end} of "${uri}" is past its end (${data.length} bytes)`,
        );
      }
      byteRange = { start, end };
      nextOffset.set(uri, end + 1);
      data = data.subarray(start, end + 1);
      range = undefined;
    }
    const hash = sha256Hex(data);
    segments.push({ uri, ...(byteRange ? { byteRange } : {}), hash });
    out.push(`${SEGMENT_HASH_TAG}:${hash}`, ...pending.splice(0), line);
  }
  out.push(...pending);
  return { text: out.join(eol), segments, multivariant: false, variants: [] };
}

/** Tags that belong to the next segment (RFC 8216 §4.3.2 media segment tags). */
function isSegmentTag(line: string): boolean {
  return /^#EXT(INF|-X-(BYTERANGE|DISCONTINUITY|KEY|MAP|PROGRAM-DATE-TIME|DATERANGE|GAP|BITRATE|CUE-OUT|CUE-IN))\b/.test(
    line,
  );
}

/** Removes every hash tag (with its line ending). */
export function stripPlaylist(text: string): string {
  const tag = SEGMENT_HASH_TAG.replace(/[-]/g, "\\-");
  return text.replace(new RegExp(`^[ \\t]*${tag}\\b[^\\r\\n]*(\\r?\\n|$)`, "gm"), "");
}

/** The JSON integrity map of some segments: keys as given, byte-ranged segments grouped per file. */
export function integrityMap(
  entries: Array<{ key: string; byteRange?: { start: number; end: number }; hash: string }>,
): Record<string, string | Record<string, string>> {
  const map: Record<string, string | Record<string, string>> = {};
  for (const { key, byteRange, hash } of entries) {
    if (!byteRange) {
      map[key] = hash;
      continue;
    }
    const ranges = typeof map[key] === "object" ? map[key] : (map[key] = {});
    ranges[`${byteRange.start}-${byteRange.end}`] = hash;
  }
  return map;
}
