/**
 * Offers relayed and not yet answered, so that an answer is routed only when the tracker really
 * sent that offer to that peer. Bounded: a Map keeps insertion order, and entries are inserted
 * with one fixed TTL, so the oldest entry is always first — expiry and eviction pop from the front.
 */
import type { Peer } from "./swarm";

export interface PendingOffer {
  from: Peer;
  to: Peer;
  /** Milliseconds on the tracker core's clock. */
  expires: number;
}

export class PendingOffers {
  private readonly map = new Map<string, PendingOffer>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  /**
   * Keyed by offer_id alone: clients draw it at random per offer and each offer goes to one
   * peer, so a second use of an id simply replaces the first (take() still checks the peer).
   */
  add(offerId: string, from: Peer, to: Peer, expires: number): void {
    const key = offerId;
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.delete(key);
    this.map.set(key, { from, to, expires });
  }

  /** Removes and returns the offer relayed with this id, if it went to the peer with this id. */
  take(offerId: string, toPeerId: string): PendingOffer | undefined {
    const entry = this.map.get(offerId);
    if (entry === undefined || entry.to.peerId !== toPeerId) return undefined;
    this.map.delete(offerId);
    return entry;
  }

  expire(now: number): void {
    for (const [key, entry] of this.map) {
      if (entry.expires >= now) break;
      this.map.delete(key);
    }
  }
}
