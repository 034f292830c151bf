import { SlidingSum } from "../stats/rate";

export interface UploadLimiterOptions {
  /** The cap, bytes per second. */
  capBytesPerSecond: number;
  /** The cap holds over every window of this length. */
  windowMs: number;
  /**
   * Size of the chunks a segment is sent in (PML's `webRtcMaxMessageSize`): a shorter chunk
   * is the last of its segment.
   */
  maxChunkBytes: number;
  /** Segment size assumed before any segment was seen. */
  initialSegmentBytes: number;
  /**
   * Whether each peer request goes through {@link UploadLimiter.admit} (default true). Without
   * it, the global switch reserves one segment per connected peer.
   */
  perRequest?: boolean;
  now: number;
}

/** A segment being sent to one peer: how much of it is still to come, at most. */
interface InFlight {
  remaining: number;
  lastChunkAt: number;
}

/** Segments seen, for the size estimate. */
const SIZE_SAMPLES = 8;
/** A peer that sent no chunk for this long is not mid-segment any more. */
const IN_FLIGHT_IDLE_MS = 2000;

/**
 * Decides whether this viewer may start sending a segment to a peer, so that the bytes sent in
 * any `windowMs` window stay under `capBytesPerSecond × windowMs`.
 *
 * Peers ask for whole segments and a segment, once started, is sent to the end: the lever is
 * refusing to start one. Each request is admitted ({@link admit}) only if what was sent in the
 * window, plus what admitted segments still have to send, plus this segment fits the window's
 * budget; a refused request is answered "absent". So however many peers ask at once, no more
 * segments run concurrently than the budget holds. A budget below one segment lets one segment
 * start only when the window is empty and the last one started at least one segment's worth of
 * cap ago, so the average holds over any span of that length.
 *
 * {@link allowed} says whether one more segment would fit now: PML's global upload switch
 * follows it, so peers stop asking while nothing would be admitted. Where requests cannot be
 * admitted one by one (`perRequest: false`), the switch is the only lever and it reserves one
 * segment per connected peer, since they may all start in one task. Pure logic with explicit
 * timestamps.
 */
export class UploadLimiter {
  private readonly sent: SlidingSum;
  private readonly inFlight = new Map<string, InFlight>();
  /** Admitted segments whose first chunk has not gone out yet: admission times. */
  private readonly reserved: number[] = [];
  private readonly segmentSizes: number[] = [];
  private isAllowed = true;
  private peers = 1;
  private lastStartAt = -Infinity;

  constructor(private readonly options: UploadLimiterOptions) {
    const { capBytesPerSecond, windowMs, maxChunkBytes, initialSegmentBytes } = options;
    for (const [name, value] of Object.entries({ capBytesPerSecond, windowMs, maxChunkBytes, initialSegmentBytes })) {
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`UploadLimiter: ${name} must be a positive number, got ${value}`);
    }
    this.sent = new SlidingSum(windowMs);
    this.isAllowed = this.evaluate(options.now);
  }

  /** Bytes the window may carry. */
  get budgetBytes(): number {
    return (this.options.capBytesPerSecond * this.options.windowMs) / 1000;
  }

  get allowed(): boolean {
    return this.isAllowed;
  }

  /** Size of one more segment, as far as recent segments tell. */
  get segmentEstimate(): number {
    return this.segmentSizes.length === 0 ? this.options.initialSegmentBytes : Math.max(...this.segmentSizes);
  }

  /** A segment of the stream passed by (downloaded or uploaded): sizes the reservation. */
  noteSegmentSize(bytes: number): void {
    if (!(bytes > 0)) return;
    this.segmentSizes.push(bytes);
    if (this.segmentSizes.length > SIZE_SAMPLES) this.segmentSizes.shift();
  }

  /** Peers connected now: how many segments may start at once without per-request admission. */
  setPeerCount(count: number, now: number): boolean {
    this.peers = Math.max(1, Math.floor(count));
    return (this.isAllowed = this.evaluate(now));
  }

  /**
   * A peer asks for a segment: true reserves it (the caller sends it), false refuses it (the
   * caller answers "absent").
   */
  admit(now: number): boolean {
    if (!this.fits(now, 1)) return false;
    this.reserved.push(now);
    this.lastStartAt = now;
    this.isAllowed = this.evaluate(now);
    return true;
  }

  /** A chunk went to `peerId`. Returns whether new uploads are still allowed. */
  onChunk(bytes: number, peerId: string, now: number): boolean {
    if (bytes > 0) {
      this.sent.add(bytes, now);
      const flight = this.inFlight.get(peerId);
      if (!flight || now - flight.lastChunkAt > IN_FLIGHT_IDLE_MS) {
        // First chunk of a segment: the rest of it is committed, in place of its reservation.
        this.reserved.shift();
        if (this.options.perRequest === false) this.lastStartAt = now;
        this.inFlight.set(peerId, { remaining: Math.max(0, this.segmentEstimate - bytes), lastChunkAt: now });
      } else {
        flight.remaining = Math.max(0, flight.remaining - bytes);
        flight.lastChunkAt = now;
      }
      if (bytes < this.options.maxChunkBytes) this.inFlight.delete(peerId);
    }
    return (this.isAllowed = this.evaluate(now));
  }

  /** Re-decides as time passes (old bytes leave the window). Returns whether uploads are allowed. */
  tick(now: number): boolean {
    return (this.isAllowed = this.evaluate(now));
  }

  /** Bytes sent during the last `windowMs`. */
  sentBytes(now: number): number {
    return this.sent.total(now);
  }

  private evaluate(now: number): boolean {
    return this.fits(now, this.options.perRequest === false ? this.peers : 1);
  }

  /** Whether `segments` more segments may start now. */
  private fits(now: number, segments: number): boolean {
    let committed = this.sent.total(now);
    for (const [peerId, flight] of this.inFlight) {
      if (now - flight.lastChunkAt > IN_FLIGHT_IDLE_MS) this.inFlight.delete(peerId);
      else committed += flight.remaining;
    }
    // A reservation whose peer never took it lapses like a quiet transfer.
    while (this.reserved.length > 0 && now - this.reserved[0] > IN_FLIGHT_IDLE_MS) this.reserved.shift();
    const segment = this.segmentEstimate;
    committed += this.reserved.length * segment;
    if (segment > this.budgetBytes) {
      // Below one segment per window: one at a time, spaced so the average holds.
      return committed === 0 && now - this.lastStartAt >= (segment / this.options.capBytesPerSecond) * 1000;
    }
    // Without per-request admission, a budget under one segment per peer still lets uploads
    // out once the window is empty: the average holds, one window may carry one per peer.
    if (segments > 1 && committed === 0) return true;
    return committed + segments * segment <= this.budgetBytes;
  }
}
