/** When to retry a lost tracker connection. */
export interface ReconnectSchedule {
  /** Base of the first wait, ms. */
  minDelayMs: number;
  /** Growth of the base wait at each failed attempt. */
  factor: number;
  /** Longest wait between two attempts, ms. */
  maxDelayMs: number;
  /**
   * Share of each wait drawn at random (0..1): a wait is base × (1 − jitter × U[0,1)), so the
   * viewers of a restarted tracker come back spread out instead of all in the same second.
   */
  jitter: number;
}

/**
 * Exponential backoff with jitter: base waits of minDelayMs, × factor, × factor², … up to
 * maxDelayMs, each shortened by a random share; {@link reset} after a connection opens starts
 * over. A gentle factor keeps the wait in effect when a restarted tracker comes back short (the
 * time a viewer takes to notice is at most that wait) while the attempts still thin out.
 */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly schedule: ReconnectSchedule,
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt, ms; counts one more failure. */
  next(): number {
    const { minDelayMs, maxDelayMs, factor, jitter } = this.schedule;
    // Bounding the exponent keeps a long outage from overflowing to Infinity.
    const base = Math.min(maxDelayMs, minDelayMs * factor ** Math.min(this.failures, 64));
    this.failures++;
    return Math.round(base * (1 - jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
