/**
 * One client connection: the `ws` WebSocket plus the tracker's per-connection state, in a
 * single compact object. No closures or timers live here: the server's shared WebSocket
 * listeners find the object through a symbol property, and one tracker-wide timer does
 * heartbeats and idle checks.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { IpEntry } from "./limits/ip-table";
import type { OutputQueues } from "./limits/output-queues";
import type { Peer } from "./swarm";
import type { AccessGrant } from "./token";

export const kConnection = Symbol("swarmcast.connection");

/** The `ws` WebSocket of an accepted client, pointing back at its Connection. */
export type TrackedSocket = WebSocket & { [kConnection]?: Connection };

/**
 * Pings carry their sequence number mixed with this process-wide random value, and a pong
 * counts only if it echoes the oldest unanswered one: pongs sent unasked keep nothing alive.
 */
const PING_SALT = randomBytes(4).readUInt32BE(0);

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
  /**
   * Token bucket for the byte budget, in payload bytes, refilled on the same clock as `tokens`.
   * It may go below zero: the frame in hand is handled and the socket is not read until the
   * debt is paid back.
   */
  byteTokens: number;
  /** Token bucket of offers this connection may still be sent, in thousandths of an offer. */
  offerTokens: number;
  /** Milliseconds on the tracker's clock of the offer bucket's last refill. */
  offerTokensAt = 0;
  /** Date.now() after which a socket paused for its byte budget is read again. */
  resumeAt = 0;
  /** Messages refused by the rate limit since the last accepted one. */
  refused = 0;
  /** Pings sent and not answered yet; a pong counts only while this is above 0. */
  pingsOut = 0;
  /** Pongs that answered our pings, ever: a rising count proves the client is there. */
  pongs = 0;
  /** Relayed offers of this connection awaiting an answer, and their ids oldest first (may hold stale ids). */
  pendingLive = 0;
  pendingIds: string[] | null = null;
  /** Seconds (coarse clock) of the last message. */
  lastMessage: number;
  /** ALIVE | CLOSED | QUEUED bits: one field instead of three per connection. */
  private flags = ALIVE;

  constructor(
    readonly ws: TrackedSocket,
    /** The TCP (or TLS) stream under the WebSocket: corked while a turn's frames are queued. */
    readonly stream: Duplex,
    /** The client IP's entry: its open-socket count and shared byte budget. */
    readonly ipEntry: IpEntry,
    /** What the access token allows (null on a public tracker). */
    readonly grant: AccessGrant | null,
    private readonly output: OutputQueues,
    burst: { messages: number; bytes: number; offers: number },
    now: number,
  ) {
    this.tokens = burst.messages * 1000;
    this.byteTokens = burst.bytes;
    this.offerTokens = burst.offers * 1000;
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

  get ip(): string {
    return this.ipEntry.ip;
  }

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
    const size = frameSize(Buffer.byteLength(text));
    if (this.stream.writableLength + size > this.output.limits.maxQueuedBytes) {
      // A client this far behind is not reading: queueing more would only hold memory.
      this.output.cut(this);
      return 0;
    }
    if ((this.flags & QUEUED) === 0) {
      this.flags |= QUEUED;
      this.stream.cork();
    }
    this.ws.send(text);
    return size;
  }

  get hasQueued(): boolean {
    return (this.flags & QUEUED) !== 0;
  }

  /** Writes the frames queued during this turn. */
  flush(): void {
    if ((this.flags & QUEUED) === 0) return;
    this.flags &= ~QUEUED;
    this.stream.uncork();
    if (this.stream.writableLength > 0) this.output.noteFlushed(this);
  }

  ping(): void {
    if (this.ws.readyState !== 1) return;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(((this.pongs + this.pingsOut) ^ PING_SALT) >>> 0, 0);
    this.pingsOut++;
    this.ws.ping(payload);
  }

  /** A pong arrived: it counts only if it answers the oldest ping we have not heard back about. */
  onPong(data: Buffer): void {
    if (this.pingsOut === 0 || data.length !== 4 || data.readUInt32BE(0) !== (this.pongs ^ PING_SALT) >>> 0) return;
    this.pingsOut--;
    this.pongs++;
    this.alive = true;
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
