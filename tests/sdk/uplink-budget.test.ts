import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "../../devkit/wait";
import { edgeFetchDelaySec } from "../../sdk/src/live/edge-timing";
import { UploadGovernor } from "../../sdk/src/upload/upload-governor";
import { UplinkBudget } from "../../sdk/src/upload/uplink-budget";

const OPTIONS = {
  deadlineSegments: 1,
  windowMs: 60_000,
  rememberMs: 600_000,
  staleMs: 10_000,
  minStretchMs: 200,
  probeMs: 60_000,
};
const MBIT = 1_000_000 / 8;
const SAMPLE_MS = 500;

/** Admits an upload of `bytes` and has PML write it at once, as Node's data channels take it. */
function send(budget: UplinkBudget, bytes: number, at: number): void {
  budget.reserve(bytes, at);
  budget.onChunk(bytes, at);
}

/**
 * A link of `bytesPerSecond` carrying what was written, read every 500 ms as the SDK reads its
 * peer connections' counters, from `from` to `to` (ms). `extra` bytes per sample stand for
 * retransmissions and acknowledgements. Returns the time reached.
 */
function carry(budget: UplinkBudget, bytesPerSecond: number, from: number, to: number, extra = 0): number {
  let t = from;
  while (t + SAMPLE_MS <= to) {
    t += SAMPLE_MS;
    const backlog = budget.backlog(t);
    const sent = Math.min(backlog, (bytesPerSecond * SAMPLE_MS) / 1000);
    budget.onWireSample(sent + (sent > 0 ? extra : 0), t);
  }
  return t;
}

describe("UplinkBudget", () => {
  for (const [mbps, within] of [
    [1, 0.1],
    [5, 0.1],
    [20, 0.35],
  ]) {
    it(`measures a ${mbps} Mbit/s uplink on the wire while 875 KB segments go out: a lower bound within ${within * 100} %`, () => {
      const budget = new UplinkBudget(OPTIONS);
      let t = 0;
      for (let i = 0; i < 4; i++) {
        send(budget, 875_000, t);
        send(budget, 875_000, t);
        t = carry(budget, mbps * MBIT, t, t + Math.ceil(1_750_000 / (mbps * MBIT)) * 1000 + 1000);
      }
      const estimate = budget.estimate(t) as number;
      const ratio = estimate / (mbps * MBIT);
      assert.ok(ratio <= 1 && ratio > 1 - within, `estimate ${((estimate * 8) / 1e6).toFixed(2)} Mbit/s`);
    });
  }

  it("a busy stretch ends when the wire has carried what was written: the idle time after it does not count", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 1_250_000, 0);
    const t = carry(budget, 5 * MBIT, 0, 10_000);
    assert.equal(budget.backlog(t), 0);
    const estimate = budget.estimate(t) as number;
    assert.ok(Math.abs(estimate / (5 * MBIT) - 1) < 0.01, `estimate ${(estimate * 8) / 1e6} Mbit/s`);
  });

  it("a slow receiver's stretch does not lower the estimate while a faster one is in the window", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 2_500_000, 0);
    let t = carry(budget, 5 * MBIT, 0, 5000);
    send(budget, 1_000_000, t);
    t = carry(budget, 1 * MBIT, t, t + 10_000);
    const estimate = budget.estimate(t) as number;
    assert.ok(Math.abs(estimate / (5 * MBIT) - 1) < 0.01, `estimate ${(estimate * 8) / 1e6} Mbit/s`);
  });

  it("admits one upload at a time before anything is measured", () => {
    const budget = new UplinkBudget(OPTIONS);
    assert.equal(budget.fits(400_000, 2, 0), true);
    budget.reserve(400_000, 0);
    assert.equal(budget.fits(400_000, 2, 0), false, "a second request waits for the first measurement");
    assert.equal(budget.sendsInTime(2, 0), true, "unmeasured: may seed");
    assert.equal(budget.copiesInTime(2, 0), undefined);
  });

  it("refuses what a 1 Mbit/s uplink cannot send within a segment duration, and says it cannot seed", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 600_000, 0);
    const t = carry(budget, MBIT, 0, 6000);
    budget.noteSegmentSize(400_000);
    assert.equal(budget.fits(400_000, 2, t), false, "400 KB at 1 Mbit/s takes 3.2 s > 2 s");
    assert.equal(budget.fits(200_000, 2, t), true, "200 KB takes 1.6 s");
    assert.equal(budget.sendsInTime(2, t), false);
    assert.equal(budget.sendsInTime(4, t), true, "a 4 s segment of the same size fits");
    const copies = budget.copiesInTime(2, t) ?? NaN;
    assert.ok(copies > 0.55 && copies < 0.65, `copies in 2 s: ${copies} (about 250 KB of 400 KB)`);
  });

  it("on 5 Mbit/s admits one 875 KB segment at a time: the backlog counts until the wire carried it", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 1_000_000, 0);
    let t = carry(budget, 5 * MBIT, 0, 3000);
    assert.equal(budget.fits(875_000, 2, t), true);
    budget.reserve(875_000, t);
    assert.equal(budget.fits(875_000, 2, t), false, "two would leave after 2.8 s");
    budget.onChunk(875_000, t);
    t = carry(budget, 5 * MBIT, t, t + 1500);
    assert.equal(budget.backlog(t), 0);
    assert.equal(budget.fits(875_000, 2, t), true, "admits again once the first is out");
  });

  it("retransmissions and acknowledgements counted on the wire raise the estimate only by their share", () => {
    const budget = new UplinkBudget(OPTIONS);
    for (let i = 0; i < 3; i++) send(budget, 875_000, 0);
    const t = carry(budget, MBIT, 0, 20_000, 0.1 * MBIT * (SAMPLE_MS / 1000));
    const estimate = budget.estimate(t) as number;
    assert.ok(estimate < 1.15 * MBIT, `estimate ${(estimate * 8) / 1e6} Mbit/s`);
  });

  it("protocol overhead counted on the wire does not hand one stretch's tail to the next upload", () => {
    // The counters carry 10 % more than was written (headers, retransmissions): "everything
    // written counted" comes while the last 10 % still waits for the wire.
    const wireRate = 5 * MBIT;
    const overhead = 0.1;
    const budget = new UplinkBudget(OPTIONS);
    let data = 0;
    const write = (bytes: number, at: number) => {
      send(budget, bytes, at);
      data += bytes;
    };
    const carryData = (from: number, to: number) => {
      let t = from;
      while (t + SAMPLE_MS <= to) {
        t += SAMPLE_MS;
        const wire = Math.min(data * (1 + overhead), (wireRate * SAMPLE_MS) / 1000);
        data -= wire / (1 + overhead);
        budget.onWireSample(wire, t);
      }
      return t;
    };
    write(2_500_000, 0);
    let t = carryData(0, 4000);
    write(100_000, t + 300); // the next request, between two readings
    t = carryData(t, t + 6000);
    assert.equal(budget.busy(t), false);
    const estimate = budget.estimate(t) as number;
    assert.ok(estimate <= 1.02 * wireRate, `estimate ${((estimate * 8) / 1e6).toFixed(2)} Mbit/s on a 5 Mbit/s link`);
  });

  it("an uploader that never pauses is measured every few seconds", () => {
    const budget = new UplinkBudget(OPTIONS);
    let t = 0;
    for (let i = 0; i < 6; i++) {
      send(budget, 400_000, t);
      t = carry(budget, MBIT, t, t + 2000); // 400 KB every 2 s on 1 Mbit/s: always behind
    }
    assert.ok(budget.backlog(t) > 0, "still sending");
    const estimate = budget.estimate(t) as number;
    assert.ok(Math.abs(estimate / MBIT - 1) < 0.05, `estimate ${((estimate * 8) / 1e6).toFixed(2)} Mbit/s`);
  });

  it("an upload admitted but never written (its requester cancelled) is no rate sample, and lapses after staleMs", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 2_500_000, 0);
    let t = carry(budget, 5 * MBIT, 0, 5000);
    budget.reserve(400_000, t);
    t = carry(budget, 5 * MBIT, t, t + 9000);
    assert.equal(budget.backlog(t), 400_000);
    assert.ok((budget.estimate(t) as number) > 4.5 * MBIT, "waiting on PML is not a slow link");
    assert.equal(budget.backlog(t + 1500), 0);
    assert.equal(budget.busy(t + 1500), false);
  });

  it("bytes a dead connection never sends stop counting after staleMs, and its silence is no sample", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 400_000, 0);
    let t = carry(budget, 0, 0, 5000);
    assert.equal(budget.estimate(t), undefined);
    t = carry(budget, 0, t, 11_000);
    assert.equal(budget.backlog(t), 0);
  });

  it("a hold for this viewer's own fetch is no slow stretch: the stretch is frozen for the hold, its quiet wire not counted", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 1_250_000, 0);
    let t = carry(budget, 5 * MBIT, 0, 1000);
    budget.setHeld(true, t);
    // Nothing leaves for 1.5 s while the fetch runs.
    t = carry(budget, 0, t, t + 1500);
    assert.equal(budget.estimate(t), undefined, "a stretch was measured at the hold");
    budget.setHeld(false, t);
    t = carry(budget, 5 * MBIT, t, t + 5000);
    assert.equal(budget.backlog(t), 0);
    const estimate = budget.estimate(t) as number;
    assert.ok(Math.abs(estimate / (5 * MBIT) - 1) < 0.01, `estimate ${(estimate * 8) / 1e6} Mbit/s`);
  });

  it("a slow uplink is not measured again at every window: one upload measures it after probeMs, then at doubling intervals", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 400_000, 0);
    let t = carry(budget, MBIT, 0, 5000);
    assert.equal(budget.fits(400_000, 2, t), false);
    assert.equal(budget.fits(400_000, 2, t + 50_000), false, "measured less than probeMs ago");
    // Past the window nothing new was measured (the slow viewer served nobody): still too slow.
    assert.equal(budget.sendsInTime(2, t + 61_000), true, "no segment size noted yet: nothing to judge");
    budget.noteSegmentSize(400_000);
    assert.equal(budget.sendsInTime(2, t + 61_000), false);
    t += 61_000;
    assert.equal(budget.fits(400_000, 2, t), true, "a probe");
    assert.equal(budget.fits(400_000, 2, t), false, "one probe at a time");
    budget.reserve(400_000, t);
    budget.onChunk(400_000, t);
    t = carry(budget, MBIT, t, t + 5000);
    assert.equal(budget.stats(t).probes, 1);
    assert.equal(budget.fits(400_000, 2, t + 61_000), false, "still slow: the next probe waits twice as long");
    assert.equal(budget.fits(400_000, 2, t + 121_000), true);
    assert.equal(budget.stats(t + 121_000).probes, 2);
  });

  it("a fast uplink left refusing everything by one slow receiver is measured again after probeMs", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 800_000, 0);
    let t = carry(budget, 2 * MBIT, 0, 5000); // the receiver's path takes 2 Mbit/s of a 5 Mbit/s uplink
    budget.noteSegmentSize(800_000);
    assert.equal(budget.fits(800_000, 2, t), false, "800 KB at 2 Mbit/s takes 3.2 s > 2 s");
    assert.equal(budget.fits(800_000, 2, t + 30_000), false);
    t += 60_000;
    assert.equal(budget.fits(800_000, 2, t), true, "a probe");
    budget.reserve(800_000, t);
    budget.onChunk(800_000, t);
    t = carry(budget, 5 * MBIT, t, t + 3000);
    assert.equal(budget.sendsInTime(2, t), true);
    assert.equal(budget.fits(800_000, 2, t), true, "admitted as the link allows");
  });

  it("a fresh stretch within the window replaces the remembered estimate", () => {
    const budget = new UplinkBudget(OPTIONS);
    send(budget, 400_000, 0);
    let t = carry(budget, MBIT, 0, 5000);
    t += 120_000;
    send(budget, 1_250_000, t);
    t = carry(budget, 5 * MBIT, t, t + 5000);
    const estimate = budget.estimate(t) as number;
    assert.ok(Math.abs(estimate / (5 * MBIT) - 1) < 0.05, `estimate ${(estimate * 8) / 1e6} Mbit/s`);
  });

  it("refuses bad options by name", () => {
    assert.throws(() => new UplinkBudget({ ...OPTIONS, windowMs: 0 }), /windowMs must be a positive number/);
  });
});

describe("UploadGovernor with an uplink budget", () => {
  it("reads the wire while uploads are under way, answers 'absent' to what cannot leave in time, and stops seeding", async () => {
    let now = 0;
    let wire = 0;
    const reads: number[] = [];
    const g = new UploadGovernor(
      {
        upload: true,
        maxUploadKbps: undefined,
        windowMs: 10_000,
        maxChunkBytes: 64 * 1024,
        initialSegmentBytes: 256 * 1024,
        tickMs: 250,
        perRequest: true,
        uplink: {
          ...OPTIONS,
          sampleMs: 5,
          // A 1 Mbit/s link: each read, 500 ms of it passed (the clock is the test's).
          sentBytes: () => {
            reads.push(now);
            now += 500;
            const sent = Math.min(wire, MBIT / 2);
            wire -= sent;
            return Promise.resolve(sent);
          },
        },
      },
      () => undefined,
      () => now,
    );
    assert.equal(g.admit(600_000, 2), true);
    g.onChunkUploaded(600_000, "p0");
    wire = 600_000;
    await waitFor(() => (g.stats().uplink?.backlogBytes ?? 1) === 0, { what: "the upload went out" });
    g.onSegmentLoaded(400_000);
    assert.equal(g.admit(400_000, 2), false);
    assert.equal(g.canServe(2), false);
    assert.ok((g.serveCopies(2) ?? NaN) < 1, `copies ${g.serveCopies(2)}`);
    const uplink = g.stats().uplink;
    assert.ok(uplink && uplink.refusedRequests === 1 && uplink.estimateBps !== null);
    assert.ok(Math.abs(uplink.estimateBps / 1e6 - 1) < 0.1, `estimate ${uplink.estimateBps}`);
    const readsWhenIdle = reads.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(reads.length, readsWhenIdle, "no reads while nothing is under way");
    assert.equal(g.admit(400_000, undefined), true, "without a duration the uplink is not consulted");
    g.destroy();
  });
});

describe("edge fetch delay of a viewer that cannot serve", () => {
  it("waits out the whole spread, so a viewer that can pass the segment on fetches first", () => {
    const timing = { reserveSec: 1, maxSpreadSec: 3, seedCopies: 4 };
    assert.equal(edgeFetchDelaySec(4, 7, 0, timing, 0), 3);
    assert.equal(edgeFetchDelaySec(2.5, 7, 0.1, timing, 0.8), 1.5);
    assert.equal(edgeFetchDelaySec(4, 0, 0.5, timing, 0), 0, "alone: nobody else will fetch it");
    assert.equal(edgeFetchDelaySec(4, 7, 0.5, timing, 4), 1.5);
  });
});
