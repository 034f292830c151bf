import type { MediaSource, SourceSegment } from "./media-source.js";
import { SEGMENT_HASH_TAG } from "../../shared/protocol.js";

export interface LiveSegment {
  /** Media sequence number; also the number in the segment's URL. */
  sequence: number;
  source: SourceSegment;
  /** Seconds since the timeline's epoch. */
  start: number;
  /** Discontinuity sequence: the content restarts its timestamps at every loop. */
  discontinuity: number;
}

/**
 * Plays a finite source as an endless live stream: segment n carries source segment n mod L,
 * and a segment is published once the wall clock has passed its end.
 */
export class LiveTimeline {
  private readonly prefixStarts: number[];

  constructor(
    private readonly source: MediaSource,
    /** Wall-clock ms at which sequence 0 started. */
    readonly epochMs: number,
    readonly windowSegments: number,
  ) {
    let t = 0;
    this.prefixStarts = source.segments.map((s) => {
      const start = t;
      t += s.duration;
      return start;
    });
  }

  segment(sequence: number): LiveSegment {
    const count = this.source.segments.length;
    const loop = Math.floor(sequence / count);
    const index = sequence - loop * count;
    return {
      sequence,
      source: this.source.segments[index],
      start: loop * this.source.loopDuration + this.prefixStarts[index],
      discontinuity: loop,
    };
  }

  /** Newest sequence whose end lies at or before `nowMs`; -1 before the first one ends. */
  headSequence(nowMs: number): number {
    const elapsed = (nowMs - this.epochMs) / 1000;
    const count = this.source.segments.length;
    const loops = Math.floor(elapsed / this.source.loopDuration);
    const inLoop = elapsed - loops * this.source.loopDuration;
    let ended = 0;
    let end = 0;
    for (const s of this.source.segments) {
      end += s.duration;
      if (end > inLoop + 1e-9) break;
      ended++;
    }
    return loops * count + ended - 1;
  }

  isPublished(sequence: number, nowMs: number): boolean {
    return sequence >= 0 && sequence <= this.headSequence(nowMs);
  }

  renderPlaylist(nowMs: number, withHashes: boolean): string {
    const head = this.headSequence(nowMs);
    const first = Math.max(0, head - this.windowSegments + 1);
    const lines = [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      `#EXT-X-TARGETDURATION:${this.source.targetDuration}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.segment(first).discontinuity}`,
    ];
    let previousDiscontinuity = this.segment(first).discontinuity;
    for (let sequence = first; sequence <= head; sequence++) {
      const segment = this.segment(sequence);
      if (segment.discontinuity !== previousDiscontinuity) lines.push("#EXT-X-DISCONTINUITY");
      previousDiscontinuity = segment.discontinuity;
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(this.epochMs + segment.start * 1000).toISOString()}`);
      if (withHashes) lines.push(`${SEGMENT_HASH_TAG}:${segment.source.sha256}`);
      lines.push(`#EXTINF:${segment.source.duration.toFixed(3)},`, liveSegmentUri(sequence));
    }
    return lines.join("\n") + "\n";
  }
}

export function liveSegmentUri(sequence: number): string {
  return `seg-${sequence}.ts`;
}

export function renderVodPlaylist(source: MediaSource, withHashes: boolean): string {
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${source.targetDuration}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
  ];
  for (const segment of source.segments) {
    if (withHashes) lines.push(`${SEGMENT_HASH_TAG}:${segment.sha256}`);
    lines.push(`#EXTINF:${segment.duration.toFixed(3)},`, segment.uri);
  }
  lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}
