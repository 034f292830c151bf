import type { SegmentByteRange } from "./hash-index";
import { normaliseSha256Hex } from "./sha256";

/**
 * A JSON integrity map, the form PeerTube publishes beside its playlists:
 *
 * ```json
 * { "seg-000.ts": "<sha256 hex>",
 *   "https://cdn.example/vod/seg-001.ts": "<sha256 hex>",
 *   "video.mp4": { "0-1233": "<sha256 hex>", "1234-9999": "<sha256 hex>" } }
 * ```
 *
 * A key is a segment URL, absolute or relative to the map's own URL (so a map stored next to
 * the media playlist uses bare file names). A value is the hash of the whole file, or an object
 * of byte ranges `"start-end"` (both inclusive, as in `#EXT-X-BYTERANGE` arithmetic) to hashes.
 */
export interface IntegrityMapEntry {
  url: string;
  byteRange: SegmentByteRange | undefined;
  hash: string;
}

export interface ParsedIntegrityMap {
  entries: IntegrityMapEntry[];
  /** Entries skipped, each with the reason; the rest of the map is still used. */
  problems: string[];
}

const RANGE_KEY = /^(\d+)-(\d+)$/;

export class IntegrityMapError extends Error {
  override name = "IntegrityMapError";
}

export function parseIntegrityMap(json: unknown, mapUrl: string): ParsedIntegrityMap {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new IntegrityMapError(
      `integrity map ${mapUrl}: expected a JSON object of segment URL → SHA-256 hex, got ${Array.isArray(json) ? "an array" : json === null ? "null" : typeof json}`,
    );
  }
  const entries: IntegrityMapEntry[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    let url: string;
    try {
      url = new URL(key, mapUrl).href;
    } catch {
      problems.push(`"${key}": not a URL`);
      continue;
    }
    if (typeof value === "string") {
      const hash = normaliseSha256Hex(value);
      if (hash) entries.push({ url, byteRange: undefined, hash });
      else problems.push(`"${key}": not a 64-digit hex SHA-256`);
      continue;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [range, rangeHash] of Object.entries(value as Record<string, unknown>)) {
        const match = RANGE_KEY.exec(range);
        const hash = normaliseSha256Hex(rangeHash);
        if (!match || Number(match[2]) < Number(match[1])) {
          problems.push(`"${key}" range "${range}": expected "start-end" with start ≤ end`);
        } else if (!hash) {
          problems.push(`"${key}" range "${range}": not a 64-digit hex SHA-256`);
        } else {
          entries.push({ url, byteRange: { start: Number(match[1]), end: Number(match[2]) }, hash });
        }
      }
      continue;
    }
    problems.push(`"${key}": expected a hex string or an object of byte ranges`);
  }
  return { entries, problems };
}

/** Fetches and parses a map; network and JSON errors name the map URL. */
export async function loadIntegrityMap(
  mapUrl: string,
  fetchFn: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<ParsedIntegrityMap> {
  let response: Response;
  try {
    response = await fetchFn(mapUrl, { credentials: "same-origin" });
  } catch (error) {
    throw new IntegrityMapError(`integrity map ${mapUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw new IntegrityMapError(`integrity map ${mapUrl}: HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    throw new IntegrityMapError(
      `integrity map ${mapUrl}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseIntegrityMap(json, response.url || mapUrl);
}
