import type { HlsConfig } from "hls.js";
import type { CoreConfig } from "p2p-media-loader-core";
import type { LiveEdgeConfig } from "./live/edge-fetcher";
import type { UploadMode } from "./upload/upload-consent";
import type { ReconnectSchedule } from "./signaling/backoff";
import type { GivenUpHoldersConfig } from "./peers/given-up-holders";
import type { KeepPeerDownloadConfig } from "./peers/keep-peer-download";
import type { PmlIdleFallbackConfig } from "./live/pml-activity";
import type { AdaptiveLatencyConfig } from "./live/adaptive-latency";
import type { PeerChoiceConfig } from "./peers/peer-choice";

/**
 * Every default of the SDK lives here, so tuning offload means editing one object.
 *
 * Why these values (measured in bench/offload, see sdk/README.md "How live offload works"):
 * PML's stock `highDemandTimeWindow` (15 s) covers every segment of a 2 s-segment live window,
 * so every segment is "urgent" and goes to HTTP (0 % offload). Here viewers sit where stock
 * hls.js sits (3 segments behind the live edge: no added latency), only the next 2 s are urgent,
 * and each new segment is fetched from the CDN early by one viewer chosen at random
 * (`liveEdge`), which the others pull from over WebRTC before it turns urgent for them. hls.js
 * starts a live stream on a segment boundary, so a target between two boundaries costs the
 * latency of the next one (6.5 s and 7 s both measure 8.2 s here, 6 s measures 6.3 s).
 */
export const DEFAULT_SWARMCAST_CONFIG = {
  /** hls.js settings applied under the user's `hls` option. */
  hls: {
    liveSyncDurationCount: 3,
  } satisfies Partial<HlsConfig>,

  /** PML core settings applied under the user's `core` option. */
  core: {
    highDemandTimeWindow: 2,
  } satisfies Partial<CoreConfig>,

  /**
   * The live edge fetcher (`src/live/`): when a new segment appears in the playlist, each viewer
   * waits a random delay in [0, min(maxSpreadSec, time before it turns urgent − reserveSec)],
   * then fetches it from the CDN unless a peer already has it, and announces it at once.
   */
  liveEdge: {
    enabled: true,
    /** Left for the winner's CDN fetch plus the others' pull from it before the segment is urgent. */
    reserveSec: 1.2,
    maxSpreadSec: 3,
    /**
     * A viewer whose uplink sends 4 copies of a segment within its duration (a 2 s segment of
     * 3.5 Mbit/s from 15 Mbit/s) fetches new segments early at full chance; one that sends 1
     * (a 5 Mbit/s uplink) a quarter as often: the others pull from the first fetcher.
     */
    seedCopies: 4,
    /**
     * A viewer whose uplink sends 2 copies of a segment within its duration announces a new
     * segment it pulls from a peer as soon as the first bytes arrive, and serves it once it has
     * all of it (`live/peer-relay.ts`); 0: never. A peer's read of such a segment waits at most
     * `relayReadWaitMs` for the bytes (then "absent"); an announcement neither fulfilled nor
     * withdrawn lapses after `relayExpiryMs`.
     */
    relayMinCopies: 2,
    relayReadWaitMs: 1000,
    relayExpiryMs: 10_000,
    /** Media kept behind the playhead for peers that sit a little further back. */
    keepBehindSec: 20,
    limitMiB: 64,
    fetchTimeoutMs: 10_000,
    /** PML gives up on an HTTP load after 3 s without a byte; an early fetch is due sooner. */
    responseTimeoutMs: 2500,
    /** A holder's refusal before the segment is urgent reopens the draw for a second seed. */
    redrawOnPeerFailure: true,
    /** A viewer whose CDN request just failed fetches nothing early for 10 s (the next early fetch tries the CDN again). */
    cdnFailurePauseMs: 10_000,
    holdTickMs: 100,
    /** A 2 s segment of 3.5 Mbit/s takes 1.4 s from a 5 Mbit/s uplink; a segment still missing after 2 segment durations is better retried by the player. */
    peerFallbackWaitMs: 4000,
    /** PML starts a peer's download in the same queue pass that fails the request; this is slack. */
    peerStartWaitMs: 300,
    /**
     * The urgent window (`core.highDemandTimeWindow`, the least it gets) grows to the slowest of
     * the last 3 HTTP segment fetches plus 0.5 s, at most 6 s (3 segments of 2 s: everything
     * from the CDN, as without P2P), when the CDN slows down.
     */
    urgentWindow: { maxSec: 6, samples: 3, marginSec: 0.5, stepSec: 0.5 },
  } satisfies LiveEdgeConfig,

  /**
   * A peer download whose segment turns urgent goes on (`peers/keep-peer-download.ts`, through the
   * build-time PML patch) while a byte arrived within `stalledMs` and, at the rate measured after
   * `minElapsedMs`, the rest lands `reserveSec` before the playhead needs it.
   */
  keepPeerDownload: { reserveSec: 1, stalledMs: 1000, minElapsedMs: 200 } satisfies KeepPeerDownloadConfig,

  /**
   * A holder whose attempt at a segment failed or was given up is passed over for that segment
   * for `forgetMs` when PML draws a peer for it again and another holder is free
   * (`peers/given-up-holders.ts`, through the build-time PML patch).
   */
  givenUpHolders: { forgetMs: 10_000 } satisfies GivenUpHoldersConfig,

  /**
   * A player's request PML has stopped working on (no attempt over HTTP or from a peer running
   * for `idleMs`) is taken back from PML and fetched from the CDN (`src/live/pml-activity.ts`).
   * PML starts its next attempt in the pass that ends the last one, so 2 s without one is not a
   * pause between attempts.
   */
  pmlIdleFallback: { idleMs: 2000, tickMs: 250 } satisfies PmlIdleFallbackConfig,

  /** WebRTC ICE servers (STUN/TURN) used to reach peers behind NAT. */
  iceServers: [
    { urls: "stun:stun.l.google.com:19302" },
    { urls: "stun:global.stun.twilio.com:3478" },
  ] as RTCIceServer[],

  /** "relay" sends peer traffic only through the TURN servers in `iceServers` (peers never see this viewer's IP). */
  iceTransportPolicy: "all" as RTCIceTransportPolicy,

  /** Peer-to-peer delivery on or off. */
  p2p: true,

  /** Period of the `stats` event, in milliseconds. */
  statsIntervalMs: 1000,

  /** Period of the stats beacon (`statsBeacon` option, off by default), in milliseconds. */
  statsBeaconIntervalMs: 30_000,

  /** Width of the sliding window behind `downloadRate`, `uploadRate` and per-peer rates. */
  rateWindowMs: 5000,

  /**
   * Recovery of fatal hls.js errors: this many attempts within `recoveryWindowMs` before the
   * error is reported fatal and loading stops. Network errors are retried after
   * `recoveryDelayMs`, doubled at each attempt, so a short CDN outage is ridden out.
   */
  maxRecoveryAttempts: 3,
  recoveryWindowMs: 30_000,
  recoveryDelayMs: 1000,

  /**
   * Segments from peers must match the SHA-256 the publisher wrote in the playlist
   * (`#EXT-X-SWARMCAST-SHA256`) or in an `integrityMap`; unhashed ones are accepted.
   */
  integrity: "if-present" as "required" | "if-present" | "off",

  /**
   * Hashes kept of segments no longer listed in any loaded playlist (a live window slides; the
   * oldest go first). Hashes of segments still listed are never dropped.
   */
  integrityMaxTagEntries: 2000,

  /**
   * Share of unhashed segments from peers spot-checked: a random `spotCheckBytes` range is
   * fetched from the CDN (HTTP Range) and compared; a mismatch drops the peer. Off by default:
   * its catch rate and CDN cost are not measured yet (sdk/README.md "Spot checks").
   */
  spotCheck: 0,
  spotCheckBytes: 4096,

  /** Whether this viewer sends segments to peers: "auto" stays off on metered links and low battery. */
  upload: "auto" as UploadMode,

  /** Battery level under which a discharging viewer stops uploading (upload: "auto"). */
  uploadMinBatteryLevel: 0.2,

  /** Most RTCPeerConnections one viewer holds at once (offers beyond it are refused). */
  maxPeerConnections: 20,

  /**
   * Once the set is full, every 30 s the connection that moved the fewest bytes over the last
   * minute (at least a minute old, quiet for 5 s) is closed, so the tracker's next introduction
   * can bring a peer that delivers (peers/peer-choice.ts). Off by default: in the simulator
   * (100 and 1,000 viewers, default link mix, 600 s) it moved offload by at most 0.002 of the
   * bound while replacing a connection at nearly every check — among 20 random peers some
   * always moved nothing over the last minute, so the set keeps turning over for no gain.
   */
  peerChoice: {
    enabled: false,
    intervalMs: 30_000,
    windowMs: 60_000,
    minAgeMs: 60_000,
    quietMs: 5000,
    freeSlots: 1,
  } satisfies PeerChoiceConfig & { enabled: boolean },

  /**
   * Retries of a lost tracker connection: the first within 2 s, then waits growing 1.5× (3,
   * 4.5, 6.8, 10, 15, 23 s) to at most 30 s, each shortened by up to half at random so the
   * viewers of a restarted tracker come back over a few seconds, not in one burst (PML's own
   * client waits 10 s·2ⁿ plus up to 300 s). Peer connections keep delivering meanwhile.
   */
  trackerReconnect: {
    minDelayMs: 2000,
    maxDelayMs: 30_000,
    factor: 1.5,
    jitter: 0.5,
  } satisfies ReconnectSchedule,

  /**
   * A peer announcing a segment larger than this is dropped before any of it is buffered.
   * Once segments of the stream have been seen, the bound tightens to
   * `peerSegmentSizeFactor` × the largest seen (never under `peerSegmentFloorBytes`).
   */
  peerSegmentMaxBytes: 64 * 1024 * 1024,
  peerSegmentSizeFactor: 4,
  peerSegmentFloorBytes: 2 * 1024 * 1024,

  /**
   * Playback health (`playbackHealth` option): a viewer whose own playback is in trouble stops
   * fetching new segments early and serving peers until it has been fine for `recoverMs`.
   * Trouble is any of: less than `lowBufferSec` buffered ahead while playing; `droppedFrameShare`
   * of the frames of the last `windowMs` dropped; `lateSamples` samples of the last `windowMs`
   * firing more than `lateTimerMs` late (a starved CPU; not counted while the page is hidden,
   * where browsers slow timers on purpose, nor before playback starts).
   */
  playbackHealth: {
    enabled: true,
    sampleMs: 250,
    windowMs: 5000,
    lateTimerMs: 150,
    lateSamples: 4,
    lowBufferSec: 0.5,
    droppedFrameShare: 0.15,
    minFrames: 30,
    recoverMs: 10_000,
  },

  /**
   * Uplink budget (`uplinkBudget` option, `src/upload/uplink-budget.ts`): a peer's request is
   * admitted only if it and the uploads admitted before it leave within `deadlineSegments`
   * segment durations at the uplink rate measured on the wire (the peer connections' sent
   * bytes, read every `sampleMs` while uploads are under way; the fastest busy stretch of at
   * least `minStretchMs` within `windowMs`; with none there, the last estimate for `rememberMs`).
   * An admitted upload not on the wire after `staleMs` was cancelled. An estimate too low for a
   * request is measured again by one admitted upload `probeMs` after the last measurement, the
   * wait doubling while it stays low (a slow receiver caps what one stretch can show).
   */
  uplinkBudget: {
    enabled: true,
    deadlineSegments: 1,
    windowMs: 60_000,
    rememberMs: 1_800_000,
    staleMs: 10_000,
    minStretchMs: 200,
    probeMs: 60_000,
    sampleMs: 500,
  },

  /**
   * Adaptive latency (`adaptiveLatency` option, `src/live/adaptive-latency.ts`): once `lateShare`
   * of the last `windowSegments` new live segments came from the CDN late (the swarm could not
   * deliver them in time), the player falls back one segment duration, playing at `slowRate`
   * until it has; at most `maxSteps` times per session.
   */
  adaptiveLatency: {
    enabled: true,
    windowSegments: 20,
    lateShare: 0.2,
    slowRate: 0.9,
    maxSteps: 1,
  } satisfies AdaptiveLatencyConfig,

  /**
   * Playlist refresh (`playlistRefresh` option, `src/live/playlist-refresh.ts`): a peer announcing
   * a segment up to `maxAhead` past the newest the live playlist lists has it reloaded now, no
   * sooner than `minAfterLoadMs` after its last load nor `minIntervalMs` after the last refresh.
   */
  playlistRefresh: {
    enabled: true,
    minAfterLoadMs: 500,
    minIntervalMs: 1000,
    maxAhead: 3,
  },

  /**
   * Serial uploads (`serialUploads` option, `src/upload/upload-queue.ts`): segments peers ask for
   * go out one after another at the measured uplink rate; a request whose turn would come more
   * than `maxWaitMs` later is answered "absent" (under PML's 2 s no-bytes timeout of the peer);
   * the next upload starts `overlapMs` before the one ahead is expected to have left.
   */
  serialUploads: {
    enabled: true,
    maxWaitMs: 1200,
    overlapMs: 100,
  },

  /**
   * Uplink yield (`uplinkYield` option, `src/upload/uplink-yield.ts`): while a CDN fetch of this
   * viewer's own runs, segment data for peers waits in memory, for at most `maxHoldMs` per
   * fetch; messages of at most `passThroughBytes` (PML's commands) still go out.
   */
  uplinkYield: {
    enabled: true,
    maxHoldMs: 2000,
    passThroughBytes: 1024,
  },

  /** `maxUploadKbps` holds over every window of this length. */
  uploadCapWindowMs: 10_000,

  /** How often a viewer held back by `maxUploadKbps` checks whether it may upload again. */
  uploadCapTickMs: 250,

  /** Segment size the upload cap reserves before it has seen a segment of the stream. */
  uploadCapInitialSegmentBytes: 256 * 1024,

  // PML's own defaults (e.g. `webRtcMaxMessageSize`, the chunk size of uploads) are not copied
  // here: the engine reads them from PML's `Core.DEFAULT_STREAM_CONFIG`, so a PML upgrade
  // cannot leave a stale copy behind.
};

export type SwarmcastDefaults = typeof DEFAULT_SWARMCAST_CONFIG;
