import type {
  LivePlayer,
  LivePlayerEventMap,
  LoadedSegment,
  PlaylistEvent,
  PlaylistSegment,
  Rendition,
} from "../../sdk/src/engine-entry";
import { EwmaBandwidthEstimator } from "./ewma";
import {
  isMultivariant,
  parseMediaPlaylist,
  parseMultivariant,
  type MediaPlaylist,
  type TimedSegment,
} from "./hls-playlist";
import type { SimulatedPlayerConfig } from "./player-config";

/** Loads one media segment (through the SDK, or plain HTTP in the http-only mode). */
export type SegmentLoader = (segment: PlaylistSegment) => Promise<LoadedSegment>;

export interface PlaybackCounters {
  startedAt: number;
  /** Epoch ms playback began (first segment buffered), or null. */
  firstFrameAt: number | null;
  stalls: number;
  stalledMs: number;
  /** The running stall's start, epoch ms, or null. */
  stallSince: number | null;
  /** Segment bytes per rendition index. */
  bytesByLevel: number[];
  segmentsLoaded: number;
  loadErrors: number;
  lastLoadError: string | null;
  levelSwitches: number;
}

/** One stall: what the player was waiting for when it ran dry. */
export interface StallRecord {
  /** Epoch ms the buffer ran dry. */
  at: number;
  /** How long it lasted, ms; null while it runs. */
  durationMs: number | null;
  /** The segment the player needed next, and its rendition. */
  sn: number;
  level: number;
  /** The request under way for it then (null: none, e.g. the playlist did not list it yet). */
  url: string | null;
  /** How long that request had been under way when the buffer ran dry, ms. */
  requestedMsBefore: number | null;
  /** Live latency when it began, s. */
  latency: number | null;
}

/** Stalls kept in {@link SimulatedPlayer.stallLog}. */
const STALL_LOG_LENGTH = 20;

type Listener = (payload: never) => void;

/**
 * A player without a decoder: it reloads the live playlist on hls.js's schedule, starts
 * `liveSyncDurationCount` target durations behind the edge on a segment boundary, keeps a
 * playhead and a buffer end, loads the next segment while less than `maxBufferLength` is
 * buffered, picks renditions with hls.js's bandwidth estimate, and counts stalls. Its first
 * frame comes `firstFrameDelayMs` after the first segment loaded, as a browser's does.
 *
 * The timeline: a segment starts at (its program date-time − the first one seen) seconds, the
 * same on every rendition (they are encoded aligned).
 */
export class SimulatedPlayer implements LivePlayer {
  readonly counters: PlaybackCounters;
  /** The latest stalls, oldest first. */
  readonly stallLog: StallRecord[] = [];
  private loading: { url: string; since: number } | null = null;
  renditions: Rendition[] = [];
  level = 0;
  private playlists = new Map<number, MediaPlaylist & { loadedAt: number; edge: number }>();
  private readonly listeners = new Map<keyof LivePlayerEventMap, Set<Listener>>();
  private readonly bandwidth: EwmaBandwidthEstimator;
  private timelineZeroMs = NaN;
  private playheadSec = 0;
  /** Playback rate: 1, or below it while the SDK has the playhead fall back (`addLatency`). */
  private rate = 1;
  /** Latency the SDK added to the live sync target, seconds. */
  private addedLatencySec = 0;
  private bufferEndSec = 0;
  private nextSn = -1;
  private playing = false;
  private stopped = false;
  private lastTickAt = 0;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private firstFrameTimer: ReturnType<typeof setTimeout> | undefined;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  /** A playlist load is under way. */
  private reloading = false;
  private startLag: number | null = null;
  private playlistChanged: (() => void) | undefined;

  constructor(
    private readonly manifestUrl: string,
    private config: SimulatedPlayerConfig,
    private readonly loadSegment: SegmentLoader,
  ) {
    this.bandwidth = new EwmaBandwidthEstimator(
      config.abrEwmaFastLive,
      config.abrEwmaSlowLive,
      config.abrEwmaDefaultEstimate,
    );
    this.counters = {
      startedAt: Date.now(),
      firstFrameAt: null,
      stalls: 0,
      stalledMs: 0,
      stallSince: null,
      bytesByLevel: [],
      segmentsLoaded: 0,
      loadErrors: 0,
      lastLoadError: null,
      levelSwitches: 0,
    };
  }

  // LivePlayer
  playhead(): { time: number; rate: number } | undefined {
    return this.playing || this.counters.stallSince !== null ? { time: this.playheadSec, rate: this.rate } : undefined;
  }

  loadingLevel(): number {
    return this.level;
  }

  /** As the hls.js adapter does: the live sync target moves back by `seconds`, and playback runs at `slowRate` until the latency reaches it. */
  addLatency(seconds: number, slowRate: number): void {
    this.addedLatencySec += seconds;
    const target = this.targetLatency();
    const latency = this.latency();
    if (target !== null && latency !== null && latency < target) this.rate = slowRate;
  }

  /** hls.js's target latency: `liveSyncDurationCount` target durations, plus what the SDK added. */
  private targetLatency(): number | null {
    const playlist = this.playlists.get(this.level);
    return playlist ? this.config.liveSyncDurationCount * playlist.targetDuration + this.addedLatencySec : null;
  }

  /** The SDK's playback health reads it: buffer ahead while playing (a stall reads 0). */
  bufferAhead(): number | undefined {
    if (this.counters.stallSince !== null) return 0;
    return this.playing ? this.bufferedAhead() : undefined;
  }

  /** The SDK asks for the playlist now (a peer announced a segment it does not list): loaded as hls.js would, and the next reload scheduled from it. */
  refreshPlaylist(): void {
    if (this.stopped || this.reloading || Number.isNaN(this.timelineZeroMs)) return;
    this.reloadPlaylist().catch(() => undefined);
  }

  on<K extends keyof LivePlayerEventMap>(event: K, fn: (payload: LivePlayerEventMap[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Reads the manifest: the renditions (a media playlist alone is one rendition of bitrate 0). */
  async loadManifest(): Promise<Rendition[]> {
    const text = await fetchText(this.manifestUrl);
    this.renditions = isMultivariant(text)
      ? parseMultivariant(text, this.manifestUrl)
      : [{ url: this.manifestUrl, bitrate: 0 }];
    if (this.renditions.length === 0) throw new Error(`${this.manifestUrl}: no renditions`);
    this.level = this.config.fixedLevel ?? this.chooseLevel(0);
    return this.renditions;
  }

  /** Loads the first playlist, lets `adjust` see it (PML rewrites settings then), and starts playing. */
  async start(
    adjust?: (playlist: MediaPlaylist, config: SimulatedPlayerConfig) => SimulatedPlayerConfig,
  ): Promise<void> {
    const playlist = await this.reloadPlaylist();
    this.startLag = (playlist.loadedAt - (this.timelineZeroMs + playlist.edge * 1000)) / 1000;
    if (adjust) this.config = adjust(playlist, this.config);
    this.seekToLiveSync(playlist);
    this.lastTickAt = Date.now();
    this.tickTimer = setInterval(() => this.tick(), this.config.tickMs);
    void this.loadLoop();
  }

  /**
   * Where hls.js starts a live stream, and seeks to when the playhead falls out of the live
   * window: `liveSyncDurationCount` target durations behind the edge, on a segment boundary.
   */
  private seekToLiveSync(playlist: MediaPlaylist & { edge: number }): void {
    const syncAt = playlist.edge - this.config.liveSyncDurationCount * playlist.targetDuration - this.addedLatencySec;
    const timed = this.timed(playlist);
    const first = timed.find((s) => s.start + s.duration > syncAt) ?? timed[0];
    this.playheadSec = first.start;
    this.bufferEndSec = first.start;
    this.nextSn = first.sn;
  }

  /**
   * How long after the newest listed segment was published the first playlist load came back,
   * seconds: the start position is set from that playlist, so this lag stays in the viewer's
   * latency behind the origin's clock for the whole session.
   */
  startLagSec(): number | null {
    return this.startLag;
  }

  /**
   * Seconds between now and the program date-time at the playhead (hls.js's `playingDate`): the
   * origin stamps each segment with the wall-clock time its media starts, so this does not
   * depend on when this viewer last reloaded its playlist, unlike {@link latency}.
   */
  clockLatency(): number | null {
    if (this.counters.firstFrameAt === null || Number.isNaN(this.timelineZeroMs)) return null;
    return (Date.now() - this.timelineZeroMs) / 1000 - this.playheadSec;
  }

  /** hls.js's `latency`: distance from the playlist's edge (aged since its load) to the playhead. */
  latency(): number | null {
    const playlist = this.playlists.get(this.level);
    if (!playlist || this.counters.firstFrameAt === null) return null;
    return playlist.edge + (Date.now() - playlist.loadedAt) / 1000 - this.playheadSec;
  }

  bufferedAhead(): number {
    return this.bufferEndSec - this.playheadSec;
  }

  bandwidthEstimate(): number {
    return this.bandwidth.getEstimate();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.firstFrameTimer !== undefined) clearTimeout(this.firstFrameTimer);
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
    this.playlistChanged?.();
  }

  private emit<K extends keyof LivePlayerEventMap>(event: K, payload: LivePlayerEventMap[K]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (p: LivePlayerEventMap[K]) => void)(payload);
  }

  private timed(playlist: MediaPlaylist): (PlaylistSegment & { sn: number })[] {
    return playlist.segments.map((s) => this.toTimeline(s));
  }

  private toTimeline(s: TimedSegment): PlaylistSegment & { sn: number } {
    return {
      sn: s.sn,
      url: s.url,
      start: (s.programDateMs - this.timelineZeroMs) / 1000,
      duration: s.duration,
      byteRange: s.byteRange,
      tagList: s.tagList,
    };
  }

  /** Loads the current rendition's playlist, tells listeners, and schedules the next reload like hls.js. */
  private async reloadPlaylist(): Promise<MediaPlaylist & { loadedAt: number; edge: number }> {
    const level = this.level;
    const url = this.renditions[level].url;
    const started = Date.now();
    this.reloading = true;
    let text: string;
    try {
      text = await fetchText(url);
    } finally {
      this.reloading = false;
    }
    const parsed = parseMediaPlaylist(text, url);
    if (parsed.segments.length === 0) throw new Error(`${url}: no segments`);
    if (Number.isNaN(this.timelineZeroMs)) this.timelineZeroMs = parsed.segments[0].programDateMs;
    const previous = this.playlists.get(level);
    const segments = this.timed(parsed);
    const last = segments[segments.length - 1];
    const playlist = { ...parsed, loadedAt: Date.now(), edge: last.start + last.duration };
    const updated =
      !previous ||
      previous.segments[previous.segments.length - 1]?.sn !== parsed.segments[parsed.segments.length - 1].sn;
    this.playlists.set(level, playlist);
    const event: PlaylistEvent = { streamType: "main", level, details: { url, live: parsed.live, segments } };
    this.emit("playlist-loaded", event);
    this.emit("playlist-updated", event);
    this.playlistChanged?.();
    if (parsed.live && !this.stopped) this.scheduleReload(parsed.targetDuration, updated, Date.now() - started, level);
    return playlist;
  }

  /**
   * hls.js reloads a live playlist one target duration after the last load when it brought a
   * new segment, half of one when it did not, minus the time the load took.
   */
  private scheduleReload(targetDuration: number, updated: boolean, loadMs: number, level: number): void {
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
    const interval = updated ? targetDuration * 1000 - loadMs : (targetDuration * 1000) / 2;
    this.reloadTimer = setTimeout(
      () => {
        this.reloadTimer = undefined;
        if (this.stopped || level !== this.level) return;
        this.reloadPlaylist().catch(() => this.scheduleReload(targetDuration, false, 0, level));
      },
      Math.max(interval, (targetDuration * 1000) / 2),
    );
  }

  private async loadLoop(): Promise<void> {
    while (!this.stopped) {
      if (this.bufferedAhead() >= this.config.maxBufferLength) {
        await sleep(this.config.tickMs);
        continue;
      }
      const playlist = this.playlists.get(this.level);
      const segment = playlist ? this.timed(playlist).find((s) => s.sn === this.nextSn) : undefined;
      if (!segment) {
        // The next segment left the live window (a long stall): hls.js seeks to the live sync position.
        if (playlist && playlist.segments[0].sn > this.nextSn) this.seekToLiveSync(playlist);
        await new Promise<void>((resolve) => {
          this.playlistChanged = resolve;
          setTimeout(resolve, 1000);
        });
        continue;
      }
      const level = this.level;
      const started = performance.now();
      this.loading = { url: segment.url, since: Date.now() };
      const loaded = await this.loadSegment(segment)
        .catch((error: unknown) => {
          this.counters.loadErrors++;
          this.counters.lastLoadError = error instanceof Error ? error.message : String(error);
          return undefined;
        })
        .finally(() => (this.loading = null));
      if (!loaded) {
        await sleep(1000);
        continue;
      }
      if (this.stopped) return;
      const bytes = loaded.data.byteLength;
      // hls.js's ABR sees PML's reported throughput for PML loads, the measured one for its own.
      const durationMs =
        loaded.bandwidthBps > 0 ? (bytes * 8 * 1000) / loaded.bandwidthBps : performance.now() - started;
      this.bandwidth.sample(durationMs, bytes);
      this.counters.bytesByLevel[level] = (this.counters.bytesByLevel[level] ?? 0) + bytes;
      this.counters.segmentsLoaded++;
      this.bufferEndSec = Math.max(this.bufferEndSec, segment.start + segment.duration);
      this.nextSn = segment.sn + 1;
      if (this.counters.firstFrameAt === null && this.firstFrameTimer === undefined) {
        this.firstFrameTimer = setTimeout(() => {
          if (this.stopped) return;
          this.counters.firstFrameAt = Date.now();
          this.playing = true;
          this.lastTickAt = Date.now();
        }, this.config.firstFrameDelayMs);
      }
      await this.maybeSwitchLevel();
    }
  }

  /** hls.js's rule, simplified: the highest rendition whose bitrate fits the discounted estimate. */
  private chooseLevel(current: number): number {
    const estimate = this.bandwidth.getEstimate();
    let choice = 0;
    this.renditions.forEach((r, i) => {
      const factor = i > current ? this.config.abrBandWidthUpFactor : this.config.abrBandWidthFactor;
      if (r.bitrate <= estimate * factor) choice = i;
    });
    return choice;
  }

  private async maybeSwitchLevel(): Promise<void> {
    if (this.config.fixedLevel !== undefined || this.renditions.length < 2) return;
    const next = this.chooseLevel(this.level);
    if (next === this.level) return;
    this.counters.levelSwitches++;
    this.level = next;
    this.emit("level-switching", { level: next, bitrate: this.renditions[next].bitrate });
    await this.reloadPlaylist().catch(() => undefined);
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = (now - this.lastTickAt) / 1000;
    this.lastTickAt = now;
    if (this.counters.firstFrameAt === null || this.stopped) return;
    if (this.counters.stallSince !== null) {
      if (this.bufferedAhead() > 0.1) {
        const running = this.stallLog[this.stallLog.length - 1];
        if (running?.durationMs === null) running.durationMs = now - this.counters.stallSince;
        this.counters.stalledMs += now - this.counters.stallSince;
        this.counters.stallSince = null;
        this.playing = true;
      }
      return;
    }
    this.playheadSec = Math.min(this.bufferEndSec, this.playheadSec + elapsed * this.rate);
    if (this.rate < 1) {
      const target = this.targetLatency();
      const latency = this.latency();
      if (target === null || latency === null || latency >= target) this.rate = 1;
    }
    if (this.bufferEndSec - this.playheadSec < 1e-3) {
      this.counters.stalls++;
      this.counters.stallSince = now;
      this.playing = false;
      this.stallLog.push({
        at: now,
        durationMs: null,
        sn: this.nextSn,
        level: this.level,
        url: this.loading?.url ?? null,
        requestedMsBefore: this.loading ? now - this.loading.since : null,
        latency: this.latency(),
      });
      if (this.stallLog.length > STALL_LOG_LENGTH) this.stallLog.shift();
    }
  }
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return await response.text();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
