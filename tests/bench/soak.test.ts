// The viewer soak's judgement (bench/audience/soak.ts): curves from samples, growth per figure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeGrowth, resourceCurve, type ResourcePoint } from "../../bench/audience/soak";
import type { VirtualSnapshot } from "../../bench/audience/virtual-protocol";

const MB = 2 ** 20;

function sample(at: number, heapMB: number, timers: number, peers = 3): VirtualSnapshot {
  return {
    at,
    peers,
    latency: 7.04,
    rssBytes: 100 * MB,
    resources: { heapUsedBytes: heapMB * MB, timers, storeSegments: 12, storeBytes: 9 * MB },
  } as VirtualSnapshot;
}

function points(heap: (minute: number) => number, minutes = 120): ResourcePoint[] {
  return Array.from({ length: minutes + 1 }, (_, m) => ({
    min: m,
    heapMB: heap(m),
    timers: 9,
    storeSegments: 12,
    storeMB: 9,
    peers: 3,
    latencySec: 7,
    rssMB: 100,
  }));
}

describe("viewer soak", () => {
  it("keeps the window's first sample and the last of each bucket", () => {
    const from = 1_000_000;
    const samples = Array.from({ length: 61 }, (_, i) => sample(from - 4000 + i * 2000, 10 + i / 10, 8));
    const curve = resourceCurve(samples, from, from + 100_000, 30);
    assert.deepEqual(
      curve.map((p) => p.min),
      [0, 0.47, 0.97, 1.47, 1.67],
      "samples before the window are left out",
    );
    assert.equal(curve[0].heapMB, 10.2);
    assert.equal(curve[0].storeMB, 9);
    assert.equal(curve[0].rssMB, 100);
    assert.equal(curve[0].latencySec, 7, "latency in seconds, one decimal");
  });

  it("calls a breathing heap bounded and a leaking one not", () => {
    const breathing = judgeGrowth(points((m) => 20 + 6 * Math.sin(m / 3)));
    assert.equal(breathing.heapMB?.bounded, true);
    // 0.2 MB a minute: 24 MB over two hours, past both 25 % of the first high and the 8 MB slack.
    const leaking = judgeGrowth(points((m) => 20 + 0.2 * m));
    assert.equal(leaking.heapMB?.bounded, false);
    assert.equal(leaking.heapMB?.firstHigh, 26);
    assert.equal(leaking.heapMB?.lastHigh, 44);
    assert.equal(leaking.timers?.bounded, true);
  });

  it("judges nothing from too few points and leaves out figures a viewer never reported", () => {
    assert.deepEqual(judgeGrowth(points(() => 10, 2)), {});
    const noStore = points(() => 10).map((p) => ({ ...p, storeSegments: null, storeMB: null }));
    const growth = judgeGrowth(noStore);
    assert.equal(growth.storeMB, undefined);
    assert.equal(growth.peers?.bounded, true);
  });
});
