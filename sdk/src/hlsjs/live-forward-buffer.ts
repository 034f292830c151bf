import Hls, { type LevelUpdatedData } from "hls.js";

/**
 * Keeps hls.js's forward buffer on live streams. PML's hls.js engine shortens `maxBufferLength`
 * to two target durations when the page left it unset, so that hls.js asks for segments late
 * and PML has peers to ask. On a live stream that buys nothing here: the live edge already
 * bounds the buffer (a viewer `liveSyncDurationCount` segments behind it cannot buffer further),
 * and the edge fetcher holds a request that comes early until a peer has the segment or it
 * turns urgent. What it costs is media in hand: with 2 s segments a viewer kept 4 s where an
 * http-only viewer keeps up to the edge, and rode out a CDN failure worse than one.
 *
 * PML reads the page's own settings (`userConfig`) when a playlist updates, so the value hls.js
 * uses is recorded there on the first live playlist, before PML's handler runs: PML registers
 * its handlers when hls.js creates its playlist loader (in `loadSource`), after `bindHls`.
 * Video on demand keeps PML's rule.
 */
export function keepLiveForwardBuffer(hls: Hls): void {
  const onLevelUpdated = (_event: string, data: LevelUpdatedData): void => {
    if (!data.details.live) return;
    const own = hls.userConfig;
    if (own.maxBufferLength === undefined && own.maxMaxBufferLength === undefined) {
      own.maxBufferLength = hls.config.maxBufferLength;
    }
    hls.off(Hls.Events.LEVEL_UPDATED, onLevelUpdated);
  };
  hls.on(Hls.Events.LEVEL_UPDATED, onLevelUpdated);
}
