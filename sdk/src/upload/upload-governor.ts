import { UploadConsent, type DeviceFacts, type UploadMode, type UploadWithheldReason } from "./upload-consent";
import { UploadLimiter } from "./upload-limiter";
import { UplinkBudget, type UplinkBudgetOptions, type UplinkStats } from "./uplink-budget";
import { UploadQueue, type UploadQueueOptions, type UploadQueueStats } from "./upload-queue";
import type { UplinkYieldStats } from "./uplink-yield";

export interface UploadGovernorOptions {
  /** `false`: never upload; `"auto"`: upload unless the device says it is metered or low. */
  upload: UploadMode;
  /** Battery level under which a discharging device does not upload (`"auto"`). */
  minBatteryLevel?: number;
  /** Where `"auto"` reads the connection and battery; `navigator` by default. */
  device?: DeviceFacts;
  /** Cap in kilobits per second (1 kbit = 1000 bits), or undefined for none. */
  maxUploadKbps: number | undefined;
  windowMs: number;
  /** PML's `webRtcMaxMessageSize`. */
  maxChunkBytes: number;
  initialSegmentBytes: number;
  /** How often a capped viewer re-checks whether it may upload again. */
  tickMs: number;
  /** Whether peer requests reach {@link UploadGovernor.admit} (the segment store is wrapped). */
  perRequest?: boolean;
  /** Admit only what the measured uplink sends in time (needs `perRequest`); undefined: off. */
  uplink?: UplinkBudgetOptions & {
    /** How often the wire is read while uploads are under way, ms. */
    sampleMs: number;
    /** Bytes the peer connections put on the wire since the last call. */
    sentBytes: () => Promise<number>;
    /** Uploads go out one after another at the measured rate (`serialUploads`); undefined: all at once. */
    queue?: UploadQueueOptions;
  };
}

export interface UploadStats {
  /** The `upload` option. */
  mode: UploadMode;
  /** Whether this viewer uploads now (`upload` option, and for `"auto"` the device's state). */
  enabled: boolean;
  /** Why `"auto"` holds uploads back now, or null. */
  withheldBy: UploadWithheldReason;
  /** The cap in kbit/s, or null. */
  capKbps: number | null;
  /** True while the cap holds uploads back. */
  limited: boolean;
  /** Times the cap held uploads back. */
  limitedCount: number;
  /** Peer requests answered "absent" because the cap's budget was taken. */
  refusedRequests: number;
  /** Bytes sent during the last cap window. */
  windowBytes: number;
  /** True while this viewer's own playback struggles, so it serves nobody (`playbackHealth`). */
  pausedForPlayback: boolean;
  /** The measured uplink and what waits to go out on it; null when uploads are not admitted one by one. */
  uplink: (UplinkStats & { refusedRequests: number; queue: UploadQueueStats | null }) | null;
  /** Segment data held for this viewer's own CDN fetches (`uplinkYield`); null when off. */
  yield: UplinkYieldStats | null;
}

/**
 * Applies the `upload` and `maxUploadKbps` options to PML: fed with PML's upload events, it
 * switches PML's dynamic `isP2PUploadDisabled` (peers are told this viewer has nothing and
 * their requests are answered "absent") while the cap is reached.
 */
export class UploadGovernor {
  private readonly limiter: UploadLimiter | undefined;
  private readonly consent: UploadConsent;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The cap's verdict: uploads held back to stay under `maxUploadKbps`. */
  private capped = false;
  /** This viewer's own playback struggles: serve nobody until it recovers. */
  private pausedForPlayback = false;
  private disabled: boolean;
  private limitedCount = 0;
  private refusedRequests = 0;
  private readonly uplink: UplinkBudget | undefined;
  private readonly queue: UploadQueue | undefined;
  private refusedForUplink = 0;
  private uplinkTimer: ReturnType<typeof setTimeout> | undefined;
  private uplinkSampling = false;
  private destroyed = false;
  private readonly peerConnections = new Map<string, number>();

  constructor(
    private readonly options: UploadGovernorOptions,
    private readonly setUploadDisabled: (disabled: boolean) => void,
    private readonly clock: () => number = () => Date.now(),
  ) {
    this.consent = new UploadConsent(
      options.upload,
      options.minBatteryLevel ?? 0.2,
      () => this.publish(),
      options.device,
    );
    this.disabled = !this.consent.allowed;
    if (options.upload !== false && options.maxUploadKbps !== undefined) {
      this.limiter = new UploadLimiter({
        capBytesPerSecond: (options.maxUploadKbps * 1000) / 8,
        windowMs: options.windowMs,
        maxChunkBytes: options.maxChunkBytes,
        initialSegmentBytes: options.initialSegmentBytes,
        perRequest: options.perRequest ?? false,
        now: clock(),
      });
    }
    if (options.upload !== false && options.perRequest && options.uplink) {
      const uplink = new UplinkBudget(options.uplink);
      this.uplink = uplink;
      if (options.uplink.queue)
        this.queue = new UploadQueue(options.uplink.queue, () => uplink.estimate(clock()), clock);
    }
  }

  /** Whether admitted uploads wait their turn (`serialUploads`). */
  get ordersUploads(): boolean {
    return this.queue !== undefined;
  }

  /** The PML config value to start with. */
  get initiallyDisabled(): boolean {
    return this.disabled;
  }

  /**
   * A peer asks for `bytes` of a segment lasting `durationSec`: whether to send it (false:
   * answer "absent"), or with the upload queue a promise of that, settled when the upload's
   * turn comes or `requester` aborts. Without a duration the uplink is not consulted.
   */
  readonly admit = (
    bytes = 0,
    durationSec?: number,
    requester?: AbortSignal,
    waitedMs = 0,
  ): boolean | Promise<boolean> => {
    if (!this.consent.allowed || this.pausedForPlayback) return false;
    const now = this.clock();
    if (this.uplink && durationSec !== undefined && durationSec > 0 && !this.uplink.fits(bytes, durationSec, now)) {
      this.refusedForUplink++;
      return false;
    }
    if (this.limiter) {
      const admitted = this.limiter.admit(now);
      if (!admitted) this.refusedRequests++;
      this.apply(this.limiter.allowed);
      if (!admitted) return false;
    }
    if (!this.uplink) return true;
    const reservation = this.uplink.reserve(bytes, now);
    void this.sampleUplink();
    const turn = this.queue?.enqueue(bytes, requester, waitedMs) ?? true;
    if (turn === true) return true;
    const settle = (go: boolean): boolean => {
      if (!go) this.uplink?.release(reservation);
      return go;
    };
    return turn === false ? settle(false) : turn.then(settle);
  };

  readonly onChunkUploaded = (bytes: number, peerId: string): void => {
    const now = this.clock();
    this.uplink?.onChunk(bytes, now);
    if (this.limiter) this.apply(this.limiter.onChunk(bytes, peerId, now));
  };

  /** PML's onPeerConnect / onPeerClose: a peer may connect once per stream (video, audio). */
  readonly onPeerConnect = (peerId: string): void => {
    this.peerConnections.set(peerId, (this.peerConnections.get(peerId) ?? 0) + 1);
    this.updatePeers();
  };

  readonly onPeerClose = (peerId: string): void => {
    const count = (this.peerConnections.get(peerId) ?? 0) - 1;
    if (count > 0) this.peerConnections.set(peerId, count);
    else this.peerConnections.delete(peerId);
    this.updatePeers();
  };

  /** Uploads are held for a fetch of this viewer's own (`uplinkYield`), or go on. */
  setUplinkHeld(held: boolean): void {
    this.uplink?.setHeld(held, this.clock());
  }

  /** Playback health's verdict: while struggling, peers are told this viewer has nothing. */
  setPausedForPlayback(paused: boolean): void {
    this.pausedForPlayback = paused;
    this.publish();
  }

  readonly onSegmentLoaded = (bytes: number): void => {
    this.limiter?.noteSegmentSize(bytes);
    this.uplink?.noteSegmentSize(bytes);
  };

  /**
   * Whether this viewer could send one segment lasting `durationSec` (of the size recently
   * loaded) to a peer in time: uploads allowed, playback fine, and the uplink fast enough.
   */
  canServe(durationSec: number): boolean {
    return (this.serveCopies(durationSec) ?? 1) >= 1;
  }

  /**
   * How many copies of such a segment this viewer could send in time: 0 while it serves
   * nobody, undefined while its uplink is unmeasured (or not admitted per request).
   */
  serveCopies(durationSec: number): number | undefined {
    if (this.disabled) return 0;
    return this.uplink?.copiesInTime(durationSec, this.clock());
  }

  stats(): UploadStats {
    return {
      mode: this.options.upload,
      enabled: this.consent.allowed,
      withheldBy: this.consent.reason,
      capKbps: this.limiter ? (this.options.maxUploadKbps ?? null) : null,
      limited: this.capped,
      limitedCount: this.limitedCount,
      refusedRequests: this.refusedRequests,
      windowBytes: this.limiter?.sentBytes(this.clock()) ?? 0,
      pausedForPlayback: this.pausedForPlayback,
      uplink: this.uplink
        ? {
            ...this.uplink.stats(this.clock()),
            refusedRequests: this.refusedForUplink,
            queue: this.queue?.stats() ?? null,
          }
        : null,
      yield: null,
    };
  }

  private updatePeers(): void {
    if (this.limiter) this.apply(this.limiter.setPeerCount(this.peerConnections.size, this.clock()));
  }

  destroy(): void {
    this.destroyed = true;
    this.queue?.destroy();
    if (this.uplinkTimer !== undefined) clearTimeout(this.uplinkTimer);
    this.consent.destroy();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the wire every `sampleMs` while admitted uploads are not out yet. */
  private async sampleUplink(): Promise<void> {
    const uplink = this.uplink;
    const source = this.options.uplink;
    if (!uplink || !source || this.uplinkSampling) return;
    this.uplinkSampling = true;
    try {
      await source.sentBytes(); // what went out before this upload does not count
      while (!this.destroyed && uplink.busy(this.clock())) {
        await new Promise<void>((resolve) => (this.uplinkTimer = setTimeout(resolve, source.sampleMs)));
        if (this.destroyed) return;
        const bytes = await source.sentBytes();
        uplink.onWireSample(bytes, this.clock());
      }
    } catch {
      // A failed read leaves the backlog to lapse (`staleMs`); the next admission samples again.
    } finally {
      this.uplinkSampling = false;
    }
  }

  /** Tells PML when the combined verdict (consent and cap) changes. */
  private publish(): void {
    const disabled = !this.consent.allowed || this.capped || this.pausedForPlayback;
    if (disabled === this.disabled) return;
    this.disabled = disabled;
    this.setUploadDisabled(disabled);
  }

  private apply(allowed: boolean): void {
    if (allowed === !this.capped) return;
    this.capped = !allowed;
    this.publish();
    if (this.capped) {
      this.limitedCount++;
      this.timer ??= setInterval(() => {
        if (this.limiter) this.apply(this.limiter.tick(this.clock()));
      }, this.options.tickMs);
    } else if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
