/** Calibration of virtual against Chromium viewers: medians per kind and the two tolerances. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CalibrationRun,
  compareKinds,
  renderCalibrationMarkdown,
  type ViewerKind,
} from "../../bench/audience/calibration";
import { median, rankQuantile } from "../../devkit/quantiles";

function run(kind: ViewerKind, n: number, offload: number, stalledSecPerViewer: number, cpu = 0.5): CalibrationRun {
  return {
    links: "default",
    kind,
    mode: "swarmcast",
    run: n,
    offload,
    bound: 0.875,
    stalls: stalledSecPerViewer > 0 ? 2 : 0,
    stalledSecPerViewer,
    latencyMedianSec: 8,
    startupMedianMs: 6000,
    peersMedian: 7,
    machineCpuShare: cpu,
  };
}

describe("calibration", () => {
  it("takes the median of each kind's runs, not their mean", () => {
    assert.equal(median([0.9, 0.1, 0.8]), 0.8);
    assert.equal(median([1, 2, 3, 4]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(median([3, Number.NaN, 1]), 2, "non-finite values are left out");
    assert.equal(rankQuantile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(rankQuantile([5, 1, 4, 2, 3], 0.99), 5);
    const [c] = compareKinds(
      [
        run("chromium", 1, 0.8, 0),
        run("chromium", 2, 0.2, 9),
        run("chromium", 3, 0.81, 0.5),
        run("virtual", 1, 0.82, 0.4),
      ],
      0.85,
    );
    assert.equal(c.chromium.offload, 0.8);
    assert.equal(c.chromium.stalledSecPerViewer, 0.5);
    assert.ok(Math.abs(c.offloadGapPoints - 2) < 1e-9);
    assert.ok(c.offloadHolds && c.stallHolds);
  });

  it("fails the offload beyond 3 points and the stall gap beyond 1 s + 20 % of the larger", () => {
    const [c] = compareKinds([run("chromium", 1, 0.8, 10), run("virtual", 1, 0.76, 7.9)], 0.85);
    assert.equal(c.offloadHolds, false);
    assert.ok(Math.abs(c.stallToleranceSec - 3) < 1e-9);
    assert.equal(c.stallHolds, true);
    const [d] = compareKinds([run("chromium", 1, 0.8, 10), run("virtual", 1, 0.8, 6.9)], 0.85);
    assert.equal(d.offloadHolds, true);
    assert.equal(d.stallHolds, false);
  });

  it("leaves out a setting with one kind only and flags runs at the machine's CPU limit", () => {
    const rows = [
      run("chromium", 1, 0.8, 0, 0.9),
      run("virtual", 1, 0.8, 0),
      { ...run("virtual", 1, 0.5, 0), links: "off" },
    ];
    const comparisons = compareKinds(rows, 0.85);
    assert.equal(comparisons.length, 1);
    assert.equal(comparisons[0].machineLimited, true);
    const markdown = renderCalibrationMarkdown({
      format: "swarmcast-calibration/1",
      viewers: 8,
      ladder: 1,
      durationSec: 60,
      startedAt: "2026-12-03T00:00:00Z",
      runs: rows,
      comparisons,
    });
    assert.match(markdown, /machine CPU at the limit/);
    assert.equal(markdown.split("\n").filter((l) => l.startsWith("| off |")).length, 1);
  });
});
