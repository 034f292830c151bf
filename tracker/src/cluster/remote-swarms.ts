/**
 * This node's replica of the peers other nodes hold: per swarm a dense array (O(1) random pick,
 * O(1) swap-remove) and a map by peer_id, like a local Swarm, plus an index by node so a dead
 * node's peers go at once.
 */
import type { Peer, Swarm } from "../swarm";

export class RemotePeer {
  index = -1;
  constructor(
    readonly peerId: string,
    readonly infoHash: string,
    public node: string,
    public complete: boolean,
  ) {}
}

export class RemoteSwarm {
  readonly peers: RemotePeer[] = [];
  readonly byId = new Map<string, RemotePeer>();
  complete = 0;

  get size(): number {
    return this.peers.length;
  }
  get incomplete(): number {
    return this.peers.length - this.complete;
  }

  add(p: RemotePeer): void {
    p.index = this.peers.length;
    this.peers.push(p);
    this.byId.set(p.peerId, p);
    if (p.complete) this.complete++;
  }

  remove(p: RemotePeer): void {
    const i = p.index;
    if (i < 0 || this.peers[i] !== p) return;
    const last = this.peers.pop()!;
    if (last !== p) {
      this.peers[i] = last;
      last.index = i;
    }
    p.index = -1;
    this.byId.delete(p.peerId);
    if (p.complete) this.complete--;
  }
}

export class RemoteSwarms {
  readonly swarms = new Map<string, RemoteSwarm>();
  /** Peers by the node holding them. */
  private readonly byNode = new Map<string, Set<RemotePeer>>();
  size = 0;

  get(infoHash: string): RemoteSwarm | undefined {
    return this.swarms.get(infoHash);
  }

  /** Records (or moves, or updates) a peer held by `node`. */
  put(node: string, infoHash: string, peerId: string, complete: boolean): void {
    let swarm = this.swarms.get(infoHash);
    if (swarm === undefined) this.swarms.set(infoHash, (swarm = new RemoteSwarm()));
    const known = swarm.byId.get(peerId);
    if (known !== undefined) {
      if (known.node !== node) {
        this.byNode.get(known.node)?.delete(known);
        known.node = node;
        this.nodeSet(node).add(known);
      }
      if (known.complete !== complete) {
        swarm.complete += complete ? 1 : -1;
        known.complete = complete;
      }
      return;
    }
    const p = new RemotePeer(peerId, infoHash, node, complete);
    swarm.add(p);
    this.nodeSet(node).add(p);
    this.size++;
  }

  /** Forgets a peer if `node` still holds it (a later join elsewhere wins over a stale leave). */
  delete(node: string, infoHash: string, peerId: string): void {
    const swarm = this.swarms.get(infoHash);
    const p = swarm?.byId.get(peerId);
    if (p === undefined || p.node !== node) return;
    this.drop(swarm!, p);
    this.byNode.get(node)?.delete(p);
  }

  /** Forgets every peer of a node. */
  dropNode(node: string): number {
    const set = this.byNode.get(node);
    if (set === undefined) return 0;
    this.byNode.delete(node);
    for (const p of set) this.drop(this.swarms.get(p.infoHash)!, p);
    return set.size;
  }

  clear(): void {
    this.swarms.clear();
    this.byNode.clear();
    this.size = 0;
  }

  nodes(): IterableIterator<string> {
    return this.byNode.keys();
  }

  peersOf(node: string): number {
    return this.byNode.get(node)?.size ?? 0;
  }

  private drop(swarm: RemoteSwarm, p: RemotePeer): void {
    swarm.remove(p);
    this.size--;
    if (swarm.size === 0) this.swarms.delete(p.infoHash);
  }

  private nodeSet(node: string): Set<RemotePeer> {
    let set = this.byNode.get(node);
    if (set === undefined) this.byNode.set(node, (set = new Set()));
    return set;
  }
}

/**
 * Up to `count` distinct peers other than `self`, at random from the local swarm and its remote
 * part together, so each peer of the cluster is equally likely to be offered.
 */
export function pickAcrossNodes(
  swarm: Swarm,
  remote: RemoteSwarm,
  self: Peer,
  count: number,
  out: (Peer | RemotePeer)[],
): (Peer | RemotePeer)[] {
  out.length = 0;
  const local = swarm.peers;
  const n = local.length + remote.peers.length;
  const at = (i: number): Peer | RemotePeer => (i < local.length ? local[i] : remote.peers[i - local.length]);
  const others = self.index >= 0 ? n - 1 : n;
  if (count <= 0 || others <= 0) return out;
  if (others <= count * 2) {
    const start = (Math.random() * n) | 0;
    for (let k = 0; k < n && out.length < count; k++) {
      const p = at((start + k) % n);
      if (p !== self) out.push(p);
    }
    return out;
  }
  while (out.length < count) {
    const p = at((Math.random() * n) | 0);
    if (p === self || out.includes(p)) continue;
    out.push(p);
  }
  return out;
}
