import type { StreamType } from "p2p-media-loader-core";

/**
 * What the SDK's live P2P logic (edge fetcher, integrity, the PML wiring) needs to know about a
 * player, and nothing more. The browser path adapts hls.js to it (`src/hlsjs/`); a headless
 * player in Node implements it directly (see `src/engine-entry.ts`).
 */
export interface LivePlayer {
  /** The playback position, or undefined before playback has started. */
  playhead(): { time: number; rate: number } | undefined;
  /** Index of the rendition the player is loading segments of now. */
  loadingLevel(): number;
  /** Seconds buffered ahead of the playhead while playing; undefined while not playing. */
  bufferAhead?(): number | undefined;
  /** Frames dropped and shown so far, where the player decodes video. */
  frames?(): { dropped: number; total: number } | undefined;
  /** Reloads the live media playlist being loaded now, ahead of the player's schedule. */
  refreshPlaylist?(): void;
  /**
   * Moves its live latency target `seconds` further behind the live edge and falls back to it
   * without a stall or a seek: plays at `slowRate` until its latency reaches the new target.
   */
  addLatency?(seconds: number, slowRate: number): void;
  /** Subscribes to player events; returns the function that unsubscribes. */
  on<K extends keyof LivePlayerEventMap>(event: K, fn: (payload: LivePlayerEventMap[K]) => void): () => void;
}

/** One media segment of a playlist (hls.js's `Fragment` fits this shape). */
export interface PlaylistSegment {
  /** Media sequence number (hls.js uses "initSegment" for init segments). */
  sn: number | string;
  url: string;
  /** Start on the player's timeline, seconds. */
  start: number;
  duration: number;
  /** [start, end) with end exclusive, or [] for a whole file. */
  byteRange: number[];
  /** The playlist tags of the segment, without the leading '#', e.g. [["EXTINF", "2.0"]]. */
  tagList: string[][];
}

export interface PlaylistDetails {
  /** The media playlist's URL (PML's stream id). */
  url: string;
  live: boolean;
  segments: readonly PlaylistSegment[];
}

export interface PlaylistEvent {
  streamType: StreamType;
  /** Rendition (or audio track) index. */
  level: number;
  details: PlaylistDetails;
}

export interface LivePlayerEventMap {
  /** Every media playlist the player loads (first load and reloads, main and audio). */
  "playlist-loaded": PlaylistEvent;
  /** A main playlist reload merged into the player's view of the stream. */
  "playlist-updated": PlaylistEvent;
  /** The player is about to switch rendition. */
  "level-switching": { level: number; bitrate?: number };
}
