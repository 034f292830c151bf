/** The SDK's adaptive latency: one more segment behind the live edge once too many new segments came late. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { AdaptiveLatency, type AdaptiveLatencyConfig, type SegmentOutcome } from "../../sdk/src/live/adaptive-latency";

const CONFIG: AdaptiveLatencyConfig = { enabled: true, windowSegments: 10, lateShare: 0.2, slowRate: 0.9, maxSteps: 1 };

function latency(config: Partial<AdaptiveLatencyConfig> = {}, withPlayer = true) {
  const calls: [number, number][] = [];
  const steps: [number, number][] = [];
  const player = withPlayer ? { addLatency: (seconds: number, rate: number) => void calls.push([seconds, rate]) } : {};
  const adaptive = new AdaptiveLatency(
    { ...CONFIG, ...config },
    () => player,
    (added, share) => void steps.push([added, share]),
  );
  const feed = (outcomes: SegmentOutcome[]) => outcomes.forEach((o) => adaptive.note(o, 2));
  return { adaptive, calls, steps, feed };
}

const repeat = (outcome: SegmentOutcome, n: number): SegmentOutcome[] => new Array<SegmentOutcome>(n).fill(outcome);

describe("AdaptiveLatency", () => {
  it("steps one segment back once a fifth of the last window came late, and only once", () => {
    const { adaptive, calls, steps, feed } = latency();
    feed([...repeat("peer", 8), "late"]);
    assert.deepEqual(calls, [], "nine outcomes: the window is not full yet");
    feed(["seed"]);
    assert.deepEqual(calls, [], "1 late in 10 is below the share");
    feed(["late"]);
    assert.deepEqual(calls, [[2, 0.9]], "2 late in the last 10: one segment duration, at the slow rate");
    assert.deepEqual(steps, [[2, 0.2]]);
    assert.deepEqual(adaptive.stats(), { steps: 1, addedSec: 2, late: 0, counted: 0 });
    feed(repeat("late", 30));
    assert.equal(calls.length, 1, "maxSteps 1");
  });

  it("counts seeds and peers' copies alike: only late outcomes call for time", () => {
    const { calls, feed } = latency();
    feed([...repeat("seed", 15), ...repeat("peer", 15), "late"]);
    assert.deepEqual(calls, []);
  });

  it("judges a second step on the outcomes at the new latency alone", () => {
    const { calls, feed } = latency({ maxSteps: 2 });
    feed([...repeat("late", 2), ...repeat("peer", 8)]);
    assert.equal(calls.length, 1);
    feed(repeat("peer", 9));
    feed(["late"]);
    assert.equal(calls.length, 1, "1 late in the 10 since the step");
    feed(["late"]);
    assert.equal(calls.length, 2);
  });

  it("does nothing when off, or with a player that cannot fall back", () => {
    const off = latency({ enabled: false });
    off.feed(repeat("late", 20));
    assert.deepEqual(off.calls, []);
    assert.deepEqual(off.adaptive.stats(), { steps: 0, addedSec: 0, late: 0, counted: 0 });
    const noPlayer = latency({}, false);
    noPlayer.feed(repeat("late", 20));
    assert.deepEqual(noPlayer.steps, []);
    assert.equal(noPlayer.adaptive.stats().late, 10, "the window keeps the latest outcomes");
  });

  it("defaults: on, one step, a 20-segment window", () => {
    assert.deepEqual(DEFAULT_SWARMCAST_CONFIG.adaptiveLatency, {
      enabled: true,
      windowSegments: 20,
      lateShare: 0.2,
      slowRate: 0.9,
      maxSteps: 1,
    });
  });
});
