export interface UplinkBudgetOptions {
  /**
   * An upload is admitted only if it and everything admitted before it would be on the wire
   * within this many segment durations at the measured uplink rate.
   */
  deadlineSegments: number;
  /** The rate estimate is the fastest busy stretch within this window. */
  windowMs: number;
  /**
   * With no stretch in the window, the last estimate still holds this long: an uplink too slow
   * to serve anybody sends nothing, and measuring it again costs it a segment's upload that
   * arrives too late and fills its own link meanwhile.
   */
  rememberMs: number;
  /** An admitted upload not seen on the wire after this long was cancelled: it stops counting. */
  staleMs: number;
  /** Busy stretches shorter than this say little about the link and are not measured. */
  minStretchMs: number;
  /**
   * An estimate too low to admit a request is measured again by admitting one upload this long
   * after the last measurement; each such probe that finds the link no faster doubles the wait,
   * up to `rememberMs`. A stretch measures the slower of this uplink and the receiver's path, so
   * one slow receiver can leave a fast uplink with an estimate that refuses everything.
   */
  probeMs: number;
}

export interface UplinkStats {
  /** Measured upload rate of this viewer's link, bit/s, or null before the first measurement. */
  estimateBps: number | null;
  /** Bytes admitted and not yet seen on the wire. */
  backlogBytes: number;
  /** Uploads admitted past a too-low estimate to measure the link again (`probeMs`). */
  probes: number;
}

interface RateSample {
  at: number;
  bytesPerSecond: number;
}

/** A stretch of time during which written bytes waited for the wire. */
interface BusyStretch {
  startedAt: number;
  wireBytes: number;
  /** The last reading that showed the wire busy. */
  lastBusyAt: number;
  readings: number;
}

/** A reading that adds less than this share of the stretch's mean reading shows the wire gone quiet. */
const QUIET_SHARE = 0.1;
/** A stretch this long is measured and the next one starts (a viewer that never pauses is measured too), ms. */
const MAX_STRETCH_MS = 4000;

/** The options the budget reads; anything else in the object it is given is left alone. */
const OPTION_NAMES = [
  "deadlineSegments",
  "windowMs",
  "rememberMs",
  "staleMs",
  "minStretchMs",
  "probeMs",
] as const satisfies readonly (keyof UplinkBudgetOptions)[];

/** Recent segments the typical size is taken from (the rendition loaded lately). */
const SIZE_SAMPLES = 3;

/**
 * Keeps a viewer from promising more than its uplink can deliver in time. A live segment asked
 * for by a peer is useful only if it arrives before the peer needs it; a viewer on a 1 Mbit/s
 * uplink that accepts three 800 KB requests sends the last byte after 19 s, long after every
 * requester gave up and fetched from the CDN, and meanwhile its own requests and
 * acknowledgements queue behind that upload.
 *
 * The rate is measured on the wire, not configured. Admitted bytes wait until PML writes them
 * to a data channel (`onChunk`); written bytes wait until the peer connections' transport
 * counters show them sent (`onWireSample`, read at short intervals while anything waits). A
 * busy stretch runs from a write that finds no stretch open to the last reading that showed the
 * wire busy, once everything written is counted as sent and a reading adds (almost) nothing:
 * the counters include protocol overhead and retransmissions, so "everything written counted"
 * comes before the last written byte has left, and a stretch closed there would hand its tail
 * to the next one (measured: estimates up to 2.3× a 5 Mbit/s link). The bytes the wire carried
 * over a stretch, divided by its length, are close to the link's rate: the stretch ends at a
 * reading, after its last byte left, and a slow receiver can only lengthen it; what lifts it is
 * the link's own queue, filled at once when the stretch starts, a share that shrinks as the
 * stretch grows. A stretch longer than 4 s is measured and the next one starts. The estimate
 * is the largest within `windowMs`.
 * Writes alone would mislead: a data channel of Node's WebRTC accepts a whole segment at once,
 * whatever the link.
 *
 * A request of `bytes` for a segment lasting `durationSec` is admitted when everything waiting
 * plus `bytes` leaves within `deadlineSegments × durationSec` at that rate. With no sample in
 * the window (never measured, or nothing sent for a minute) one upload at a time is admitted,
 * which measures again. An estimate too low for a request is measured again by one upload
 * `probeMs` after the last measurement, then at doubling intervals while it stays low: the
 * wire shows the slower of the uplink and the receiver's path, and an uplink that refuses
 * everything would otherwise keep a receiver's low reading for `rememberMs`. One segment
 * duration is the sustainable rule: a viewer that cannot send a segment within its own
 * duration cannot keep up serving even one peer. Pure logic with explicit timestamps.
 */
export class UplinkBudget {
  /** Admitted uploads, oldest first: bytes PML has not written yet, admission time. */
  private readonly admitted: Array<{ bytes: number; at: number }> = [];
  /** Bytes written to the channels and not yet seen on the wire. */
  private unsent = 0;
  /** Last time the wire carried bytes or the channels took some. */
  private lastProgressAt = -Infinity;
  private samples: RateSample[] = [];
  /** The estimate when the last stretch was measured. */
  private remembered: RateSample | undefined;
  private readonly segmentSizes: number[] = [];
  private stretch: BusyStretch | undefined;
  /** When uploads were held for this viewer's own fetch, or undefined: a quiet wire says nothing of the link then. */
  private heldAt: number | undefined;
  /** When a request the estimate refuses may be admitted to measure again. */
  private probeAt = Infinity;
  private probeIntervalMs: number;
  private probes = 0;

  constructor(private readonly options: UplinkBudgetOptions) {
    for (const name of OPTION_NAMES) {
      const value = options[name];
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`UplinkBudget: ${name} must be a positive number, got ${value}`);
    }
    this.probeIntervalMs = options.probeMs;
  }

  /**
   * Bytes per second the link carried in recent busy stretches; without any in the window, the
   * last estimate for `rememberMs`; else undefined.
   */
  estimate(now: number): number | undefined {
    this.samples = this.samples.filter((s) => now - s.at <= this.options.windowMs);
    if (this.samples.length > 0) return Math.max(...this.samples.map((s) => s.bytesPerSecond));
    const remembered = this.remembered;
    return remembered && now - remembered.at <= this.options.rememberMs ? remembered.bytesPerSecond : undefined;
  }

  /** Bytes admitted and not yet seen on the wire. */
  backlog(now: number): number {
    while (this.admitted.length > 0 && now - this.admitted[0].at > this.options.staleMs) this.admitted.shift();
    // Written bytes the wire has not carried for this long sit on a dead connection.
    if (this.unsent > 0 && now - this.lastProgressAt > this.options.staleMs) {
      this.unsent = 0;
      this.stretch = undefined;
    }
    return this.admitted.reduce((sum, q) => sum + q.bytes, 0) + this.unsent;
  }

  /**
   * Whether `bytes` of a segment lasting `durationSec`, sent to a peer now, would leave in
   * time, or are admitted on an idle uplink to measure a too-low estimate again (`probeMs`).
   * The caller {@link reserve}s them when it sends.
   */
  fits(bytes: number, durationSec: number, now: number): boolean {
    const backlog = this.backlog(now);
    const rate = this.estimate(now);
    if (rate === undefined) return backlog === 0;
    if (backlog + bytes <= this.deadlineBytes(rate, durationSec)) {
      this.probeIntervalMs = this.options.probeMs;
      return true;
    }
    if (backlog > 0 || this.stretch !== undefined || now < this.probeAt) return false;
    this.probes++;
    this.probeIntervalMs = Math.min(2 * this.probeIntervalMs, this.options.rememberMs);
    this.probeAt = now + this.probeIntervalMs;
    return true;
  }

  /**
   * An upload of `bytes` was admitted: it counts in the backlog until the wire has carried it.
   * Returns the reservation, for {@link release}.
   */
  reserve(bytes: number, now: number): object | undefined {
    if (!(bytes > 0)) return undefined;
    const reservation = { bytes, at: now };
    this.admitted.push(reservation);
    return reservation;
  }

  /** An admitted upload will not be sent after all (its requester stopped waiting for its turn). */
  release(reservation: object | undefined): void {
    const index = this.admitted.findIndex((entry) => entry === reservation);
    if (index >= 0) this.admitted.splice(index, 1);
  }

  /** PML wrote `bytes` of an upload to a data channel (`onChunkUploaded`). */
  onChunk(bytes: number, now: number): void {
    if (!(bytes > 0)) return;
    this.backlog(now);
    let left = bytes;
    while (left > 0 && this.admitted.length > 0) {
      const head = this.admitted[0];
      const taken = Math.min(head.bytes, left);
      head.bytes -= taken;
      left -= taken;
      if (head.bytes <= 0) this.admitted.shift();
    }
    if (this.heldAt === undefined) this.stretch ??= { startedAt: now, wireBytes: 0, lastBusyAt: now, readings: 0 };
    this.unsent += bytes;
    this.lastProgressAt = now;
  }

  /** The peer connections put `bytes` on the wire since the last reading; `now` is this one's time. */
  onWireSample(bytes: number, now: number): void {
    this.backlog(now);
    const sent = Math.max(0, bytes);
    if (sent > 0) this.lastProgressAt = now;
    this.unsent = Math.max(0, this.unsent - sent);
    const stretch = this.stretch;
    if (!stretch || this.heldAt !== undefined) return;
    const quiet = sent <= (QUIET_SHARE * stretch.wireBytes) / Math.max(1, stretch.readings);
    stretch.readings++;
    if (this.unsent > 0 || !quiet) {
      stretch.wireBytes += sent;
      if (sent > 0) stretch.lastBusyAt = now;
      if (quiet || now - stretch.startedAt < MAX_STRETCH_MS) return;
      // Busy all along: measured here, and a new stretch starts with the link's queue already full.
      this.stretch = { startedAt: now, wireBytes: 0, lastBusyAt: now, readings: 0 };
      this.addSample(stretch.wireBytes, now - stretch.startedAt, now);
      return;
    }
    this.stretch = undefined;
    this.addSample(stretch.wireBytes, stretch.lastBusyAt - stretch.startedAt, now);
  }

  /**
   * Uploads are held (`true`) or go on (`false`). An open stretch is frozen for the hold: its
   * readings meanwhile are left out and it resumes later by the hold's length. Closing it at the
   * hold would measure many short stretches, each lifted by the link's queue filled at its start.
   */
  setHeld(held: boolean, now: number): void {
    if (held === (this.heldAt !== undefined)) return;
    if (held) {
      this.heldAt = now;
      return;
    }
    const heldMs = now - this.heldAt!;
    this.heldAt = undefined;
    // The hold is no sign of a dead connection.
    this.lastProgressAt = now;
    if (this.stretch) {
      this.stretch.startedAt += heldMs;
      this.stretch.lastBusyAt += heldMs;
    } else if (this.unsent > 0) {
      this.stretch = { startedAt: now, wireBytes: 0, lastBusyAt: now, readings: 0 };
    }
  }

  private addSample(wireBytes: number, spanMs: number, now: number): void {
    if (spanMs < this.options.minStretchMs) return;
    this.samples.push({ at: now, bytesPerSecond: (wireBytes * 1000) / spanMs });
    this.remembered = { at: now, bytesPerSecond: this.estimate(now)! };
    this.probeAt = now + this.probeIntervalMs;
  }

  /** Whether wire samples are wanted: something admitted is not out yet, or a stretch is still open. */
  busy(now: number): boolean {
    return this.backlog(now) > 0 || this.stretch !== undefined;
  }

  /** A segment of the stream passed by (loaded or fetched): what one copy weighs. */
  noteSegmentSize(bytes: number): void {
    if (!(bytes > 0)) return;
    this.segmentSizes.push(bytes);
    if (this.segmentSizes.length > SIZE_SAMPLES) this.segmentSizes.shift();
  }

  /**
   * Whether one segment lasting `durationSec`, of the mean size of the last few, would leave
   * in time on an idle uplink. True before anything is measured: the first upload measures.
   */
  sendsInTime(durationSec: number, now: number): boolean {
    return (this.copiesInTime(durationSec, now) ?? 1) >= 1;
  }

  /**
   * How many copies of one segment lasting `durationSec` (of the mean size of the last few) an
   * idle uplink sends in time; undefined before anything is measured.
   */
  copiesInTime(durationSec: number, now: number): number | undefined {
    const rate = this.estimate(now);
    if (rate === undefined || this.segmentSizes.length === 0) return undefined;
    const typical = this.segmentSizes.reduce((a, b) => a + b, 0) / this.segmentSizes.length;
    return this.deadlineBytes(rate, durationSec) / typical;
  }

  /** Bytes the link carries at `rate` before the deadline of a segment lasting `durationSec`. */
  private deadlineBytes(rate: number, durationSec: number): number {
    return rate * durationSec * this.options.deadlineSegments;
  }

  stats(now: number): UplinkStats {
    const rate = this.estimate(now);
    return {
      estimateBps: rate === undefined ? null : Math.round(rate * 8),
      backlogBytes: this.backlog(now),
      probes: this.probes,
    };
  }
}
