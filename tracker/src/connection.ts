/**
 * Compact per-connection state. No closures or timers live here: the server's shared handlers
 * find it through the socket, and one tracker-wide timer does heartbeats and idle checks.
 */
import type { WebSocket } from "ws";
import type { Peer } from "./swarm";

export class Connection {
  /** Memberships of this connection, one per swarm (a client may use a peer_id per swarm). */
  readonly peers: Peer[] = [];
  /** Token bucket for the message rate limit. */
  tokens: number;
  tokensAt: number;
  /** Messages refused by the rate limit since the last accepted one. */
  refused = 0;
  /** Seconds (coarse clock) of the last message. */
  lastMessage: number;
  /** Cleared by each ping round, set by the pong. */
  alive = true;
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.tokensAt = now;
    this.lastMessage = now;
  }

  addPeer(peer: Peer): void {
    peer.connIndex = this.peers.length;
    this.peers.push(peer);
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
}
