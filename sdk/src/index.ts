// Must stay the first import: see peers/peer-connection-guard.ts.
import "./peers/install";
import Hls from "hls.js";

export { attach, getPlayer, SwarmcastPlayer } from "./player/player";
export { attachAll } from "./embed/embed";
export { readEmbedOptions } from "./embed/attributes";
export { createP2PEngine, isP2PSupported, type SwarmcastEngine } from "./engine/engine";
export { DEFAULT_SWARMCAST_CONFIG } from "./config";
export { SwarmcastOptionError, type SwarmcastOptions, type SwarmcastEngineOptions } from "./options";
export type {
  SwarmcastEventMap,
  SwarmcastEventName,
  SwarmcastErrorEvent,
  SwarmcastErrorKind,
  SegmentEvent,
  PeerEvent,
  LatencyEvent,
} from "./events";
export type { SwarmcastStats, PeerStats, TrackerStats, DeliverySource } from "./stats/accumulator";
export type { IntegrityMode, IntegrityStats } from "./integrity/verifier";
export type { UploadStats } from "./upload/upload-governor";
export type { SegmentStoreUsage } from "./live/segment-store";
export type { LiveEdgeStats } from "./live/edge-fetcher";
export type { AdaptiveLatencyStats } from "./live/adaptive-latency";
export { version } from "./version";
export { Hls };

/** Whether this browser can play through the SDK (hls.js on Media Source Extensions). */
export function isSupported(): boolean {
  return Hls.isSupported();
}
