// The demo as a person sees it: the page in Debian Chromium plus one added viewer; the chart
// and the peer table must fill with bytes that really crossed WebRTC between the two.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startDemo } from "../../demo/index.js";
import { launchChromium } from "../../devkit/chromium.js";
import { waitFor } from "../../devkit/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUTPUT = join(ROOT, "tests", "output", "demo.png");
/** Set to refresh the screenshot the top README shows. */
const DOCS_SCREENSHOT =
  process.env.SWARMCAST_DOCS_SCREENSHOT === "1" ? join(ROOT, "docs", "screenshot-demo.png") : null;

/** page.evaluate has no timeout of its own; a stuck renderer must fail the test, not hang it. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

interface PageState {
  chartPeers: number;
  chartCdn: number;
  rows: Array<{ received: string; sent: string; segments: string; state: string }>;
  peerBytes: number;
  offload: string;
  problems: string[];
}

test("demo page: two viewers share the stream, chart and peer table fill", { timeout: 90_000 }, async (t) => {
  const demo = await startDemo({ port: 0 });
  t.after(() => demo.close(), { timeout: 15_000 });
  // Registered before the launch settles, so a slow launch is still closed on a timeout.
  const launching = launchChromium();
  t.after(async () => (await launching.catch(() => undefined))?.close(), { timeout: 15_000 });
  const browser = await launching;
  const page = await browser.newPage({ viewport: { width: 1280, height: 1080 } });
  page.setDefaultTimeout(20_000);
  const consoleErrors: string[] = [];
  page.on("pageerror", (err) => consoleErrors.push(err.message));

  await page.goto(demo.url);
  await page.waitForFunction(
    () => (window as unknown as { swarmcastDemo?: { player?: unknown } }).swarmcastDemo?.player,
    null,
    { timeout: 15_000 },
  );
  await page.click("#add-viewer");
  await page.waitForSelector("#viewers iframe");

  const read = () =>
    withTimeout(
      page.evaluate((): PageState => {
        const demoState = (
          window as unknown as {
            swarmcastDemo: {
              chart: { data(): { cdn: [number, number][]; peers: [number, number][] } };
              player: { stats(): { peers: Array<{ bytesDown: number; bytesUp: number }> } };
            };
          }
        ).swarmcastDemo;
        const data = demoState.chart.data();
        const rows = [...document.querySelectorAll("#peer-rows tr")].map((tr) => {
          const td = [...tr.querySelectorAll("td")].map((c) => c.textContent ?? "");
          return { state: td[1], received: td[4], sent: td[5], segments: td[6] };
        });
        return {
          chartPeers: Math.max(0, ...data.peers.map((p) => p[1])),
          chartCdn: Math.max(0, ...data.cdn.map((p) => p[1])),
          rows,
          peerBytes: demoState.player.stats().peers.reduce((sum, p) => sum + p.bytesDown + p.bytesUp, 0),
          offload: document.getElementById("offload")?.textContent ?? "",
          problems: [...document.querySelectorAll("#problems li")].map((li) => li.textContent ?? ""),
        };
      }),
      10_000,
      "reading the page",
    );

  const state = await waitFor(
    async () => {
      const s = await read();
      const tableHasBytes = s.rows.some((r) => r.state === "connected" && (r.received !== "0 B" || r.sent !== "0 B"));
      return s.chartPeers > 0 && s.chartCdn > 0 && s.peerBytes > 0 && tableHasBytes && s;
    },
    {
      what: "the chart, the peer table and the player's stats to show bytes between peers",
      timeout: 60_000,
      interval: 500,
    },
  );
  // Long enough for the person taking the README screenshot to see the chart fill.
  if (DOCS_SCREENSHOT) await new Promise((r) => setTimeout(r, 20_000));

  mkdirSync(dirname(OUTPUT), { recursive: true });
  await page.screenshot({ path: OUTPUT });
  if (DOCS_SCREENSHOT) {
    const raw = join(dirname(OUTPUT), "demo-full.png");
    await page.screenshot({ path: raw, fullPage: true });
    mkdirSync(dirname(DOCS_SCREENSHOT), { recursive: true });
    // A 256-colour palette keeps the README image small; the page is flat colours anyway.
    const ffmpeg = spawnSync("ffmpeg", [
      "-loglevel",
      "error",
      "-y",
      "-i",
      raw,
      "-vf",
      "split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=none",
      DOCS_SCREENSHOT,
    ]);
    if (ffmpeg.status !== 0) copyFileSync(raw, DOCS_SCREENSHOT);
  }

  assert.ok(state.chartCdn > 0, `chart shows CDN bytes: ${JSON.stringify(state)}`);
  assert.ok(state.chartPeers > 0, `chart shows peer bytes: ${JSON.stringify(state)}`);
  assert.ok(state.peerBytes > 0, `viewer 1 exchanged bytes with a peer: ${JSON.stringify(state)}`);
  assert.ok(
    state.rows.some((r) => r.state === "connected" && (r.received !== "0 B" || r.sent !== "0 B")),
    `the peer table lists a connected peer with bytes: ${JSON.stringify(state.rows)}`,
  );
  assert.notEqual(state.offload, "0 %", "the offload card moved off zero");
  assert.deepEqual(consoleErrors, [], "no uncaught errors in the page");
  const swarm = demo.tracker?.swarm();
  assert.ok(swarm && swarm.peers >= 2, `the tracker sees both viewers: ${JSON.stringify(swarm)}`);
  // The page polls the tracker's counts every few seconds: give it one poll to catch up.
  await page
    .waitForFunction(() => document.getElementById("swarm-size")?.textContent === "2 viewers", null, {
      timeout: 15_000,
    })
    .catch(() => undefined);
  assert.equal(await page.textContent("#tracker-state"), "connected");
  assert.equal(await page.textContent("#swarm-size"), "2 viewers");

  // Removing the added viewer unloads its page, which destroys its player: viewer 1 sees the
  // peer go, and the tracker forgets it.
  await page.click("#viewers figure[data-viewer='2'] button");
  await page.waitForSelector("#peer-rows tr.closed", { timeout: 20_000 });
  await waitFor(() => demo.tracker?.swarm().peers === 1, {
    what: "the tracker to see the removed viewer leave the swarm",
    timeout: 10_000,
    interval: 200,
  });
});
