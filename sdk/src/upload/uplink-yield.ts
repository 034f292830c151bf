import type { CoreEventMap } from "p2p-media-loader-core";
import { type ChannelData, sizeOf } from "../peers/channel-data";

export interface UplinkYieldOptions {
  /** One fetch holds uploads for at most this long, ms: a hung fetch does not starve the peers. */
  maxHoldMs: number;
  /**
   * While uploads are held, a message of at most this many bytes still goes out when nothing
   * waits before it on its channel: PML's commands (this viewer's own requests among them) are
   * small, segment data comes in chunks of up to `webRtcMaxMessageSize`.
   */
  passThroughBytes: number;
}

export interface UplinkYieldStats {
  /** Times uploads were held for a fetch of this viewer's own. */
  holds: number;
  /** Time uploads were held, ms. */
  heldMs: number;
  /** Bytes waiting in the channels now. */
  queuedBytes: number;
  /** Most bytes that waited at once. */
  peakQueuedBytes: number;
}

interface HeldChannel {
  channel: RTCDataChannel;
  send: (data: ChannelData) => void;
  nativeBuffered: () => number;
  queue: ChannelData[];
  queuedBytes: number;
}

/** Reads `channel`'s own `bufferedAmount` (its class's getter), or undefined when it cannot be taken over. */
function nativeBufferedReader(channel: RTCDataChannel): (() => number) | undefined {
  for (let scope: object | null = channel; scope; scope = Object.getPrototypeOf(scope) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(scope, "bufferedAmount");
    if (!descriptor) continue;
    if ((scope === channel && !descriptor.configurable) || !descriptor.get) return undefined;
    return () => descriptor.get!.call(channel) as number;
  }
  return undefined;
}

/**
 * Gives this viewer's own CDN fetches its uplink. A home uplink queues what it cannot send yet;
 * a viewer serving peers keeps that queue full (the data channels' congestion control, like
 * TCP's, fills it until packets drop), and its own requests and the acknowledgements of its
 * own downloads wait in that queue too. Measured on an emulated link (bench/README.md, "Link
 * model", uplink contention): an 830 KB fetch over a 50 Mbit/s downlink took 131 ms at the
 * median on an idle 1 Mbit/s uplink and 949 ms (at most 2.4 s) on a busy one.
 *
 * While a fetch of this viewer's own runs, the segment data PML writes to its peers waits in
 * memory instead of on the link ({@link hold}); the link's queue drains within its own depth,
 * and the fetch runs as on an idle uplink. Small messages pass when nothing waits before them
 * on their channel, so this viewer's own requests to peers keep going and every channel keeps
 * its order. The channels report what waits as part of `bufferedAmount`, so PML's writer
 * (simple-peer) applies its usual backpressure and no more than about its 64 KB threshold
 * waits per channel. When the last hold ends, everything waiting is sent in order.
 */
export class UplinkYield {
  private readonly channels = new Set<HeldChannel>();
  private readonly releases = new Set<() => void>();
  private heldSince: number | undefined;
  private heldTotalMs = 0;
  private holdCount = 0;
  private peakQueued = 0;
  private destroyed = false;

  constructor(
    private readonly options: UplinkYieldOptions,
    private readonly onHeldChange: (held: boolean) => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`UplinkYield: ${name} must be a non-negative number, got ${value}`);
    }
  }

  get held(): boolean {
    return this.releases.size > 0;
  }

  /**
   * Takes over `channel`'s `send` and `bufferedAmount`. A channel whose `bufferedAmount` cannot
   * be reported with its waiting bytes is left alone: without it PML would pour a whole segment
   * into the wait.
   */
  attach(channel: RTCDataChannel): void {
    const nativeBuffered = nativeBufferedReader(channel);
    if (!nativeBuffered || this.destroyed) return;
    const nativeSend = channel.send.bind(channel) as (data: ChannelData) => void;
    const entry: HeldChannel = {
      channel,
      send: nativeSend,
      nativeBuffered,
      queue: [],
      queuedBytes: 0,
    };
    Object.defineProperty(channel, "bufferedAmount", {
      configurable: true,
      get: () => entry.nativeBuffered() + entry.queuedBytes,
    });
    channel.send = (data: ChannelData): void => {
      const size = sizeOf(data);
      if (entry.queue.length === 0 && (!this.held || size <= this.options.passThroughBytes)) {
        entry.send(data);
        return;
      }
      entry.queue.push(data);
      entry.queuedBytes += size;
      this.peakQueued = Math.max(this.peakQueued, this.queuedBytes());
    };
    this.channels.add(entry);
    channel.addEventListener("close", () => {
      this.channels.delete(entry);
      entry.queue = [];
      entry.queuedBytes = 0;
    });
  }

  /**
   * Holds uploads until the returned function is called (once is enough; later calls do
   * nothing) or `maxHoldMs` has passed.
   */
  hold(): () => void {
    if (this.destroyed) return () => undefined;
    const wasHeld = this.held;
    const release = (): void => {
      if (!this.releases.delete(release)) return;
      clearTimeout(timer);
      if (!this.held) this.resume();
    };
    const timer = setTimeout(release, this.options.maxHoldMs);
    this.releases.add(release);
    this.holdCount++;
    if (!wasHeld) {
      this.heldSince = this.clock();
      this.onHeldChange(true);
    }
    return release;
  }

  stats(): UplinkYieldStats {
    const now = this.clock();
    return {
      holds: this.holdCount,
      heldMs: this.heldTotalMs + (this.heldSince === undefined ? 0 : now - this.heldSince),
      queuedBytes: this.queuedBytes(),
      peakQueuedBytes: this.peakQueued,
    };
  }

  /** Ends every hold (what waits is sent) and stops holding. */
  destroy(): void {
    for (const release of [...this.releases]) release();
    this.destroyed = true;
  }

  private queuedBytes(): number {
    let bytes = 0;
    for (const entry of this.channels) bytes += entry.queuedBytes;
    return bytes;
  }

  private resume(): void {
    if (this.heldSince !== undefined) this.heldTotalMs += this.clock() - this.heldSince;
    this.heldSince = undefined;
    this.onHeldChange(false);
    for (const entry of [...this.channels]) this.flush(entry);
  }

  private flush(entry: HeldChannel): void {
    if (entry.queue.length === 0) return;
    const waiting = entry.queue;
    entry.queue = [];
    entry.queuedBytes = 0;
    try {
      for (const data of waiting) entry.send(data);
    } catch {
      // The channel is closing: its peer connection goes, and PML drops what it was sending.
      return;
    }
    // The channel signals a drop below its threshold only when its own buffer crosses it; a
    // writer that stopped on what waited here learns from this event that it may go on.
    if (entry.nativeBuffered() <= entry.channel.bufferedAmountLowThreshold)
      entry.channel.dispatchEvent(new Event("bufferedamountlow"));
  }
}

/** PML's events: each of its HTTP attempts holds `uplink` while it runs. */
export function pmlHttpHolds(uplink: UplinkYield): Partial<CoreEventMap> {
  const releases = new Map<string, () => void>();
  const end = (url: string, source: string | undefined): void => {
    if (source !== "http") return;
    releases.get(url)?.();
    releases.delete(url);
  };
  return {
    onSegmentStart: ({ segment, downloadSource }) => {
      if (downloadSource !== "http") return;
      releases.get(segment.url)?.();
      releases.set(segment.url, uplink.hold());
    },
    onSegmentLoaded: ({ segmentUrl, downloadSource }) => end(segmentUrl, downloadSource),
    onSegmentError: ({ segment, downloadSource }) => end(segment.url, downloadSource),
    onSegmentAbort: ({ segment, downloadSource }) => end(segment.url, downloadSource),
  };
}
