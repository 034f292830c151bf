/**
 * The WebTorrent tracker protocol over already-accepted connections: announce (join, leave,
 * offers relayed to distinct random peers), answers routed back only for offers really relayed,
 * scrape, idle sweeps. Transport concerns (HTTP, upgrade checks, sockets) live in server.ts.
 */
import type { Logger } from "pino";
import {
  ANNOUNCE_EVENTS,
  BINARY_ID_LENGTH,
  type AnnounceEvent,
  type AnnounceRequest,
  type FailureReply,
  type ScrapeRequest,
  type SdpOffer,
} from "../../shared/protocol";
import type { Connection } from "./connection";
import { exceedsKeyLimit } from "./limits/frame-shape";
import { ReadThrottle } from "./limits/read-throttle";
import type { TrackerOptions } from "./options";
import { PeerOwnership, RemoteClaimant, type PeerClaim } from "./peer-ownership";
import { LocalDirectory, type SwarmDirectory } from "./cluster/directory";
import { pickAcrossNodes, RemotePeer } from "./cluster/remote-swarms";
import { PendingOffers } from "./pending-offers";
import type { FailureReason, TrackerStats } from "./stats";
import { jsonString, Peer, Swarm } from "./swarm";

/** A 20-character string of code points < 256: the binary ids the WebTorrent client sends. */
function isBinaryId(v: unknown): v is string {
  if (typeof v !== "string" || v.length !== BINARY_ID_LENGTH) return false;
  for (let i = 0; i < BINARY_ID_LENGTH; i++) if (v.charCodeAt(i) > 0xff) return false;
  return true;
}

const EVENTS: ReadonlySet<string> = new Set<AnnounceEvent>(ANNOUNCE_EVENTS);

/** A request as it arrives: the protocol's fields, each of unknown type until checked. */
type Unchecked<T> = { [K in keyof T]?: unknown };

const FAILURE_TEXT: Record<FailureReason, string> = {
  invalid_json: "invalid JSON",
  invalid_request: "request must be a JSON object",
  unknown_action: "invalid action",
  invalid_info_hash: "invalid info_hash",
  invalid_peer_id: "invalid peer_id",
  invalid_event: "invalid event",
  invalid_numwant: "invalid numwant",
  invalid_offers: "invalid offers",
  invalid_answer: "invalid answer (needs answer.sdp, to_peer_id and offer_id)",
  unknown_offer: "answer does not match an offer relayed to this peer",
  too_many_swarms: "too many swarms on this connection",
  full_scrape_disabled: "scrape needs info_hash (full scrape is disabled)",
  too_many_hashes: "too many info_hash values in scrape",
  rate_limited: "rate limit exceeded",
  too_many_keys: "request has too many keys",
  peer_id_in_use: "peer_id is in use by another connection; it moves here if that one is gone",
  info_hash_not_allowed: "info_hash not allowed by the access token",
  frame_too_large: "frame too large",
  invalid_utf8: "invalid UTF-8",
  protocol_error: "WebSocket protocol error",
  socket_error: "socket error",
};

type Offer = Pick<SdpOffer, "offer_id"> & { offer: { type?: unknown; sdp: string } };

function isOffer(o: unknown): o is Offer {
  if (o === null || typeof o !== "object") return false;
  const { offer, offer_id } = o as Record<string, unknown>;
  return (
    isBinaryId(offer_id) &&
    offer !== null &&
    typeof offer === "object" &&
    typeof (offer as Record<string, unknown>).sdp === "string"
  );
}

export class TrackerCore {
  readonly swarms = new Map<string, Swarm>();
  readonly connections = new Set<Connection>();
  peerCount = 0;
  private readonly pending: PendingOffers;
  private readonly targets: Peer[] = [];
  private readonly mixedTargets: (Peer | RemotePeer)[] = [];
  private readonly queued: Connection[] = [];
  private flushScheduled = false;
  /** Text of the frame being handled, and where the next SDP literal is searched from. */
  private text = "";
  private sdpCursor = 0;
  /** Origin of the millisecond clock kept in connections, so its values stay small integers. */
  private readonly epochMs = Date.now();
  private readonly replyTail: string;
  private readonly limits: TrackerOptions["limits"];
  readonly ownership: PeerOwnership;
  readonly throttle = new ReadThrottle();

  constructor(
    private readonly options: TrackerOptions,
    private readonly stats: TrackerStats,
    private readonly log: Logger,
    /** Where peers on other nodes are found and reached (nowhere, without --redis). */
    readonly directory: SwarmDirectory = new LocalDirectory(),
  ) {
    this.limits = options.limits;
    this.pending = new PendingOffers(options.limits.maxPendingOffers, options.limits.maxPendingOffersPerConnection);
    this.ownership = new PeerOwnership(options.limits.peerClaimTimeout * 1000, this.grantClaim, this.refuseClaim);
    this.replyTail = `"interval":${options.interval},`;
  }

  /** Milliseconds on the core's clock (small integers, kept in connections). */
  clockMs(nowSeconds = Date.now() / 1000): number {
    return Math.floor(nowSeconds * 1000) - this.epochMs;
  }

  get pendingOffers(): number {
    return this.pending.size;
  }

  // ---- connection lifecycle -------------------------------------------------------------

  attach(conn: Connection): void {
    conn.tokensAt = Date.now() - this.epochMs;
    conn.offerTokensAt = conn.tokensAt;
    this.connections.add(conn);
  }

  /** The connection is gone: it leaves every swarm it joined, at once. */
  detach(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn);
    const peers = conn.peers;
    for (const peer of peers) this.leave(peer, false);
    conn.peers = [];
    this.throttle.forget(conn);
    this.ownership.ownerGone(conn, peers);
  }

  // ---- frames -----------------------------------------------------------------------------

  /** Handles one incoming frame. Never throws: bad input becomes a failure reply. */
  onMessage(conn: Connection, data: Buffer | string, now: number): void {
    const { stats, limits } = this;
    stats.messages++;
    stats.bytesIn += data.length;
    conn.lastMessage = Math.floor(now);

    const nowMs = Math.floor(now * 1000) - this.epochMs;
    const elapsed = nowMs - conn.tokensAt;
    let tokens = Math.floor(conn.tokens + elapsed * limits.messageRate);
    if (tokens > limits.messageBurst * 1000) tokens = limits.messageBurst * 1000;
    conn.tokensAt = nowMs;
    this.spendBytes(conn, data.length, nowMs, elapsed);
    if (tokens < 1000) {
      conn.tokens = tokens;
      // A client that keeps sending while refused is flooding, not bursting.
      if (++conn.refused > limits.messageBurst) conn.close(1008, "rate limit exceeded");
      else this.fail(conn, "rate_limited", "announce", undefined);
      return;
    }
    conn.tokens = tokens - 1000;
    conn.refused = 0;

    let msg: unknown;
    this.text = typeof data === "string" ? data : data.toString();
    if (exceedsKeyLimit(this.text, limits.maxFrameKeys)) {
      this.fail(conn, "too_many_keys", undefined, undefined);
      return;
    }
    try {
      msg = JSON.parse(this.text);
    } catch {
      this.fail(conn, "invalid_json", undefined, undefined);
      return;
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
      this.fail(conn, "invalid_request", undefined, undefined);
      return;
    }
    const req = msg as { action?: unknown };
    if (req.action === "announce") this.announce(conn, req, now);
    else if (req.action === "scrape") this.scrape(conn, req);
    else
      this.fail(
        conn,
        "unknown_action",
        undefined,
        undefined,
        `invalid action in WS request: ${String(req.action).slice(0, 32)}`,
      );
  }

  /**
   * Charges a frame to its connection's and its IP's byte budgets (what a frame costs to handle
   * grows with its size, whatever the message count). Either in debt: the socket is not read
   * until the debt is paid back, so the sender is held back by TCP instead of being parsed.
   */
  private spendBytes(conn: Connection, size: number, nowMs: number, elapsed: number): void {
    const limits = this.limits;
    let bytes = Math.floor(conn.byteTokens + (elapsed * limits.byteRate) / 1000);
    if (bytes > limits.byteBurst) bytes = limits.byteBurst;
    conn.byteTokens = bytes -= size;
    const ip = conn.ipEntry;
    let ipBytes = Math.floor(ip.byteTokens + ((nowMs - ip.byteTokensAt) * limits.ipByteRate) / 1000);
    if (ipBytes > limits.ipByteBurst) ipBytes = limits.ipByteBurst;
    ip.byteTokensAt = nowMs;
    ip.byteTokens = ipBytes -= size;
    if (bytes < 0 || ipBytes < 0) {
      const waitMs = Math.max((-bytes * 1000) / limits.byteRate, (-ipBytes * 1000) / limits.ipByteRate);
      this.throttle.pause(conn, Math.ceil(waitMs));
    }
  }

  private announce(conn: Connection, req: Unchecked<AnnounceRequest>, now: number): void {
    const infoHash = req.info_hash;
    if (!isBinaryId(infoHash)) return this.fail(conn, "invalid_info_hash", "announce", undefined);
    const allowed = conn.grant?.infoHashes;
    if (allowed != null && !allowed.has(infoHash))
      return this.fail(conn, "info_hash_not_allowed", "announce", infoHash);
    const peerId = req.peer_id;
    if (!isBinaryId(peerId)) return this.fail(conn, "invalid_peer_id", "announce", infoHash);
    if (req.answer !== undefined) return this.answer(conn, req, infoHash, peerId, now);

    const event = req.event === undefined || req.event === "" ? "update" : req.event;
    if (typeof event !== "string" || !EVENTS.has(event)) return this.fail(conn, "invalid_event", "announce", infoHash);
    const numwant = req.numwant;
    if (numwant !== undefined && (typeof numwant !== "number" || !(numwant >= 0))) {
      return this.fail(conn, "invalid_numwant", "announce", infoHash);
    }
    const offers = req.offers;
    let offerCount = 0;
    if (offers !== undefined && offers !== null) {
      if (!Array.isArray(offers)) return this.fail(conn, "invalid_offers", "announce", infoHash);
      offerCount = Math.min(offers.length, this.limits.maxOffersPerAnnounce);
      if (numwant !== undefined && numwant < offerCount) offerCount = Math.floor(numwant);
      for (let i = 0; i < offerCount; i++) {
        if (!isOffer(offers[i])) return this.fail(conn, "invalid_offers", "announce", infoHash);
      }
    }
    this.stats.announces++;

    let swarm = this.swarms.get(infoHash);
    if (event === "stopped") {
      const peer = swarm?.byId.get(peerId);
      if (peer !== undefined && peer.conn === conn) this.leave(peer, true);
      this.reply(conn, swarm, infoHash);
      return;
    }

    if (swarm === undefined) {
      if (conn.peers.length >= this.limits.maxSwarmsPerConnection) {
        return this.fail(conn, "too_many_swarms", "announce", infoHash);
      }
      swarm = new Swarm(infoHash);
      this.swarms.set(infoHash, swarm);
    }
    let peer = swarm.byId.get(peerId);
    if (peer === undefined) {
      if (conn.peers.length >= this.limits.maxSwarmsPerConnection) {
        if (swarm.size === 0) this.swarms.delete(infoHash);
        return this.fail(conn, "too_many_swarms", "announce", infoHash);
      }
      const owner = this.directory.ownerElsewhere(infoHash, peerId);
      if (owner !== undefined) {
        // The id lives on another node: that node asks its owner, as for a claim here.
        if (swarm.size === 0) this.swarms.delete(infoHash);
        this.directory.claim(conn, infoHash, peerId, event === "completed" || Number(req.left) === 0, owner);
        return this.fail(conn, "peer_id_in_use", "announce", infoHash);
      }
      peer = new Peer(peerId, conn, swarm, now);
      if (event === "completed" || Number(req.left) === 0) peer.complete = true;
      swarm.add(peer);
      conn.addPeer(peer);
      this.peerCount++;
      // The reply waits until other nodes can see the peer (at once on a single node), so
      // whoever hears of the reply finds the peer on any node.
      const joinedSwarm = swarm;
      this.directory.joined(peer, () => this.reply(conn, joinedSwarm, infoHash));
      if (offerCount > 0) this.relayOffers(peer, offers as Offer[], offerCount, now);
      return;
    } else {
      if (peer.conn !== conn) {
        // Same peer_id from another socket: a reconnect whose old socket is not gone yet, or
        // someone else's id. The owner is asked; the id moves only if it does not answer.
        if (conn.peers.length >= this.limits.maxSwarmsPerConnection) {
          return this.fail(conn, "too_many_swarms", "announce", infoHash);
        }
        this.ownership.claim(peer, conn, event === "completed" || Number(req.left) === 0);
        return this.fail(conn, "peer_id_in_use", "announce", infoHash);
      }
      peer.lastSeen = Math.floor(now);
      if ((event === "completed" || Number(req.left) === 0) && !peer.complete) {
        swarm.setComplete(peer);
        const doneSwarm = swarm;
        this.directory.joined(peer, () => this.reply(conn, doneSwarm, infoHash));
        if (offerCount > 0) this.relayOffers(peer, offers as Offer[], offerCount, now);
        return;
      }
    }

    this.reply(conn, swarm, infoHash);
    if (offerCount > 0) this.relayOffers(peer, offers as Offer[], offerCount, now);
  }

  /** The owner of a claimed peer_id did not answer its ping: it is cut, the claimant joins. */
  private readonly grantClaim = (claim: PeerClaim): void => {
    const { peer, owner, claimant } = claim;
    if (!owner.closed) {
      this.stats.peerIdsMoved++;
      owner.terminate();
      this.detach(owner);
    }
    if (claimant instanceof RemoteClaimant) this.directory.answerClaim(claimant, true);
    else this.admitClaimed(claimant, peer.swarm.infoHash, peer.peerId, claim.complete);
  };

  private readonly refuseClaim = (claim: PeerClaim): void => {
    if (claim.claimant instanceof RemoteClaimant) this.directory.answerClaim(claim.claimant, false);
  };

  /** Another node's socket claims a peer id of this node: its owner is pinged as for a local claim. */
  claimFromNode(infoHash: string, peerId: string, claimant: RemoteClaimant): void {
    const peer = this.swarms.get(infoHash)?.byId.get(peerId);
    if (peer === undefined || peer.conn.closed) return this.directory.answerClaim(claimant, true);
    if (this.ownership.claim(peer, claimant, claimant.complete) === "busy") this.directory.answerClaim(claimant, false);
  }

  /** A claimed peer id was handed over (here or by another node): the claimant joins with it. */
  admitClaimed(claimant: Connection, infoHash: string, peerId: string, complete: boolean): void {
    if (claimant.closed || !claimant.isOpen) return;
    let swarm = this.swarms.get(infoHash);
    if (swarm?.byId.has(peerId) || claimant.peers.length >= this.limits.maxSwarmsPerConnection) return;
    if (swarm === undefined) {
      swarm = new Swarm(infoHash);
      this.swarms.set(infoHash, swarm);
    }
    const moved = new Peer(peerId, claimant, swarm, Date.now() / 1000);
    moved.complete = complete;
    swarm.add(moved);
    claimant.addPeer(moved);
    this.peerCount++;
    const joinedSwarm = swarm;
    this.directory.joined(moved, () => this.reply(claimant, joinedSwarm, infoHash));
  }

  private reply(conn: Connection, swarm: Swarm | undefined, infoHash: string): void {
    let complete = swarm === undefined ? 0 : swarm.complete;
    let incomplete = swarm === undefined ? 0 : swarm.incomplete;
    const remote = this.directory.remote(infoHash);
    if (remote !== undefined) {
      complete += remote.complete;
      incomplete += remote.incomplete;
    }
    const prefix =
      swarm === undefined ? `{"action":"announce","info_hash":${jsonString(infoHash)},` : swarm.framePrefix;
    this.send(conn, `${prefix}${this.replyTail}"complete":${complete},"incomplete":${incomplete}}`);
  }

  private relayOffers(from: Peer, offers: Offer[], count: number, now: number): void {
    const swarm = from.swarm;
    const remote = this.directory.remote(swarm.infoHash);
    const targets: (Peer | RemotePeer)[] =
      remote !== undefined && remote.size > 0
        ? pickAcrossNodes(swarm, remote, from, count, this.mixedTargets)
        : swarm.pickOthers(from, count, this.targets);
    // Milliseconds on the core's clock: a small integer, not a boxed double per offer.
    const nowMs = Math.floor(now * 1000) - this.epochMs;
    const expires = nowMs + Math.round(this.limits.offerTtl * 1000);
    const head = `${swarm.framePrefix}"peer_id":${jsonString(from.peerId)},"offer_id":`;
    this.sdpCursor = 0;
    for (let i = 0; i < targets.length; i++) {
      const to = targets[i];
      const { offer, offer_id } = offers[i];
      // Read in order even for a dropped offer, so the next offer's literal is its own.
      const sdp = this.sdpLiteral(offer.sdp);
      if (to instanceof RemotePeer) {
        // The target's node spends the target's offer budget when it delivers.
        this.directory.relayOffer(to, from, offer_id, sdp);
      } else if (this.takeOfferToken(to.conn, nowMs) && this.pending.add(offer_id, from, to, expires, nowMs)) {
        // Each offer makes the receiving browser build a peer connection: a target gets a
        // bounded number of them, whoever sends them.
        this.send(to.conn, `${head}${jsonString(offer_id)},"offer":{"type":"offer","sdp":${sdp}}}`);
      } else {
        this.stats.offersDropped++;
        continue;
      }
      this.stats.offersRelayed++;
    }
    targets.length = 0;
  }

  private takeOfferToken(conn: Connection, nowMs: number): boolean {
    const { offerRate, offerBurst } = this.limits;
    let tokens = Math.floor(conn.offerTokens + (nowMs - conn.offerTokensAt) * offerRate);
    if (tokens > offerBurst * 1000) tokens = offerBurst * 1000;
    conn.offerTokensAt = nowMs;
    if (tokens < 1000) {
      conn.offerTokens = tokens;
      return false;
    }
    conn.offerTokens = tokens - 1000;
    return true;
  }

  /** An offer relayed by another node to a peer of this one. Returns that peer if it is here. */
  deliverOffer(
    infoHash: string,
    toPeerId: string,
    fromPeerId: string,
    offerId: string,
    sdpLiteral: string,
  ): Peer | undefined {
    const to = this.swarms.get(infoHash)?.byId.get(toPeerId);
    if (to === undefined || to.conn.closed) return undefined;
    if (!this.takeOfferToken(to.conn, Date.now() - this.epochMs)) {
      this.stats.offersDropped++;
      return undefined;
    }
    this.send(
      to.conn,
      `${to.swarm.framePrefix}"peer_id":${jsonString(fromPeerId)},"offer_id":${jsonString(offerId)},"offer":{"type":"offer","sdp":${sdpLiteral}}}`,
    );
    return to;
  }

  /** An answer relayed by another node to the peer of this one that made the offer. */
  deliverAnswer(infoHash: string, toPeerId: string, fromPeerId: string, offerId: string, sdpLiteral: string): boolean {
    const to = this.swarms.get(infoHash)?.byId.get(toPeerId);
    if (to === undefined || to.conn.closed) return false;
    this.send(
      to.conn,
      `${to.swarm.framePrefix}"peer_id":${jsonString(fromPeerId)},"offer_id":${jsonString(offerId)},"answer":{"type":"answer","sdp":${sdpLiteral}}}`,
    );
    this.stats.answersRelayed++;
    return true;
  }

  /** The peer id was announced on another node since: it leaves this one. */
  evict(infoHash: string, peerId: string): void {
    const peer = this.swarms.get(infoHash)?.byId.get(peerId);
    if (peer !== undefined) this.leave(peer, true);
  }

  private answer(
    conn: Connection,
    req: Unchecked<AnnounceRequest>,
    infoHash: string,
    peerId: string,
    now: number,
  ): void {
    this.stats.answers++;
    const answer = req.answer as { sdp?: unknown } | null;
    const offerId = req.offer_id;
    const toPeerId = req.to_peer_id;
    if (
      answer === null ||
      typeof answer !== "object" ||
      typeof answer.sdp !== "string" ||
      !isBinaryId(toPeerId) ||
      !isBinaryId(offerId)
    ) {
      return this.fail(conn, "invalid_answer", "announce", infoHash);
    }
    const entry = this.pending.take(offerId, peerId);
    const from = entry?.from;
    const to = entry?.to;
    if (
      entry === undefined ||
      entry.expires < Math.floor(now * 1000) - this.epochMs ||
      to!.conn !== conn ||
      from!.peerId !== toPeerId ||
      from!.swarm.infoHash !== infoHash ||
      from!.index < 0
    ) {
      if (
        entry === undefined &&
        this.directory.shared &&
        this.directory.relayAnswer(
          conn,
          peerId,
          infoHash,
          toPeerId,
          offerId,
          this.sdpLiteral(answer.sdp, 0),
          Math.floor(now * 1000),
        )
      ) {
        return;
      }
      this.stats.fail("unknown_offer");
      this.log.debug({ ip: conn.ip }, "answer for an unknown or expired offer dropped");
      return;
    }
    if (to!.index >= 0) to!.lastSeen = Math.floor(now);
    this.send(
      from!.conn,
      `${from!.swarm.framePrefix}"peer_id":${jsonString(to!.peerId)},"offer_id":${jsonString(offerId)},"answer":{"type":"answer","sdp":${this.sdpLiteral(answer.sdp, 0)}}}`,
    );
    this.stats.answersRelayed++;
  }

  private scrape(conn: Connection, req: Unchecked<ScrapeRequest>): void {
    let hashes: string[];
    const ih = req.info_hash;
    const allowed = conn.grant?.infoHashes;
    if (ih === undefined || ih === null) {
      if (!this.options.fullScrape || allowed != null)
        return this.fail(conn, "full_scrape_disabled", "scrape", undefined);
      const all = new Set(this.swarms.keys());
      for (const h of this.directory.remoteSwarmIds()) all.add(h);
      hashes = [...all];
    } else if (typeof ih === "string") {
      if (!isBinaryId(ih)) return this.fail(conn, "invalid_info_hash", "scrape", undefined);
      hashes = [ih];
    } else if (Array.isArray(ih)) {
      if (ih.length > this.limits.maxScrapeHashes) return this.fail(conn, "too_many_hashes", "scrape", undefined);
      for (const h of ih) if (!isBinaryId(h)) return this.fail(conn, "invalid_info_hash", "scrape", undefined);
      hashes = ih as string[];
    } else {
      return this.fail(conn, "invalid_info_hash", "scrape", undefined);
    }
    if (allowed != null) {
      for (const h of hashes) if (!allowed.has(h)) return this.fail(conn, "info_hash_not_allowed", "scrape", h);
    }
    this.stats.scrapes++;
    let files = "";
    for (const h of hashes) {
      const s = this.swarms.get(h);
      let c = s === undefined ? 0 : s.complete;
      let i = s === undefined ? 0 : s.incomplete;
      const r = this.directory.remote(h);
      if (r !== undefined) {
        c += r.complete;
        i += r.incomplete;
      }
      files += `${files === "" ? "" : ","}${jsonString(h)}:{"complete":${c},"incomplete":${i},"downloaded":${c}}`;
    }
    this.send(conn, `{"action":"scrape","files":{${files}},"flags":{"min_request_interval":${this.options.interval}}}`);
  }

  /**
   * The JSON literal of an SDP, taken from the frame's own text instead of re-serializing the
   * parsed string (the costliest step of a relay otherwise). In valid JSON the text `"sdp":"`
   * can only be a key named …sdp followed by the opening quote of its string value, so the
   * slice up to the next unescaped quote is always one complete string literal; SDPs appear in
   * the text in the order of the offers. Anything unexpected falls back to JSON.stringify.
   */
  private sdpLiteral(sdp: string, from = this.sdpCursor): string {
    const text = this.text;
    const key = text.indexOf('"sdp":"', from);
    if (key >= 0) {
      const start = key + 6;
      let end = start;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) break;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
        if ((backslashes & 1) === 0) break;
      }
      // A literal is never shorter than its value plus quotes; anything else is not this SDP.
      if (end > 0 && end - start + 1 >= sdp.length + 2) {
        this.sdpCursor = end + 1;
        return text.slice(start, end + 1);
      }
    }
    return jsonString(sdp);
  }

  // ---- housekeeping -----------------------------------------------------------------------

  private leave(peer: Peer, detachFromConn: boolean): void {
    const swarm = peer.swarm;
    if (peer.index < 0) return;
    swarm.remove(peer);
    this.peerCount--;
    this.directory.left(peer);
    if (detachFromConn) peer.conn.removePeer(peer);
    if (swarm.size === 0 && this.swarms.get(swarm.infoHash) === swarm) this.swarms.delete(swarm.infoHash);
  }

  /** Drops peers silent for twice the announce interval and forgets expired offers. */
  sweep(now: number): number {
    const deadline = now - 2 * this.options.interval;
    let swept = 0;
    for (const swarm of this.swarms.values()) {
      const peers = swarm.peers;
      for (let i = peers.length - 1; i >= 0; i--) {
        const p = peers[i];
        if (p.lastSeen < deadline) {
          this.leave(p, true);
          swept++;
        }
      }
    }
    this.stats.peersSwept += swept;
    this.pending.expire(Math.floor(now * 1000) - this.epochMs);
    this.directory.sweep(Math.floor(now * 1000));
    return swept;
  }

  private fail(
    conn: Connection,
    reason: FailureReason,
    action: "announce" | "scrape" | undefined,
    infoHash: string | undefined,
    text = FAILURE_TEXT[reason],
  ): void {
    this.stats.fail(reason);
    this.log.debug({ ip: conn.ip, reason }, "request refused");
    const reply: FailureReply = action === undefined ? { "failure reason": text } : { action, "failure reason": text };
    if (infoHash !== undefined) reply.info_hash = infoHash;
    this.send(conn, JSON.stringify(reply));
  }

  /**
   * Frames for one socket produced in the same event-loop turn (answers to one offerer arrive
   * together, popular peers receive several offers) leave in one write: they are queued on the
   * connection and written once the turn's I/O callbacks are done.
   */
  private send(conn: Connection, frame: string): void {
    if (conn.closed) return;
    const first = !conn.hasQueued;
    const bytes = conn.queueText(frame);
    this.stats.bytesOut += bytes;
    this.stats.framesOut++;
    if (first && bytes > 0) {
      this.queued.push(conn);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const list = this.queued;
    for (let i = 0; i < list.length; i++) list[i].flush();
    this.stats.writes += list.length;
    list.length = 0;
  };
}
