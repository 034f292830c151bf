// attach() in real Chromium: real WebRTC between viewers, our tracker over WebSockets, the
// local live origin as the CDN. Margins are wide on purpose: offload figures belong to bench/.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { openViewer, type Viewer, type ViewerState } from "./viewer";
import { useStage } from "../../devkit/stage";
import { waitFor } from "../../devkit/wait";

const stage = useStage();

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves once the viewer has decoded a frame: it plays, and has segments to share. */
function playing(viewer: Viewer): Promise<ViewerState> {
  return waitFor(
    async () => {
      const state = await viewer.read();
      return state.frames > 0 && state;
    },
    { what: `${viewer.id} to decode its first frame` },
  );
}

function assertPlays(id: string, start: ViewerState, end: ViewerState, minSeconds: number) {
  assert.equal(end.attachError, null, `${id}: attach threw`);
  assert.ok(
    end.currentTime - start.currentTime >= minSeconds,
    `${id}: currentTime went ${start.currentTime} → ${end.currentTime}`,
  );
  assert.ok(end.frames > start.frames, `${id}: decoded frames did not advance (${start.frames} → ${end.frames})`);
  const fatal = end.errors.filter((e) => e.fatal);
  assert.deepEqual(fatal, [], `${id}: fatal errors`);
}

describe("attach() in Chromium", () => {
  it("three viewers of the live stream play and share segments over WebRTC", { timeout: 60_000 }, async () => {
    const swarm = `live-${Date.now()}`;
    const viewers: Viewer[] = [];
    const starts: ViewerState[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const id = `viewer${i}`;
        const viewer = await openViewer(stage.browser, stage.pages.url, id, {
          src: stage.origin.liveUrl(id),
          tracker: stage.tracker.url,
          swarm,
        });
        viewers.push(viewer);
        // The next viewer joins once this one plays, so it has segments to offer.
        await playing(viewer);
      }
      for (const v of viewers) starts.push(await v.read());

      let states: ViewerState[] = [];
      await waitFor(
        async () => {
          states = await Promise.all(viewers.map((v) => v.read()));
          const p2p = states.reduce((sum, s) => sum + (s.stats?.p2pBytes ?? 0), 0);
          return p2p > 0 && states.every((s, i) => s.currentTime - starts[i].currentTime >= 12);
        },
        { what: "every viewer to play 12 s and the swarm to share bytes", timeout: 35_000, interval: 1000 },
      );

      const consumed = states.reduce((sum, s) => sum + s.stats!.httpBytes + s.stats!.p2pBytes, 0);
      const p2p = states.reduce((sum, s) => sum + s.stats!.p2pBytes, 0);
      const egress = stage.origin.egress();
      console.log(
        `# P2P share ${((100 * p2p) / consumed).toFixed(1)} % of ${(consumed / 1e6).toFixed(2)} MB consumed; ` +
          `origin segment egress ${(egress.segmentBytes / 1e6).toFixed(2)} MB; per viewer: ` +
          states
            .map(
              (s, i) =>
                `${viewers[i].id} ${(100 * s.stats!.offloadRatio).toFixed(0)} % (${s.stats!.peers.length} peers)`,
            )
            .join(", "),
      );
      states.forEach((s, i) => assertPlays(viewers[i].id, starts[i], s, 12));
      assert.ok(p2p > 0, "no bytes from peers");
      assert.ok(egress.segmentBytes < consumed, `origin egress ${egress.segmentBytes} ≥ consumed ${consumed}`);
      for (const [i, s] of states.entries()) {
        const served = egress.byClient[viewers[i].id]?.segmentBytes ?? 0;
        // What the SDK counts as HTTP is what the origin served that viewer (aborted bodies aside).
        assert.ok(
          Math.abs(s.stats!.httpBytes - served) <= 0.15 * served + 200_000,
          `${viewers[i].id}: httpBytes ${s.stats!.httpBytes} vs origin ${served}`,
        );
      }

      // destroy() releases the tracker connection and peers, and may be called twice.
      assert.ok(
        stage.tracker.stats().connections >= 3,
        `tracker sees ${stage.tracker.stats().connections} connections`,
      );
      for (const v of viewers) {
        const after = await v.page.evaluate(() => {
          const { player } = (window as unknown as { swarmcastTest: { player: any } }).swarmcastTest;
          player.destroy();
          player.destroy();
          const video = document.querySelector("video")!;
          return {
            destroyed: player.destroyed,
            registered: (window as any).Swarmcast.getPlayer(video) !== undefined,
            hls: player.hls.media === null,
          };
        });
        assert.deepEqual(after, { destroyed: true, registered: false, hls: true }, v.id);
      }
      await waitFor(() => stage.tracker.stats().connections === 0, {
        what: "the tracker to see every connection closed after destroy()",
        timeout: 10_000,
        interval: 250,
      });
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });

  it("plays from HTTP only with p2p: false and counts the bytes the origin served", { timeout: 60_000 }, async () => {
    const id = "http-only";
    const viewer = await openViewer(stage.browser, stage.pages.url, id, {
      src: stage.origin.liveUrl(id),
      tracker: stage.tracker.url,
      p2p: "off",
    });
    try {
      const start = await playing(viewer);
      let end = start;
      await waitFor(async () => (end = await viewer.read()).currentTime - start.currentTime >= 8, {
        what: "the viewer to play 8 s",
        timeout: 25_000,
        interval: 1000,
      });
      assertPlays(id, start, end, 8);
      const stats = end.stats!;
      const served = stage.origin.egress().byClient[id]?.segmentBytes ?? 0;
      assert.equal(stats.p2pEnabled, false);
      assert.equal(stats.p2pBytes, 0);
      assert.equal(stats.peers.length, 0);
      assert.ok(stats.httpBytes > 0, "no HTTP bytes counted");
      assert.ok(stats.httpSegments >= 4, `httpSegments ${stats.httpSegments}`);
      assert.ok(Math.abs(stats.httpBytes - served) <= 0.1 * served, `httpBytes ${stats.httpBytes} vs origin ${served}`);
      assert.equal(end.segments.p2p, 0);
      assert.equal(end.segments.http, stats.httpSegments, "one segment event per counted segment");
    } finally {
      await viewer.close();
    }
  });

  it("keeps playing from HTTP when the tracker is unreachable and reports it", { timeout: 60_000 }, async () => {
    const id = "no-tracker";
    const deadTracker = `ws://127.0.0.1:${await closedPort()}`;
    const viewer = await openViewer(stage.browser, stage.pages.url, id, {
      src: stage.origin.liveUrl(id),
      tracker: deadTracker,
      swarm: "nobody",
    });
    try {
      const start = await playing(viewer);
      let end = start;
      await waitFor(
        async () => {
          end = await viewer.read();
          return end.currentTime - start.currentTime >= 8 && end.errors.some((e) => e.kind === "tracker");
        },
        { what: "the viewer to play 8 s and report the tracker error", timeout: 25_000, interval: 1000 },
      );
      assertPlays(id, start, end, 8);
      const trackerErrors = end.errors.filter((e) => e.kind === "tracker");
      assert.ok(trackerErrors.length > 0, `no tracker error event; errors: ${JSON.stringify(end.errors)}`);
      assert.ok(trackerErrors.every((e) => !e.fatal));
      assert.ok(end.stats!.tracker.errors + end.stats!.tracker.warnings > 0);
      assert.ok(end.stats!.httpBytes > 0);
      assert.equal(end.stats!.p2pBytes, 0);
    } finally {
      await viewer.close();
    }
  });
});
