// Fatal hls.js network errors are retried with backoff before being reported fatal: a viewer
// whose CDN answers 503 at startup plays once the CDN is back, and one whose CDN never comes
// back gets a fatal error after the retries.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openViewer, type ViewerState } from "./viewer";
import { waitFor } from "../../devkit/wait";
import { useStage } from "../../devkit/stage";

const stage = useStage();

describe("recovery from fatal hls.js errors", () => {
  it("rides out a CDN outage at startup and reports a permanent one as fatal", { timeout: 60_000 }, async () => {
    // The flaky viewer's outage lasts until it has reported a retry (a fixed window would end
    // before a slow machine even opens the page).
    const downFault = { clients: ["down"], status: 503 as const, target: "all" as const };
    stage.origin.setFaults([{ clients: ["flaky"], status: 503, target: "all" }, downFault]);
    const flaky = await openViewer(stage.browser, stage.pages.url, "flaky", {
      src: stage.origin.liveUrl("flaky"),
      tracker: stage.tracker.url,
      swarm: "flaky",
    });
    const down = await openViewer(stage.browser, stage.pages.url, "down", {
      src: stage.origin.liveUrl("down"),
      tracker: stage.tracker.url,
      swarm: "down",
    });
    try {
      await waitFor(
        async () =>
          (await flaky.read()).errors.some((e) => e.kind === "network" && !e.fatal && /retrying/.test(e.message)),
        { what: "flaky to retry through the outage", timeout: 30_000, interval: 250 },
      );
      stage.origin.setFaults([downFault]);
      let f: ViewerState = await flaky.read();
      let d: ViewerState = await down.read();
      let firstFrameTime = -1;
      await waitFor(
        async () => {
          [f, d] = await Promise.all([flaky.read(), down.read()]);
          if (firstFrameTime < 0 && f.frames > 0) firstFrameTime = f.currentTime;
          return firstFrameTime >= 0 && f.currentTime - firstFrameTime >= 4 && d.errors.some((e) => e.fatal);
        },
        {
          what: "flaky to play 4 s after the outage and down to report a fatal error",
          timeout: 40_000,
          interval: 1000,
        },
      );

      const retries = f.errors.filter((e) => e.kind === "network" && !e.fatal && /retrying/.test(e.message));
      assert.ok(retries.length >= 1, `flaky: no retried network error: ${JSON.stringify(f.errors)}`);
      assert.deepEqual(
        f.errors.filter((e) => e.fatal),
        [],
        "flaky: fatal error despite the CDN coming back",
      );
      assert.ok(
        firstFrameTime >= 0 && f.currentTime - firstFrameTime >= 4,
        `flaky did not play after the outage (frames ${f.frames})`,
      );

      const fatal = d.errors.filter((e) => e.fatal);
      assert.equal(fatal.length, 1, `down: ${JSON.stringify(d.errors)}`);
      assert.equal(fatal[0].kind, "network");
      const downRetries = d.errors.filter((e) => /retrying/.test(e.message));
      assert.equal(downRetries.length, 3, "three retries before giving up");
      assert.equal(d.frames, 0);
    } finally {
      stage.origin.setFaults([]);
      await Promise.all([flaky.close(), down.close()]);
    }
  });
});
