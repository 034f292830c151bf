import type { StallRecord } from "./simulated-player";
import type { ViewerSnapshot } from "../pages/viewer.js";
import type { BytesByAddress, ConnectionCounts } from "./webrtc-probe";
import type { HttpCauseCounts } from "./http-causes";
import type { LiveEdgeStats } from "../../sdk/src/engine-entry";

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
  /** "liar": serve peers a corrupted copy of every segment (devkit/pages/lying-storage.js). */
  role?: "liar";
  /** Hash every segment the player consumes and check it against the origin's `/sha256/` answer. */
  verifyMedia?: boolean;
}

/** What the viewer saw go wrong, counted from its own side (the site's view of a fault). */
export interface FaultCounters {
  /** SDK `error` events by kind (tracker, peer, network, media, other, integrity). */
  errorsByKind: Record<string, number>;
  /** Segment loads the player saw fail (HTTP errors and resets reach it as failed loads). */
  loadFailures: number;
  unhandledRejections: number;
  consoleErrors: number;
  /** The SDK's tracker counters (`stats().tracker`), when the engine runs. */
  tracker?: { errors: number; reconnects: number };
  /** The SDK's integrity counters, when the engine runs. */
  integrity?: { failures: number; bannedPeers: number; failuresByPeer: Record<string, number> };
  /** Remote peer ids connected now. */
  peerIds?: string[];
  /** The SDK's view of the CDN (`stats().cdn`): failures, time failing, segments peers bridged meanwhile. */
  cdn?: { failures: number; outageMs: number; peerSegmentsDuringOutage: number };
  /** With `verifyMedia`: segments the player consumed, checked against the origin. */
  media?: {
    checked: number;
    mismatched: number;
    mismatchedBytes: number;
    unchecked: number;
    /** The last few mismatched segments: URL and source (http, or p2p and the peer id). */
    last?: string[];
  };
  /** With role "liar": corrupted copies served. */
  corruptedServed?: number;
}

/** What a viewer holds in memory now: the figures a soak watches for growth. */
export interface ViewerResources {
  /**
   * JS heap in use, bytes: the page's, by CDP, for Chromium; for a virtual viewer the process's
   * after a full collection, taken once a minute.
   */
  heapUsedBytes: number | null;
  /** Timers pending (timeouts and intervals set and not yet run or cleared). */
  timers: number | null;
  /** The SDK's live segment store (`stats().storage`); null without the SDK. */
  storeSegments: number | null;
  storeBytes: number | null;
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
  /** A Chromium viewer's CPU time by "process kind/thread name", µs (threads that exited are not counted). */
  cpuMicrosByThread?: Record<string, number>;
  rssBytes: number;
  /** Bytes carried by this viewer's peer connections per remote address (candidate pairs' counters). */
  peerBytesByAddress: BytesByAddress;
  /** The SDK's upload cap counters (`stats().upload`), when the engine runs. */
  uploadCap?: { capKbps: number | null; limitedCount: number; refusedRequests: number };
  /** The SDK's uplink budget: measured rate (bit/s), bytes waiting to go out, requests refused, uploads admitted to measure again. */
  uplink?: {
    estimateBps: number | null;
    backlogBytes: number;
    refusedRequests: number;
    probes: number;
    /** Serial uploads: uploads that waited a turn, refused for a late turn, given up by their requester. */
    queue?: { queued: number; refused: number; cancelled: number } | null;
  };
  /** Live playlist reloads the SDK asked for because a peer announced a segment not listed yet. */
  playlistRefreshes?: number;
  /** The SDK's live edge fetcher: segments seeded, draws reopened after a refusal (`stats().liveEdge`). */
  liveEdge?: LiveEdgeStats;
  /** Why the segments it took from the CDN came from there (P2P modes). */
  httpCauses?: HttpCauseCounts;
  faults?: FaultCounters;
  resources?: ViewerResources;
  /** The latest stalls, each with the steps of the segment the player waited for (a virtual viewer's). */
  stallLog?: TracedStall[];
}

/** A stall and what happened to the segment it waited for, ms from the stall's start. */
export interface TracedStall extends StallRecord {
  trace: string[];
}

/** One line a virtual viewer writes to stdout. */
export type VirtualViewerMessage =
  | { type: "sample"; snapshot: VirtualSnapshot }
  | { type: "upload"; at: number; bytes: number; peerId: string }
  | { type: "error"; message: string };
