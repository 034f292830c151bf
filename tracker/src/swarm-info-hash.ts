/**
 * The info_hashes a viewer's player announces, derived the way the pinned p2p-media-loader
 * 2.3.1 derives them (written here from its documented behaviour, not copied), so a token can be
 * bound to one stream's swarms. Each HLS rendition is its own swarm:
 *
 *   streamId  = base64(SHA-1(`${bitrate}-${codecs}-${width}-${height}-${language}-${channels}-${name}-${frameRate}-${videoRange}`))
 *   info_hash = base64(first 15 bytes of SHA-1(`v2-${swarmId}-${type}-${streamId}`))   (20 ASCII characters)
 *
 * `swarmId` is the SDK's `swarmId` option (PML falls back to the master playlist URL). Another
 * PML version may derive them differently: re-mint bound tokens after upgrading it.
 */
import { createHash } from "node:crypto";

/** The version of PML whose derivation this reproduces. */
export const PML_INFO_HASH_VERSION = "2.3.1";
const PEER_PROTOCOL = "v2";

/** What PML reads from a rendition; hls.js fills these from the master playlist. */
export interface StreamAttributes {
  /** "main" for variants (video, or audio-only streams), "secondary" for alternate audio. */
  type: "main" | "secondary";
  /** Variant: peak BANDWIDTH (hls.js maxBitrate, else bitrate); alternate audio: 0. */
  bitrate?: number;
  codecs?: string;
  width?: number;
  height?: number;
  language?: string;
  channels?: string;
  name?: string;
  frameRate?: string;
  videoRange?: string;
}

function sha1(text: string): Buffer {
  return createHash("sha1").update(text, "utf8").digest();
}

function normalizeCodecs(codecs: string): string {
  return codecs
    .split(",")
    .map((raw) => {
      const c = raw.trim().toLowerCase();
      const [kind, profile, level, ...rest] = c.split(".");
      // avc1.66.30 (decimal, RFC 4281) is the same codec as avc1.42001e.
      if (rest.length === 0 && level !== undefined && (kind === "avc1" || kind === "avc")) {
        const p = parseInt(profile, 10);
        const l = parseInt(level, 10);
        if (String(p) === profile && String(l) === level) {
          return `${kind}.${p.toString(16).padStart(2, "0")}00${l.toString(16).padStart(2, "0")}`;
        }
      }
      return c;
    })
    .sort()
    .join(",");
}

/** PML's id of one rendition within a swarm. */
export function streamShortId(a: StreamAttributes): string {
  const language = a.language && a.language !== "und" ? a.language.slice(0, 2).toLowerCase() : "";
  const channels = a.channels ? a.channels.split("/")[0] : "";
  const name = a.name ? a.name.toLowerCase().trim() : "";
  const frameRate = a.frameRate && !isNaN(Number(a.frameRate)) ? String(Number(a.frameRate)) : "";
  const videoRange = a.videoRange ? a.videoRange.toUpperCase().trim() : "";
  const codecs = a.codecs ? normalizeCodecs(a.codecs) : "";
  const text = `${a.bitrate ?? 0}-${codecs}-${a.width ?? ""}-${a.height ?? ""}-${language}-${channels}-${name}-${frameRate}-${videoRange}`;
  return sha1(text).toString("base64");
}

/** The info_hash PML announces for one rendition of the swarm `swarmId`. */
export function swarmInfoHash(swarmId: string, stream: StreamAttributes): string {
  return sha1(`${PEER_PROTOCOL}-${swarmId}-${stream.type}-${streamShortId(stream)}`)
    .subarray(0, 15)
    .toString("base64");
}
