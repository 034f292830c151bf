import type { PlaylistSegment, Rendition } from "../../sdk/src/engine-entry";

/** A media playlist as the simulated player keeps it. */
export interface MediaPlaylist {
  url: string;
  live: boolean;
  targetDuration: number;
  mediaSequence: number;
  segments: TimedSegment[];
}

/** A segment with its wall-clock start (`EXT-X-PROGRAM-DATE-TIME`), which maps it onto the player's timeline. */
export interface TimedSegment extends Omit<PlaylistSegment, "start"> {
  sn: number;
  /** Epoch ms of the segment's first frame; NaN without a program date-time. */
  programDateMs: number;
}

/** Whether the text is a multivariant playlist (it lists renditions, not segments). */
export function isMultivariant(text: string): boolean {
  return text.includes("#EXT-X-STREAM-INF:");
}

/** Parses `A=1,B="x,y"` attribute lists. */
export function parseAttributes(list: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (let match = pattern.exec(list); match; match = pattern.exec(list)) {
    attrs[match[1]] = match[2].startsWith('"') ? match[2].slice(1, -1) : match[2];
  }
  return attrs;
}

/** The renditions of a multivariant playlist, in its order, with absolute URLs. */
export function parseMultivariant(text: string, baseUrl: string): Rendition[] {
  const renditions: Rendition[] = [];
  let pending: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-STREAM-INF:")) pending = parseAttributes(line.slice("#EXT-X-STREAM-INF:".length));
    else if (line !== "" && !line.startsWith("#") && pending) {
      const [width, height] = (pending.RESOLUTION ?? "").split("x").map(Number);
      const videoCodec = (pending.CODECS ?? "")
        .split(",")
        .map((c) => c.trim())
        .find((c) => /^(avc|hvc|hev|av01|vp0)/.test(c));
      renditions.push({
        url: new URL(line, baseUrl).href,
        bitrate: Number(pending.BANDWIDTH ?? 0),
        ...(videoCodec ? { videoCodec } : {}),
        ...(width && height ? { width, height } : {}),
        ...(pending["FRAME-RATE"] ? { frameRate: pending["FRAME-RATE"] } : {}),
        ...(pending["VIDEO-RANGE"] ? { videoRange: pending["VIDEO-RANGE"] } : {}),
      });
      pending = undefined;
    }
  }
  return renditions;
}

/** Parses a media playlist; segment tags are kept (without '#') as hls.js keeps them in `tagList`. */
export function parseMediaPlaylist(text: string, url: string): MediaPlaylist {
  const segments: TimedSegment[] = [];
  let targetDuration = 0;
  let mediaSequence = 0;
  let live = true;
  let tags: string[][] = [];
  let duration = NaN;
  let programDateMs = NaN;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line === "#EXTM3U") continue;
    if (line.startsWith("#")) {
      const colon = line.indexOf(":");
      const name = colon < 0 ? line.slice(1) : line.slice(1, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1);
      if (name === "EXT-X-TARGETDURATION") targetDuration = Number(value);
      else if (name === "EXT-X-MEDIA-SEQUENCE") mediaSequence = Number(value);
      else if (name === "EXT-X-ENDLIST" || (name === "EXT-X-PLAYLIST-TYPE" && value === "VOD")) live = false;
      else if (name === "EXTINF") {
        duration = Number.parseFloat(value);
        tags.push([name, value]);
      } else if (name === "EXT-X-PROGRAM-DATE-TIME") {
        programDateMs = Date.parse(value);
        tags.push([name, value]);
      } else if (!["EXT-X-VERSION", "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-INDEPENDENT-SEGMENTS"].includes(name)) {
        tags.push(colon < 0 ? [name] : [name, value]);
      }
      continue;
    }
    const sn = mediaSequence + segments.length;
    const previous = segments[segments.length - 1];
    const date = Number.isFinite(programDateMs)
      ? programDateMs
      : previous
        ? previous.programDateMs + previous.duration * 1000
        : NaN;
    segments.push({ sn, url: new URL(line, url).href, duration, byteRange: [], tagList: tags, programDateMs: date });
    tags = [];
    duration = NaN;
    programDateMs = NaN;
  }
  return { url, live, targetDuration, mediaSequence, segments };
}
