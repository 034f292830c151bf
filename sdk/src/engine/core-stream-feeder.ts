import { generateStreamShortId, type Core, type Segment } from "p2p-media-loader-core";
import type { LivePlayer, PlaylistEvent, PlaylistSegment } from "../live/live-player";
import type { LoadedSegment, Rendition } from "./core-engine";

/** PML's segment id: the URL, plus the inclusive byte range when there is one. */
export function segmentRuntimeId(segment: PlaylistSegment): string {
  const [start, end] = segment.byteRange;
  if (typeof start !== "number" || typeof end !== "number" || !(end > start)) return segment.url;
  return `${segment.url}|${start}-${end - 1}`;
}

/** Keeps PML's view of the streams in step with the player's playlists. */
export class CoreStreamFeeder {
  private readonly unsubscribes: (() => void)[] = [];

  constructor(private readonly core: Core) {}

  setManifest(manifestUrl: string, renditions: Rendition[]): void {
    this.core.setManifestResponseUrl(manifestUrl);
    for (const r of renditions) {
      const missing = r.bitrate === 0;
      const index = generateStreamShortId({
        bitrate: r.bitrate,
        codecs: missing ? undefined : r.videoCodec,
        width: missing ? undefined : r.width,
        height: missing ? undefined : r.height,
        frameRate: missing ? undefined : r.frameRate,
        videoRange: missing ? undefined : r.videoRange,
      });
      this.core.addStreamIfNoneExists({ runtimeId: r.url, type: "main", index });
    }
  }

  bind(player: LivePlayer): void {
    this.unsubscribes.push(
      player.on("playlist-updated", (event) => this.onPlaylist(event)),
      player.on("level-switching", ({ bitrate }) => {
        if (bitrate) this.core.setActiveLevelBitrate(bitrate);
      }),
    );
  }

  unbind(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  updatePlayback(player: LivePlayer): void {
    const at = player.playhead();
    if (at) this.core.updatePlayback(at.time, at.rate);
  }

  private onPlaylist({ details }: PlaylistEvent): void {
    this.core.setIsLive(details.live);
    const stream = this.core.getStream(details.url);
    if (!stream) return;
    const gone = new Set(stream.segments.keys());
    const added: Segment[] = [];
    details.segments.forEach((segment, position) => {
      const runtimeId = segmentRuntimeId(segment);
      gone.delete(runtimeId);
      if (stream.segments.has(runtimeId)) return;
      const [start, end] = segment.byteRange;
      added.push({
        runtimeId,
        url: segment.url,
        externalId: details.live ? Number(segment.sn) : position,
        byteRange:
          typeof start === "number" && typeof end === "number" && end > start ? { start, end: end - 1 } : undefined,
        startTime: segment.start,
        endTime: segment.start + segment.duration,
      });
    });
    if (added.length > 0 || gone.size > 0) this.core.updateStream(details.url, added, gone.values());
  }
}

/** A segment (its byte range, if any) over HTTP, with the throughput of the fetch. */
export async function fetchSegment(segment: PlaylistSegment): Promise<LoadedSegment> {
  const started = performance.now();
  const [start, end] = segment.byteRange;
  const ranged = typeof start === "number" && typeof end === "number" && end > start;
  const response = await fetch(segment.url, ranged ? { headers: { Range: `bytes=${start}-${end - 1}` } } : {});
  if (!response.ok) throw new Error(`segment ${segment.url}: HTTP ${response.status}`);
  const data = await response.arrayBuffer();
  const seconds = Math.max(1e-3, (performance.now() - started) / 1000);
  return { data, bandwidthBps: (data.byteLength * 8) / seconds };
}
