/**
 * The seam between the protocol core and whatever shares swarms beyond this process. The core
 * calls these hooks; {@link LocalDirectory} (no --redis) does nothing, so a single node behaves
 * exactly as before. The Redis-backed implementation lives in redis-directory.ts.
 */
import type { Connection } from "../connection";
import type { RemoteClaimant } from "../peer-ownership";
import type { Peer } from "../swarm";
import type { RemotePeer, RemoteSwarm } from "./remote-swarms";

export interface SwarmDirectory {
  /** True when peers may live on other nodes. */
  readonly shared: boolean;
  /** True while the shared store is unreachable and only local swarms are served. */
  readonly degraded: boolean;
  /** Peers of this swarm on other nodes, if any are known. */
  remote(infoHash: string): RemoteSwarm | undefined;
  /** A peer joined (or changed its completion): `visible` runs once other nodes can see it. */
  joined(peer: Peer, visible: () => void): void;
  left(peer: Peer): void;
  /** Sends an offer from a local peer to a peer on another node. */
  relayOffer(to: RemotePeer, from: Peer, offerId: string, sdpLiteral: string): void;
  /**
   * An answer that matches no offer relayed within this node: if it answers an offer that came
   * from another node to this very connection and peer, it is sent there and true is returned.
   */
  relayAnswer(
    conn: Connection,
    answererId: string,
    infoHash: string,
    toPeerId: string,
    offerId: string,
    sdpLiteral: string,
    nowMs: number,
  ): boolean;
  /** Expires remembered state; called by the core's sweep. `nowMs`: Unix milliseconds. */
  sweep(nowMs: number): void;
  /** The node holding this peer id of the swarm, if another node does. */
  ownerElsewhere(infoHash: string, peerId: string): string | undefined;
  /**
   * Asks `node` for a peer id its socket holds; the owner's node pings its owner and answers.
   * If the id is granted, the core's `admitClaimed` runs later.
   */
  claim(conn: Connection, infoHash: string, peerId: string, complete: boolean, node: string): void;
  /** Tells the claimant's node how a claim on a peer id held here ended. */
  answerClaim(claimant: RemoteClaimant, granted: boolean): void;
  /** Every swarm with peers on other nodes (for a full scrape). */
  remoteSwarmIds(): Iterable<string>;
}

export class LocalDirectory implements SwarmDirectory {
  readonly shared = false;
  readonly degraded = false;
  remote(): undefined {
    return undefined;
  }
  joined(_peer: Peer, visible: () => void): void {
    visible();
  }
  left(): void {}
  relayOffer(): void {}
  relayAnswer(): boolean {
    return false;
  }
  sweep(): void {}
  ownerElsewhere(): undefined {
    return undefined;
  }
  claim(): void {}
  answerClaim(): void {}
  remoteSwarmIds(): Iterable<string> {
    return [];
  }
}
