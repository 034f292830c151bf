/**
 * Bytes within a sliding time window. Samples are kept in arrival order and dropped once older
 * than the window, so memory is bounded by the event rate × window.
 */
export class SlidingSum {
  private readonly times: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(private readonly windowMs: number) {}

  add(bytes: number, now: number): void {
    this.times.push(now);
    this.sizes.push(bytes);
    this.sum += bytes;
    this.prune(now);
  }

  /** Bytes added during the last `windowMs` before `now`. */
  total(now: number): number {
    this.prune(now);
    return this.sum;
  }

  private prune(now: number): void {
    const oldest = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] <= oldest) {
      this.sum -= this.sizes[this.head];
      this.head++;
    }
    // Compact once the dropped prefix dominates, keeping add() amortised O(1).
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.times.length) this.sum = 0;
  }
}

/** Bytes per second over a sliding time window. */
export class SlidingRate {
  private readonly window: SlidingSum;

  constructor(
    private readonly windowMs: number,
    /** When counting began: a window younger than `windowMs` divides by its real age. */
    private readonly startedAt: number,
  ) {
    this.window = new SlidingSum(windowMs);
  }

  add(bytes: number, now: number): void {
    this.window.add(bytes, now);
  }

  /** Bytes per second over the last `windowMs` before `now`. */
  rate(now: number): number {
    const span = Math.min(this.windowMs, Math.max(now - this.startedAt, 1000));
    return (this.window.total(now) * 1000) / span;
  }
}
