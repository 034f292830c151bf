import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReconnectBackoff } from "../../sdk/src/signaling/backoff";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";

const DEFAULTS = DEFAULT_SWARMCAST_CONFIG.trackerReconnect;
const waits = (b: ReconnectBackoff, n: number) => Array.from({ length: n }, () => b.next());

describe("tracker reconnect backoff", () => {
  it("defaults: first retry within 2 s, growing 1.5x, never over 30 s", () => {
    assert.deepEqual(DEFAULTS, { minDelayMs: 2000, maxDelayMs: 30_000, factor: 1.5, jitter: 0.5 });
    // No jitter drawn (random 0): the upper edge of each wait.
    assert.deepEqual(
      waits(new ReconnectBackoff(DEFAULTS, () => 0), 10),
      [2000, 3000, 4500, 6750, 10_125, 15_188, 22_781, 30_000, 30_000, 30_000],
    );
    // The most jitter (random → 1): each wait shortened by half.
    assert.deepEqual(
      waits(new ReconnectBackoff(DEFAULTS, () => 0.999999), 9),
      [1000, 1500, 2250, 3375, 5063, 7594, 11_391, 15_000, 15_000],
    );
  });

  it("jitter spreads the first retry over [1, 2] s and keeps every wait under the cap", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const firsts: number[] = [];
    for (let v = 0; v < 1000; v++) {
      const b = new ReconnectBackoff(DEFAULTS, random);
      const w = waits(b, 40);
      firsts.push(w[0]);
      assert.ok(
        w.every((ms) => ms >= 1000 && ms <= 30_000),
        `a wait out of [1 s, 30 s]: ${w.join(", ")}`,
      );
    }
    assert.ok(Math.min(...firsts) >= 1000 && Math.max(...firsts) <= 2000);
    // Spread, not one burst: each fifth of the interval holds some of the 1000 viewers.
    for (let k = 0; k < 5; k++) {
      const inBin = firsts.filter((ms) => ms >= 1000 + k * 200 && ms < 1200 + k * 200).length;
      assert.ok(inBin > 120 && inBin < 280, `bin ${k}: ${inBin} of 1000`);
    }
  });

  it("starts over after a successful connect", () => {
    const b = new ReconnectBackoff(DEFAULTS, () => 0);
    assert.deepEqual(waits(b, 9), [2000, 3000, 4500, 6750, 10_125, 15_188, 22_781, 30_000, 30_000]);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.deepEqual(waits(b, 2), [2000, 3000]);
  });

  it("a long outage never overflows the wait", () => {
    const b = new ReconnectBackoff(DEFAULTS, () => 0);
    const w = waits(b, 5000);
    assert.equal(w.at(-1), 30_000);
    assert.ok(w.every(Number.isFinite));
  });

  it("follows a page's own schedule", () => {
    assert.deepEqual(
      waits(new ReconnectBackoff({ minDelayMs: 500, maxDelayMs: 3000, factor: 2, jitter: 0 }), 5),
      [500, 1000, 2000, 3000, 3000],
    );
  });
});
