// PlaybackHealth's verdicts, sample by sample on an explicit clock: what makes a viewer struggle,
// what does not, and when it serves again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { PlaybackHealth, type HealthReason, type PlaybackProbe } from "../../sdk/src/health/playback-health";

const config = DEFAULT_SWARMCAST_CONFIG.playbackHealth;

interface Reading {
  buffer?: number;
  frames?: { dropped: number; total: number };
  hidden?: boolean;
}

function monitor() {
  const reading: Reading = { buffer: 6 };
  const changes: Array<{ struggling: boolean; reasons: HealthReason[] }> = [];
  const probe: PlaybackProbe = {
    bufferAhead: () => reading.buffer,
    frames: () => reading.frames,
    hidden: () => reading.hidden ?? false,
  };
  let now = 0;
  const health = new PlaybackHealth(
    config,
    probe,
    (struggling, reasons) => changes.push({ struggling, reasons }),
    () => now,
  );
  return {
    reading,
    changes,
    health,
    /** Samples every `sampleMs` (+ `lateBy`) for `ms`. */
    run(ms: number, lateBy = 0) {
      const end = now + ms;
      while (now < end) {
        now += config.sampleMs + lateBy;
        health.sample(now);
      }
    },
    get now() {
      return now;
    },
  };
}

describe("playback health", () => {
  it("stays ok while the buffer is healthy and timers are on time", () => {
    const m = monitor();
    m.run(60_000);
    assert.deepEqual(m.changes, []);
    assert.deepEqual(m.health.stats(m.now), { state: "ok", reasons: [], episodes: 0, struggledMs: 0 });
  });

  it("struggles when timers fire late, and serves again after a quiet spell", () => {
    const m = monitor();
    m.run(2000);
    m.run(3000, config.lateTimerMs + 50);
    assert.deepEqual(m.changes, [{ struggling: true, reasons: ["timers-late"] }]);
    assert.equal(m.health.stats(m.now).state, "struggling");
    // On time again: recoverMs must pass without trouble, counted from when the late samples
    // left the window.
    m.run(config.recoverMs - 1000);
    assert.equal(m.changes.length, 1, "recovered before recoverMs of quiet");
    m.run(config.windowMs + 1000);
    assert.deepEqual(m.changes.at(-1), { struggling: false, reasons: [] });
    const stats = m.health.stats(m.now);
    assert.equal(stats.episodes, 1);
    assert.ok(stats.struggledMs >= config.recoverMs, `struggled ${stats.struggledMs} ms`);
  });

  it("one late timer is not trouble (a garbage collection, a busy frame)", () => {
    const m = monitor();
    for (let i = 0; i < 20; i++) {
      m.run(config.sampleMs, config.lateTimerMs * 3);
      m.run(config.windowMs / 2);
    }
    assert.deepEqual(m.changes, []);
  });

  it("late timers before playback starts are start-up work, not trouble", () => {
    const m = monitor();
    m.reading.buffer = undefined;
    m.run(10_000, config.lateTimerMs * 2);
    assert.deepEqual(m.changes, []);
    m.reading.buffer = 6;
    m.run(5000, config.lateTimerMs * 2);
    assert.deepEqual(m.changes, [{ struggling: true, reasons: ["timers-late"] }]);
  });

  it("late timers of a hidden page are the browser's throttling, not trouble", () => {
    const m = monitor();
    m.reading.hidden = true;
    m.run(30_000, 750);
    assert.deepEqual(m.changes, []);
  });

  it("struggles when the buffer ahead runs low while playing, not while not playing", () => {
    const m = monitor();
    m.reading.buffer = undefined;
    m.run(5000);
    assert.deepEqual(m.changes, []);
    m.reading.buffer = config.lowBufferSec / 2;
    m.run(config.sampleMs);
    assert.deepEqual(m.changes, [{ struggling: true, reasons: ["buffer-low"] }]);
  });

  it("struggles when a share of frames is dropped, with enough frames to judge", () => {
    const m = monitor();
    let dropped = 0;
    let total = 0;
    // 25 frames/s with 10 % dropped: fine.
    for (let i = 0; i < 40; i++) {
      total += 6;
      dropped += i % 2 === 0 ? 1 : 0;
      m.reading.frames = { dropped, total };
      m.run(config.sampleMs);
    }
    assert.deepEqual(m.changes, []);
    // Half of the frames dropped: trouble.
    for (let i = 0; i < 40 && m.changes.length === 0; i++) {
      total += 6;
      dropped += 3;
      m.reading.frames = { dropped, total };
      m.run(config.sampleMs);
    }
    assert.deepEqual(m.changes, [{ struggling: true, reasons: ["frames-dropped"] }]);
  });

  it("a new trouble during recovery restarts the wait", () => {
    const m = monitor();
    m.reading.buffer = 0;
    m.run(config.sampleMs);
    m.reading.buffer = 6;
    m.run(config.recoverMs - 2000);
    m.reading.buffer = 0.1;
    m.run(config.sampleMs);
    m.reading.buffer = 6;
    m.run(config.recoverMs - 1000);
    assert.equal(m.changes.length, 1, "recovered although trouble came back");
    m.run(2000);
    assert.equal(m.changes.length, 2);
    assert.equal(m.health.stats(m.now).episodes, 1);
  });
});
