/** The tracker load bench end to end in its smallest form: a well-formed result, nothing more. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderMarkdown } from "../../bench/tracker-load/report";
import { runTrackerBench, SMOKE_CONFIG } from "../../bench/tracker-load/run";

describe("tracker load bench (smoke)", () => {
  it("runs both trackers and both memory floors in child processes and produces a complete result", async () => {
    const r = await runTrackerBench(SMOKE_CONFIG);
    assert.deepEqual(
      r.trackers.map((t) => t.kind),
      ["swarmcast", "reference"],
    );
    for (const t of r.trackers) {
      for (const phase of [t.fixedLoad, t.saturation]) {
        assert.ok(phase.replies > 0, `${t.kind}: replies`);
        assert.ok(phase.offersReceived > 0, `${t.kind}: offers relayed`);
        assert.ok(phase.answersReceived > 0, `${t.kind}: answers relayed`);
        assert.ok(phase.trackerCpuMs > 0 && Number.isFinite(phase.repliesPerCpuSecond), `${t.kind}: CPU measured`);
        assert.ok(Number.isFinite(phase.latencyMs.p99), `${t.kind}: latency measured`);
      }
      assert.deepEqual(
        t.idle.map((p) => p.opened),
        [40, 80],
        `${t.kind}: idle connections held`,
      );
      assert.ok(t.idle.every((p) => p.rss > 0 && p.heap > 0));
    }
    assert.deepEqual(
      r.floors.map((f) => f.kind),
      ["socket-floor", "ws-floor"],
    );
    for (const f of r.floors)
      assert.deepEqual(
        f.idle.map((p) => p.opened),
        [40, 80],
        `${f.kind}: idle connections held`,
      );
    assert.ok(r.ratios && Number.isFinite(r.ratios.efficiency) && Number.isFinite(r.ratios.memoryPerConnection));
    const md = renderMarkdown(r);
    assert.match(md, /\| swarmcast \| reference \|/);
    assert.match(md, /Where a connection's memory goes/);
  });
});
