// Virtual viewers: Node processes playing the live stream with the simulated player through the
// SDK's engine entry (or stock PML, in the pml-defaults mode) over real WebRTC (@roamhq/wrtc),
// against the real origin and tracker.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startTracker, type RunningTracker } from "../../tracker/src/index";
import { buildViewerBundle } from "../../bench/audience/viewer-build";
import { VirtualViewerProcess } from "../../bench/audience/virtual-process";
import { EwmaBandwidthEstimator } from "../../bench/audience/ewma";
import { parseMediaPlaylist, parseMultivariant } from "../../bench/audience/hls-playlist";
import { hlsDefaults } from "../../bench/audience/player-config";
import { SimulatedPlayer } from "../../bench/audience/simulated-player";

describe("virtual viewer", () => {
  let origin: Origin;
  let tracker: RunningTracker;
  before(async () => {
    [origin, tracker] = await Promise.all([
      startOrigin(),
      startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent" }),
      buildViewerBundle({ stockPml: true }),
    ]);
  });
  after(async () => {
    await Promise.all([origin?.close(), tracker?.close()]);
  });

  it("estimates bandwidth like hls.js: the default until a sample, then the lower of two averages", () => {
    const ewma = new EwmaBandwidthEstimator(3, 9, 500_000);
    assert.equal(ewma.getEstimate(), 500_000);
    ewma.sample(1000, 1_000_000 / 8);
    assert.ok(Math.abs(ewma.getEstimate() - 1_000_000) < 1, "one sample is the estimate");
    ewma.sample(1000, 4_000_000 / 8);
    const after = ewma.getEstimate();
    assert.ok(after > 1_000_000 && after < 4_000_000, `${after}`);
    ewma.sample(1, 1_000_000);
    assert.ok(ewma.getEstimate() < after * 10, "a 1 ms download counts as 50 ms");
  });

  it("reads renditions and segments with their program date-times", () => {
    const renditions = parseMultivariant(
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",FRAME-RATE=30\nlow/index.m3u8\n',
      "http://o/live/index.m3u8",
    );
    assert.deepEqual(renditions, [
      {
        url: "http://o/live/low/index.m3u8",
        bitrate: 900000,
        videoCodec: "avc1.4d401e",
        width: 640,
        height: 360,
        frameRate: "30",
      },
    ]);
    const playlist = parseMediaPlaylist(
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n#EXTINF:2.000,\nseg-7.ts\n#EXTINF:2.000,\nseg-8.ts\n",
      "http://o/live/index.m3u8",
    );
    assert.equal(playlist.live, true);
    assert.deepEqual(
      playlist.segments.map((s) => [s.sn, s.url, s.programDateMs - Date.parse("2026-01-01T00:00:00Z")]),
      [
        [7, "http://o/live/seg-7.ts", 0],
        [8, "http://o/live/seg-8.ts", 2000],
      ],
    );
  });

  it(
    "records each stall with the segment it waited for and how long that request had run",
    { timeout: 60_000 },
    async () => {
      let loads = 0;
      let slowUrl: string | undefined;
      // The first segment plays while the second is held back longer than it lasts.
      const holdMs = 7000;
      const player = new SimulatedPlayer(origin.liveUrl("stall-log"), hlsDefaults(), async (segment) => {
        if (loads++ === 1) {
          slowUrl = segment.url;
          await new Promise((r) => setTimeout(r, holdMs));
        }
        const response = await fetch(segment.url);
        return { data: await response.arrayBuffer(), bandwidthBps: 10_000_000 };
      });
      try {
        await player.loadManifest();
        await player.start();
        const deadline = Date.now() + 30_000;
        while (player.stallLog[0]?.durationMs == null && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 200));
      } finally {
        player.stop();
      }
      const [stall] = player.stallLog;
      assert.ok(stall, "no stall recorded");
      assert.equal(stall.url, slowUrl);
      assert.ok(stall.durationMs! > 0 && stall.durationMs! < holdMs, `lasted ${stall.durationMs} ms`);
      assert.ok(stall.requestedMsBefore! > 0 && stall.requestedMsBefore! < holdMs, `${stall.requestedMsBefore} ms`);
      assert.ok(stall.latency !== null && stall.latency > 0);
      assert.equal(player.counters.stalls, player.stallLog.length);
    },
  );

  it(
    "three SDK viewers play at the SDK's latency and share; two stock PML viewers of the same swarm id share only with each other",
    { timeout: 180_000 },
    async () => {
      const swarmId = `virtual-${Date.now()}`;
      const start = (id: string, mode: "swarmcast" | "pml-defaults") =>
        new VirtualViewerProcess({
          id,
          mode,
          manifestUrl: origin.liveUrl(`virtual-${id}`),
          trackers: [tracker.url],
          swarmId,
          iceServers: [],
          sampleIntervalMs: 1000,
        });
      const viewers = ["a", "b", "c"].map((id) => start(id, "swarmcast"));
      const stock = ["pml-a", "pml-b"].map((id) => start(id, "pml-defaults"));
      const all = [...viewers, ...stock];
      try {
        for (const viewer of all) viewer.start();
        const deadline = Date.now() + 150_000;
        const enough = () =>
          all.every((v) => (v.last?.watchMs ?? 0) >= 20_000) &&
          viewers.some((v) => (v.last?.p2pBytes ?? 0) > 0) &&
          viewers.some((v) => (v.last?.liveEdge?.relayed ?? 0) > 0) &&
          stock.some((v) => (v.last?.p2pBytes ?? 0) > 0);
        while (!enough() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
      } finally {
        await Promise.all(all.map((v) => v.stop()));
      }
      for (const v of all)
        assert.ok(v.last && v.last.firstFrameAt !== null, `${v.config.id} never played: ${v.problems.join(" | ")}`);
      const last = viewers.map((v) => v.last!);
      for (const s of last) assert.ok(s.latency !== null && s.latency > 4 && s.latency < 10, `latency ${s.latency}`);
      const p2p = last.reduce((sum, s) => sum + s.p2pBytes, 0);
      const uploaded = last.reduce((sum, s) => sum + s.uploadedBytes, 0);
      assert.ok(p2p > 0, "no segment crossed between the SDK's virtual viewers");
      assert.ok(Math.abs(uploaded - p2p) <= 0.05 * p2p + 200_000, `uploaded ${uploaded} vs received from peers ${p2p}`);
      // A viewer pulling a new segment from a peer announces it at the first bytes (a relay).
      assert.ok(
        last.some((s) => (s.liveEdge?.relayed ?? 0) > 0),
        `relayed: ${last.map((s) => s.liveEdge?.relayed).join(", ")}`,
      );
      const connected = last.reduce((sum, s) => sum + s.connections.connected, 0);
      assert.ok(connected >= 2, `peer connections counted: ${connected}`);
      // What a soak watches: the SDK's store (stats().storage) holds what was played, the process its heap.
      for (const s of last) {
        const r = s.resources!;
        assert.ok(r.storeSegments! >= 2 && r.storeBytes! > 100_000, `store ${r.storeSegments} / ${r.storeBytes} B`);
        assert.ok(r.heapUsedBytes! > 1e6 && r.timers! > 0, `heap ${r.heapUsedBytes} B, timers ${r.timers}`);
      }
      for (const v of stock) assert.equal(v.last!.resources!.storeSegments, null, "stock PML has no SDK store");
      for (const v of all) {
        const stalls = v.last!.stallLog ?? [];
        assert.equal(stalls.length, Math.min(v.last!.stalls, 20), `${v.config.id}: every stall recorded`);
        for (const stall of stalls)
          if (stall.url)
            assert.ok(
              stall.trace.some((step) => step.endsWith(" requested")),
              stall.trace.join(", "),
            );
      }
      // Stock PML announces the swarm id as given, the SDK its wire-versioned one: two swarms.
      assert.ok(
        stock.some((v) => v.last!.p2pBytes > 0),
        "no segment crossed between the stock PML viewers",
      );
      for (const v of stock)
        assert.ok(v.last!.peers <= 1, `${v.config.id} has ${v.last!.peers} peers: it met the SDK's viewers`);
      for (const s of last) assert.ok(s.peers <= 2, `an SDK viewer has ${s.peers} peers: it met stock PML`);
    },
  );
});

describe("offload bound", () => {
  it("is the copy bound with plenty of uplink and the uplink bound without, byte-weighted in total", async () => {
    const { renditionBound, totalBound } = await import("../../bench/audience/bound");
    const plenty = renditionBound([20e6, 20e6, 20e6, 20e6], 1.6e6);
    assert.equal(plenty.bound, 0.75);
    assert.equal(plenty.binding, "copies");
    const starved = renditionBound([1e6, 1e6, 1e6, 1e6], 3.2e6);
    assert.equal(starved.bound, 1 / 3.2);
    assert.equal(starved.binding, "uplink");
    assert.equal(totalBound([plenty, starved], [1, 3]), (0.75 + 3 / 3.2) / 4);
  });
});
