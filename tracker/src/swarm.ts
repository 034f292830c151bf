/**
 * One swarm (one info_hash): peers in a dense array for O(1) random picks, each peer knowing its
 * own slot so leaving is an O(1) swap-remove, plus a map for lookup by peer_id.
 */
import type { Connection } from "./connection";

/** JSON string literal of a binary id, computed once and spliced into every frame naming it. */
export function jsonString(s: string): string {
  return JSON.stringify(s);
}

export class Peer {
  /** Slot in swarm.peers; -1 once removed. */
  index = -1;
  complete = false;
  /** Whole seconds of the last announce or answer. */
  lastSeen: number;
  /** Slot in connection.peers. */
  connIndex = -1;

  constructor(
    readonly peerId: string,
    public conn: Connection,
    readonly swarm: Swarm,
    now: number,
  ) {
    // Whole seconds stay small integers (no boxed double per peer).
    this.lastSeen = Math.floor(now);
  }
}

export class Swarm {
  readonly peers: Peer[] = [];
  readonly byId = new Map<string, Peer>();
  complete = 0;
  /** Prefix `{"action":"announce","info_hash":"…",` shared by every frame about this swarm. */
  readonly framePrefix: string;

  constructor(readonly infoHash: string) {
    this.framePrefix = `{"action":"announce","info_hash":${jsonString(infoHash)},`;
  }

  get size(): number {
    return this.peers.length;
  }

  get incomplete(): number {
    return this.peers.length - this.complete;
  }

  add(peer: Peer): void {
    peer.index = this.peers.length;
    this.peers.push(peer);
    this.byId.set(peer.peerId, peer);
    if (peer.complete) this.complete++;
  }

  remove(peer: Peer): void {
    const i = peer.index;
    if (i < 0 || this.peers[i] !== peer) return;
    const last = this.peers.pop()!;
    if (last !== peer) {
      this.peers[i] = last;
      last.index = i;
    }
    peer.index = -1;
    this.byId.delete(peer.peerId);
    if (peer.complete) this.complete--;
  }

  setComplete(peer: Peer): void {
    if (!peer.complete) {
      peer.complete = true;
      this.complete++;
    }
  }

  /**
   * Up to `count` distinct peers other than `self`, chosen at random. Small swarms are walked
   * from a random start; large ones sampled with rejection, so the cost is O(count) either way.
   */
  pickOthers(self: Peer | null, count: number, out: Peer[]): Peer[] {
    out.length = 0;
    const n = this.peers.length;
    const others = self !== null && self.index >= 0 ? n - 1 : n;
    if (count <= 0 || others <= 0) return out;
    if (others <= count * 2) {
      const start = (Math.random() * n) | 0;
      for (let k = 0; k < n && out.length < count; k++) {
        const p = this.peers[(start + k) % n];
        if (p !== self) out.push(p);
      }
      return out;
    }
    while (out.length < count) {
      const p = this.peers[(Math.random() * n) | 0];
      if (p === self || out.includes(p)) continue;
      out.push(p);
    }
    return out;
  }
}
