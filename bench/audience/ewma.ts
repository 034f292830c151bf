/**
 * hls.js's bandwidth estimate, written from its documented behaviour: two exponentially
 * weighted moving averages of segment throughput whose weights are the download durations in
 * seconds (half-lives `abrEwmaFastLive` / `abrEwmaSlowLive` for live), the lower of the two is
 * the estimate; `abrEwmaDefaultEstimate` until a sample arrives; downloads shorter than 50 ms
 * count as 50 ms (hls.js's floor).
 */
class Ewma {
  private readonly alpha: number;
  private estimate = 0;
  totalWeight = 0;

  constructor(halfLife: number) {
    this.alpha = halfLife > 0 ? Math.exp(Math.log(0.5) / halfLife) : 0;
  }

  sample(weight: number, value: number): void {
    const adjusted = Math.pow(this.alpha, weight);
    this.estimate = value * (1 - adjusted) + adjusted * this.estimate;
    this.totalWeight += weight;
  }

  getEstimate(): number {
    const zeroFactor = this.alpha ? 1 - Math.pow(this.alpha, this.totalWeight) : 0;
    return zeroFactor ? this.estimate / zeroFactor : this.estimate;
  }
}

const MIN_SAMPLE_MS = 50;
const MIN_WEIGHT = 0.001;

export class EwmaBandwidthEstimator {
  private readonly fast: Ewma;
  private readonly slow: Ewma;

  constructor(
    fastHalfLife: number,
    slowHalfLife: number,
    private readonly defaultEstimate: number,
  ) {
    this.fast = new Ewma(fastHalfLife);
    this.slow = new Ewma(slowHalfLife);
  }

  sample(durationMs: number, bytes: number): void {
    const seconds = Math.max(durationMs, MIN_SAMPLE_MS) / 1000;
    const bitsPerSecond = (8 * bytes) / seconds;
    this.fast.sample(seconds, bitsPerSecond);
    this.slow.sample(seconds, bitsPerSecond);
  }

  /** Bits per second. */
  getEstimate(): number {
    if (this.fast.totalWeight < MIN_WEIGHT) return this.defaultEstimate;
    return Math.min(this.fast.getEstimate(), this.slow.getEstimate());
  }
}
