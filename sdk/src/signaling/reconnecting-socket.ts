/**
 * The tracker connection PML opens, kept alive by the SDK.
 *
 * PML 2.3.1's bundled tracker client (bittorrent-tracker) retries a lost tracker after
 * 10 s·2ⁿ plus a random 0–300 s, and exposes neither the client nor its timing (see
 * sdk/README.md "Tracker reconnect"). Its WebSocket layer reads `WebSocket` from the global
 * object once, when PML's module is evaluated; {@link installReconnectingTrackerSocket} puts
 * {@link ReconnectingTrackerSocket} there for that moment. To PML the socket opens once and
 * stays open until PML closes it: when the real connection drops, the socket reconnects on the
 * SDK's schedule ({@link ReconnectBackoff}), drops what PML sends meanwhile, and on reconnect
 * repeats each swarm's last announce (without its WebRTC offers, which may be stale), so the
 * restarted tracker knows the viewer again and relays new viewers' offers to it. Peer
 * connections do not go through the tracker and keep delivering throughout.
 *
 * It is also where banned peers are refused: an offer or answer from a peer id a watch refuses
 * never reaches PML, so PML builds no connection to that peer however often the tracker
 * introduces it.
 */
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { ReconnectBackoff, type ReconnectSchedule } from "./backoff";

/** A tracker connection went down: reported once per outage, not once per attempt. */
export interface TrackerLoss {
  url: string;
  /** Whether the tracker had ever accepted this connection (false: unreachable or refusing from the start). */
  wasConnected: boolean;
  retryInMs: number;
}

/** What an engine asks of the connections to one tracker URL. */
export interface TrackerWatch {
  schedule: ReconnectSchedule;
  onLoss(loss: TrackerLoss): void;
  /** The tracker is back after `downMs` and the viewer announced again. */
  onReconnect?(url: string, downMs: number): void;
  /** Whether offers and answers from `peerId` (PML's peer id) are dropped. */
  refuses?(peerId: string): boolean;
  /** An offer or answer from a peer {@link refuses} named was dropped. */
  onRefused?(peerId: string): void;
}

const watches = new Map<string, Set<TrackerWatch>>();

/** bittorrent-tracker drops a trailing slash from announce URLs. */
const keyOf = (url: string): string => (url.endsWith("/") ? url.slice(0, -1) : url);

/** Watches connections to `url` (a tracker URL as given to PML); returns the function that stops. */
export function watchTracker(url: string, watch: TrackerWatch): () => void {
  const key = keyOf(url);
  let set = watches.get(key);
  if (!set) watches.set(key, (set = new Set()));
  set.add(watch);
  return () => {
    set.delete(watch);
    if (set.size === 0 && watches.get(key) === set) watches.delete(key);
  };
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

type Handler<E extends Event> = ((this: unknown, event: E) => unknown) | null;

/** Builds the class over the browser's `WebSocket` (taken as an argument so it is never looked up late). */
export function reconnectingSocketClass(Native: typeof WebSocket) {
  return class ReconnectingTrackerSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readonly CONNECTING = CONNECTING;
    readonly OPEN = OPEN;
    readonly CLOSING = CLOSING;
    readonly CLOSED = CLOSED;

    readonly url: string;
    readyState: number = CONNECTING;
    onopen: Handler<Event> = null;
    onmessage: Handler<MessageEvent> = null;
    onclose: Handler<CloseEvent> = null;
    onerror: Handler<Event> = null;

    private native: WebSocket | undefined;
    private type: BinaryType = "blob";
    private readonly backoff: ReconnectBackoff;
    private retryTimer: ReturnType<typeof setTimeout> | undefined;
    private closedByOwner = false;
    private downSince: number | undefined;
    /** Each swarm's last announce frame (offers removed), by info_hash. */
    private readonly announces = new Map<string, string>();

    constructor(url: string | URL) {
      super();
      this.url = String(url);
      const first = watches.get(keyOf(this.url))?.values().next().value;
      this.backoff = new ReconnectBackoff(first?.schedule ?? DEFAULT_SWARMCAST_CONFIG.trackerReconnect);
      this.connect();
    }

    get binaryType(): BinaryType {
      return this.type;
    }
    set binaryType(type: BinaryType) {
      this.type = type;
      if (this.native) this.native.binaryType = type;
    }
    get bufferedAmount(): number {
      return this.native?.bufferedAmount ?? 0;
    }
    get protocol(): string {
      return this.native?.protocol ?? "";
    }
    get extensions(): string {
      return this.native?.extensions ?? "";
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (this.readyState === CONNECTING) throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
      if (this.readyState !== OPEN) return;
      if (typeof data === "string") this.remember(data);
      // While the tracker is down, frames are dropped: the re-announce on reconnect replaces them.
      if (this.native?.readyState === OPEN) this.native.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.closedByOwner) return;
      this.closedByOwner = true;
      clearTimeout(this.retryTimer);
      this.readyState = CLOSING;
      const native = this.native;
      if (native && native.readyState <= OPEN) native.close(code, reason);
      else this.finish(code ?? 1000, reason ?? "");
    }

    private connect(): void {
      const native = new Native(this.url);
      this.native = native;
      native.binaryType = this.type;
      native.onopen = () => {
        if (this.native !== native) return;
        this.backoff.reset();
        const downMs = this.downSince === undefined ? 0 : Date.now() - this.downSince;
        this.downSince = undefined;
        if (this.readyState === CONNECTING) {
          // First connection (perhaps after failed attempts): PML announces itself.
          this.readyState = OPEN;
          this.emit("onopen", new Event("open"));
          return;
        }
        for (const frame of this.announces.values()) native.send(frame);
        for (const watch of watches.get(keyOf(this.url)) ?? []) watch.onReconnect?.(this.url, downMs);
      };
      native.onmessage = (event) => {
        if (this.native !== native || this.refused(event.data)) return;
        this.emit("onmessage", new MessageEvent("message", { data: event.data as unknown }));
      };
      // The close event that follows an error is what schedules the retry.
      native.onerror = () => undefined;
      native.onclose = (event) => {
        if (this.native !== native) return;
        this.native = undefined;
        if (this.closedByOwner) this.finish(event.code, event.reason);
        else this.retry();
      };
    }

    private retry(): void {
      const retryInMs = this.backoff.next();
      if (this.downSince === undefined) {
        this.downSince = Date.now();
        const loss: TrackerLoss = { url: this.url, wasConnected: this.readyState === OPEN, retryInMs };
        for (const watch of watches.get(keyOf(this.url)) ?? []) watch.onLoss(loss);
      }
      this.retryTimer = setTimeout(() => {
        if (!this.closedByOwner) this.connect();
      }, retryInMs);
    }

    /** Whether `data` is an offer or answer from a peer some watch refuses (and says so to them). */
    private refused(data: unknown): boolean {
      const list = watches.get(keyOf(this.url));
      if (!list || typeof data !== "string" || !data.includes("peer_id")) return false;
      const refusing = [...list].filter((watch) => watch.refuses !== undefined);
      if (refusing.length === 0) return false;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data) as Record<string, unknown>;
      } catch {
        return false;
      }
      if (typeof message.peer_id !== "string" || (message.offer === undefined && message.answer === undefined)) {
        return false;
      }
      const peerId = peerIdOfWire(message.peer_id);
      const by = refusing.filter((watch) => watch.refuses?.(peerId));
      for (const watch of by) watch.onRefused?.(peerId);
      return by.length > 0;
    }

    private remember(frame: string): void {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(frame) as Record<string, unknown>;
      } catch {
        return;
      }
      // Answers and relays to one peer are not the viewer's own announce.
      if (message.action !== "announce" || message.answer !== undefined || message.to_peer_id !== undefined) return;
      const infoHash = message.info_hash;
      if (typeof infoHash !== "string") return;
      if (message.event === "stopped") {
        this.announces.delete(infoHash);
        return;
      }
      const { offers: _offers, trackerid: _trackerId, ...rest } = message;
      this.announces.set(infoHash, JSON.stringify({ ...rest, event: "started" }));
    }

    private finish(code: number, reason: string): void {
      this.readyState = CLOSED;
      this.emit("onclose", new CloseEvent("close", { code, reason, wasClean: true }));
    }

    private emit(handler: "onopen" | "onmessage" | "onclose", event: Event): void {
      this.dispatchEvent(event);
      (this[handler] as Handler<Event>)?.call(this, event);
    }
  };
}

/**
 * PML's peer id of a tracker frame's `peer_id`: the frame carries the id's UTF-8 bytes one
 * character per byte (ASCII ids, PML's own, read the same either way).
 */
export function peerIdOfWire(wire: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(wire)) return wire;
  const bytes = Uint8Array.from(wire, (c) => c.charCodeAt(0) & 0xff);
  return new TextDecoder().decode(bytes);
}

/**
 * Puts {@link reconnectingSocketClass} on the global object until the current task ends: long
 * enough for PML's module, evaluated in the same task, to take it, and no longer, so the page's
 * own WebSockets stay the browser's. Does nothing without WebSocket or EventTarget.
 */
export function installReconnectingTrackerSocket(scope: { WebSocket?: typeof WebSocket } = globalThis): void {
  const Native = scope.WebSocket;
  if (typeof Native !== "function" || typeof EventTarget !== "function") return;
  const Reconnecting = reconnectingSocketClass(Native) as unknown as typeof WebSocket;
  scope.WebSocket = Reconnecting;
  queueMicrotask(() => {
    if (scope.WebSocket === Reconnecting) scope.WebSocket = Native;
  });
}
