/**
 * Cluster metrics of one node: Redis round trips, relay traffic both ways, what this node sees
 * of the others. Read at scrape time like the rest of the registry.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ClusterCounters, RedisDirectory } from "./redis-directory";

const P = "swarmcast_tracker_cluster_";

export function registerClusterMetrics(registry: Registry, cluster: RedisDirectory): void {
  const roundTrip = new Histogram({
    name: P + "redis_round_trip_seconds",
    help: "Round trip of Redis commands this node waits on (membership writes, heartbeats, loads).",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  cluster.link.onRoundTrip = (s) => roundTrip.observe(s);

  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: P + name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("redis_up", "1 while both Redis connections are up, 0 while degraded (local swarms only).", () =>
    cluster.link.up ? 1 : 0,
  );
  gauge("nodes", "Live nodes of the cluster, this one included, as last seen.", () =>
    cluster.link.up ? cluster.nodes.size + 1 : 1,
  );
  gauge("remote_peers", "Peers held by other nodes, in this node's replica.", () => cluster.replica.size);

  const c = cluster.counters;
  const counter = (name: string, help: string, key: keyof ClusterCounters) =>
    new Counter({
      name: P + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(c[key]);
      },
    });
  counter("offers_sent_total", "Offers relayed to a peer on another node.", "offersOut");
  counter("answers_sent_total", "Answers relayed to a peer on another node.", "answersOut");
  counter("offers_received_total", "Offers relayed from another node.", "offersIn");
  counter("answers_received_total", "Answers relayed from another node.", "answersIn");
  counter(
    "relay_undelivered_total",
    "Relayed offers or answers that reached no peer (node or peer gone, Redis down).",
    "undelivered",
  );
  counter("membership_batches_total", "Membership change batches written to Redis.", "membershipBatches");
  counter("resyncs_total", "Full membership re-writes (start, Redis back).", "resyncs");
  counter("nodes_declared_dead_total", "Nodes whose liveness key expired.", "nodesDeclaredDead");
}
