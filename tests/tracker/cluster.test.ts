/**
 * The tracker cluster for real: redis-server, three tracker nodes and HAProxy (TCP mode) in
 * front of them, started by tracker/deploy/cluster.mjs exactly as the README's deploy example.
 *
 * Viewers here are WebSocket clients speaking the tracker protocol like PML's client does
 * (announce, offers on join, answers to offers they receive). One difference on purpose: PML's
 * tracker client waits 10 s·2ⁿ plus up to 300 s before reconnecting, so these viewers reconnect
 * through the balancer as soon as their socket closes, the way a fast-reconnecting SDK will.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { type RedisProcess, startRedis } from "../../devkit/redis";
import {
  announce,
  binId,
  eventually,
  type Frame,
  getJson,
  isAnswer,
  isOffer,
  isReply,
  metricValue,
  offers,
  sleep,
  TestClient,
} from "./helpers";

interface Deployed {
  balancer: string;
  nodes: { url: string; pid: number; port: number }[];
}

/** A viewer that stays in one swarm, answers every offer, and reconnects at once when cut. */
class Viewer {
  client!: TestClient;
  reconnects = 0;
  answersReceived = new Set<string>();
  private stopped = false;

  constructor(
    readonly url: string,
    readonly infoHash: string,
    readonly peerId: string,
  ) {}

  async join(withOffers = 0): Promise<void> {
    this.client = await TestClient.connect(this.url);
    this.client.ws.on("message", (data: Buffer) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (isOffer(f)) {
        this.client.send(
          announce(this.infoHash, this.peerId, {
            to_peer_id: f.peer_id,
            offer_id: f.offer_id,
            answer: { type: "answer", sdp: `v=0 answer ${this.peerId.length}` },
          }),
        );
      } else if (isAnswer(f)) {
        this.answersReceived.add(f.peer_id);
      }
    });
    this.client.ws.once("close", () => {
      if (this.stopped) return;
      this.reconnects++;
      void this.rejoin();
    });
    this.client.send(
      announce(this.infoHash, this.peerId, {
        event: "started",
        numwant: withOffers,
        offers: offers(withOffers, this.peerId),
      }),
    );
    await this.client.next(isReply, 5000);
  }

  private async rejoin(): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.stopped; attempt++) {
      try {
        await this.join();
        return;
      } catch {
        // Waits on time: a pause between reconnect attempts, as a real client backs off.
        await sleep(100);
      }
    }
  }

  get open(): boolean {
    return this.client.ws.readyState === WebSocket.OPEN;
  }

  stop(): void {
    this.stopped = true;
    this.client?.close();
  }
}

async function deployCluster(redisUrl: string, nodes: number): Promise<{ deployed: Deployed; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      "tracker/deploy/cluster.mjs",
      "--redis",
      redisUrl,
      "--nodes",
      String(nodes),
      "--port",
      "0",
      "--",
      "--log-level",
      "warn",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: proc.stdout });
  const [line] = (await Promise.race([once(lines, "line"), sleep(60_000).then(() => ["timeout"])])) as string[];
  if (!line.startsWith("{")) throw new Error(`cluster.mjs did not start: ${line}`);
  lines.on("line", (l) => process.stdout.write(`# cluster: ${l}\n`));
  return { deployed: JSON.parse(line) as Deployed, proc };
}

const httpOf = (ws: string) => ws.replace(/^ws/, "http");

describe("tracker cluster behind HAProxy", () => {
  let redis: RedisProcess;
  let proc: ChildProcess;
  let deployed: Deployed;
  const viewers: Viewer[] = [];
  const infoHash = binId(`cluster-swarm-${Math.random()}`);

  before(async () => {
    redis = await startRedis();
    ({ deployed, proc } = await deployCluster(redis.url, 3));
  });
  after(async () => {
    for (const v of viewers) v.stop();
    if (proc !== undefined && proc.exitCode === null) {
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    }
    await redis?.stop();
  });

  const clusterStats = async (nodeUrl: string) => (await getJson(`${httpOf(nodeUrl)}/stats.json`)).body.cluster;

  it("spreads viewers over the nodes, which see each other's peers", async () => {
    for (let i = 0; i < 9; i++) {
      const v = new Viewer(deployed.balancer, infoHash, binId(`viewer-${i}-${Math.random()}`));
      await v.join();
      viewers.push(v);
    }
    await eventually(async () => {
      const s = await clusterStats(deployed.nodes[0].url);
      return s.peers === 9 && s.nodes.length === 3;
    }, 5000);
    const stats = await clusterStats(deployed.nodes[0].url);
    for (const n of stats.nodes)
      assert.ok(n.peersSeen >= 1, `every node holds viewers: ${JSON.stringify(stats.nodes)}`);
  });

  it("a node SIGKILLed: its viewers are on survivors within 10 s; a viewer joining 5 s later meets viewers of every survivor", async () => {
    const victim = deployed.nodes[1];
    const survivors = deployed.nodes.filter((n) => n !== victim);
    const killedAt = Date.now();
    process.kill(victim.pid, "SIGKILL");

    await eventually(() => viewers.filter((v) => v.reconnects > 0).length > 0, 3000);
    const cut = viewers.filter((v) => v.reconnects > 0);
    let registeredAfter = 0;
    let seen: unknown[] = [];
    await eventually(
      async () => {
        const stats = await Promise.all(survivors.map((n) => clusterStats(n.url)));
        seen = stats;
        registeredAfter = Date.now() - killedAt;
        return stats.every((s) => s.nodes.length === 2 && s.peers === 9) && viewers.every((v) => v.open);
      },
      10_000,
      100,
    ).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
    });
    console.log(
      `# ${cut.length} viewers of the killed node registered on survivors ${registeredAfter} ms after the kill`,
    );
    for (const n of survivors) {
      const s = await clusterStats(n.url);
      assert.equal(s.peers, 9, `${n.url} sees all 9 viewers`);
    }

    // Waits on time: the newcomer is meant to join 5 s after the kill, as the survivors' view settles.
    await sleep(Math.max(0, 5000 - (Date.now() - killedAt)));
    const late = new Viewer(deployed.balancer, infoHash, binId(`late-${Math.random()}`));
    viewers.push(late);
    await late.join(9);
    await eventually(() => late.answersReceived.size === 9, 5000);
    // Every viewer answered the newcomer's offers and each survivor holds some of them, so
    // the newcomer met viewers on every surviving node.
    const stats = await clusterStats(survivors[0].url);
    assert.equal(stats.peers, 10);
    for (const n of stats.nodes)
      assert.ok(n.peersSeen >= 1, `each survivor holds viewers: ${JSON.stringify(stats.nodes)}`);
    // The newcomer's node relayed offers through Redis and counted the round trips.
    const metrics = await Promise.all(survivors.map(async (n) => (await fetch(`${httpOf(n.url)}/metrics`)).text()));
    const total = (name: string) => metrics.reduce((sum, text) => sum + metricValue(text, name), 0);
    assert.ok(total("swarmcast_tracker_cluster_offers_sent_total") > 0, "offers relayed across nodes");
    assert.ok(total("swarmcast_tracker_cluster_answers_received_total") > 0, "answers relayed back across nodes");
    assert.ok(total("swarmcast_tracker_cluster_redis_round_trip_seconds_count") > 0, "Redis round trips observed");
  });

  it("Redis restarted: nodes serve local swarms meanwhile (health degraded), then re-publish membership", async () => {
    const [a, b] = deployed.nodes.filter((n) => n !== deployed.nodes[1]);
    let seen: unknown[] = [];
    await redis.kill();
    await eventually(async () => (await getJson(`${httpOf(a.url)}/health`)).body.status === "degraded", 3000);
    const health = await getJson(`${httpOf(b.url)}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "degraded");
    // Local service goes on: a new viewer on node a gets its reply, offers reach node a's viewers.
    const local = await TestClient.connect(a.url);
    local.send(
      announce(infoHash, binId(`local-${Math.random()}`), { event: "started", numwant: 1, offers: offers(1, "local") }),
    );
    assert.equal((await local.next(isReply)).info_hash, infoHash);
    local.close();

    const restartedAt = Date.now();
    await redis.start();
    await eventually(
      async () => {
        const stats = await Promise.all([a, b].map((n) => clusterStats(n.url)));
        seen = stats;
        return stats.every((s) => s.redis === "up" && s.nodes.length === 2 && s.peers === 10);
      },
      10_000,
      100,
    ).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
    });
    console.log(`# membership re-published ${Date.now() - restartedAt} ms after Redis came back`);
    assert.equal((await getJson(`${httpOf(a.url)}/health`)).body.status, "ok");

    const late = new Viewer(deployed.balancer, infoHash, binId(`after-redis-${Math.random()}`));
    viewers.push(late);
    await late.join(10);
    await eventually(() => late.answersReceived.size === 10, 5000);
  });
});
