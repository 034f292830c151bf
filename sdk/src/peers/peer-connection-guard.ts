/**
 * Limits on what peers can make a viewer do, enforced on the WebRTC objects PML creates
 * (PML 2.3.1 exposes neither its tracker client nor its peers; see sdk/README.md "Peer limits"):
 * - at most `maxConnections` RTCPeerConnections at once, however many offers the tracker relays;
 * - a peer announcing a segment larger than `maxSegmentBytes()` is dropped before PML buffers
 *   any of it (PML trusts the announced size and keeps the bytes until the hash check);
 * - with `choice`, a full set closes its least useful connection now and then, so the tracker's
 *   next introduction can bring a peer that delivers (see peer-choice.ts).
 *
 * PML's WebRTC layer reads `RTCPeerConnection` once, when its module is evaluated.
 * {@link installGuardedPeerConnection} swaps in a subclass for that moment; the subclass finds
 * the guard of its viewer through a key the SDK adds to the `rtcConfig` it gives PML, and
 * behaves as the native class for everything else.
 */

import { SlidingSum } from "../stats/rate";
import { type ChannelData, sizeOf } from "./channel-data";
import { type ConnectionUse, connectionToDrop, type PeerChoiceConfig } from "./peer-choice";
import { parsePeerCommand, PEER_COMMAND, type PeerCommand } from "./peer-commands";

export interface PeerConnectionGuardOptions {
  maxConnections: number;
  /** Largest segment size a peer may announce, bytes. */
  maxSegmentBytes: () => number;
  /** A peer was dropped for announcing `size` bytes (over `limit`). */
  onOversize?: (size: number, limit: number) => void;
  /** Every data channel of this viewer's connections, as it is created or received, before PML sees it. */
  onDataChannel?: (channel: RTCDataChannel) => void;
  /** Every small command a peer sends (requests, cancels), before PML handles it. */
  onPeerCommand?: (channel: RTCDataChannel, command: PeerCommand) => void;
  /** Keep the peers that move bytes once the set is full; undefined: keep whoever came first. */
  choice?: PeerChoiceConfig;
  /** Clock for the peer choice, ms. */
  now?: () => number;
}

/** The `rtcConfig` key that names a viewer's guard; removed before the native constructor sees it. */
export const GUARD_CONFIG_KEY = "swarmcastPeerGuard";

/** Message of the error a refused connection fails with; the engine does not report it as a tracker problem. */
export const REFUSED_MESSAGE = "Swarmcast: peer connection limit reached";

export interface PeerConnectionStats {
  open: number;
  peak: number;
  refused: number;
  oversizeRefused: number;
  /** Connections closed to free a slot in a full set for a peer that may deliver more. */
  replaced: number;
  max: number;
}

/** What one connection moved, for the peer choice. */
class ConnectionTraffic {
  readonly bytes: SlidingSum;
  lastActiveAt: number | undefined;

  constructor(
    readonly openedAt: number,
    windowMs: number,
  ) {
    this.bytes = new SlidingSum(windowMs);
  }

  add(size: number, now: number): void {
    this.bytes.add(size, now);
    this.lastActiveAt = now;
  }
}

const guards = new Map<string, PeerConnectionGuard>();
let nextGuardId = 1;

export class PeerConnectionGuard {
  readonly id = `g${nextGuardId++}`;
  private live = 0;
  private peak = 0;
  private refused = 0;
  private oversize = 0;
  private replaced = 0;
  /** Open connections and the bytes their transport had sent at the last {@link takeSentBytes}. */
  private readonly sentByConnection = new Map<RTCPeerConnection, number>();
  /** Open connections' traffic, with `choice`. */
  private readonly traffic = new Map<RTCPeerConnection, ConnectionTraffic>();
  private choiceTimer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: PeerConnectionGuardOptions) {
    guards.set(this.id, this);
    this.now = options.now ?? Date.now;
  }

  /** The `rtcConfig` PML should use: `base` plus the key that finds this guard. */
  rtcConfig(base: RTCConfiguration | undefined): RTCConfiguration {
    return { ...base, [GUARD_CONFIG_KEY]: this.id } as RTCConfiguration;
  }

  stats(): PeerConnectionStats {
    return {
      open: this.live,
      peak: this.peak,
      refused: this.refused,
      oversizeRefused: this.oversize,
      replaced: this.replaced,
      max: this.options.maxConnections,
    };
  }

  destroy(): void {
    guards.delete(this.id);
    this.sentByConnection.clear();
    this.traffic.clear();
    if (this.choiceTimer !== undefined) clearInterval(this.choiceTimer);
    this.choiceTimer = undefined;
  }

  /**
   * With `choice`: when the set is full, closes the connection that moved the fewest bytes over
   * the window (old enough and quiet), freeing its slot for the next peer the tracker
   * introduces. Runs every `choice.intervalMs` while connections are open; true if one closed.
   */
  replaceLeastUseful(): boolean {
    const choice = this.options.choice;
    if (!choice) return false;
    const now = this.now();
    const uses = new Map<RTCPeerConnection, ConnectionUse>();
    for (const [connection, traffic] of this.traffic) {
      uses.set(connection, {
        openedAt: traffic.openedAt,
        recentBytes: traffic.bytes.total(now),
        lastActiveAt: traffic.lastActiveAt,
      });
    }
    const drop = connectionToDrop(uses, this.options.maxConnections, now, choice);
    if (drop === undefined) return false;
    this.replaced++;
    drop.close();
    return true;
  }

  /**
   * Bytes this viewer's peer connections put on the wire since the last call (their selected
   * ICE candidate pairs' `bytesSent`, protocol overhead included), for the uplink budget.
   */
  async takeSentBytes(): Promise<number> {
    const read = await Promise.all(
      [...this.sentByConnection.keys()].map(async (c) => [c, await wireBytesSent(c)] as const),
    );
    let sent = 0;
    for (const [connection, total] of read) {
      const last = this.sentByConnection.get(connection);
      if (last === undefined || total === undefined) continue; // closed meanwhile, or no pair yet
      sent += Math.max(0, total - last);
      this.sentByConnection.set(connection, Math.max(last, total));
    }
    return sent;
  }

  /** @internal A connection of this viewer was built: its bytes count from zero. */
  track(connection: RTCPeerConnection): void {
    this.sentByConnection.set(connection, 0);
    const choice = this.options.choice;
    if (!choice) return;
    this.traffic.set(connection, new ConnectionTraffic(this.now(), choice.windowMs));
    this.choiceTimer ??= setInterval(() => this.replaceLeastUseful(), choice.intervalMs);
  }

  /** @internal */
  untrack(connection: RTCPeerConnection): void {
    this.sentByConnection.delete(connection);
    this.traffic.delete(connection);
    if (this.traffic.size === 0 && this.choiceTimer !== undefined) {
      clearInterval(this.choiceTimer);
      this.choiceTimer = undefined;
    }
  }

  /** @internal A connection is about to be built: false refuses it. */
  admit(): boolean {
    if (this.live >= this.options.maxConnections) {
      this.refused++;
      return false;
    }
    this.live++;
    if (this.live > this.peak) this.peak = this.live;
    return true;
  }

  /** @internal */
  release(): void {
    this.live = Math.max(0, this.live - 1);
  }

  /** @internal Watches a data channel's incoming messages; closes `connection` on an oversize announcement. */
  watch(channel: RTCDataChannel, connection: RTCPeerConnection): void {
    this.options.onDataChannel?.(channel);
    this.countTraffic(channel, connection);
    const refused = new WeakSet<object>();
    // Node WebRTC packages (@roamhq/wrtc) bring their own event target, whose events cannot be
    // stopped: there the channel's later handlers are wrapped to skip a refused message.
    const nativeEvents = typeof EventTarget === "function" && channel instanceof EventTarget;
    // Registered before PML's handler: a refused message never reaches it.
    const refuse = (event: MessageEvent): void => {
      if (nativeEvents) event.stopImmediatePropagation();
      else refused.add(event);
    };
    // Chunks the peer sent right behind its announcement may already be queued when the channel
    // closes, and are still dispatched: they are refused too.
    let dropped = false;
    channel.addEventListener("message", (event: MessageEvent) => {
      if (dropped) return refuse(event);
      if (!(event.data instanceof ArrayBuffer)) return;
      const command = parsePeerCommand(new Uint8Array(event.data));
      if (!command) return;
      this.options.onPeerCommand?.(channel, command);
      if (command.type !== PEER_COMMAND.segmentData) return;
      const size = command.fields.s;
      if (size === undefined) return;
      const limit = this.options.maxSegmentBytes();
      if (size <= limit) return;
      refuse(event);
      dropped = true;
      this.oversize++;
      this.options.onOversize?.(size, limit);
      channel.close();
      connection.close();
    });
    if (!nativeEvents) skipRefusedMessages(channel, refused);
  }

  /** With `choice`: counts what `channel` carries both ways towards `connection`'s usefulness. */
  private countTraffic(channel: RTCDataChannel, connection: RTCPeerConnection): void {
    const traffic = this.traffic.get(connection);
    if (!traffic) return;
    channel.addEventListener("message", (event: MessageEvent) => traffic.add(sizeOf(event.data), this.now()));
    const send = channel.send.bind(channel) as (data: ChannelData) => void;
    channel.send = (data: ChannelData): void => {
      traffic.add(sizeOf(data), this.now());
      send(data);
    };
  }
}

/**
 * Makes the `message` handlers added to `channel` after this call (through `onmessage` or
 * `addEventListener`) skip the events in `refused`: for event targets without
 * `stopImmediatePropagation`.
 */
function skipRefusedMessages(channel: RTCDataChannel, refused: WeakSet<object>): void {
  type Handler = (this: unknown, event: MessageEvent) => void;
  const skipping = (handler: Handler): Handler =>
    function (this: unknown, event: MessageEvent) {
      if (!refused.has(event)) handler.call(this, event);
    };
  const wrapped = new WeakMap<object, Handler>();
  const wrap = (fn: unknown): unknown => {
    if (typeof fn !== "function") return fn;
    let skipper = wrapped.get(fn);
    if (!skipper) wrapped.set(fn, (skipper = skipping(fn as Handler)));
    return skipper;
  };
  const target = channel as unknown as Record<
    "addEventListener" | "removeEventListener",
    (type: string, fn: unknown, options?: unknown) => void
  >;
  const add = target.addEventListener.bind(channel);
  const remove = target.removeEventListener.bind(channel);
  target.addEventListener = (type, fn, options) => add(type, type === "message" ? wrap(fn) : fn, options);
  target.removeEventListener = (type, fn, options) => remove(type, type === "message" ? wrap(fn) : fn, options);
  let onmessage: Handler | null = null;
  Object.defineProperty(channel, "onmessage", {
    configurable: true,
    get: () => onmessage,
    set: (fn: Handler | null) => {
      onmessage = typeof fn === "function" ? skipping(fn) : null;
    },
  });
}

/** The `bytesSent` of a connection's selected candidate pair, or undefined (none yet, or closed). */
async function wireBytesSent(connection: RTCPeerConnection): Promise<number | undefined> {
  let report: RTCStatsReport;
  try {
    report = await connection.getStats();
  } catch {
    return undefined;
  }
  let sent: number | undefined;
  report.forEach(
    (stat: { type?: string; nominated?: boolean; selected?: boolean; state?: string; bytesSent?: number }) => {
      if (stat.type !== "candidate-pair" || !(stat.nominated || stat.selected) || stat.state !== "succeeded") return;
      sent = Math.max(sent ?? 0, Number(stat.bytesSent ?? 0));
    },
  );
  return sent;
}

const guardedClasses = new WeakMap<typeof RTCPeerConnection, typeof RTCPeerConnection>();
const guardedSet = new WeakSet<typeof RTCPeerConnection>();

/**
 * The guarded subclass of `Native` (one per native class): connections whose `rtcConfig` names a
 * guard are counted, refused over its limit and watched for oversize announcements; any other
 * connection behaves as `Native`. A class that is already guarded is returned as it is.
 */
export function guardedPeerConnectionClass(Native: typeof RTCPeerConnection): typeof RTCPeerConnection {
  if (guardedSet.has(Native)) return Native;
  const known = guardedClasses.get(Native);
  if (known) return known;

  class GuardedPeerConnection extends Native {
    private guardReleased = false;
    private readonly guard: PeerConnectionGuard | undefined;

    constructor(config?: RTCConfiguration) {
      const key = (config as Record<string, unknown> | undefined)?.[GUARD_CONFIG_KEY];
      const guard = typeof key === "string" ? guards.get(key) : undefined;
      let nativeConfig = config;
      if (key !== undefined) {
        nativeConfig = { ...config };
        delete (nativeConfig as Record<string, unknown>)[GUARD_CONFIG_KEY];
      }
      if (guard && !guard.admit()) throw new DOMException(REFUSED_MESSAGE, "OperationError");
      super(nativeConfig);
      this.guard = guard;
      if (!guard) return;
      guard.track(this);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "closed") this.releaseGuard();
      });
      // Before PML's own handlers, so an oversize announcement is caught first.
      this.addEventListener("datachannel", (event) => guard.watch(event.channel, this));
    }

    override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
      const channel = super.createDataChannel(label, init);
      this.guard?.watch(channel, this);
      return channel;
    }

    override close(): void {
      this.releaseGuard();
      super.close();
    }

    private releaseGuard(): void {
      if (this.guardReleased || !this.guard) return;
      this.guardReleased = true;
      this.guard.release();
      this.guard.untrack(this);
    }
  }

  guardedClasses.set(Native, GuardedPeerConnection);
  guardedSet.add(GuardedPeerConnection);
  return GuardedPeerConnection;
}

/**
 * Puts the guarded subclass of `RTCPeerConnection` on the global object until the current task
 * ends: long enough for PML's module, evaluated in the same task, to take it, and no longer, so
 * the page's own WebRTC code keeps the browser's class. Does nothing without WebRTC.
 * (The Node build of `swarmcast/engine` reads the globals at each connection instead and guards
 * them there: see engine/webrtc-globals.ts.)
 */
export function installGuardedPeerConnection(
  scope: { RTCPeerConnection?: typeof RTCPeerConnection } = globalThis,
): void {
  const Native = scope.RTCPeerConnection;
  if (typeof Native !== "function") return;
  const Guarded = guardedPeerConnectionClass(Native);
  if (Guarded === Native) return;
  scope.RTCPeerConnection = Guarded;
  queueMicrotask(() => {
    if (scope.RTCPeerConnection === Guarded) scope.RTCPeerConnection = Native;
  });
}
