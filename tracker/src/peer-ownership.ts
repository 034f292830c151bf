/**
 * Who owns a peer_id. Peer ids travel to every peer that receives an offer, so any client could
 * announce someone else's id and then receive the offers meant for it. An id therefore moves to
 * another socket only once its owner is gone: a second claim pings the owner at once and is
 * refused for now; if no pong answers within the claim timeout (or the owner's socket closes
 * first) the owner is cut and the claimant gets the id — the honest case of a client that came
 * back after a network blip with the same id while its old socket was still half-open.
 * In a cluster the claimant may sit on another node: the owner's node settles the claim the same
 * way and answers that node.
 */
import type { Connection } from "./connection";
import type { Peer } from "./swarm";

/** A claimant connected to another node of the cluster, known by that node and its claim id. */
export class RemoteClaimant {
  readonly closed = false;
  constructor(
    readonly node: string,
    readonly claimId: string,
    readonly complete: boolean,
  ) {}
}

export interface PeerClaim {
  readonly peer: Peer;
  readonly owner: Connection;
  readonly claimant: Connection | RemoteClaimant;
  /** The claimant's announce said the peer has the whole stream. */
  readonly complete: boolean;
  /** The owner's answered-pong count when the claim came in. */
  readonly ownerPongs: number;
  timer: NodeJS.Timeout | null;
}

export type ClaimOutcome = "pending" | "busy";

export class PeerOwnership {
  /** At most one open claim per peer: further claims while one is open are refused outright. */
  private readonly claims = new Map<Peer, PeerClaim>();

  constructor(
    private readonly timeoutMs: number,
    /** The owner did not answer (or is gone): hand the id to the claimant. */
    private readonly grant: (claim: PeerClaim) => void,
    /** The owner answered (or the claimant left): the id stays. */
    private readonly refuse: (claim: PeerClaim) => void = () => {},
  ) {}

  get open(): number {
    return this.claims.size;
  }

  /** Another socket announced `peer`'s id while its owner's socket is open. */
  claim(peer: Peer, claimant: Connection | RemoteClaimant, complete: boolean): ClaimOutcome {
    if (this.claims.has(peer)) return "busy";
    const owner = peer.conn;
    const claim: PeerClaim = { peer, owner, claimant, complete, ownerPongs: owner.pongs, timer: null };
    claim.timer = setTimeout(() => this.settle(claim), this.timeoutMs);
    claim.timer.unref();
    this.claims.set(peer, claim);
    owner.ping();
    return "pending";
  }

  /** A socket closed: claims on ids it owned are granted now instead of at the timeout. */
  ownerGone(conn: Connection, peers: readonly Peer[]): void {
    if (this.claims.size === 0) return;
    for (const peer of peers) {
      const claim = this.claims.get(peer);
      if (claim !== undefined && claim.owner === conn) this.settle(claim);
    }
  }

  private settle(claim: PeerClaim): void {
    if (this.claims.get(claim.peer) !== claim) return;
    this.claims.delete(claim.peer);
    if (claim.timer !== null) clearTimeout(claim.timer);
    const ownerAnswered = claim.owner.pongs > claim.ownerPongs && !claim.owner.closed;
    if (!ownerAnswered && !claim.claimant.closed) this.grant(claim);
    else this.refuse(claim);
  }

  clear(): void {
    for (const claim of this.claims.values()) if (claim.timer !== null) clearTimeout(claim.timer);
    this.claims.clear();
  }
}
