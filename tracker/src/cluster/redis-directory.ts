/**
 * Swarms shared by several tracker nodes through Redis.
 *
 * Membership: each node writes the peers it holds into its own hash `swarmcast:members:<node>`
 * (field = info_hash + peer_id, value "1" complete / "0") and publishes the same changes, in
 * numbered batches, on `swarmcast:membership`; every node keeps a replica of the other nodes'
 * peers (RemoteSwarms), so picking offer targets and counting a swarm never waits on Redis.
 * A batch number out of sequence, a node's "sync" message or a node seen for the first time
 * makes the replica reload that node's hash.
 *
 * Liveness: each node refreshes `swarmcast:node:<node>` (TTL 3 s) every second with its counts;
 * a node whose key expired is dead: its peers leave every replica and its hash is deleted.
 *
 * Relay: offers and answers for a peer on another node are published on that node's channel
 * `swarmcast:relay:<node>`, several records per message (lines: kind + JSON head, then the
 * SDP's JSON literal). At most one relay PUBLISH per channel waits for its reply at a time;
 * records queued meanwhile leave together in the next one, at the end of the turn the reply
 * arrives in. An idle node so sends each record at once, a busy one sends fewer, larger
 * messages: the cost of a PUBLISH (command, reply, the receiver's read) is paid per message,
 * not per record. Pub/sub, not streams: an offer is worth something for seconds, is
 * lost anyway with its node, and pub/sub delivers in one hop without a reader loop or trimming
 * (measured: bench/tracker-load/relay-transport.ts, streams cost 2.4× the Redis CPU per record
 * and several times the p99).
 * The same channel carries peer-id claims: a socket announcing an id another node holds makes
 * this node ask that one ("c"), which pings its owner and grants ("g") or refuses ("r"); a claim
 * published to a channel nobody reads (the node died) is granted at once.
 *
 * Sockets per token: each node counts its open sockets per token in `swarmcast:tokens:<node>`
 * (TTL = the liveness TTL, refreshed with it); a new socket is admitted by a Lua script that sums
 * the counts of live nodes only, so a dead node's sockets stop counting when its key expires.
 *
 * Redis away: the replica is dropped (remote peers are not offered), local swarms keep working,
 * /health says "degraded"; on its return the node re-writes its hash and reloads the others.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { type ByteCounts, OffloadTotals } from "../audience/offload";
import type { Connection } from "../connection";
import { RemoteClaimant } from "../peer-ownership";
import type { Peer, Swarm } from "../swarm";
import type { SwarmDirectory } from "./directory";
import { RedisLink } from "./redis-link";
import { type RemotePeer, RemoteSwarms } from "./remote-swarms";

const PREFIX = "swarmcast:";
const NODES = `${PREFIX}nodes`;
const MEMBERSHIP = `${PREFIX}membership`;
/** Audience byte counts of the whole cluster: field = swarm + "\n" + cdn|peers|uploaded|beacons. */
const OFFLOAD = `${PREFIX}offload`;
const SEQ_FIELD = "#seq";
const ID_LENGTH = 20;

export const CLUSTER_DEFAULTS = Object.freeze({
  /** Liveness key TTL, milliseconds: a dead node's peers stop being offered within this + one beat. */
  livenessTtlMs: 3000,
  /** Liveness refresh and check period, milliseconds. */
  heartbeatMs: 1000,
  /** How long startTracker waits for Redis before serving alone (it keeps trying after). */
  connectWaitMs: 2000,
  /** Fields per HSET when a node re-writes its whole membership. */
  snapshotChunk: 1000,
  /** Relay records held per target node while its last PUBLISH awaits a reply; more are dropped. */
  maxQueuedRelays: 10_000,
});

/** What the directory needs from the protocol core. */
export interface DirectoryHost {
  readonly swarms: Map<string, Swarm>;
  readonly connections: Set<Connection>;
  readonly peerCount: number;
  deliverOffer(
    infoHash: string,
    toPeerId: string,
    fromPeerId: string,
    offerId: string,
    sdpLiteral: string,
  ): Peer | undefined;
  deliverAnswer(infoHash: string, toPeerId: string, fromPeerId: string, offerId: string, sdpLiteral: string): boolean;
  /** The peer id was announced on another node: it lives there now. */
  evict(infoHash: string, peerId: string): void;
  /** A socket on another node claims a peer id of this node. */
  claimFromNode(infoHash: string, peerId: string, claimant: RemoteClaimant): void;
  /** The owner's node handed the id over: the claimant joins with it. */
  admitClaimed(claimant: Connection, infoHash: string, peerId: string, complete: boolean): void;
}

interface OpenClaim {
  conn: Connection;
  infoHash: string;
  peerId: string;
  complete: boolean;
  expires: number;
}

/**
 * Admits one more socket of a token if the live nodes together hold fewer than the limit.
 * KEYS[1] this node's token hash; ARGV: token key, limit, key prefix, TTL ms.
 */
const RESERVE_TOKEN_SCRIPT = `
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', ARGV[3] .. 'nodes')) do
  local hash = ARGV[3] .. 'tokens:' .. node
  if hash == KEYS[1] or redis.call('EXISTS', ARGV[3] .. 'node:' .. node) == 1 then
    total = total + tonumber(redis.call('HGET', hash, ARGV[1]) or '0')
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** KEYS[1] this node's token hash; ARGV[1] token key. */
const RELEASE_TOKEN_SCRIPT = `
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1`;

interface RemoteOffer {
  to: Peer;
  fromPeerId: string;
  fromNode: string;
  infoHash: string;
  expires: number;
}

export interface NodeInfo {
  id: string;
  url: string;
  connections: number;
  peers: number;
  swarms: number;
}

export class ClusterCounters {
  offersOut = 0;
  answersOut = 0;
  offersIn = 0;
  answersIn = 0;
  /** Relayed messages no peer received (node gone, peer gone). */
  undelivered = 0;
  membershipBatches = 0;
  resyncs = 0;
  nodesDeclaredDead = 0;
}

export class RedisDirectory implements SwarmDirectory {
  readonly shared = true;
  readonly id: string;
  readonly counters = new ClusterCounters();
  readonly replica = new RemoteSwarms();
  readonly link: RedisLink;
  /** Other live nodes as last seen in their liveness keys. */
  readonly nodes = new Map<string, NodeInfo>();
  private host!: DirectoryHost;
  private readonly relayChannel: string;
  private readonly membersKey: string;
  private readonly remoteOffers = new Map<string, RemoteOffer>();
  /** Claims this node sent for its sockets, by claim id; and the ids claimed (infoHash + peerId). */
  private readonly claims = new Map<string, OpenClaim>();
  private readonly claimed = new Map<string, string>();
  /** Open sockets (and admissions in flight) per token on this node, as counted in Redis. */
  private readonly tokens = new Map<string, number>();
  private readonly tokensKey: string;
  /** Membership changes of this turn: "+" join, "*" join complete, "-" leave, then ih+peer. */
  private ops: string[] = [];
  private visible: (() => void)[] = [];
  private flushScheduled = false;
  /** Relay records not yet published, by target channel. */
  private readonly relays = new Map<string, string[]>();
  /** Channels whose last relay PUBLISH awaits its reply. */
  private readonly relaysInFlight = new Set<string>();
  private seq = 0;
  /** Per remote node: last batch applied, or batches held while its hash loads. */
  private readonly lastSeq = new Map<string, number>();
  private readonly loading = new Map<string, [number, string[]][]>();
  /** Local writes go to Redis: set once this node's hash has been re-written after (re)connect. */
  private writable = false;
  private syncing = false;
  private timer: NodeJS.Timeout | null = null;
  private publicUrl = "";
  /** Cluster-wide audience byte counts, as read from Redis at the last heartbeat. */
  offloadTotals = new OffloadTotals();

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly maxRemoteOffers: number,
    private readonly offerTtlMs: number,
    /** How long a claim sent to another node waits for its answer before it is forgotten. */
    private readonly claimTtlMs = 10_000,
  ) {
    this.id = randomBytes(6).toString("hex");
    this.relayChannel = `${PREFIX}relay:${this.id}`;
    this.membersKey = `${PREFIX}members:${this.id}`;
    this.tokensKey = `${PREFIX}tokens:${this.id}`;
    this.link = new RedisLink(
      url,
      log.child({ node: this.id }),
      () => void this.resync(),
      () => this.lost(),
    );
  }

  get degraded(): boolean {
    return !this.link.up;
  }

  async start(host: DirectoryHost, publicUrl: string): Promise<void> {
    this.host = host;
    this.publicUrl = publicUrl;
    this.link.sub.on("messageBuffer", (channel: Buffer, message: Buffer) =>
      this.onMessage(channel.toString(), message.toString()),
    );
    this.timer = setInterval(() => void this.beat(), CLUSTER_DEFAULTS.heartbeatMs);
    this.timer.unref();
    await this.link.connect(CLUSTER_DEFAULTS.connectWaitMs);
    // Wait for the first sync too, so a node reports ready already knowing its peers.
    const end = Date.now() + CLUSTER_DEFAULTS.connectWaitMs;
    while (this.link.up && this.counters.resyncs === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.link.up) {
      // Leave at once rather than after the TTL: peers of a drained node are not offered.
      await Promise.allSettled([
        this.link.cmd
          .multi()
          .del(`${PREFIX}node:${this.id}`, this.membersKey, this.tokensKey)
          .srem(NODES, this.id)
          .exec(),
        this.link.cmd.publish(MEMBERSHIP, JSON.stringify([this.id, -1, null])),
      ]);
    }
    await this.link.close();
  }

  // ---- hooks called by the core ------------------------------------------------------------

  remote(infoHash: string) {
    return this.replica.get(infoHash);
  }

  joined(peer: Peer, visible: () => void): void {
    if (!this.writable) return visible();
    this.ops.push(peer.complete ? "*" : "+", peer.swarm.infoHash + peer.peerId);
    this.visible.push(visible);
    this.schedule();
  }

  left(peer: Peer): void {
    if (!this.writable) return;
    this.ops.push("-", peer.swarm.infoHash + peer.peerId);
    this.schedule();
  }

  relayOffer(to: RemotePeer, from: Peer, offerId: string, sdpLiteral: string): void {
    this.counters.offersOut++;
    const head = JSON.stringify([to.infoHash, to.peerId, from.peerId, offerId, this.id]);
    this.queueRelay(`${PREFIX}relay:${to.node}`, `o${head}\n${sdpLiteral}`);
  }

  relayAnswer(
    conn: Connection,
    answererId: string,
    infoHash: string,
    toPeerId: string,
    offerId: string,
    sdpLiteral: string,
    nowMs: number,
  ): boolean {
    const entry = this.remoteOffers.get(offerId);
    if (
      entry === undefined ||
      entry.to.peerId !== answererId ||
      entry.to.conn !== conn ||
      entry.fromPeerId !== toPeerId ||
      entry.infoHash !== infoHash ||
      entry.expires < nowMs
    ) {
      return false;
    }
    this.remoteOffers.delete(offerId);
    this.counters.answersOut++;
    const head = JSON.stringify([infoHash, toPeerId, answererId, offerId]);
    this.queueRelay(`${PREFIX}relay:${entry.fromNode}`, `a${head}\n${sdpLiteral}`);
    return true;
  }

  sweep(nowMs: number): void {
    for (const [key, entry] of this.remoteOffers) {
      if (entry.expires >= nowMs) break;
      this.remoteOffers.delete(key);
    }
    for (const [claimId, claim] of this.claims) {
      if (claim.expires >= nowMs) break;
      this.endClaim(claimId, claim);
    }
  }

  ownerElsewhere(infoHash: string, peerId: string): string | undefined {
    return this.replica.get(infoHash)?.byId.get(peerId)?.node;
  }

  claim(conn: Connection, infoHash: string, peerId: string, complete: boolean, node: string): void {
    const key = infoHash + peerId;
    const open = this.claimed.get(key);
    if (open !== undefined) {
      const pending = this.claims.get(open);
      if (pending !== undefined && pending.expires >= Date.now()) return;
      if (pending !== undefined) this.endClaim(open, pending);
    }
    if (!this.link.up) return;
    const claimId = randomBytes(8).toString("hex");
    this.claims.set(claimId, { conn, infoHash, peerId, complete, expires: Date.now() + this.claimTtlMs });
    this.claimed.set(key, claimId);
    const head = JSON.stringify([infoHash, peerId, claimId, this.id, complete ? 1 : 0]);
    // Sent at once, not batched: the receiver count tells whether the owner's node still listens.
    this.link.cmd
      .publish(
        `${PREFIX}relay:${node}`,
        `c${head}
`,
      )
      .then(
        (receivers) => {
          if (receivers === 0) this.onClaimAnswer(claimId, true); // its node is gone, and the socket with it
        },
        () => {},
      );
  }

  answerClaim(claimant: RemoteClaimant, granted: boolean): void {
    this.queueRelay(
      `${PREFIX}relay:${claimant.node}`,
      `${granted ? "g" : "r"}${JSON.stringify([claimant.claimId])}
`,
    );
  }

  private onClaimAnswer(claimId: string, granted: boolean): void {
    const claim = this.claims.get(claimId);
    if (claim === undefined) return;
    this.endClaim(claimId, claim);
    if (granted) this.host.admitClaimed(claim.conn, claim.infoHash, claim.peerId, claim.complete);
  }

  private endClaim(claimId: string, claim: OpenClaim): void {
    this.claims.delete(claimId);
    this.claimed.delete(claim.infoHash + claim.peerId);
  }

  *remoteSwarmIds(): Iterable<string> {
    for (const [infoHash, swarm] of this.replica.swarms) if (swarm.size > 0) yield infoHash;
  }

  /**
   * Takes a slot for one more socket of a token, cluster-wide. False: the live nodes already
   * hold `limit`. While Redis is away only this node's count applies (the caller checks it).
   */
  async reserveToken(key: string, limit: number): Promise<boolean> {
    this.tokens.set(key, (this.tokens.get(key) ?? 0) + 1);
    if (!this.link.up) return true;
    try {
      const ok = await this.link.timed(
        this.link.cmd.eval(RESERVE_TOKEN_SCRIPT, 1, this.tokensKey, key, limit, PREFIX, CLUSTER_DEFAULTS.livenessTtlMs),
      );
      if (ok === 1) return true;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "token count unavailable: this node's count applies");
      return true;
    }
    this.dropToken(key);
    return false;
  }

  /** A socket counted by reserveToken closed (or never opened). */
  releaseToken(key: string): void {
    this.dropToken(key);
    if (this.link.up) this.link.cmd.eval(RELEASE_TOKEN_SCRIPT, 1, this.tokensKey, key).catch(() => {});
  }

  private dropToken(key: string): void {
    const n = (this.tokens.get(key) ?? 1) - 1;
    if (n <= 0) this.tokens.delete(key);
    else this.tokens.set(key, n);
  }

  /** Adds a viewer's beacon to the cluster's audience counts (dropped while Redis is away). */
  addOffload(swarm: string, counts: ByteCounts): void {
    if (!this.link.up) return;
    const slot = this.offloadTotals.slot(swarm);
    this.offloadTotals.add(slot, counts, true);
    const m = this.link.cmd.multi();
    for (const field of ["cdn", "peers", "uploaded", "beacons"] as const) {
      if (counts[field] > 0) m.hincrby(OFFLOAD, `${slot}\n${field}`, counts[field]);
    }
    m.exec().catch(() => {});
  }

  private async readOffload(): Promise<void> {
    const hash = await this.link.cmd.hgetall(OFFLOAD);
    const totals = new OffloadTotals();
    for (const [field, value] of Object.entries(hash)) {
      const nl = field.lastIndexOf("\n");
      const key = field.slice(nl + 1) as keyof ByteCounts;
      const counts = { cdn: 0, peers: 0, uploaded: 0, beacons: 0 };
      if (!(key in counts)) continue;
      counts[key] = Number(value);
      totals.add(field.slice(0, nl), counts, true);
    }
    this.offloadTotals = totals;
  }

  /** Cluster-wide counts for /stats.json. */
  describe() {
    const others = [...this.nodes.values()];
    const swarms = new Set(this.host.swarms.keys());
    for (const ih of this.replica.swarms.keys()) swarms.add(ih);
    return {
      node: this.id,
      redis: this.link.up ? "up" : "down",
      nodes: [
        {
          id: this.id,
          url: this.publicUrl,
          connections: this.host.connections.size,
          peers: this.host.peerCount,
          swarms: this.host.swarms.size,
        },
        ...others,
      ].map((n) => ({ ...n, peersSeen: n.id === this.id ? this.host.peerCount : this.replica.peersOf(n.id) })),
      connections: this.host.connections.size + others.reduce((s, n) => s + n.connections, 0),
      peers: this.host.peerCount + this.replica.size,
      swarms: swarms.size,
    };
  }

  // ---- Redis writes ------------------------------------------------------------------------

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private queueRelay(channel: string, record: string): void {
    const queued = this.relays.get(channel);
    if (queued === undefined) this.relays.set(channel, [record]);
    else if (queued.length < CLUSTER_DEFAULTS.maxQueuedRelays) queued.push(record);
    else return void this.counters.undelivered++;
    if (!this.relaysInFlight.has(channel)) this.schedule();
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.relays.size > this.relaysInFlight.size) {
      for (const [channel, records] of this.relays) {
        if (this.relaysInFlight.has(channel)) continue;
        this.relays.delete(channel);
        this.publishRelays(channel, records);
      }
    }
    const ops = this.ops;
    const visible = this.visible;
    this.ops = [];
    this.visible = [];
    if (ops.length === 0 || !this.writable) return void visible.forEach((f) => f());
    const seq = ++this.seq;
    const set: string[] = [];
    const del: string[] = [];
    for (let i = 0; i < ops.length; i += 2) {
      if (ops[i] === "-") del.push(ops[i + 1]);
      else set.push(ops[i + 1], ops[i] === "*" ? "1" : "0");
    }
    const m = this.link.cmd.multi();
    if (del.length) m.hdel(this.membersKey, ...del);
    m.hset(this.membersKey, ...set, SEQ_FIELD, String(seq));
    m.publish(MEMBERSHIP, JSON.stringify([this.id, seq, ops]));
    this.counters.membershipBatches++;
    this.link
      .timed(m.exec())
      .catch((err: Error) => this.log.debug({ err: err.message }, "membership write failed"))
      .finally(() => visible.forEach((f) => f()));
  };

  private publishRelays(channel: string, records: string[]): void {
    if (!this.link.up) {
      this.counters.undelivered += records.length;
      return;
    }
    this.relaysInFlight.add(channel);
    const done = (receivers: number) => {
      if (receivers === 0) this.counters.undelivered += records.length;
      this.relaysInFlight.delete(channel);
      if (this.relays.has(channel)) this.schedule();
    };
    this.link.cmd.publish(channel, records.join("\n")).then(done, () => done(0));
  }

  /** (Re)connected: subscribe, re-write this node's whole membership, load the others'. */
  private async resync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    const { cmd, sub } = this.link;
    try {
      await sub.subscribe(MEMBERSHIP, this.relayChannel);
      const seq = ++this.seq;
      const m = cmd.multi().del(this.membersKey);
      let chunk: string[] = [];
      for (const swarm of this.host.swarms.values()) {
        for (const p of swarm.peers) {
          chunk.push(swarm.infoHash + p.peerId, p.complete ? "1" : "0");
          if (chunk.length >= CLUSTER_DEFAULTS.snapshotChunk * 2) {
            m.hset(this.membersKey, ...chunk);
            chunk = [];
          }
        }
      }
      m.hset(this.membersKey, ...chunk, SEQ_FIELD, String(seq));
      m.del(this.tokensKey);
      if (this.tokens.size > 0) {
        m.hset(this.tokensKey, ...[...this.tokens].flatMap(([key, n]) => [key, String(n)]));
        m.pexpire(this.tokensKey, CLUSTER_DEFAULTS.livenessTtlMs);
      }
      m.set(`${PREFIX}node:${this.id}`, this.nodeValue(), "PX", CLUSTER_DEFAULTS.livenessTtlMs).sadd(NODES, this.id);
      m.publish(MEMBERSHIP, JSON.stringify([this.id, seq, null]));
      // Changes after this point follow the snapshot on the same connection, in order.
      this.ops = [];
      this.writable = true;
      await this.link.timed(m.exec());
      this.syncing = false;
      await this.beat();
      this.counters.resyncs++;
      this.log.info(
        { node: this.id, nodes: this.nodes.size + 1, remotePeers: this.replica.size },
        "cluster membership synced",
      );
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "cluster sync failed; retrying on the next heartbeat");
      this.writable = false;
    } finally {
      this.syncing = false;
    }
  }

  private lost(): void {
    this.writable = false;
    for (const records of this.relays.values()) this.counters.undelivered += records.length;
    this.relays.clear();
    this.replica.clear();
    this.nodes.clear();
    this.lastSeq.clear();
    this.loading.clear();
    const visible = this.visible;
    this.visible = [];
    this.ops = [];
    visible.forEach((f) => f());
  }

  private nodeValue(): string {
    const h = this.host;
    return JSON.stringify({
      url: this.publicUrl,
      connections: h.connections.size,
      peers: h.peerCount,
      swarms: h.swarms.size,
    });
  }

  /** Refreshes this node's liveness key, then checks the others'. */
  private async beat(): Promise<void> {
    if (!this.link.up) return;
    if (!this.writable) return void this.resync();
    const { cmd } = this.link;
    try {
      const res = await this.link.timed(
        cmd
          .multi()
          .set(`${PREFIX}node:${this.id}`, this.nodeValue(), "PX", CLUSTER_DEFAULTS.livenessTtlMs)
          .sadd(NODES, this.id)
          .smembers(NODES)
          .pexpire(this.tokensKey, CLUSTER_DEFAULTS.livenessTtlMs)
          .exec(),
      );
      const members = ((res?.[2]?.[1] ?? []) as string[]).filter((n) => n !== this.id);
      const values = members.length ? await cmd.mget(...members.map((n) => `${PREFIX}node:${n}`)) : [];
      const alive = new Set<string>();
      members.forEach((node, i) => {
        const v = values[i];
        if (v === null) {
          this.declareDead(node);
          return;
        }
        alive.add(node);
        try {
          this.nodes.set(node, { id: node, ...(JSON.parse(v) as Omit<NodeInfo, "id">) });
        } catch {
          this.nodes.set(node, { id: node, url: "", connections: 0, peers: 0, swarms: 0 });
        }
        if (!this.lastSeq.has(node) && !this.loading.has(node)) void this.load(node);
      });
      for (const node of [...this.nodes.keys()]) if (!alive.has(node)) this.forget(node);
      await this.readOffload();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "heartbeat failed");
    }
  }

  private declareDead(node: string): void {
    this.counters.nodesDeclaredDead++;
    this.forget(node);
    this.log.warn({ node }, "cluster node missed its liveness deadline: its peers are dropped");
    this.link.cmd
      .multi()
      .srem(NODES, node)
      .del(`${PREFIX}members:${node}`, `${PREFIX}tokens:${node}`)
      .exec()
      .catch(() => {});
  }

  private forget(node: string): void {
    this.replica.dropNode(node);
    this.nodes.delete(node);
    this.lastSeq.delete(node);
    this.loading.delete(node);
  }

  /** Replaces the replica of one node's peers by its hash, then applies batches that came meanwhile. */
  private async load(node: string): Promise<void> {
    this.loading.set(node, []);
    let hash: Record<string, string>;
    try {
      hash = await this.link.timed(this.link.cmd.hgetall(`${PREFIX}members:${node}`));
    } catch {
      this.loading.delete(node);
      return;
    }
    const held = this.loading.get(node);
    if (held === undefined) return; // forgotten meanwhile
    this.loading.delete(node);
    this.replica.dropNode(node);
    const seq = Number(hash[SEQ_FIELD] ?? 0);
    for (const [field, value] of Object.entries(hash)) {
      if (field.length !== ID_LENGTH * 2) continue;
      this.putRemote(node, field, value === "1");
    }
    this.lastSeq.set(node, seq);
    for (const [s, ops] of held) if (s > seq) this.apply(node, s, ops);
  }

  // ---- Redis messages ------------------------------------------------------------------------

  private onMessage(channel: string, message: string): void {
    try {
      if (channel === MEMBERSHIP) this.onMembership(message);
      else if (channel === this.relayChannel) this.onRelay(message);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, channel }, "malformed cluster message dropped");
    }
  }

  private onMembership(message: string): void {
    const [node, seq, ops] = JSON.parse(message) as [string, number, string[] | null];
    if (node === this.id) return;
    if (seq === -1) return this.forget(node); // the node left on shutdown
    if (ops === null) return void this.load(node); // the node re-wrote its hash
    const held = this.loading.get(node);
    if (held !== undefined) return void held.push([seq, ops]);
    const last = this.lastSeq.get(node);
    if (last === undefined || seq !== last + 1) return void this.load(node);
    this.apply(node, seq, ops);
  }

  private apply(node: string, seq: number, ops: string[]): void {
    this.lastSeq.set(node, seq);
    for (let i = 0; i < ops.length; i += 2) {
      const key = ops[i + 1];
      if (ops[i] === "-") this.replica.delete(node, key.slice(0, ID_LENGTH), key.slice(ID_LENGTH));
      else this.putRemote(node, key, ops[i] === "*");
    }
  }

  private putRemote(node: string, key: string, complete: boolean): void {
    const infoHash = key.slice(0, ID_LENGTH);
    const peerId = key.slice(ID_LENGTH);
    // The same peer id announced here and there: the latest announce wins (it moved).
    if (this.host.swarms.get(infoHash)?.byId.has(peerId)) this.host.evict(infoHash, peerId);
    this.replica.put(node, infoHash, peerId, complete);
  }

  private onRelay(message: string): void {
    let at = 0;
    while (at < message.length) {
      const nl = message.indexOf("\n", at);
      let end = message.indexOf("\n", nl + 1);
      if (nl < 0) throw new Error("relay record without a body");
      if (end < 0) end = message.length;
      this.onRelayRecord(message[at], message.slice(at + 1, nl), message.slice(nl + 1, end));
      at = end + 1;
    }
  }

  private onRelayRecord(kind: string, headText: string, literal: string): void {
    const head = JSON.parse(headText) as string[];
    if (kind === "o") {
      const [infoHash, toPeerId, fromPeerId, offerId, fromNode] = head;
      this.counters.offersIn++;
      const to = this.host.deliverOffer(infoHash, toPeerId, fromPeerId, offerId, literal);
      if (to === undefined) return void this.counters.undelivered++;
      if (this.remoteOffers.size >= this.maxRemoteOffers) {
        const oldest = this.remoteOffers.keys().next();
        if (!oldest.done) this.remoteOffers.delete(oldest.value);
      }
      this.remoteOffers.delete(offerId);
      this.remoteOffers.set(offerId, { to, fromPeerId, fromNode, infoHash, expires: Date.now() + this.offerTtlMs });
    } else if (kind === "a") {
      const [infoHash, toPeerId, fromPeerId, offerId] = head;
      this.counters.answersIn++;
      if (!this.host.deliverAnswer(infoHash, toPeerId, fromPeerId, offerId, literal)) this.counters.undelivered++;
    } else if (kind === "c") {
      const [infoHash, peerId, claimId, fromNode, complete] = head as [string, string, string, string, number];
      this.host.claimFromNode(infoHash, peerId, new RemoteClaimant(fromNode, claimId, complete === 1));
    } else if (kind === "g" || kind === "r") {
      this.onClaimAnswer(head[0], kind === "g");
    }
  }
}
