/**
 * One client connection: the `ws` WebSocket plus the tracker's per-connection state, in a
 * single compact object. No closures or timers live here: the server's shared WebSocket
 * listeners find the object through a symbol property, and one tracker-wide timer does
 * heartbeats and idle checks.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Peer } from "./swarm";

export const kConnection = Symbol("swarmcast.connection");

/** The `ws` WebSocket of an accepted client, pointing back at its Connection. */
export type TrackedSocket = WebSocket & { [kConnection]?: Connection };

/** A client that has this much unsent output is not reading: it is cut off. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

const ALIVE = 1;
const CLOSED = 2;
const QUEUED = 4;

/** Size on the wire of an unmasked server text frame carrying `len` payload bytes. */
function frameSize(len: number): number {
  return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

export class Connection {
  /** Memberships of this connection, one per swarm (a client may use a peer_id per swarm). */
  peers: Peer[] = [];
  /** Token bucket for the message rate limit, in thousandths of a message (stays a small int). */
  tokens: number;
  /** Milliseconds on the tracker's clock of the last refill. */
  tokensAt = 0;
  /** Messages refused by the rate limit since the last accepted one. */
  refused = 0;
  /** Seconds (coarse clock) of the last message. */
  lastMessage: number;
  /** ALIVE | CLOSED | QUEUED bits: one field instead of three per connection. */
  private flags = ALIVE;

  constructor(
    readonly ws: TrackedSocket,
    /** The TCP (or TLS) stream under the WebSocket: corked while a turn's frames are queued. */
    readonly stream: Duplex,
    readonly ip: string,
    burst: number,
    now: number,
  ) {
    this.tokens = burst * 1000;
    this.lastMessage = Math.floor(now);
    ws[kConnection] = this;
  }

  /** Cleared by each ping round, set by the pong. */
  get alive(): boolean {
    return (this.flags & ALIVE) !== 0;
  }
  set alive(v: boolean) {
    this.flags = v ? this.flags | ALIVE : this.flags & ~ALIVE;
  }

  /** Detached from the tracker: left every swarm. */
  get closed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }
  set closed(v: boolean) {
    this.flags = v ? this.flags | CLOSED : this.flags & ~CLOSED;
  }

  addPeer(peer: Peer): void {
    peer.connIndex = this.peers.length;
    // Most connections join one swarm: an exact one-slot array, not push's 17-slot growth.
    if (this.peers.length === 0) this.peers = [peer];
    else this.peers.push(peer);
  }

  removePeer(peer: Peer): void {
    const i = peer.connIndex;
    if (i < 0 || this.peers[i] !== peer) return;
    const last = this.peers.pop()!;
    if (last !== peer) {
      this.peers[i] = last;
      last.connIndex = i;
    }
    peer.connIndex = -1;
  }

  // ---- output ---------------------------------------------------------------------------

  get isOpen(): boolean {
    return this.ws.readyState === 1;
  }

  /**
   * Sends a text frame. The first frame of an event-loop turn corks the socket and
   * {@link flush} (run once the turn's I/O callbacks are done) uncorks it, so the frames of
   * one turn leave in one write. Returns the frame's size in bytes (0 if not sent).
   */
  queueText(text: string): number {
    if (this.ws.readyState !== 1) return 0;
    if (this.stream.writableLength > MAX_UNSENT_BYTES) {
      this.terminate();
      return 0;
    }
    if ((this.flags & QUEUED) === 0) {
      this.flags |= QUEUED;
      this.stream.cork();
    }
    this.ws.send(text);
    return frameSize(Buffer.byteLength(text));
  }

  get hasQueued(): boolean {
    return (this.flags & QUEUED) !== 0;
  }

  /** Writes the frames queued during this turn. */
  flush(): void {
    if ((this.flags & QUEUED) === 0) return;
    this.flags &= ~QUEUED;
    this.stream.uncork();
  }

  ping(): void {
    if (this.ws.readyState === 1) this.ws.ping();
  }

  /** Starts the closing handshake (ws destroys the socket if the client never answers). */
  close(code: number, reason = ""): void {
    this.flush();
    if (this.ws.readyState === 1) this.ws.close(code, reason.slice(0, 120));
  }

  terminate(): void {
    this.flush();
    this.ws.terminate();
  }
}
