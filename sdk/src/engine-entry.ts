/**
 * `swarmcast/engine`: the SDK's live P2P path for any player, without hls.js. It runs in Node
 * (with WebRTC from a package such as `@roamhq/wrtc` installed as the `RTCPeerConnection`
 * globals) and in browsers with a player of their own.
 *
 * ```ts
 * const engine = createLiveEngine({ trackers: ["wss://tracker.example"] });
 * engine.setManifest(manifestUrl, [{ url: mediaPlaylistUrl, bitrate: 1_600_000 }]);
 * engine.bindPlayer(player);                 // a LivePlayer: playhead, level, playlist events
 * const { data } = await engine.loadSegment(segment);   // every media segment the player wants
 * ```
 * The player emits `playlist-updated` for every media playlist (re)load, with the segments in
 * its timeline, and `level-switching` before it switches rendition. Options are those of
 * `createP2PEngine` (the `hls` option is ignored).
 */
import { resolveOptions, type SwarmcastEngineOptions } from "./options";
import { createLiveEngineFromResolved, type LiveEngine } from "./engine/core-engine";

export type { LiveEngine, LoadedSegment, Rendition } from "./engine/core-engine";
export type {
  LivePlayer,
  LivePlayerEventMap,
  PlaylistDetails,
  PlaylistEvent,
  PlaylistSegment,
} from "./live/live-player";
export { isP2PSupported } from "./engine/session";
export { DEFAULT_SWARMCAST_CONFIG } from "./config";
export { SwarmcastOptionError, type SwarmcastEngineOptions } from "./options";
export type { SwarmcastEventMap, SegmentEvent, PeerEvent, SwarmcastErrorEvent, LatencyEvent } from "./events";
export type { SwarmcastStats, PeerStats, DeliverySource } from "./stats/accumulator";
export type { LiveEdgeStats } from "./live/edge-fetcher";
export type { AdaptiveLatencyStats } from "./live/adaptive-latency";
export { version } from "./version";

/*
 * The live decisions, as pure functions and classes with explicit clocks, so a model of many
 * viewers (bench/simulator) runs the SDK's own rules instead of copies of them.
 */
export { edgeFetchDelaySec, secondsUntilUrgent, type EdgeTimingConfig } from "./live/edge-timing";
export { AdaptiveLatency, type AdaptiveLatencyConfig, type SegmentOutcome } from "./live/adaptive-latency";
export { keepPeerDownload, type KeepPeerDownloadConfig, type PeerDownloadProgress } from "./peers/keep-peer-download";
export { UplinkBudget, type UplinkBudgetOptions } from "./upload/uplink-budget";
export { connectionToDrop, type ConnectionUse, type PeerChoiceConfig } from "./peers/peer-choice";

/** Validates `options` (those of `createP2PEngine`) and returns a {@link LiveEngine}. */
export function createLiveEngine(options: SwarmcastEngineOptions): LiveEngine {
  return createLiveEngineFromResolved(resolveOptions(options, { requireSrc: false }));
}
