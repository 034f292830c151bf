// Spot checks in Chromium: a stream without hashes, a viewer that corrupts every segment it
// serves (a byte flipped every 4 KiB, as in lying-peer.test.ts) and an honest viewer behind it
// with spotCheck: 1, over real WebRTC, our tracker and the local origin (which serves ranges).
// The honest viewer must drop the liar on its first segment, accept none of its bytes, and the
// CDN bytes the checks cost are reported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrowserContext } from "playwright-core";
import { waitFor } from "../../../devkit/wait";
import { plainStage as stage } from "./stage";

export function spotCheckCase(): void {
  describe("spot check of a lying peer", () => {
    it("drops the liar on the first segment it checks", { timeout: 90_000 }, async () => {
      const swarm = `spot-${Date.now()}`;
      const contexts: BrowserContext[] = [];
      try {
        const open = async (params: Record<string, string>) => {
          const context = await stage.browser.newContext();
          contexts.push(context);
          const page = await context.newPage();
          await page.goto(
            `${stage.pages.url}/pages/trust-player.html?${new URLSearchParams({ tracker: stage.tracker.url, swarm, ...params })}`,
          );
          return page;
        };
        const liarPage = await open({ src: stage.origin.liveUrl("liar"), role: "liar", upload: "on" });
        // The honest viewer joins once the liar holds a segment to serve.
        await waitFor(() => liarPage.evaluate(() => (window as any).trustTest.segments.length > 0), {
          what: "the liar to hold a segment",
        });
        const honest = await open({ src: stage.origin.liveUrl("honest"), behind: "12", spotCheck: "1" });
        const read = () =>
          honest.evaluate(() => {
            const r = (window as any).trustTest;
            return {
              stats: r.player.stats(),
              errors: r.errors,
              segments: r.segments,
              time: (document.querySelector("video") as HTMLVideoElement).currentTime,
            };
          });
        let state = await read();
        await waitFor(async () => (state = await read()).stats.integrity.spotChecks.mismatches > 0, {
          what: "the spot check to catch the liar",
          timeout: 45_000,
          interval: 250,
        }).catch(() => undefined);
        // Two more segments after the catch: none of them may come from the liar either.
        const segmentsAtCatch: number = state.segments.length;
        await waitFor(async () => (state = await read()).segments.length >= segmentsAtCatch + 2, {
          what: "two more segments after the catch",
          timeout: 20_000,
          interval: 250,
        }).catch(() => undefined);
        const liar = Object.keys(state.stats.integrity.failuresByPeer)[0];
        const fromLiar = state.segments.filter((s: { peerId?: string }) => s.peerId === liar);
        const spot = state.stats.integrity.spotChecks;
        const consumed = state.stats.httpBytes + state.stats.p2pBytes;
        console.log(
          `# spot checks: ${spot.checked} checked, ${spot.mismatches} mismatch(es), ${spot.bytesFetched} B fetched from the CDN ` +
            `(${((100 * spot.bytesFetched) / Math.max(1, consumed)).toFixed(2)} % of ${consumed} B consumed, ${((100 * spot.bytesFetched) / Math.max(1, state.stats.p2pBytes)).toFixed(2)} % of P2P bytes); ` +
            `segments accepted from the liar: ${fromLiar.length}; p2p segments ${state.stats.p2pSegments}`,
        );
        assert.ok(spot.mismatches > 0, "the liar was not caught");
        assert.equal(fromLiar.length, 0, "a segment from the liar was accepted");
        assert.equal(state.stats.integrity.bannedPeers, 1, "one spot-check mismatch bans the peer");
        assert.ok(
          state.errors.some(
            (e: { kind: string; message: string }) => e.kind === "integrity" && /spot check/.test(e.message),
          ),
        );
        assert.deepEqual(
          state.errors.filter((e: { fatal: boolean }) => e.fatal),
          [],
        );
        assert.ok(state.time > 0);
      } finally {
        await Promise.all(contexts.map((c) => c.close()));
      }
    });
  });
}
