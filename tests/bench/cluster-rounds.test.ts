/** The cluster bench's summary of alternated rounds: medians per configuration, ratio of the medians. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ClusterPhase,
  type ClusterRound,
  DEFAULT_CLUSTER_BENCH,
  renderClusterMarkdown,
  renderClusterSweepMarkdown,
  summarizeRounds,
} from "../../bench/tracker-load/cluster";

function phase(label: string, nodes: number, cpuMsPer1000: number, relayP99Ms = NaN): ClusterPhase {
  return {
    label,
    nodes,
    announces: 4400,
    trackerCpuMs: cpuMsPer1000 * 4.4,
    redisCpuMs: 0,
    cpuMsPer1000,
    systemCpuMsPer1000: cpuMsPer1000 / 3,
    redisCpuMsPer1000: 0,
    wakeupsPer1000: cpuMsPer1000 * 4,
    publishesPer1000: 0,
    probeOffers: 1196,
    probeLost: 0,
    relayP50Ms: 1,
    relayP99Ms,
  };
}

function round(single: number, cluster: number, separate?: number): ClusterRound {
  return {
    single: phase("1 node, no Redis", 1, single),
    cluster: phase("2 nodes, Redis", 2, cluster, cluster / 100),
    separate: separate === undefined ? undefined : phase("2 nodes, no Redis", 2, separate),
    cpuRatio: cluster / single,
  };
}

const RUN = { date: "2026-01-01T00:00:00.000Z", loadAverage: [1, 1, 1], cpus: 2, note: "" };

describe("cluster bench rounds", () => {
  it("reports each configuration's median over the rounds and the ratio of the medians", () => {
    // A contended round inflates one side; the median of each side discards it.
    const r = summarizeRounds(
      DEFAULT_CLUSTER_BENCH,
      [round(300, 700, 400), round(600, 800, 700), round(320, 760, 420)],
      RUN,
    );
    assert.deepEqual(
      r.phases.map((p) => p.cpuMsPer1000),
      [320, 760, 420],
    );
    assert.equal(r.cpuRatio, 760 / 320);
    assert.equal(r.separateRatio, 420 / 320);
    assert.equal(r.phases[1].relayP99Ms, 7.6);
  });

  it("takes the mean of the two middle rounds for an even count, and leaves out absent configurations", () => {
    const r = summarizeRounds(DEFAULT_CLUSTER_BENCH, [round(300, 700), round(400, 900)], RUN);
    assert.deepEqual(
      r.phases.map((p) => p.cpuMsPer1000),
      [350, 800],
    );
    assert.equal(r.separateRatio, undefined);
    assert.ok(Number.isNaN(r.phases[0].relayP99Ms), "no latency measured stays unmeasured");
  });

  it("lists every round in the Markdown", () => {
    const md = renderClusterMarkdown(
      summarizeRounds(DEFAULT_CLUSTER_BENCH, [round(300, 700, 400), round(310, 720, 410)], RUN),
    );
    assert.match(md, /2 nodes vs 1: 2\.33×/);
    for (const label of ["1: 1 node, no Redis", "1: 2 nodes, Redis", "2: 2 nodes, no Redis"]) {
      assert.ok(md.includes(`| ${label} |`), label);
    }
    assert.match(md, /rounds: 2\.33, 2\.32/);
  });

  it("sums up a sweep of offered loads in one table, each load's report below it", () => {
    const low = summarizeRounds({ ...DEFAULT_CLUSTER_BENCH, rate: 300 }, [round(300, 700, 400)], RUN);
    const high = summarizeRounds({ ...DEFAULT_CLUSTER_BENCH, rate: 2400 }, [round(160, 230, 165)], RUN);
    const md = renderClusterSweepMarkdown([low, high]);
    // 300 ms per 1,000 announces at 300 announces/s is 9 % of a core.
    assert.ok(md.includes("| 300 | 300 (9 %) | 700 (21 %) | **2.33×** | 1.33× |"), md);
    assert.ok(md.includes("| 2400 | 160 (38 %) | 230 (55 %) | **1.44×** | 1.03× |"), md);
    assert.match(md, /\| 2400 \|[^\n]*\| yes \|/);
    assert.match(md, /\| 300 \|[^\n]*\| no \|/);
    assert.match(md, /^## 300 announces\/s$/m);
    assert.match(md, /^### Each round$/m);
    assert.equal(renderClusterSweepMarkdown([low]), renderClusterMarkdown(low), "one load: the plain report");
  });
});
