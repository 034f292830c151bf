/** At most `maxAttempts` recoveries within any `windowMs`: a stream that keeps failing is given up. */
export class RecoveryBudget {
  private attempts: number[] = [];

  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {}

  /** Takes one attempt if the budget allows it. */
  take(now: number): boolean {
    this.attempts = this.attempts.filter((t) => now - t < this.windowMs);
    if (this.attempts.length >= this.maxAttempts) return false;
    this.attempts.push(now);
    return true;
  }
}
