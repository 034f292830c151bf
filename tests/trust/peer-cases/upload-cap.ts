// maxUploadKbps with real viewers: Chromium viewers of the live stream share over WebRTC with a
// cap low enough to bind. (10 viewers do not fit this suite's 2-core test machine; the many-peer
// case is covered by the limiter's simulation in upload-cap.test.ts.) Every 10 s window of every viewer's upload must stay
// within the cap (+10 % margin), and peers must still share. One more viewer with
// upload: false never sends a byte.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { hashedStage as stage } from "./stage";
import { waitFor } from "../../../devkit/wait";
import { worstWindow } from "./upload-windows";

// Uncapped, these viewers upload more than the 10 s budget (375 KB at 300 kbit/s, about two
// 166 KB segments) in a 10 s window; with 10 viewers each has up to 10 peers asking at once.
const CAP_KBPS = 300;

export function uploadCapCase(): void {
  describe("upload cap in Chromium", () => {
    for (const VIEWERS of [2])
      it(
        `keeps each of ${VIEWERS} viewers' upload within ${CAP_KBPS} kbit/s over every 10 s window`,
        { timeout: 120_000 },
        async () => {
          const swarm = `cap-${VIEWERS}-${Date.now()}`;
          const opened: Array<{ id: string; page: Page; context: BrowserContext }> = [];
          try {
            for (let i = 0; i < VIEWERS; i++) {
              const id = `capped${i}`;
              const context = await stage.browser.newContext();
              const page = await context.newPage();
              page.on("pageerror", (err) => console.error(`[${id}] page error: ${err.message}`));
              const params = {
                src: stage.origin.liveUrl(id),
                tracker: stage.tracker.url,
                swarm,
                maxUploadKbps: String(CAP_KBPS),
              };
              await page.goto(`${stage.pages.url}/pages/trust-player.html?${new URLSearchParams(params)}`);
              opened.push({ id, page, context });
              // The next viewer joins once this one has a segment to offer.
              await waitFor(() => page.evaluate(() => window.trustTest.segments.length > 0), {
                what: `${id} to load a segment`,
              });
            }
            const leecherContext = await stage.browser.newContext();
            const leecher = await leecherContext.newPage();
            await leecher.goto(
              `${stage.pages.url}/pages/trust-player.html?${new URLSearchParams({ src: stage.origin.liveUrl("leecher"), tracker: stage.tracker.url, swarm, upload: "off" })}`,
            );
            opened.push({ id: "leecher", page: leecher, context: leecherContext });
            // Long enough that the cap held somebody back and the leecher got bytes from peers.
            await waitFor(
              async () => {
                const [leecherStats, ...viewerStats] = await Promise.all(
                  [leecher, ...opened.slice(0, VIEWERS).map((o) => o.page)].map((page) =>
                    page.evaluate(() => window.trustTest.player!.stats()),
                  ),
                );
                return (
                  leecherStats.p2pBytes > 0 &&
                  viewerStats.some((s) => s.upload.limitedCount + s.upload.refusedRequests > 0)
                );
              },
              {
                what: "the cap to hold a viewer back and the leecher to receive bytes from peers",
                timeout: 60_000,
                interval: 1000,
              },
            );
            const leech = await leecher.evaluate(() => {
              const r = (window as any).trustTest;
              return { uploadLog: r.uploadLog as unknown[], stats: r.player.stats(), errors: r.errors };
            });
            opened.pop();
            await leecherContext.close();
            console.log(
              `# upload: false: uploaded ${leech.stats.uploadedBytes} B, received ${leech.stats.p2pBytes} B from peers, ${leech.stats.peers.length} peer(s)`,
            );
            assert.equal(leech.stats.upload.enabled, false);
            assert.equal(leech.stats.uploadedBytes, 0, "upload: false sent bytes");
            assert.deepEqual(leech.uploadLog, []);
            assert.ok(leech.stats.peers.length > 0, "upload: false viewer found no peers");
            const states = await Promise.all(
              opened.map((o) =>
                o.page.evaluate(() => {
                  const r = (window as any).trustTest;
                  return {
                    uploadLog: r.uploadLog as Array<[number, number, string, boolean]>,
                    stats: r.player.stats(),
                    errors: r.errors,
                    t: performance.now(),
                  };
                }),
              ),
            );
            const capBytes10s = (CAP_KBPS * 1000 * 10) / 8;
            const lines: string[] = [];
            let p2p = 0;
            let limited = 0;
            for (const [i, s] of states.entries()) {
              const total = s.uploadLog.reduce((a, [, b]) => a + b, 0);
              const { bytes: worst, events } = worstWindow(s.uploadLog, 10_000);
              p2p += s.stats.p2pBytes;
              limited += s.stats.upload.limitedCount;
              lines.push(
                `${opened[i].id}: worst 10 s ${((worst * 8) / 10 / 1000).toFixed(0)} kbit/s (${((100 * worst) / capBytes10s).toFixed(0)} % of cap), ` +
                  `uploaded ${(total / 1e6).toFixed(2)} MB, held back ${s.stats.upload.limitedCount}×`,
              );
              assert.equal(s.stats.upload.capKbps, CAP_KBPS);
              assert.deepEqual(
                s.errors.filter((e: { fatal: boolean }) => e.fatal),
                [],
                `${opened[i].id}: fatal errors`,
              );
              assert.ok(
                worst <= capBytes10s * 1.1,
                `${opened[i].id}: ${worst} B in a 10 s window > 1.1 × ${capBytes10s} B: ${JSON.stringify(events.slice(0, 20))}`,
              );
            }
            console.log(`# ${VIEWERS} viewers, cap ${CAP_KBPS} kbit/s: ${lines.join("; ")}`);
            assert.ok(p2p > 0, "nothing shared between viewers under the cap");
            assert.ok(limited > 0, "the cap never held anybody back: it was not tested");
          } finally {
            await Promise.all(opened.map((o) => o.context.close()));
          }
        },
      );
  });
}
