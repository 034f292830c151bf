export interface UploadQueueOptions {
  /** A request that would wait longer than this for its turn is refused, ms (under the peer's no-bytes timeout). */
  maxWaitMs: number;
  /** The next upload starts this long before the one ahead is expected to have left, ms: the wire stays busy across the handoff. */
  overlapMs: number;
}

export interface UploadQueueStats {
  /** Uploads waiting for their turn now. */
  waiting: number;
  /** Uploads that waited for a turn. */
  queued: number;
  /** Requests refused because their turn would come too late. */
  refused: number;
  /** Waiting uploads whose requester stopped waiting first. */
  cancelled: number;
}

interface Turn {
  bytes: number;
  resolve: (go: boolean) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Sends the segments peers ask for one after another, each at the uplink's full rate, instead
 * of all at once. Live segments spread hop by hop: a peer can pass a segment on only once it
 * has all of it, so three copies sent side by side on a 20 Mbit/s uplink all land after 1 s,
 * where one after another the first lands after a third of that and its receiver starts
 * serving others. Turns follow the measured uplink rate: an upload's turn comes when the
 * uploads ahead of it are expected to have left (`overlapMs` before, so the wire never idles
 * at a handoff). An over-estimated rate only lets turns overlap, which is what happens without
 * the queue. A requester that stops waiting (it cancels, asks for another segment, or its
 * channel closes) gives its turn up.
 */
export class UploadQueue {
  private readonly waiting: Turn[] = [];
  /** When the uploads whose turn came are expected to have left the wire. */
  private freeAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued = 0;
  private refused = 0;
  private cancelled = 0;

  constructor(
    private readonly options: UploadQueueOptions,
    /** The uplink's measured rate, bytes per second, or undefined before it is measured. */
    private readonly rate: () => number | undefined,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  /**
   * An upload of `bytes` was admitted: true to send it now, a promise of whether to send it when
   * its turn comes, or false when that turn would come later than `maxWaitMs` after the peer
   * asked (it has waited `waitedMs` for the bytes already).
   */
  enqueue(bytes: number, signal?: AbortSignal, waitedMs = 0): boolean | Promise<boolean> {
    const rate = this.rate();
    if (rate === undefined || !(rate > 0)) return true; // nothing to order by: one at a time is admitted anyway
    const now = this.clock();
    const ahead = this.waiting.reduce((sum, turn) => sum + turn.bytes, 0);
    const startsAt = Math.max(now, this.freeAt + (ahead * 1000) / rate - this.options.overlapMs);
    if (startsAt - now > this.options.maxWaitMs - waitedMs) {
      this.refused++;
      return false;
    }
    if (this.waiting.length === 0 && startsAt <= now) {
      this.start(bytes, rate, now);
      return true;
    }
    if (signal?.aborted) return false;
    this.queued++;
    return new Promise<boolean>((resolve) => {
      const turn: Turn = {
        bytes,
        resolve,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(turn);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          this.cancelled++;
          resolve(false);
          this.schedule();
        },
      };
      signal?.addEventListener("abort", turn.onAbort, { once: true });
      this.waiting.push(turn);
      this.schedule();
    });
  }

  stats(): UploadQueueStats {
    return { waiting: this.waiting.length, queued: this.queued, refused: this.refused, cancelled: this.cancelled };
  }

  destroy(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const turn of this.waiting.splice(0)) {
      turn.signal?.removeEventListener("abort", turn.onAbort);
      turn.resolve(false);
    }
  }

  private start(bytes: number, rate: number | undefined, now: number): void {
    this.freeAt = Math.max(now, this.freeAt) + (rate && rate > 0 ? (bytes * 1000) / rate : 0);
  }

  /** Gives the head its turn when the wire is due to be free, and sets the timer for the next. */
  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.clock();
    const head = this.waiting[0];
    if (!head) return;
    const dueIn = this.freeAt - this.options.overlapMs - now;
    if (dueIn > 0) {
      this.timer = setTimeout(() => this.schedule(), dueIn);
      return;
    }
    this.waiting.shift();
    head.signal?.removeEventListener("abort", head.onAbort);
    this.start(head.bytes, this.rate(), now);
    head.resolve(true);
    this.schedule();
  }
}
