// The zero-code embed: a plain HTML page with one <script src=".../swarmcast.js"> and a
// <video data-swarmcast-src> (tests/browser-pages/embed.html), no bundler, no import map.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { useStage } from "../../devkit/stage";
import { waitFor } from "../../devkit/wait";

/** The generated page lives here, served at /gen/. */
const dir = mkdtempSync(join(tmpdir(), "swarmcast-embed-"));
const stage = useStage({ routes: { "/gen/": dir } });
after(() => rmSync(dir, { recursive: true, force: true }));

describe("script-tag embed", () => {
  it("attaches every <video data-swarmcast-src> on load and plays", { timeout: 60_000 }, async () => {
    const template = readFileSync(new URL("../browser-pages/embed.html", import.meta.url), "utf8");
    const html = template
      .replaceAll("{{SRC}}", stage.origin.liveUrl("embed"))
      .replaceAll("{{TRACKER}}", stage.tracker.url)
      .replaceAll("{{SWARM}}", "embed-test")
      .replaceAll("{{DIST}}", `${stage.pages.url}/dist`);
    assert.doesNotMatch(html, /{{|importmap|type="module"/);
    writeFileSync(join(dir, "embed.html"), html);

    const context = await stage.browser.newContext();
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(err.message));
      await page.goto(`${stage.pages.url}/gen/embed.html`);

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
      await waitFor(async () => (state = await read()).frames > 0, {
        what: "a decoded frame",
        timeout: 15_000,
        interval: 250,
      });
      const start = state;
      await waitFor(
        async () => {
          state = await read();
          return state.currentTime - start.currentTime >= 6 && state.frames > start.frames;
        },
        { what: "6 s of playback", timeout: 30_000, interval: 1000 },
      );
      assert.deepEqual(pageErrors, []);
      assert.ok(state.attached, "no player attached to the <video>");
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

  it("throws errors that name the bad argument or option", { timeout: 30_000 }, async () => {
    writeFileSync(
      join(dir, "blank.html"),
      `<!doctype html><video id="v"></video><script src="${stage.pages.url}/dist/swarmcast.js"></script>`,
    );
    const context = await stage.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${stage.pages.url}/gen/blank.html`);
      const messages = await page.evaluate(
        ({ src, trackerUrl }) => {
          const S = (window as any).Swarmcast;
          const video = document.getElementById("v");
          // Anonymous callbacks only: the test runner's transpiler would name a local function
          // with a helper that does not exist in the page.
          const player = { current: null as any };
          const cases: Array<[string, () => unknown]> = [
            ["notVideo", () => S.attach(document.body, { src, trackers: [trackerUrl] })],
            ["noSrc", () => S.attach(video, { trackers: [trackerUrl] })],
            ["httpTracker", () => S.attach(video, { src, trackers: ["https://tracker.example"] })],
            ["typo", () => S.attach(video, { src, trackers: [trackerUrl], swarmID: "x" })],
            ["first", () => (player.current = S.attach(video, { src, trackers: [trackerUrl], iceServers: [] }))],
            ["twice", () => S.attach(video, { src, trackers: [trackerUrl] })],
          ];
          const results: Record<string, string> = {};
          for (const [name, fn] of cases) {
            try {
              fn();
              results[name] = "no error";
            } catch (err) {
              results[name] = `${(err as Error).name}: ${(err as Error).message}`;
            }
          }
          player.current?.destroy();
          return results;
        },
        { src: stage.origin.liveUrl("errors"), trackerUrl: stage.tracker.url },
      );
      assert.match(
        messages.notVideo,
        /SwarmcastOptionError: .*"video" must be a <video> \(or <audio>\) element, got <body>/,
      );
      assert.match(messages.noSrc, /"src" is required/);
      assert.match(
        messages.httpTracker,
        /"trackers\[0\]" must be a ws:\/\/ or wss:\/\/ URL, got "https:\/\/tracker.example"/,
      );
      assert.match(messages.typo, /unknown option "swarmID"/);
      assert.equal(messages.first, "no error");
      assert.match(messages.twice, /already has a Swarmcast player/);
    } finally {
      await context.close();
    }
  });
});
