// A starved viewer stops serving: two Chromium viewers share the live stream; the page of the one
// serving its peer is slowed 4× by CDP CPU throttling and its main thread kept busy 400 ms of
// every 700 ms, as by a heavy page on a weak device (throttling alone starves nothing on an idle
// machine: the page's own work is too small). It must report itself struggling, stop uploading
// while it does (the other keeps playing), and serve again once the load is lifted.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useStage } from "../../devkit/stage";
import { waitFor } from "../../devkit/wait";
import { openViewer, type Viewer } from "./viewer";

const stage = useStage({ tracker: { logLevel: "warn" } });

interface HealthRecord {
  state: "ok" | "struggling";
  reasons: string[];
}

function healthEvents(viewer: Viewer): Promise<HealthRecord[]> {
  return viewer.page.evaluate(
    () => (window as unknown as { swarmcastTest: { health: HealthRecord[] } }).swarmcastTest.health,
  );
}

describe("playback health in Chromium", () => {
  it("a viewer whose page is starved stops serving until it recovers", { timeout: 150_000 }, async () => {
    const swarm = `health-${Date.now()}`;
    const viewers: Viewer[] = [];
    try {
      for (const id of ["first", "second"]) {
        const viewer = await openViewer(stage.browser, stage.pages.url, id, {
          src: stage.origin.liveUrl(id),
          tracker: stage.tracker.url,
          swarm,
        });
        viewers.push(viewer);
        await waitFor(async () => (await viewer.read()).frames > 0, { what: `${id} to play` });
      }
      // Before: the two share. The one that serves its peer is the one to starve: which viewer
      // fetches new segments from the CDN first depends on when each refreshes the playlist, a
      // phase that can favour one viewer for the whole session.
      const serving = await waitFor(
        async () => {
          for (const [index, viewer] of viewers.entries()) {
            if ((await viewer.read()).stats!.uploadedBytes > 0) return index + 1;
          }
          return false;
        },
        { what: "a viewer to serve its peer", timeout: 60_000, interval: 500 },
      );
      const starved = viewers[serving - 1];
      const steady = viewers[2 - serving];
      assert.deepEqual(await healthEvents(starved), [], "struggling before any throttle");

      const cdp = await starved.page.context().newCDPSession(starved.page);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
      await starved.page.evaluate(() => {
        const w = window as unknown as { hog?: ReturnType<typeof setInterval> };
        w.hog = setInterval(() => {
          const until = performance.now() + 400;
          while (performance.now() < until);
          // 700 ms, not a multiple of the monitor's 250 ms: a load in step with its timer could
          // always run right after a sample and never make one late.
        }, 700);
      });
      await waitFor(async () => (await starved.read()).stats!.health.state === "struggling", {
        what: "the starved viewer to report itself struggling",
        timeout: 30_000,
        interval: 500,
      });
      const paused = (await starved.read()).stats!;
      assert.equal(paused.upload.pausedForPlayback, true);
      // A segment already on its way may finish (slowly, on a throttled page); after that,
      // nothing more goes out.
      let last = -1;
      let stableSince = 0;
      const before = await waitFor(
        async () => {
          const sent = (await starved.read()).stats!.uploadedBytes;
          if (sent !== last) [last, stableSince] = [sent, Date.now()];
          return Date.now() - stableSince >= 3000 && sent;
        },
        { what: "uploads in flight at the pause to finish", timeout: 30_000, interval: 500 },
      );
      const steadyBefore = await steady.read();
      await new Promise((r) => setTimeout(r, 8000));
      const during = (await starved.read()).stats!;
      const steadyDuring = await steady.read();
      console.log(
        `# ${starved.id} struggling (${during.health.reasons.join(", ")}): uploaded ${before} → ${during.uploadedBytes} B over 8 s; ` +
          `steady viewer ${steadyBefore.currentTime.toFixed(1)} → ${steadyDuring.currentTime.toFixed(1)} s`,
      );
      assert.equal(
        during.health.state,
        "struggling",
        `recovered while still starved: ${JSON.stringify(during.health)}`,
      );
      assert.equal(during.uploadedBytes, before, "the struggling viewer kept serving");
      assert.ok(
        steadyDuring.currentTime - steadyBefore.currentTime >= 6,
        "the other viewer stopped playing while its peer struggled",
      );

      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
      await starved.page.evaluate(() => clearInterval((window as unknown as { hog?: number }).hog));
      const recovered = await waitFor(
        async () => {
          const stats = (await starved.read()).stats!;
          return stats.health.state === "ok" && stats;
        },
        { what: "the viewer to recover once the load is lifted", timeout: 60_000, interval: 1000 },
      );
      assert.equal(recovered.upload.pausedForPlayback, false);
      assert.ok(recovered.health.episodes >= 1 && recovered.health.struggledMs > 0);
      const events = await healthEvents(starved);
      assert.equal(events[0]?.state, "struggling");
      assert.equal(events.at(-1)?.state, "ok");
      for (const viewer of viewers) {
        const state = await viewer.read();
        assert.deepEqual(
          state.errors.filter((e) => e.fatal),
          [],
          `${viewer.id}: fatal errors`,
        );
      }
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });
});
