import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface SourceSegment {
  /** URI as written in the VOD playlist, relative to it. */
  uri: string;
  duration: number;
  data: Buffer;
  sha256: string;
}

export interface MediaSource {
  segments: SourceSegment[];
  targetDuration: number;
  /** Sum of all segment durations: one pass of the content. */
  loopDuration: number;
  averageSegmentDuration: number;
}

/**
 * Loads a pre-encoded VOD media playlist and its segments into memory. Segments are small (a
 * few hundred KB) and served thousands of times, so they are read once.
 */
export function loadMediaSource(playlistPath: string): MediaSource {
  const text = readFileSync(playlistPath, "utf8");
  const base = dirname(playlistPath);
  const segments: SourceSegment[] = [];
  let pendingDuration: number | undefined;
  let targetDuration = 0;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "") continue;
    if (line.startsWith("#EXT-X-TARGETDURATION:")) {
      targetDuration = Number(line.slice("#EXT-X-TARGETDURATION:".length));
    } else if (line.startsWith("#EXTINF:")) {
      pendingDuration = Number.parseFloat(line.slice("#EXTINF:".length));
    } else if (!line.startsWith("#")) {
      if (pendingDuration === undefined || !Number.isFinite(pendingDuration)) {
        throw new Error(`${playlistPath}: segment ${line} has no valid #EXTINF duration`);
      }
      const data = readFileSync(join(base, line));
      const sha256 = createHash("sha256").update(data).digest("hex");
      segments.push({ uri: line, duration: pendingDuration, data, sha256 });
      pendingDuration = undefined;
    }
  }
  if (segments.length === 0) throw new Error(`${playlistPath}: no segments`);
  const loopDuration = segments.reduce((sum, s) => sum + s.duration, 0);
  return {
    segments,
    targetDuration: targetDuration || Math.ceil(Math.max(...segments.map((s) => s.duration))),
    loopDuration,
    averageSegmentDuration: loopDuration / segments.length,
  };
}
