import type { LivePlayer } from "./live-player";

/**
 * When a viewer should fetch a brand-new live segment from the CDN itself.
 *
 * Every viewer sees the segment appear in its playlist and draws a random delay; the first
 * whose delay runs out fetches it and announces it at once, the others see the announcement
 * and pull it from that peer. The delay is spread over the time left before the segment turns
 * urgent, minus a reserve: the winner's CDN fetch plus the others' transfer from it. Viewers
 * whose uplink sends more copies of a segment in time are likelier to win: the first fetcher is
 * the one every other viewer starts pulling from.
 */
export interface EdgeTimingConfig {
  /** Seconds kept free before the urgent moment, for the winner's fetch and the peers' pull. */
  reserveSec: number;
  /** Upper bound of the spread, seconds. */
  maxSpreadSec: number;
  /**
   * Copies of one segment a viewer's uplink must send within the segment's duration to draw its
   * delay at full chance; a viewer sending fewer wins proportionally less often.
   */
  seedCopies: number;
}

/**
 * Seconds until a segment starting at `segmentStart` becomes urgent for PML (enters
 * `highDemandTimeWindow` ahead of the playhead), at playback `rate`.
 */
export function secondsUntilUrgent(segmentStart: number, playhead: number, highDemandSec: number, rate = 1): number {
  const r = rate > 0 ? rate : 1;
  return (segmentStart - highDemandSec - playhead) / r;
}

/** Buffered media ahead of the playhead under which a player counts as run dry, seconds. */
export const DRY_BUFFER_SEC = 0.5;

/**
 * Whether `player` needs the segment starting at `segmentStart` now: it is urgent for PML, or the
 * player has run dry (a player stalled long enough asks for a segment far ahead of a playhead
 * that no longer moves), or it is not playing yet.
 */
export function playerNeedsSegment(
  player: Pick<LivePlayer, "playhead" | "bufferAhead"> | null | undefined,
  segmentStart: number,
  highDemandSec: number,
): boolean {
  const at = player?.playhead();
  if (!at) return true;
  const ahead = player?.bufferAhead?.();
  if (ahead !== undefined && ahead < DRY_BUFFER_SEC) return true;
  return secondsUntilUrgent(segmentStart, at.time, highDemandSec, at.rate) <= 0;
}

/**
 * Delay before this viewer fetches the segment itself, in seconds. `u` is uniform in [0, 1),
 * drawn afresh for every segment so the CDN fetches rotate among viewers. Without peers
 * nobody else will fetch it: no delay.
 *
 * `copies` is how many copies of the segment this viewer's uplink sends in time (undefined:
 * not measured yet, full weight: its first uploads measure it). A viewer that could not send a single one (a slow uplink,
 * uploads off) waits out the whole spread, so it fetches early only when no viewer able to pass
 * the segment on did. Otherwise the delay is `spread × (1 − (1 − u)^(1/w))` with weight
 * `w = min(copies, seedCopies) / seedCopies`: among viewers that see the segment at the same
 * moment, each is first with probability proportional to its weight, and viewers at full weight
 * draw uniformly over the spread.
 */
export function edgeFetchDelaySec(
  timeToUrgentSec: number,
  peers: number,
  u: number,
  config: EdgeTimingConfig,
  copies: number | undefined = config.seedCopies,
): number {
  if (peers <= 0) return 0;
  const spread = Math.min(config.maxSpreadSec, Math.max(0, timeToUrgentSec - config.reserveSec));
  if (!(copies >= 1)) return spread;
  const weight = Math.min(copies, config.seedCopies) / config.seedCopies;
  const draw = Math.max(0, Math.min(1, u));
  return spread * (1 - (1 - draw) ** (1 / weight));
}
