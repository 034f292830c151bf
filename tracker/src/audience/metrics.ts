/**
 * Audience-wide offload in Prometheus: bytes per source and the offload ratio for the top swarms
 * plus "other" (bounded label cardinality), and beacons by result. With --redis the byte figures
 * are the cluster's, the same on every node: aggregate them with max(), not sum().
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { BeaconResult } from "./beacon";
import { OFFLOAD_DEFAULTS, type OffloadTotals } from "./offload";

const P = "swarmcast_tracker_audience_";

export function registerAudienceMetrics(
  registry: Registry,
  totals: () => OffloadTotals,
  results: Map<BeaconResult, number>,
): void {
  new Counter({
    name: P + "bytes_total",
    help: "Bytes viewers reported by beacon, by swarm (top swarms + other) and source (cdn, peers, uploaded).",
    labelNames: ["swarm", "source"],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of totals().top(OFFLOAD_DEFAULTS.topSwarms)) {
        this.inc({ swarm: r.swarm, source: "cdn" }, r.cdn);
        this.inc({ swarm: r.swarm, source: "peers" }, r.peers);
        this.inc({ swarm: r.swarm, source: "uploaded" }, r.uploaded);
      }
    },
  });
  new Gauge({
    name: P + "offload_ratio",
    help: "Share of the bytes viewers played that came from peers, by swarm (top swarms + other, and all).",
    labelNames: ["swarm"],
    registers: [registry],
    collect() {
      this.reset();
      const t = totals();
      for (const r of t.top(OFFLOAD_DEFAULTS.topSwarms)) this.set({ swarm: r.swarm }, r.offloadRatio);
      this.set({ swarm: "all" }, t.total().offloadRatio);
    },
  });
  new Counter({
    name: P + "beacons_total",
    help: "Stats beacons received by this node, by result (accepted, invalid, too_large, rate_limited, origin_not_allowed, bad_token).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, n] of results) this.inc({ result }, n);
    },
  });
}
