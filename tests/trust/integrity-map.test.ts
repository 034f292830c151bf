// VOD with hashes published only in a JSON integrity map, `integrity: "required"`, against a
// viewer serving corrupted segments. Also: `required` without any published hash keeps the
// viewer off P2P instead of refusing (and dropping) honest peers segment after segment.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startTracker } from "../../tracker/src/index";
import { launchChromium } from "../../devkit/chromium";
import { startPageServer, type PageServer } from "../../devkit/page-server";
import { waitFor } from "../../devkit/wait";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MEDIA = join(ROOT, "devkit/media/test-stream");
const OUT = join(ROOT, "tests/output/trust");

let origin: Origin;
let tracker: Awaited<ReturnType<typeof startTracker>>;
let pages: PageServer;
let browser: Browser;
let mapName: string;

before(async () => {
  [origin, tracker, pages, browser] = await Promise.all([
    startOrigin({ hashTags: false }),
    startTracker({ host: "127.0.0.1", port: 0, logLevel: "warn" }),
    startPageServer({
      "/dist/": "sdk/dist",
      "/pages/": "tests/browser-pages",
      "/devkit/": "devkit/pages",
      "/output/": "tests/output/trust",
    }),
    launchChromium(),
  ]);
  // The map lives on another host than the segments, so its keys are absolute URLs; one key in
  // the relative form a map beside the playlist would use, resolved against the map's URL, is
  // exercised in the unit tests.
  const map: Record<string, string> = {};
  for (const file of readdirSync(MEDIA).filter((f) => f.endsWith(".ts"))) {
    map[`${origin.url}/c/honest/vod/${file}`] = createHash("sha256")
      .update(readFileSync(join(MEDIA, file)))
      .digest("hex");
  }
  mkdirSync(OUT, { recursive: true });
  mapName = `map-${process.pid}.json`;
  writeFileSync(join(OUT, mapName), JSON.stringify(map));
});

after(async () => {
  await browser?.close();
  await Promise.all([origin?.close(), tracker?.close(), pages?.close()]);
  rmSync(join(OUT, mapName), { force: true });
});

async function open(params: Record<string, string>): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${pages.url}/pages/trust-player.html?${new URLSearchParams(params)}`);
  return { page, context };
}

const read = (page: Page) =>
  page.evaluate(() => {
    const r = (window as any).trustTest;
    return {
      attachError: r.attachError as string | null,
      currentTime: (document.querySelector("video") as HTMLVideoElement).currentTime,
      errors: r.errors as Array<{ kind: string; message: string; fatal: boolean }>,
      frags: r.frags as Array<{ url: string; actual?: string }>,
      corruptedServed: r.corruptedServed as number,
      stats: r.player ? r.player.stats() : null,
    };
  });

describe("integrity map, required mode", () => {
  it(
    "verifies VOD segments against the map, refuses the liar, and keeps unhashed streams off P2P",
    { timeout: 90_000 },
    async () => {
      const swarm = `vod-${Date.now()}`;
      // The honest viewer's HTTP is slow, so the segments beyond the urgent window are worth
      // asking from peers once connected: the liar, who joined first, has them all.
      origin.setFaults([{ clients: ["honest"], delayMs: 1500 }]);
      const opened: Array<{ page: Page; context: BrowserContext }> = [];
      try {
        const liar = await open({ src: origin.vodUrl("liar"), tracker: tracker.url, swarm, role: "liar" });
        opened.push(liar);
        await waitFor(async () => (await read(liar.page)).frags.length >= 5, {
          what: "the liar to hold five segments",
        });
        const honest = await open({
          src: origin.vodUrl("honest"),
          tracker: tracker.url,
          swarm,
          integrity: "required",
          integrityMap: `${pages.url}/output/${mapName}`,
        });
        const unhashed = await open({
          src: origin.vodUrl("plain"),
          tracker: tracker.url,
          swarm,
          integrity: "required",
        });
        opened.push(honest, unhashed);

        let h = await read(honest.page);
        let u = await read(unhashed.page);
        await waitFor(
          async () => {
            [h, u] = await Promise.all([read(honest.page), read(unhashed.page)]);
            return h.stats.integrityFailures > 0 && h.currentTime >= 10 && u.currentTime >= 10;
          },
          { what: "the honest viewer to catch the liar and both viewers to play 10 s", timeout: 45_000, interval: 500 },
        ).catch(async (error: Error) => {
          const l = await read(liar.page);
          throw new Error(
            `${error.message}; honest: ${h.stats?.integrityFailures} failure(s), played ${h.currentTime.toFixed(1)} s, ` +
              `p2p ${h.stats?.p2pSegments} / http ${h.stats?.httpSegments}, peers ${h.stats?.peers?.length}; ` +
              `unhashed played ${u.currentTime.toFixed(1)} s; liar served ${l.corruptedServed} corrupted, ` +
              `health ${JSON.stringify(l.stats?.health)}`,
          );
        });
        const l = await read(liar.page);
        console.log(
          `# map+required: ${h.stats.integrityFailures} failure(s), ${h.stats.integrity.verifiedSegments} verified from peers, ` +
            `p2p ${h.stats.p2pSegments} / http ${h.stats.httpSegments}; required without hashes: p2p ${u.stats.p2pSegments} / http ${u.stats.httpSegments}; ` +
            `liar served ${l.corruptedServed} corrupted segment(s)`,
        );

        // Honest viewer: every fragment hls.js got hashes to the map's value; the liar was caught.
        const map = JSON.parse(readFileSync(join(OUT, mapName), "utf8"));
        assert.equal(h.attachError, null);
        assert.deepEqual(
          h.errors.filter((e) => e.fatal),
          [],
        );
        assert.ok(h.currentTime >= 10, `honest played to ${h.currentTime} s`);
        // The page's digests of the last fragments settle after hls.js gets them.
        h = await waitFor(
          async () => {
            const state = await read(honest.page);
            return state.frags.every((f) => f.actual !== undefined) && state;
          },
          { what: "every fragment digest of the honest viewer" },
        );
        assert.ok(h.frags.length >= 5);
        for (const f of h.frags) assert.equal(f.actual, map[f.url], `fragment ${f.url} differs from the map`);
        assert.equal(h.stats.integrity.mode, "required");
        assert.ok(l.corruptedServed > 0, "the liar served nothing");
        assert.ok(h.stats.integrityFailures > 0, `no failure caught; errors ${JSON.stringify(h.errors)}`);
        assert.ok(h.errors.some((e) => e.kind === "integrity" && /failed its SHA-256 check/.test(e.message)));
        assert.ok(
          !h.errors.some((e) => /without a published SHA-256/.test(e.message)),
          "the map did not cover the playlist",
        );

        // Required without any published hash: no P2P at all, said once, playback from HTTP.
        assert.equal(u.attachError, null);
        assert.deepEqual(
          u.errors.filter((e) => e.fatal),
          [],
        );
        assert.ok(u.currentTime >= 10, `unhashed viewer played to ${u.currentTime} s`);
        assert.equal(u.stats.p2pBytes, 0);
        assert.equal(u.stats.integrityFailures, 0, "honest peers were refused instead of P2P being off");
        assert.ok(u.stats.httpSegments >= 5);
        const notes = u.errors.filter((e) => e.kind === "integrity");
        assert.equal(notes.length, 1, JSON.stringify(u.errors));
        assert.match(
          notes[0].message,
          /integrity is "required" but the playlist has segments without a published SHA-256; P2P is off/,
        );
      } finally {
        await Promise.all(opened.map((o) => o.context.close()));
      }
    },
  );
});
