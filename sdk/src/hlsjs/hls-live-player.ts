import Hls, {
  type AudioTrackLoadedData,
  type LevelDetails,
  type LevelLoadedData,
  type LevelSwitchingData,
  type LevelUpdatedData,
} from "hls.js";
import type { LivePlayer, LivePlayerEventMap, PlaylistDetails } from "../live/live-player";

type Unsubscribe = () => void;

/** hls.js as the SDK's live logic sees it: events of the instance, the media element's playhead. */
export class HlsLivePlayer implements LivePlayer {
  constructor(readonly hls: Hls) {}

  playhead(): { time: number; rate: number } | undefined {
    const media = this.hls.media;
    if (!media || media.readyState < 2 || (media.currentTime === 0 && media.paused)) return undefined;
    return { time: media.currentTime, rate: media.playbackRate };
  }

  loadingLevel(): number {
    return this.hls.loadLevel;
  }

  bufferAhead(): number | undefined {
    const media = this.hls.media;
    if (!media || media.paused || media.ended || media.seeking || media.currentTime === 0) return undefined;
    const t = media.currentTime;
    const ranges = media.buffered;
    for (let i = 0; i < ranges.length; i++) {
      // hls.js jumps holes up to maxBufferHole (0.1 s by default): a range starting that close counts.
      if (ranges.start(i) <= t + 0.1 && ranges.end(i) > t) return ranges.end(i) - t;
    }
    return 0;
  }

  frames(): { dropped: number; total: number } | undefined {
    const video = this.hls.media as Partial<HTMLVideoElement> | null;
    if (typeof video?.getVideoPlaybackQuality !== "function") return undefined;
    const quality = video.getVideoPlaybackQuality();
    return { dropped: quality.droppedVideoFrames, total: quality.totalVideoFrames };
  }

  /**
   * hls.js has no call for "reload the playlist now": the SDK asks its playlist loader with the
   * event hls.js's level controller sends for a scheduled reload. The result goes the usual way
   * (LEVEL_LOADED, merged, LEVEL_UPDATED) and hls.js reschedules its next reload from it.
   */
  refreshPlaylist(): void {
    const index = this.hls.loadLevel;
    const level = this.hls.levels[index];
    if (!level?.details?.live) return;
    this.hls.trigger(Hls.Events.LEVEL_LOADING, {
      url: level.uri,
      level: index,
      levelInfo: level,
      pathwayId: level.attrs["PATHWAY-ID"],
      id: 0,
      deliveryDirectives: null,
    });
  }

  /**
   * hls.js's target latency moves back by `seconds` (where a seek to live or a stall's recovery
   * lands), and the media element plays at `slowRate` until hls.js's measured latency reaches the
   * new target: a player already behind its target falls back only the rest of the way. A page
   * that set its own playback rate keeps it: the target moves, the rate not.
   */
  addLatency(seconds: number, slowRate: number): void {
    const hls = this.hls;
    const media = hls.media;
    const target = hls.targetLatency;
    if (!media || target === null) return;
    const reach = target + seconds;
    hls.targetLatency = reach;
    if (media.playbackRate !== 1 || hls.latency >= reach) return;
    const stop = (): void => media.removeEventListener("timeupdate", check);
    const check = (): void => {
      if (hls.media !== media || media.playbackRate !== slowRate) return stop();
      if (hls.latency < reach) return;
      media.playbackRate = 1;
      stop();
    };
    media.playbackRate = slowRate;
    media.addEventListener("timeupdate", check);
  }

  on<K extends keyof LivePlayerEventMap>(event: K, fn: (payload: LivePlayerEventMap[K]) => void): Unsubscribe {
    const emit = fn as (payload: unknown) => void;
    switch (event) {
      case "playlist-loaded":
        return this.listen2(
          Hls.Events.LEVEL_LOADED,
          (_e: string, data: LevelLoadedData) =>
            emit({ streamType: "main", level: data.level, details: playlistOf(data.details) }),
          Hls.Events.AUDIO_TRACK_LOADED,
          (_e: string, data: AudioTrackLoadedData) =>
            emit({ streamType: "secondary", level: data.id, details: playlistOf(data.details) }),
        );
      case "playlist-updated":
        return this.listen(Hls.Events.LEVEL_UPDATED, (_e: string, data: LevelUpdatedData) =>
          emit({ streamType: "main", level: data.level, details: playlistOf(data.details) }),
        );
      case "level-switching":
        return this.listen(Hls.Events.LEVEL_SWITCHING, (_e: string, data: LevelSwitchingData) =>
          emit({ level: data.level, bitrate: data.bitrate }),
        );
      default:
        throw new Error(`unknown player event ${String(event)}`);
    }
  }

  private listen<E extends keyof import("hls.js").HlsListeners>(
    event: E,
    fn: import("hls.js").HlsListeners[E],
  ): Unsubscribe {
    this.hls.on(event, fn);
    return () => this.hls.off(event, fn);
  }

  private listen2<A extends keyof import("hls.js").HlsListeners, B extends keyof import("hls.js").HlsListeners>(
    a: A,
    fa: import("hls.js").HlsListeners[A],
    b: B,
    fb: import("hls.js").HlsListeners[B],
  ): Unsubscribe {
    const offA = this.listen(a, fa);
    const offB = this.listen(b, fb);
    return () => {
      offA();
      offB();
    };
  }
}

function playlistOf(details: LevelDetails): PlaylistDetails {
  return { url: details.url, live: details.live, segments: details.fragments };
}
