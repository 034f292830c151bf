// The `token` option against our tracker in private mode: viewers with a valid token share
// segments; a viewer with a forged one is refused by the tracker and plays from HTTP.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { startOrigin, type Origin } from "../../bench/origin/index";
import { mintToken } from "../../tracker/src/index";
import { launchChromium } from "../helpers/browser";
import { startPageServer, type PageServer } from "../helpers/pages";
import { startTestTracker, type TestTracker } from "./tracker";
import { openViewer, sleep, waitFor, type Viewer, type ViewerState } from "./viewer";

const SECRET = "sdk-test-secret";
let origin: Origin;
let tracker: TestTracker;
let pages: PageServer;
let browser: Browser;

before(async () => {
  [origin, tracker, pages, browser] = await Promise.all([
    startOrigin(),
    startTestTracker({ secret: SECRET }),
    startPageServer({ "/dist/": "dist", "/pages/": "tests/browser-pages" }),
    launchChromium(),
  ]);
});

after(async () => {
  await browser?.close();
  await Promise.all([origin?.close(), tracker?.close(), pages?.close()]);
});

describe("private swarm", () => {
  it("admits viewers with a valid token and refuses a forged one without stopping playback", { timeout: 60_000 }, async () => {
    const swarm = "private";
    const good = mintToken(SECRET, { ttlSeconds: 600 });
    const forged = mintToken("not-the-secret", { ttlSeconds: 600 });
    const viewers: Viewer[] = [];
    try {
      viewers.push(await openViewer(browser, pages.url, "member0", { src: origin.liveUrl("member0"), tracker: tracker.url, swarm, token: good }));
      await sleep(2000);
      viewers.push(await openViewer(browser, pages.url, "member1", { src: origin.liveUrl("member1"), tracker: tracker.url, swarm, token: good }));
      viewers.push(await openViewer(browser, pages.url, "intruder", { src: origin.liveUrl("intruder"), tracker: tracker.url, swarm, token: forged }));
      await sleep(2000);
      const starts = await Promise.all(viewers.map((v) => v.read()));
      let states: ViewerState[] = starts;
      await waitFor(async () => {
        states = await Promise.all(viewers.map((v) => v.read()));
        return (
          states[0].stats!.p2pBytes + states[1].stats!.p2pBytes > 0 &&
          states[2].errors.some((e) => e.kind === "tracker") &&
          states.every((s, i) => s.currentTime - starts[i].currentTime >= 6)
        );
      }, 35_000);
      const [m0, m1, intruder] = states;
      for (const [i, s] of states.entries()) {
        assert.ok(s.currentTime - starts[i].currentTime >= 6, `${viewers[i].id} did not play`);
        assert.deepEqual(s.errors.filter((e) => e.fatal), [], viewers[i].id);
      }
      assert.ok(m0.stats!.p2pBytes + m1.stats!.p2pBytes > 0, "members shared nothing");
      assert.deepEqual(m0.errors.filter((e) => e.kind === "tracker"), [], "member0 got tracker errors");
      assert.deepEqual(m1.errors.filter((e) => e.kind === "tracker"), [], "member1 got tracker errors");
      assert.ok(intruder.errors.some((e) => e.kind === "tracker"), `intruder saw no tracker error: ${JSON.stringify(intruder.errors)}`);
      assert.equal(intruder.stats!.p2pBytes, 0);
      assert.equal(intruder.stats!.peers.length, 0);
      assert.ok(intruder.stats!.httpBytes > 0);
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });
});
