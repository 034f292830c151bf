import type { ViewerSnapshot } from "../pages/viewer.js";
import type { BytesByAddress, ConnectionCounts } from "./webrtc-probe";

export type AudienceMode = "http-only" | "pml-defaults" | "swarmcast";

/** What the bench tells a virtual viewer process (its argv[2], as JSON). */
export interface VirtualViewerConfig {
  id: string;
  mode: AudienceMode;
  /** Multivariant or media playlist URL carrying this viewer's client id. */
  manifestUrl: string;
  trackers: string[];
  swarmId: string;
  iceServers: RTCIceServer[];
  /** swarmcast mode: extra SDK options. */
  sdkOptions?: Record<string, unknown>;
  /** Pin one rendition instead of adapting. */
  fixedLevel?: number;
  sampleIntervalMs: number;
  /** Absolute path of the SDK's engine build the viewer plays through (sdk/dist/swarmcast-engine.mjs). */
  engineModule: string;
  /** Absolute path of the bench's stock PML build the pml-defaults mode plays through (dist/bench/stock-pml.mjs). */
  stockPmlModule: string;
  /** Write an `upload` line for every chunk sent to a peer. */
  logUploads?: boolean;
}

/** A Chromium viewer's snapshot plus what only the virtual viewer knows. */
export interface VirtualSnapshot extends ViewerSnapshot {
  /** Rendition index being loaded. */
  level: number;
  levelSwitches: number;
  /** Segment bytes per rendition index, by source. */
  bytesByLevel: { http: number[]; p2p: number[] };
  /** The player's bandwidth estimate, bit/s. */
  bandwidthEstimate: number;
  connections: ConnectionCounts;
  /** CPU time of the process, µs (user + system). */
  cpuMicros: number;
  rssBytes: number;
  /** Bytes carried by this viewer's peer connections per remote address (candidate pairs' counters). */
  peerBytesByAddress: BytesByAddress;
  /** The SDK's upload cap counters (`stats().upload`), when the engine runs. */
  uploadCap?: { capKbps: number | null; limitedCount: number; refusedRequests: number };
}

/** One line a virtual viewer writes to stdout. */
export type VirtualViewerMessage =
  | { type: "sample"; snapshot: VirtualSnapshot }
  | { type: "upload"; at: number; bytes: number; peerId: string }
  | { type: "error"; message: string };
