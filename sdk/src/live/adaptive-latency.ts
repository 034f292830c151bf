/**
 * Adds one segment of live latency when this viewer's peers cannot deliver new segments in time.
 *
 * A viewer's peers relay a segment only once they hold all of it, so every hop costs a segment's
 * transfer time over the sender's uplink. At stock latency a new segment has about one segment
 * duration to spread before it turns urgent: on slow uplinks, or in a swarm large enough to need
 * more hops, many viewers then take it from the CDN at the urgent moment, or seed it again from
 * the CDN after a busy holder refused them. One more segment of latency gives each segment that
 * much more time to spread.
 *
 * Each new live segment the viewer obtains is one outcome: from a peer, its own first early
 * fetch (a seed, which someone must make), or late: from the CDN after the swarm failed to
 * deliver it (PML's urgent fetch, or a seed drawn again after a refusal). When the late share of
 * the last `windowSegments` outcomes reaches `lateShare`, the player falls back by one segment
 * duration, playing at `slowRate` until it has (no stall, no seek). A calm swarm, or one on fast
 * links, never gets there; at most `maxSteps` steps per session.
 */
export interface AdaptiveLatencyConfig {
  enabled: boolean;
  /** Outcomes of new live segments looked at, the latest ones. */
  windowSegments: number;
  /** Share of late outcomes among them at which latency grows. */
  lateShare: number;
  /** Playback rate while the playhead falls back. */
  slowRate: number;
  /** Steps of one segment duration per session, at most. */
  maxSteps: number;
}

/** How this viewer obtained a new live segment. */
export type SegmentOutcome = "peer" | "seed" | "late";

/** What the adaptive latency did, for `stats().adaptiveLatency`. */
export interface AdaptiveLatencyStats {
  /** Steps taken, and the latency they added, seconds. */
  steps: number;
  addedSec: number;
  /** Late outcomes among the last ones counted (at most `windowSegments`). */
  late: number;
  counted: number;
}

/** The player side of a step: fall back `seconds` behind the live edge without stalling. */
export interface LatencyStepTarget {
  addLatency?(seconds: number, slowRate: number): void;
}

export class AdaptiveLatency {
  private readonly outcomes: SegmentOutcome[] = [];
  private steps = 0;
  private addedSec = 0;

  constructor(
    private readonly config: AdaptiveLatencyConfig,
    private readonly player: () => LatencyStepTarget | undefined,
    private readonly onStep: (addedSec: number, lateShare: number) => void = () => {},
  ) {}

  /** One new live segment of `durationSec` obtained as `outcome`. */
  note(outcome: SegmentOutcome, durationSec: number): void {
    if (!this.config.enabled || this.steps >= this.config.maxSteps) return;
    this.outcomes.push(outcome);
    if (this.outcomes.length > this.config.windowSegments) this.outcomes.shift();
    if (this.outcomes.length < this.config.windowSegments) return;
    const share = this.late() / this.outcomes.length;
    if (share < this.config.lateShare || !(durationSec > 0)) return;
    const player = this.player();
    if (!player?.addLatency) return;
    player.addLatency(durationSec, this.config.slowRate);
    this.steps++;
    this.addedSec += durationSec;
    // The next step, if any, is judged on outcomes at the new latency only.
    this.outcomes.length = 0;
    this.onStep(durationSec, share);
  }

  stats(): AdaptiveLatencyStats {
    return { steps: this.steps, addedSec: this.addedSec, late: this.late(), counted: this.outcomes.length };
  }

  private late(): number {
    let late = 0;
    for (const outcome of this.outcomes) if (outcome === "late") late++;
    return late;
  }
}
