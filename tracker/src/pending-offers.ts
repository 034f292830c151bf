/**
 * Offers relayed and not yet answered, so that an answer is routed only when the tracker really
 * sent that offer to that peer. Bounded twice: each connection holds at most its share (its own
 * oldest entry is forgotten first, so one client's offers never push out another's), and the
 * whole table has a capacity (when full, new offers are not relayed until entries expire).
 * A Map keeps insertion order and entries share one TTL, so the oldest entry is always first.
 */
import type { Connection } from "./connection";
import type { Peer } from "./swarm";

export interface PendingOffer {
  from: Peer;
  to: Peer;
  /** The offering connection, whose share the entry counts against. */
  owner: Connection;
  /** Milliseconds on the tracker core's clock. */
  expires: number;
}

export class PendingOffers {
  private readonly map = new Map<string, PendingOffer>();

  constructor(
    private readonly capacity: number,
    private readonly perConnection: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /**
   * Keyed by offer_id alone: clients draw it at random per offer and each offer goes to one
   * peer, so a second use of an id simply replaces the first (take() still checks the peer).
   * Returns false when the table is full (the offer is then not relayed).
   */
  add(offerId: string, from: Peer, to: Peer, expires: number, now: number): boolean {
    const owner = from.conn;
    const previous = this.map.get(offerId);
    if (previous !== undefined) this.remove(offerId, previous);
    if (owner.pendingLive >= this.perConnection) this.evictOldestOf(owner);
    if (this.map.size >= this.capacity) {
      // Entries past their time go first, even between sweeps.
      this.expire(now);
      if (this.map.size >= this.capacity) return false;
    }
    this.map.set(offerId, { from, to, owner, expires });
    owner.pendingLive++;
    const ids = (owner.pendingIds ??= []);
    ids.push(offerId);
    // Ids of entries answered or expired stay in the list until it is twice the share.
    if (ids.length > 2 * this.perConnection) owner.pendingIds = ids.filter((id) => this.map.get(id)?.owner === owner);
    return true;
  }

  /** Removes and returns the offer relayed with this id, if it went to the peer with this id. */
  take(offerId: string, toPeerId: string): PendingOffer | undefined {
    const entry = this.map.get(offerId);
    if (entry === undefined || entry.to.peerId !== toPeerId) return undefined;
    this.remove(offerId, entry);
    return entry;
  }

  expire(now: number): void {
    for (const [key, entry] of this.map) {
      if (entry.expires >= now) break;
      this.remove(key, entry);
    }
  }

  private remove(offerId: string, entry: PendingOffer): void {
    this.map.delete(offerId);
    entry.owner.pendingLive--;
  }

  private evictOldestOf(owner: Connection): void {
    const ids = owner.pendingIds;
    if (ids === null) return;
    while (ids.length > 0) {
      const id = ids.shift()!;
      const entry = this.map.get(id);
      if (entry !== undefined && entry.owner === owner) {
        this.remove(id, entry);
        return;
      }
    }
  }
}
