/** At most `maxAttempts` recoveries within any `windowMs`: a stream that keeps failing is given up. */
export class RecoveryBudget {
  private attempts: number[] = [];

  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {}

  /** Takes one attempt if the budget allows it; returns its number in the window (1-based), or 0. */
  take(now: number): number {
    this.attempts = this.attempts.filter((t) => now - t < this.windowMs);
    if (this.attempts.length >= this.maxAttempts) return 0;
    this.attempts.push(now);
    return this.attempts.length;
  }
}
