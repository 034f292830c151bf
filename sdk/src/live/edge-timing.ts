/**
 * When a viewer should fetch a brand-new live segment from the CDN itself.
 *
 * Every viewer sees the segment appear in its playlist and draws a random delay; the first
 * whose delay runs out fetches it and announces it at once, the others see the announcement
 * and pull it from that peer. The delay is spread over the time left before the segment turns
 * urgent, minus a reserve: the winner's CDN fetch plus the others' transfer from it.
 */
export interface EdgeTimingConfig {
  /** Seconds kept free before the urgent moment, for the winner's fetch and the peers' pull. */
  reserveSec: number;
  /** Upper bound of the spread, seconds. */
  maxSpreadSec: number;
}

/**
 * Seconds until a segment starting at `segmentStart` becomes urgent for PML (enters
 * `highDemandTimeWindow` ahead of the playhead), at playback `rate`.
 */
export function secondsUntilUrgent(segmentStart: number, playhead: number, highDemandSec: number, rate = 1): number {
  const r = rate > 0 ? rate : 1;
  return (segmentStart - highDemandSec - playhead) / r;
}

/**
 * Delay before this viewer fetches the segment itself, in seconds. `u` is uniform in [0, 1),
 * drawn afresh for every segment so the CDN fetches rotate among viewers. Without peers
 * nobody else will fetch it: no delay. A viewer that could not send the segment to a single
 * peer in time (`canServe` false: a slow uplink, uploads off) waits out the whole spread, so it
 * fetches early only when no viewer able to pass the segment on did.
 */
export function edgeFetchDelaySec(
  timeToUrgentSec: number,
  peers: number,
  u: number,
  config: EdgeTimingConfig,
  canServe = true,
): number {
  if (peers <= 0) return 0;
  const spread = Math.min(config.maxSpreadSec, Math.max(0, timeToUrgentSec - config.reserveSec));
  return canServe ? Math.max(0, Math.min(1, u)) * spread : spread;
}
