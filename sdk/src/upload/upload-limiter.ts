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
 * Decides whether this viewer may start sending segments to peers, so that the bytes sent in
 * any `windowMs` window stay under `capBytesPerSecond × windowMs`.
 *
 * Peers ask for whole segments and a segment, once started, is sent to the end: the only
 * lever is refusing to start one, and the switch is global (PML's `isP2PUploadDisabled`).
 * While it is on, every connected peer may start a segment at the same moment (they all hear
 * of a new segment at once, and their requests can be handled in one task before the first
 * byte is reported). So the limiter counts what was sent in the window, plus what segments
 * already started still have to send, plus one segment per connected peer, and keeps uploads
 * on only while that sum fits in the window's budget. When the budget is smaller than one
 * segment per peer, uploads start only once the window is empty: the average still holds, a
 * single window may carry one segment per peer. Pure logic with explicit timestamps.
 */
export class UploadLimiter {
  private readonly sent: SlidingSum;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly segmentSizes: number[] = [];
  private isAllowed = true;
  private peers = 1;

  constructor(private readonly options: UploadLimiterOptions) {
    const { capBytesPerSecond, windowMs, maxChunkBytes, initialSegmentBytes } = options;
    for (const [name, value] of Object.entries({ capBytesPerSecond, windowMs, maxChunkBytes, initialSegmentBytes })) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`UploadLimiter: ${name} must be a positive number, got ${value}`);
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

  /** Peers connected now: how many segments may start at once. */
  setPeerCount(count: number, now: number): boolean {
    this.peers = Math.max(1, Math.floor(count));
    return (this.isAllowed = this.evaluate(now));
  }

  /** A chunk went to `peerId`. Returns whether new uploads are still allowed. */
  onChunk(bytes: number, peerId: string, now: number): boolean {
    if (bytes > 0) {
      this.sent.add(bytes, now);
      const flight = this.inFlight.get(peerId);
      if (!flight || now - flight.lastChunkAt > IN_FLIGHT_IDLE_MS) {
        // First chunk of a segment: the rest of it is committed.
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
    let committed = this.sent.total(now);
    for (const [peerId, flight] of this.inFlight) {
      if (now - flight.lastChunkAt > IN_FLIGHT_IDLE_MS) this.inFlight.delete(peerId);
      else committed += flight.remaining;
    }
    // A budget below one segment per peer still lets uploads out once per window.
    if (committed === 0) return true;
    return committed + this.peers * this.segmentEstimate <= this.budgetBytes;
  }
}
