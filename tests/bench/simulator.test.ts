/** The swarm simulator: its clock, its peer graph, and the SDK's decisions at the limits of the links. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as SdkEngine from "../../sdk/src/engine-entry";
import { ENGINE_BUILD } from "../../bench/audience/viewer-build";
import type { LinkProfile } from "../../bench/links/profile";
import { EventQueue } from "../../bench/simulator/event-queue";
import { mulberry32 } from "../../bench/tracker-load/zipf";
import { connect, DEFAULT_SIMULATION, simulate, type SimulationConfig } from "../../bench/simulator/simulation";

function uniform(uplinkMbps: number): LinkProfile {
  return {
    description: `every uplink ${uplinkMbps} Mbit/s`,
    uplink: [{ mbps: uplinkMbps, share: 1 }],
    downlink: [{ mbps: 50, share: 1 }],
    rttMs: { min: 20, max: 100 },
    cdnRttMs: 20,
    natShare: 0,
  };
}

describe("simulator clock", () => {
  it("runs events in time order, ties in scheduling order, and stops at the horizon", () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.at(2, () => seen.push("b"));
    q.at(1, () => seen.push("a"));
    q.at(2, () => seen.push("c"));
    q.at(1, () => q.after(0.5, () => seen.push("a+0.5")));
    q.at(5, () => seen.push("late"));
    q.run(3);
    assert.deepEqual(seen, ["a", "a+0.5", "b", "c"]);
    assert.equal(q.now, 3);
    assert.equal(q.size, 1);
  });
});

describe("simulator peer graph", () => {
  it("connects everybody in a swarm no larger than the cap", () => {
    const viewers = Array.from({ length: 6 }, () => ({ neighbors: [] as number[] }));
    connect(viewers, 20, mulberry32(1));
    for (const [i, v] of viewers.entries())
      assert.deepEqual(
        v.neighbors.sort(),
        [0, 1, 2, 3, 4, 5].filter((j) => j !== i),
      );
  });

  it("keeps every viewer at or under the cap, both ends of every connection, no viewer with itself", () => {
    const viewers = Array.from({ length: 500 }, () => ({ neighbors: [] as number[] }));
    connect(viewers, 20, mulberry32(3));
    let total = 0;
    for (const [i, v] of viewers.entries()) {
      assert.ok(v.neighbors.length <= 20);
      assert.equal(new Set(v.neighbors).size, v.neighbors.length);
      assert.ok(!v.neighbors.includes(i));
      for (const j of v.neighbors) assert.ok(viewers[j].neighbors.includes(i));
      total += v.neighbors.length;
    }
    assert.ok(total / viewers.length > 18, `mean ${total / viewers.length} connections`);
  });
});

describe("simulator with the SDK's decisions", () => {
  let sdk: typeof SdkEngine;
  before(async () => {
    sdk = (await import(ENGINE_BUILD)) as typeof SdkEngine;
  });
  const config = (links: LinkProfile, over: Partial<SimulationConfig> = {}): SimulationConfig => ({
    ...DEFAULT_SIMULATION,
    viewers: 12,
    links,
    steadySec: 60,
    ...over,
  });

  it("takes nearly every segment from peers when every uplink carries many copies in time", () => {
    const r = simulate(sdk, config(uniform(20), { adaptiveLatency: false }));
    assert.ok(r.offload >= 0.85 * r.bound, `offload ${r.offload} against bound ${r.bound}`);
    assert.equal(r.stalls, 0);
    assert.equal(r.steppedShare, 0);
  });

  it("asks no uplink for more than it sends in time: 1 Mbit/s uplinks serve a 1.6 Mbit/s stream only the uploads that measure them again", () => {
    const r = simulate(sdk, config(uniform(1)));
    // One probe per viewer at most in the 60 s window: 12 segments of the 360 the viewers take.
    assert.ok(r.offload <= 12 / 360, `offload ${r.offload}`);
    assert.equal(r.stalls, 0);
    const segmentMbit = (DEFAULT_SIMULATION.bitrateBps * DEFAULT_SIMULATION.segmentSec) / 1e6;
    assert.ok(r.uploadMbpsByUplink["1"] <= segmentMbit / 60, `upload ${r.uploadMbpsByUplink["1"]} Mbit/s`);
    assert.ok(r.counts["refused by a 1 Mbit/s holder"] > 0);
  });

  it("repeats a run exactly for one seed, and differs for another", () => {
    const links = uniform(5);
    const a = simulate(sdk, config(links, { seed: 4 }));
    const b = simulate(sdk, config(links, { seed: 4 }));
    const c = simulate(sdk, config(links, { seed: 5 }));
    assert.equal(a.offload, b.offload);
    assert.deepEqual(a.counts, b.counts);
    assert.notDeepEqual(a.counts, c.counts);
  });

  it("adds at most one segment of latency, on the viewers whose new segments came late", () => {
    const stock = simulate(sdk, config(uniform(5), { adaptiveLatency: false }));
    const adaptive = simulate(sdk, config(uniform(5), { adaptiveLatency: true }));
    assert.ok(adaptive.steppedShare > 0, "a 5 Mbit/s swarm at stock latency gets late segments");
    assert.ok(adaptive.latencyMedianSec <= stock.latencyMedianSec + DEFAULT_SIMULATION.segmentSec + 0.01);
    assert.ok(adaptive.outcomeShares.late < stock.outcomeShares.late);
  });

  it("seeds fewer CDN copies in a large swarm when viewers relay what they are pulling", () => {
    const links = uniform(20);
    const noRelay = simulate(sdk, config(links, { viewers: 100, relayMinCopies: 0 }));
    const relaying = simulate(sdk, config(links, { viewers: 100 }));
    assert.ok(
      relaying.outcomeShares.seed < noRelay.outcomeShares.seed / 2,
      `seeded ${relaying.outcomeShares.seed} against ${noRelay.outcomeShares.seed}`,
    );
    assert.ok(relaying.offload > noRelay.offload + 0.03);
  });

  it("with peer choice, replaces connections of full sets and keeps every set under the cap", () => {
    const links = uniform(5);
    const over = { viewers: 60, maxPeers: 8, steadySec: 120 };
    const kept = simulate(sdk, config(links, { ...over, peerChoice: false }));
    const chosen = simulate(sdk, config(links, { ...over, peerChoice: true }));
    assert.equal(kept.counts["connections replaced"], 0);
    assert.ok((chosen.counts["connections replaced"] ?? 0) > 60, `${chosen.counts["connections replaced"]} replaced`);
    assert.ok(chosen.peersMean <= 8 && chosen.peersMean > 7, `mean ${chosen.peersMean} connections`);
    assert.ok(Math.abs(chosen.offload - kept.offload) < 0.05, `${chosen.offload} against ${kept.offload}`);
  });
});
