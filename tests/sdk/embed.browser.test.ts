// The zero-code embed: a plain HTML page with one <script src=".../swarmcast.js"> and a
// <video data-swarmcast-src> (tests/browser-pages/embed.html), no bundler, no import map.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { startOrigin, type Origin } from "../../bench/origin/index";
import { launchChromium } from "../helpers/browser";
import { startPageServer, type PageServer } from "../helpers/pages";
import { startTestTracker, type TestTracker } from "./tracker";
import { waitFor } from "./viewer";

let origin: Origin;
let tracker: TestTracker;
let pages: PageServer;
let browser: Browser;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "swarmcast-embed-"));
  [origin, tracker, browser] = await Promise.all([startOrigin(), startTestTracker(), launchChromium()]);
  pages = await startPageServer({ "/dist/": "dist", "/gen/": dir });
});

after(async () => {
  await browser?.close();
  await Promise.all([origin?.close(), tracker?.close(), pages?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("script-tag embed", () => {
  it("attaches every <video data-swarmcast-src> on load and plays", { timeout: 60_000 }, async () => {
    const template = readFileSync(new URL("../browser-pages/embed.html", import.meta.url), "utf8");
    const html = template
      .replaceAll("{{SRC}}", origin.liveUrl("embed"))
      .replaceAll("{{TRACKER}}", tracker.url)
      .replaceAll("{{SWARM}}", "embed-test")
      .replaceAll("{{DIST}}", `${pages.url}/dist`);
    assert.doesNotMatch(html, /{{|importmap|type="module"/);
    writeFileSync(join(dir, "embed.html"), html);

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(err.message));
      await page.goto(`${pages.url}/gen/embed.html`);

      const read = () =>
        page.evaluate(() => {
          const video = document.querySelector("video")!;
          const player = (window as any).Swarmcast.getPlayer(video);
          return {
            attached: !!player,
            currentTime: video.currentTime,
            frames: video.getVideoPlaybackQuality().totalVideoFrames,
            stats: player?.stats(),
          };
        });
      let state = await read();
      // currentTime of a live stream starts near the live edge, so measure how far it moves.
      const started = await waitFor(async () => (state = await read()).frames > 0, 15_000, 250);
      const start = state;
      const played = await waitFor(async () => {
        state = await read();
        return state.currentTime - start.currentTime >= 6 && state.frames > start.frames;
      }, 30_000);
      assert.deepEqual(pageErrors, []);
      assert.ok(state.attached, "no player attached to the <video>");
      assert.ok(started, "no frame decoded within 15 s");
      assert.ok(played, `did not play: currentTime ${start.currentTime} → ${state.currentTime}, frames ${start.frames} → ${state.frames}`);
      assert.equal(state.stats.p2pEnabled, true);
      assert.ok(state.stats.httpBytes > 0);

      const again = await page.evaluate(() => {
        const video = document.querySelector("video")!;
        const S = (window as any).Swarmcast;
        const players = S.attachAll();
        return { count: players.length, same: players[0] === S.getPlayer(video) };
      });
      assert.deepEqual(again, { count: 1, same: true }, "attachAll() attached twice");
    } finally {
      await context.close();
    }
  });
});
