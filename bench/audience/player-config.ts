import Hls from "hls.js";

/**
 * What the simulated player does, in hls.js's terms. Every default comes from hls.js's own
 * `Hls.DefaultConfig` (the installed version), so the virtual viewer follows hls.js when it changes.
 */
export interface SimulatedPlayerConfig {
  /** Start this many target durations behind the live edge (hls.js `liveSyncDurationCount`). */
  liveSyncDurationCount: number;
  /** Keep loading while less than this many seconds are buffered ahead (hls.js `maxBufferLength`). */
  maxBufferLength: number;
  abrEwmaFastLive: number;
  abrEwmaSlowLive: number;
  /** bit/s assumed before the first segment is measured. */
  abrEwmaDefaultEstimate: number;
  /** Share of the estimate a rendition may use to stay or go down. */
  abrBandWidthFactor: number;
  /** Share of the estimate a rendition may use to go up. */
  abrBandWidthUpFactor: number;
  /** Pin a rendition (index) instead of adapting; undefined adapts. */
  fixedLevel?: number;
  /** Playhead and stall bookkeeping period, ms. */
  tickMs: number;
  /**
   * From the first segment loaded to the first frame, ms: what a browser spends appending it,
   * starting its decoder and rendering, while the start position hls.js chose stays put (so it
   * adds to the latency for the whole session: hls.js does not catch up by default).
   */
  firstFrameDelayMs: number;
}

/**
 * Headless Chromium on this 2-core machine, 4 viewers on the default links
 * (bench/results/start-steps-4.md): from hls.js's first FRAG_LOADED to the first rendered frame
 * 520–1,453 ms over 8 viewers of both modes, median 765 ms.
 */
export const CHROMIUM_FIRST_FRAME_DELAY_MS = 750;

export function hlsDefaults(): SimulatedPlayerConfig {
  const d = Hls.DefaultConfig;
  return {
    liveSyncDurationCount: d.liveSyncDurationCount,
    maxBufferLength: d.maxBufferLength,
    abrEwmaFastLive: d.abrEwmaFastLive,
    abrEwmaSlowLive: d.abrEwmaSlowLive,
    abrEwmaDefaultEstimate: d.abrEwmaDefaultEstimate,
    abrBandWidthFactor: d.abrBandWidthFactor,
    abrBandWidthUpFactor: d.abrBandWidthUpFactor,
    tickMs: 100,
    firstFrameDelayMs: CHROMIUM_FIRST_FRAME_DELAY_MS,
  };
}

/**
 * PML's hls.js engine rewrites two hls.js settings the page left unset, once the live playlist
 * has more than 4 segments: `maxBufferLength` down to max(2 × target duration, the urgent
 * window), and `liveSyncDurationCount` up to (segments in the playlist − 1), at most 120 s. The
 * virtual viewer has no hls.js for PML to rewrite, so the bench applies the same rule.
 */
export function withPmlAdjustments(
  config: SimulatedPlayerConfig,
  userSet: { maxBufferLength: boolean; liveSyncDurationCount: boolean },
  playlist: { targetDuration: number; segments: number },
  highDemandTimeWindow: number,
): SimulatedPlayerConfig {
  if (playlist.segments <= 4) return config;
  const adjusted = { ...config };
  if (!userSet.liveSyncDurationCount) {
    adjusted.liveSyncDurationCount = Math.min(playlist.segments - 1, Math.floor(120 / playlist.targetDuration));
  }
  if (!userSet.maxBufferLength) {
    adjusted.maxBufferLength = Math.min(
      config.maxBufferLength,
      Math.max(2 * playlist.targetDuration, highDemandTimeWindow),
    );
  }
  return adjusted;
}
