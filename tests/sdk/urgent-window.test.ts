import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { UrgentWindow } from "../../sdk/src/live/urgent-window";

const options = { ...DEFAULT_SWARMCAST_CONFIG.liveEdge.urgentWindow, baseSec: 2 };

describe("UrgentWindow", () => {
  it("stays at the configured window while the CDN delivers quickly", () => {
    const window = new UrgentWindow(options);
    for (const s of [0.2, 0.4, 1.2, 0.3]) assert.equal(window.noteHttpFetch(s), undefined);
    assert.equal(window.seconds, 2);
  });

  it("grows to the slowest recent fetch plus the margin, capped, and comes back down", () => {
    const window = new UrgentWindow(options);
    assert.equal(window.noteHttpFetch(3), 3.5, "a 2 s segment that took 3 s");
    assert.equal(window.noteHttpFetch(3.2), undefined, "a step under 0.5 s is not applied");
    assert.equal(window.seconds, 3.5);
    assert.equal(window.noteHttpFetch(20), 6, "capped");
    assert.equal(window.noteHttpFetch(0.3), undefined, "the slow one still counts");
    assert.equal(window.noteHttpFetch(0.3), undefined);
    assert.equal(window.noteHttpFetch(0.3), 2, "three quick fetches: back to the configured window");
    assert.equal(window.noteHttpFetch(0.3), undefined);
  });

  it("tells how long a fallback fetch takes now, below the configured window too", () => {
    const window = new UrgentWindow(options);
    assert.equal(window.fallbackSec(), undefined, "nothing fetched yet");
    window.noteHttpFetch(0.2);
    window.noteHttpFetch(1.3);
    assert.equal(window.seconds, 2);
    assert.equal(window.fallbackSec(), 1.8, "the slowest recent fetch plus the margin");
    window.noteHttpFetch(20);
    assert.equal(window.fallbackSec(), 6, "capped");
  });

  it("ignores readings that are not durations and names a bad option", () => {
    const window = new UrgentWindow(options);
    assert.equal(window.noteHttpFetch(Number.NaN), undefined);
    assert.equal(window.noteHttpFetch(-1), undefined);
    assert.equal(window.seconds, 2);
    assert.throws(() => new UrgentWindow({ ...options, marginSec: Number.NaN }), /marginSec/);
  });
});
