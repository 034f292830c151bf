// The SDK's hls.js adapter in real Chromium: falling back behind the live edge (adaptive
// latency) moves hls.js's target latency and slows the video until hls.js measures the new
// latency, without a stall; a page's own playback rate is left alone.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import type { BrowserContext, Page } from "playwright-core";
import { rollup } from "rollup";
import { useStage } from "../../devkit/stage";
import { transpile } from "./rollup-transpile";
import { waitFor } from "../../devkit/wait";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUT = join(ROOT, "tests/output/hls-live-player");

async function buildPage(): Promise<void> {
  const bundle = await rollup({
    input: join(ROOT, "tests/browser-pages/hls-live-player-entry.ts"),
    plugins: [
      replace({ preventAssignment: true, values: { "process.env.NODE_ENV": JSON.stringify("production") } }),
      nodeResolve({ browser: true, extensions: [".ts", ".mjs", ".js", ".json"] }),
      commonjs(),
      transpile,
    ],
    onwarn: () => undefined,
  });
  mkdirSync(OUT, { recursive: true });
  await bundle.write({ file: join(OUT, "bundle.js"), format: "iife" });
  await bundle.close();
  writeFileSync(
    join(OUT, "page.html"),
    '<!doctype html><html><body><video muted playsinline width="320" height="180"></video><script src="bundle.js"></script></body></html>',
  );
}

before(buildPage);
const stage = useStage({ routes: { "/hls-live-player/": "tests/output/hls-live-player" } });

interface PageState {
  latency: number;
  targetLatency: number | null;
  rate: number;
  currentTime: number;
  stalls: number;
}

/** One page playing the live origin with hls.js's stock config and the adapter around it. */
async function openPlayer(context: BrowserContext, src: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${stage.pages.url}/hls-live-player/page.html`);
  await page.evaluate((source) => {
    const w = window as unknown as {
      liveTest: {
        Hls: new () => {
          loadSource(u: string): void;
          attachMedia(m: HTMLMediaElement): void;
          latency: number;
          targetLatency: number | null;
        };
        HlsLivePlayer: new (hls: unknown) => { addLatency(s: number, r: number): void };
        hls?: unknown;
        player?: unknown;
        stalls?: number;
      };
    };
    const video = document.querySelector("video") as HTMLVideoElement;
    const hls = new w.liveTest.Hls();
    w.liveTest.hls = hls;
    w.liveTest.player = new w.liveTest.HlsLivePlayer(hls);
    w.liveTest.stalls = 0;
    video.addEventListener("waiting", () => {
      if (video.currentTime > 0) w.liveTest.stalls = (w.liveTest.stalls ?? 0) + 1;
    });
    hls.loadSource(source);
    hls.attachMedia(video);
    void video.play();
  }, src);
  return page;
}

const read = (page: Page): Promise<PageState> =>
  page.evaluate(() => {
    const t = (window as unknown as { liveTest: Record<string, any> }).liveTest;
    const video = document.querySelector("video") as HTMLVideoElement;
    return {
      latency: t.hls.latency as number,
      targetLatency: t.hls.targetLatency as number | null,
      rate: video.playbackRate,
      currentTime: video.currentTime,
      stalls: t.stalls as number,
    };
  });

const addLatency = (page: Page, seconds: number, slowRate: number) =>
  page.evaluate(
    ([s, r]) =>
      (
        window as unknown as { liveTest: { player: { addLatency(s: number, r: number): void } } }
      ).liveTest.player.addLatency(s, r),
    [seconds, slowRate] as const,
  );

describe("HlsLivePlayer.addLatency", () => {
  let context: BrowserContext;
  before(async () => {
    context = await stage.browser.newContext();
  });
  after(() => context?.close());

  it(
    "falls back to a target one step further behind, at the slow rate, then plays on at 1×",
    { timeout: 60_000 },
    async () => {
      const page = await openPlayer(context, stage.origin.liveUrl("latency-step"));
      await waitFor(async () => (await read(page)).currentTime > 2 && (await read(page)).latency > 0, {
        what: "hls.js to play and measure its latency",
      });
      // hls.js may start at the head of a fresh live window, far behind its target, and never
      // catches up at 1×: start the measurement from its live sync position.
      await page.evaluate(() => {
        const t = (window as unknown as { liveTest: Record<string, any> }).liveTest;
        if (t.hls.latency > t.hls.targetLatency + 1)
          (document.querySelector("video") as HTMLVideoElement).currentTime = t.hls.liveSyncPosition;
      });
      await waitFor(
        async () => {
          const s = await read(page);
          return s.targetLatency !== null && s.latency > 0 && s.latency < s.targetLatency + 1;
        },
        { what: "hls.js to play near its target latency", timeout: 20_000 },
      );
      await page.evaluate(() => ((window as unknown as { liveTest: { stalls: number } }).liveTest.stalls = 0));
      const before = await read(page);
      assert.ok(before.targetLatency !== null, "hls.js has a target latency on a live stream");
      const target = before.targetLatency + 2;
      assert.ok(before.latency < target - 0.5, `latency ${before.latency} already near ${target}`);

      await addLatency(page, 2, 0.5);
      const slowing = await read(page);
      assert.equal(slowing.rate, 0.5, "plays slower to fall back");
      assert.equal(slowing.targetLatency, target, "hls.js's target moved one step back");

      await waitFor(async () => (await read(page)).rate === 1, {
        what: "the player to reach the new latency and play at 1× again",
        timeout: 30_000,
        interval: 100,
      });
      const after = await read(page);
      assert.ok(after.latency >= target - 0.3, `latency ${after.latency.toFixed(2)} s against the target ${target} s`);
      assert.equal(after.targetLatency, target);
      assert.equal(after.stalls, 0, "no stall while falling back");
      await page.close();
    },
  );

  it("moves only the target when the page set its own playback rate", { timeout: 60_000 }, async () => {
    const page = await openPlayer(context, stage.origin.liveUrl("latency-own-rate"));
    await waitFor(async () => (await read(page)).currentTime > 1 && (await read(page)).targetLatency !== null, {
      what: "hls.js to play",
    });
    await page.evaluate(() => ((document.querySelector("video") as HTMLVideoElement).playbackRate = 1.25));
    const before = await read(page);
    await addLatency(page, 2, 0.5);
    const now = await read(page);
    assert.equal(now.rate, 1.25, "the page's rate stays");
    assert.equal(now.targetLatency, before.targetLatency! + 2);
    await page.close();
  });
});
