import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlidingRate } from "../../sdk/src/stats/rate";
import { StatsAccumulator } from "../../sdk/src/stats/accumulator";
import { CdnHealth } from "../../sdk/src/stats/cdn-health";

const T0 = 1_700_000_000_000;

describe("SlidingRate", () => {
  it("averages bytes over the window once the window is full", () => {
    const r = new SlidingRate(4000, T0);
    r.add(1000, T0 + 1001);
    r.add(3000, T0 + 4500);
    assert.equal(r.rate(T0 + 5000), (1000 + 3000) / 4, "both samples inside (T0+1000, T0+5000]");
    assert.equal(r.rate(T0 + 5001), 3000 / 4, "the first sample left the window");
    assert.equal(r.rate(T0 + 8500), 0, "a sample exactly windowMs old is out");
  });

  it("divides by the real age while younger than the window, at least one second", () => {
    const r = new SlidingRate(5000, T0);
    r.add(2000, T0 + 100);
    assert.equal(r.rate(T0 + 500), 2000, "0.5 s old: divided by the 1 s floor");
    assert.equal(r.rate(T0 + 2000), 1000, "2 s old: divided by 2 s");
  });

  it("keeps an exact sum across many samples and compactions", () => {
    const r = new SlidingRate(1000, T0);
    for (let i = 1; i <= 10_000; i++) r.add(10, T0 + i);
    // Samples at T0+9001 … T0+10000 are inside (9000, 10000].
    assert.equal(r.rate(T0 + 10_000), 1000 * 10);
    assert.equal(r.rate(T0 + 20_000), 0);
  });
});

describe("StatsAccumulator", () => {
  const make = (p2pEnabled = true) => new StatsAccumulator({ rateWindowMs: 2000, p2pEnabled, now: T0 });

  it("starts at zero with offloadRatio 0", () => {
    const s = make().snapshot(T0);
    assert.deepEqual(
      { ...s, tracker: undefined },
      {
        p2pEnabled: true,
        httpBytes: 0,
        p2pBytes: 0,
        uploadedBytes: 0,
        offloadRatio: 0,
        httpSegments: 0,
        p2pSegments: 0,
        downloadRate: 0,
        httpDownloadRate: 0,
        p2pDownloadRate: 0,
        uploadRate: 0,
        peers: [],
        tracker: undefined,
      },
    );
    assert.deepEqual(s.tracker, { errors: 0, warnings: 0, lastError: null, reconnects: 0 });
  });

  it("splits HTTP and P2P bytes and computes the offload ratio", () => {
    const a = make();
    a.peerConnected("peerA", T0);
    a.bytesDownloaded(300, "http", undefined, T0 + 100);
    a.bytesDownloaded(600, "p2p", "peerA", T0 + 200);
    a.bytesDownloaded(100, "p2p", "peerA", T0 + 300);
    a.segmentLoaded("http", undefined);
    a.segmentLoaded("p2p", "peerA");
    const s = a.snapshot(T0 + 2000);
    assert.equal(s.httpBytes, 300);
    assert.equal(s.p2pBytes, 700);
    assert.equal(s.offloadRatio, 0.7);
    assert.equal(s.httpSegments, 1);
    assert.equal(s.p2pSegments, 1);
    assert.equal(s.httpDownloadRate, 150);
    assert.equal(s.p2pDownloadRate, 350);
    assert.equal(s.downloadRate, 500);
  });

  it("keeps per-peer bytes, rates and segments, and forgets closed peers but not their bytes", () => {
    const a = make();
    a.peerConnected("A", T0 + 10);
    a.peerConnected("B", T0 + 20);
    a.bytesDownloaded(1000, "p2p", "A", T0 + 500);
    a.bytesUploaded(400, "B", T0 + 600);
    a.bytesUploaded(200, "A", T0 + 700);
    a.segmentLoaded("p2p", "A");
    let s = a.snapshot(T0 + 2000);
    assert.equal(s.uploadedBytes, 600);
    assert.equal(s.uploadRate, 300);
    // Per-peer windows start at the connection: 1.99 s and 1.98 s old here.
    const byId = Object.fromEntries(s.peers.map((p) => [p.id, p]));
    assert.deepEqual(byId.A, {
      id: "A",
      bytesDown: 1000,
      bytesUp: 200,
      downRate: 1000 / 1.99,
      upRate: 200 / 1.99,
      segmentsDown: 1,
      connectedAt: T0 + 10,
    });
    assert.deepEqual(byId.B, {
      id: "B",
      bytesDown: 0,
      bytesUp: 400,
      downRate: 0,
      upRate: 400 / 1.98,
      segmentsDown: 0,
      connectedAt: T0 + 20,
    });

    a.peerClosed("A");
    s = a.snapshot(T0 + 2000);
    assert.deepEqual(
      s.peers.map((p) => p.id),
      ["B"],
    );
    assert.equal(s.p2pBytes, 1000, "totals survive the peer");
    assert.equal(s.uploadedBytes, 600);
  });

  it("counts a peer connected on two streams until both close", () => {
    const a = make();
    a.peerConnected("A", T0);
    a.peerConnected("A", T0 + 5);
    a.peerClosed("A");
    assert.equal(a.snapshot(T0).peers.length, 1);
    a.peerClosed("A");
    assert.equal(a.snapshot(T0).peers.length, 0);
    a.peerClosed("never-seen");
  });

  it("lets rates decay to zero once traffic stops", () => {
    const a = make();
    a.peerConnected("A", T0);
    a.bytesDownloaded(5000, "p2p", "A", T0 + 100);
    a.bytesUploaded(5000, "A", T0 + 100);
    const s = a.snapshot(T0 + 10_000);
    assert.equal(s.downloadRate, 0);
    assert.equal(s.uploadRate, 0);
    assert.equal(s.peers[0].downRate, 0);
    assert.equal(s.p2pBytes, 5000);
  });

  it("counts HTTP-only playback when P2P is off", () => {
    const a = make(false);
    for (let i = 0; i < 3; i++) {
      a.bytesDownloaded(1000, "http", undefined, T0 + i * 100);
      a.segmentLoaded("http", undefined);
    }
    const s = a.snapshot(T0 + 1000);
    assert.equal(s.p2pEnabled, false);
    assert.equal(s.httpBytes, 3000);
    assert.equal(s.httpSegments, 3);
    assert.equal(s.p2pBytes, 0);
    assert.equal(s.offloadRatio, 0);
  });

  it("ignores empty chunks and records tracker problems", () => {
    const a = make();
    a.bytesDownloaded(0, "http", undefined, T0);
    a.bytesDownloaded(Number.NaN, "p2p", "A", T0);
    a.trackerProblem("error", "connection refused");
    a.trackerProblem("warning", "failure reply");
    const s = a.snapshot(T0);
    assert.equal(s.httpBytes + s.p2pBytes, 0);
    assert.deepEqual(s.tracker, { errors: 1, warnings: 1, lastError: "failure reply", reconnects: 0 });
  });
});

describe("CdnHealth", () => {
  it("counts failures, times each outage until the next success, and the peer segments meanwhile", () => {
    const cdn = new CdnHealth();
    cdn.segmentFromPeer();
    cdn.succeeded(1000);
    assert.deepEqual(cdn.stats(1000), {
      failures: 0,
      failing: false,
      outages: 0,
      outageMs: 0,
      peerSegmentsDuringOutage: 0,
      lastFailure: null,
    });
    cdn.failed("HTTP 503", 2000);
    cdn.failed("no answer in time", 2500);
    cdn.segmentFromPeer();
    cdn.segmentFromPeer();
    assert.deepEqual(cdn.stats(4000), {
      failures: 2,
      failing: true,
      outages: 1,
      outageMs: 2000,
      peerSegmentsDuringOutage: 2,
      lastFailure: "no answer in time",
    });
    assert.equal(cdn.failedWithin(10_000, 12_000), true, "failing, the last failure 9.5 s ago");
    assert.equal(cdn.failedWithin(10_000, 12_500), false, "failing, but nothing tried for 10 s");
    cdn.succeeded(6000);
    assert.equal(cdn.failedWithin(10_000, 6000), false, "a success ends it");
    cdn.segmentFromPeer();
    cdn.failed("HTTP 500", 7000);
    cdn.succeeded(7500);
    const after = cdn.stats(9000);
    assert.equal(after.failing, false);
    assert.equal(after.outages, 2);
    assert.equal(after.outageMs, 4500);
    assert.equal(after.peerSegmentsDuringOutage, 2, "a peer segment after the outage does not count");
  });
});
