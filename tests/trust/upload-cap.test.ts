import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "../../devkit/wait";
import { UploadGovernor } from "../../sdk/src/upload/upload-governor";
import { UploadLimiter } from "../../sdk/src/upload/upload-limiter";

const CHUNK = 64 * 1024 - 1;

/** Deterministic pseudo-random numbers, so a failing run can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

interface Simulation {
  sent: Array<{ t: number; bytes: number }>;
  offered: number;
  refused: number;
}

/**
 * A live viewer that holds every new segment and `peers` peers asking it for each one at a
 * random moment of the segment's 2 s. A request is served only while the limiter allows
 * uploads and admits it (PML answers "absent" otherwise); a refused peer asks again as soon as uploads are
 * back on (PML re-announces to every peer at once, so those requests land together), for up
 * to 6 s. Requests landing in the same millisecond are decided together, before any byte is
 * reported, as PML does when several requests are handled in one task. A served segment goes
 * out in 64 KB chunks at `linkBytesPerSecond` and cannot be stopped once started.
 */
function simulate(
  capKbps: number,
  peers: number,
  seconds: number,
  seed: number,
  windowMs = 10_000,
  segmentBytes = [140_000, 50_000],
): Simulation {
  const random = lcg(seed);
  const limiter = new UploadLimiter({
    capBytesPerSecond: (capKbps * 1000) / 8,
    windowMs,
    maxChunkBytes: CHUNK,
    initialSegmentBytes: 200_000,
    now: 0,
  });
  limiter.setPeerCount(peers, 0);
  const linkBytesPerSecond = 4_000_000;
  type Want = { t: number; peer: string; size: number; until: number };
  const scheduled: Want[] = [];
  const sizes: Array<{ t: number; size: number }> = [];
  for (let seg = 0; seg * 2000 < seconds * 1000; seg++) {
    const size = segmentBytes[0] + Math.floor(random() * segmentBytes[1]);
    sizes.push({ t: seg * 2000, size });
    for (let p = 0; p < peers; p++) {
      const t = seg * 2000 + Math.floor(random() * 1500);
      scheduled.push({ t, peer: `p${p}`, size, until: seg * 2000 + 6000 });
    }
  }
  scheduled.sort((a, b) => a.t - b.t);
  const sim: Simulation = { sent: [], offered: 0, refused: 0 };
  const chunks: Array<{ t: number; peer: string; bytes: number }> = [];
  const busyUntil = new Map<string, number>();
  let waiting: Want[] = [];
  let next = 0;
  let nextSize = 0;
  let wasAllowed = limiter.allowed;
  for (let t = 0; t <= seconds * 1000; t++) {
    while (nextSize < sizes.length && sizes[nextSize].t <= t) limiter.noteSegmentSize(sizes[nextSize++].size);
    const allowed = limiter.tick(t);
    const due: Want[] = [];
    while (next < scheduled.length && scheduled[next].t <= t) due.push(scheduled[next++]);
    if (allowed && !wasAllowed) {
      due.push(...waiting.filter((w) => w.until > t));
      waiting = [];
    }
    for (const want of due) {
      if ((busyUntil.get(want.peer) ?? 0) > t) {
        waiting.push(want);
        continue;
      }
      sim.offered++;
      if (!allowed || !limiter.admit(t)) {
        sim.refused++;
        waiting.push(want);
        continue;
      }
      let at = t;
      for (let off = 0; off < want.size; off += CHUNK) {
        const bytes = Math.min(CHUNK, want.size - off);
        chunks.push({ t: at, peer: want.peer, bytes });
        at += Math.ceil((bytes / linkBytesPerSecond) * 1000);
      }
      busyUntil.set(want.peer, at);
    }
    chunks.sort((a, b) => a.t - b.t);
    while (chunks.length > 0 && chunks[0].t <= t) {
      const c = chunks.shift()!;
      limiter.onChunk(c.bytes, c.peer, t);
      sim.sent.push({ t, bytes: c.bytes });
    }
    wasAllowed = limiter.allowed;
  }
  return sim;
}

function worstWindow(sent: Simulation["sent"], windowMs: number, endMs: number): number {
  let worst = 0;
  for (let start = 0; start + windowMs <= endMs; start += 50) {
    let sum = 0;
    for (const s of sent) if (s.t >= start && s.t < start + windowMs) sum += s.bytes;
    worst = Math.max(worst, sum);
  }
  return worst;
}

describe("UploadLimiter", () => {
  for (const [capKbps, peers, seed] of [
    [1500, 3, 1],
    [1000, 4, 2],
    [3000, 6, 3],
    [800, 2, 4],
    [600, 4, 5],
  ] as const) {
    it(`${capKbps} kbit/s, ${peers} peers wanting every segment at once or apart: every 10 s window ≤ cap, and it still uploads`, () => {
      const seconds = 120;
      const sim = simulate(capKbps, peers, seconds, seed);
      const capBytes10s = (capKbps * 1000 * 10) / 8;
      const worst = worstWindow(sim.sent, 10_000, seconds * 1000);
      assert.ok(worst <= capBytes10s * 1.1, `worst 10 s window ${worst} B > 1.1 × ${capBytes10s} B`);
      const total = sim.sent.reduce((a, s) => a + s.bytes, 0);
      const average = (total * 8) / 1000 / seconds;
      assert.ok(sim.refused > 0, "demand exceeds the cap, so some requests must be refused");
      assert.ok(
        average >= capKbps * 0.4,
        `average ${average.toFixed(0)} kbit/s is under 40 % of the ${capKbps} kbit/s cap`,
      );
    });
  }

  for (const peers of [20, 40]) {
    it(`${peers} peers asking at once: every 10 s window ≤ cap (no more concurrent uploads than the budget holds)`, () => {
      const seconds = 120;
      const capKbps = 1000;
      const sim = simulate(capKbps, peers, seconds, 7 + peers);
      const capBytes10s = (capKbps * 1000 * 10) / 8;
      const worst = worstWindow(sim.sent, 10_000, seconds * 1000);
      const total = sim.sent.reduce((a, s) => a + s.bytes, 0);
      const average = (total * 8) / 1000 / seconds;
      console.log(
        `# ${peers} peers, cap ${capKbps} kbit/s: worst 10 s window ${(worst / capBytes10s).toFixed(2)}× the cap, average ${(average / capKbps).toFixed(2)}× the cap`,
      );
      assert.ok(
        worst <= capBytes10s * 1.1,
        `worst 10 s window ${worst} B is ${(worst / capBytes10s).toFixed(2)}× the cap`,
      );
      assert.ok(average <= capKbps * 1.05, `average ${average.toFixed(0)} kbit/s over the ${capKbps} kbit/s cap`);
      assert.ok(average >= capKbps * 0.4, `average ${average.toFixed(0)} kbit/s is under 40 % of the cap`);
    });
  }

  for (const peers of [1, 40]) {
    it(`a cap below one segment per window, ${peers} peer(s): one segment at a time, and the average holds`, () => {
      // 100 kbit/s over 10 s is 125 kB; segments are 150–200 kB.
      const seconds = 240;
      const capKbps = 100;
      const sim = simulate(capKbps, peers, seconds, 11 + peers, 10_000, [150_000, 50_000]);
      const total = sim.sent.reduce((a, s) => a + s.bytes, 0);
      const average = (total * 8) / 1000 / seconds;
      const worst = worstWindow(sim.sent, 10_000, seconds * 1000);
      console.log(
        `# ${peers} peer(s), cap ${capKbps} kbit/s under one segment per window: average ${(average / capKbps).toFixed(2)}× the cap, worst 10 s window ${((worst * 8) / 10_000 / capKbps).toFixed(2)}× (one segment)`,
      );
      assert.ok(average <= capKbps * 1.05, `average ${average.toFixed(0)} kbit/s over the ${capKbps} kbit/s cap`);
      assert.ok(worst <= 200_000, `${worst} B in one 10 s window: more than one segment`);
      assert.ok(total > 0, "nothing uploaded");
    });
  }

  it("lets everything through when demand is under the cap", () => {
    const sim = simulate(20_000, 2, 60, 6);
    assert.equal(sim.refused, 0);
  });

  it("admits no more requests at once than the budget holds, however many peers ask in one task", () => {
    const limiter = new UploadLimiter({
      capBytesPerSecond: 100_000,
      windowMs: 10_000,
      maxChunkBytes: CHUNK,
      initialSegmentBytes: 150_000,
      now: 0,
    });
    const admitted = Array.from({ length: 40 }, () => limiter.admit(0)).filter(Boolean).length;
    assert.equal(admitted, 6); // 6 × 150 kB ≤ 1 MB budget < 7 × 150 kB
    assert.equal(limiter.allowed, false);
    assert.equal(limiter.tick(2001), true, "reservations no peer took lapse");
  });

  it("without per-request admission, reserves one segment per connected peer: they may all start at once", () => {
    const limiter = new UploadLimiter({
      capBytesPerSecond: 100_000,
      windowMs: 10_000,
      maxChunkBytes: CHUNK,
      initialSegmentBytes: 150_000,
      perRequest: false,
      now: 0,
    });
    limiter.onChunk(CHUNK, "a", 0);
    limiter.onChunk(CHUNK, "a", 1);
    limiter.onChunk(20_000, "a", 2); // 151 kB sent, budget 1 MB
    assert.equal(limiter.setPeerCount(5, 3), true); // 151 + 5 × 150 ≤ 1000
    assert.equal(limiter.setPeerCount(6, 3), false); // 151 + 6 × 150 > 1000
    assert.equal(limiter.setPeerCount(1, 3), true);
  });

  it("a cap under one segment per window still lets one segment out per window", () => {
    const limiter = new UploadLimiter({
      capBytesPerSecond: 10_000,
      windowMs: 5000,
      maxChunkBytes: CHUNK,
      initialSegmentBytes: 150_000,
      now: 0,
    });
    assert.equal(limiter.allowed, true);
    limiter.onChunk(CHUNK, "a", 0);
    assert.equal(limiter.allowed, false);
    limiter.onChunk(CHUNK, "a", 10);
    limiter.onChunk(20_000, "a", 20); // the short chunk ends the segment
    assert.equal(limiter.tick(4000), false);
    assert.equal(limiter.tick(5021), true);
    assert.equal(limiter.sentBytes(5021), 0);
  });

  it("forgets a segment whose peer went quiet, and refuses bad parameters", () => {
    const limiter = new UploadLimiter({
      capBytesPerSecond: 50_000,
      windowMs: 1000,
      maxChunkBytes: CHUNK,
      initialSegmentBytes: 30_000,
      now: 0,
    });
    limiter.onChunk(CHUNK, "a", 0);
    assert.equal(limiter.tick(500), false);
    assert.equal(limiter.tick(2500), true);
    assert.throws(
      () =>
        new UploadLimiter({
          capBytesPerSecond: 0,
          windowMs: 1000,
          maxChunkBytes: CHUNK,
          initialSegmentBytes: 1,
          now: 0,
        }),
      /capBytesPerSecond must be a positive number/,
    );
  });
});

describe("UploadGovernor", () => {
  const base = { windowMs: 5000, maxChunkBytes: CHUNK, initialSegmentBytes: 100_000, tickMs: 20 };

  it("a viewer whose playback struggles serves nobody until it recovers", () => {
    const calls: boolean[] = [];
    const g = new UploadGovernor({ ...base, upload: true, maxUploadKbps: undefined }, (d) => calls.push(d));
    assert.equal(g.admit(), true);
    g.setPausedForPlayback(true);
    assert.deepEqual(calls, [true]);
    assert.equal(g.admit(), false);
    assert.equal(g.stats().pausedForPlayback, true);
    g.setPausedForPlayback(false);
    assert.deepEqual(calls, [true, false]);
    assert.equal(g.admit(), true);
  });

  it("upload: false starts disabled and never switches", () => {
    const calls: boolean[] = [];
    const g = new UploadGovernor({ ...base, upload: false, maxUploadKbps: 100 }, (d) => calls.push(d));
    assert.equal(g.initiallyDisabled, true);
    g.onChunkUploaded(CHUNK, "a");
    assert.deepEqual(calls, []);
    assert.deepEqual(g.stats(), {
      mode: false,
      enabled: false,
      withheldBy: null,
      capKbps: null,
      limited: false,
      limitedCount: 0,
      refusedRequests: 0,
      windowBytes: 0,
      pausedForPlayback: false,
      uplink: null,
      yield: null,
    });
    g.destroy();
  });

  it("switches PML's upload off at the cap and back on once the window has room", async () => {
    let now = 0;
    const calls: boolean[] = [];
    const g = new UploadGovernor(
      { ...base, upload: true, maxUploadKbps: 400 },
      (d) => calls.push(d),
      () => now,
    );
    assert.equal(g.initiallyDisabled, false);
    g.onSegmentLoaded(100_000);
    g.onChunkUploaded(CHUNK, "a"); // 250 kB budget: 65 kB sent + 35 kB to come + 100 kB next fits
    assert.deepEqual(calls, []);
    g.onChunkUploaded(34_465, "a");
    g.onChunkUploaded(CHUNK, "b"); // 165 kB committed + 100 kB next > 250 kB
    assert.deepEqual(calls, [true]);
    assert.equal(g.stats().limited, true);
    assert.equal(g.stats().limitedCount, 1);
    now = 5001;
    await waitFor(() => calls.length === 2, {
      what: "the governor's next tick to lift the cap",
      timeout: 3000,
      interval: 10,
    });
    assert.deepEqual(calls, [true, false]);
    assert.equal(g.stats().limited, false);
    assert.equal(g.stats().capKbps, 400);
    g.destroy();
  });
});
