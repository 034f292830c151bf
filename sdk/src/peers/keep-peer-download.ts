import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { httpFallbackOf } from "./http-fallback";

/**
 * Whether a peer download of a segment that has just turned urgent should go on.
 *
 * PML 2.3.1 abandons a peer download the moment its segment enters the urgent window and an
 * HTTP slot is free, and starts the whole segment again over HTTP, however close to done the
 * peer's transfer is. A build-time patch (`patchPmlQueue` in rollup.config.mjs) asks this first: the
 * download goes on when bytes keep arriving and, at the rate measured so far, the rest arrives
 * with a reserve to spare before the playhead reaches the segment. That reserve is what the
 * HTTP fallback needs if the peer slows down later: PML asks again at every pass of its queue
 * and switches as soon as the answer turns false. It is `reserveSec`, or longer when this
 * viewer's recent HTTP fetches took longer (a downlink shared with incoming peer transfers, a
 * busy uplink delaying the fetch's acknowledgements): the fallback must still arrive in time.
 * While this viewer's CDN is failing there is no fallback to reserve time for: an HTTP attempt
 * would fail and throw away what the peer sent. A transfer that still moves then goes on while
 * its rate is not yet known, and once it is, if it ends before the segment is needed or within
 * `reserveSec` (sooner than a fresh transfer from another holder could); one that trickles in
 * from a holder whose uplink is taken is given up for another holder.
 */
export interface PeerDownloadProgress {
  /** Bytes of the segment received so far (all attempts). */
  loadedBytes: number;
  /** The segment's size as the peer announced it; undefined before the first chunk. */
  totalBytes: number | undefined;
  /** This attempt: when it started and how much it received (performance.now() ms). */
  attempt: { startTimestamp: number; loadedBytes: number; lastLoadedChunkTimestamp?: number } | undefined;
}

export interface KeepPeerDownloadConfig {
  /** Seconds left for an HTTP fetch of the segment should the peer slow down. */
  reserveSec: number;
  /** A transfer with no byte for this long is stalled, ms. */
  stalledMs: number;
  /** The rate is read only after this long, ms: the first chunks of a transfer come in a burst. */
  minElapsedMs: number;
}

/** The defaults, kept with every other default in `DEFAULT_SWARMCAST_CONFIG`. */
export const DEFAULT_KEEP_PEER_DOWNLOAD: KeepPeerDownloadConfig = DEFAULT_SWARMCAST_CONFIG.keepPeerDownload;

/**
 * `keepPeerDownload`'s verdict. `httpFallbackSec` is how long this viewer's HTTP fetch of a
 * segment takes now (undefined: not measured); the reserve is the longer of it and `reserveSec`.
 * `cdnFailing`: this viewer's last CDN request failed and none succeeded since.
 */
export function keepPeerDownload(
  progress: PeerDownloadProgress,
  secondsUntilNeeded: number,
  now: number,
  config: KeepPeerDownloadConfig = DEFAULT_KEEP_PEER_DOWNLOAD,
  httpFallbackSec?: number,
  cdnFailing = false,
): boolean {
  const { attempt, totalBytes, loadedBytes } = progress;
  if (!attempt) return false;
  const sized = totalBytes !== undefined && totalBytes > 0;
  const remaining = sized ? totalBytes - loadedBytes : Infinity;
  if (remaining <= 0) return true;
  const lastChunkAt = attempt.lastLoadedChunkTimestamp ?? attempt.startTimestamp;
  if (now - lastChunkAt > config.stalledMs) return false;
  const elapsedMs = now - attempt.startTimestamp;
  if (!sized || elapsedMs < config.minElapsedMs || attempt.loadedBytes <= 0) return cdnFailing;
  const secondsLeft = remaining / (attempt.loadedBytes / (elapsedMs / 1000));
  if (cdnFailing) return secondsLeft <= Math.max(secondsUntilNeeded, config.reserveSec);
  return secondsLeft <= secondsUntilNeeded - Math.max(config.reserveSec, httpFallbackSec ?? 0);
}

/** What the patched PML passes: its request, the segment and the playback it tracks. */
interface PmlRequestView {
  loadedBytes: number;
  totalBytes: number | undefined;
  progress?: { startTimestamp: number; loadedBytes: number; lastLoadedChunkTimestamp?: number };
}

/**
 * The call the build-time patch puts into PML's queue (`HybridLoader.processQueue`), with the
 * queue's segment store.
 */
export function keepUrgentPeerDownload(
  request: PmlRequestView,
  segment: { startTime: number },
  playback: { position: number; rate: number },
  store?: object,
): boolean {
  const rate = playback.rate > 0 ? playback.rate : 1;
  const fallback = httpFallbackOf(store);
  return keepPeerDownload(
    { loadedBytes: request.loadedBytes, totalBytes: request.totalBytes, attempt: request.progress },
    (segment.startTime - playback.position) / rate,
    performance.now(),
    DEFAULT_KEEP_PEER_DOWNLOAD,
    fallback?.seconds,
    fallback?.failing,
  );
}
