// A peer that announces a huge segment: a real Chromium viewer whose data channel rewrites the
// size field of PML's "segment data" command to 512 MiB (the bytes that follow are the real
// segment), and an honest viewer behind it that asks it for segments, over real WebRTC with our
// tracker and the local live origin. PML would take the announced size on trust and buffer up
// to it; the honest viewer must drop the peer on the announcement and play on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BrowserContext } from "playwright-core";
import { waitFor } from "../../../devkit/wait";
import { hashedStage as stage } from "./stage";

const ANNOUNCED = 512 * 1024 * 1024;

/** Rewrites the `s` field of every PML "segment data" command this page sends. */
const INFLATE_ANNOUNCEMENTS = `(() => {
  const send = RTCDataChannel.prototype.send;
  const text = (b) => String.fromCharCode(...b);
  window.inflated = 0;
  RTCDataChannel.prototype.send = function (data) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    if (bytes && bytes.length >= 10 && bytes[4] === 2 && text(bytes.slice(0, 4)) === "cstr" && text(bytes.slice(-4)) === "cend") {
      const out = [...bytes.slice(0, 5)];
      for (let o = 5; o < bytes.length - 4; ) {
        const name = bytes[o], length = bytes[o + 1] & 15;
        if (name === 115) out.push(115, 4, ${ANNOUNCED} >>> 24, (${ANNOUNCED} >>> 16) & 255, (${ANNOUNCED} >>> 8) & 255, ${ANNOUNCED} & 255);
        else out.push(...bytes.slice(o, o + 2 + length));
        o += 2 + length;
      }
      out.push(...bytes.slice(-4));
      window.inflated++;
      return send.call(this, new Uint8Array(out));
    }
    return send.call(this, data);
  };
})();`;

export function oversizePeerCase(): void {
  describe("a peer announcing an oversize segment", () => {
    it("is dropped on the announcement, before any of it is buffered", { timeout: 90_000 }, async () => {
      const swarm = `oversize-${Date.now()}`;
      const contexts: BrowserContext[] = [];
      try {
        const liarContext = await stage.browser.newContext();
        contexts.push(liarContext);
        const liar = await liarContext.newPage();
        await liar.addInitScript({ content: INFLATE_ANNOUNCEMENTS });
        await liar.goto(
          `${stage.pages.url}/pages/trust-player.html?${new URLSearchParams({ src: stage.origin.liveUrl("liar"), tracker: stage.tracker.url, swarm, upload: "on" })}`,
        );
        // The honest viewer joins once the liar holds a segment to serve.
        await waitFor(() => liar.evaluate(() => (window as any).trustTest.segments.length > 0), {
          what: "the liar to hold a segment",
        });
        const honestContext = await stage.browser.newContext();
        contexts.push(honestContext);
        const honest = await honestContext.newPage();
        // Behind the liar, leaving new segments to peers: the liar holds what it wants next.
        await honest.goto(
          `${stage.pages.url}/pages/trust-player.html?${new URLSearchParams({ src: stage.origin.liveUrl("honest"), tracker: stage.tracker.url, swarm, behind: "12" })}`,
        );

        const read = () =>
          honest.evaluate(() => {
            const r = (window as any).trustTest;
            return {
              stats: r.player.stats(),
              errors: r.errors,
              time: (document.querySelector("video") as HTMLVideoElement).currentTime,
            };
          });
        let state = await read();
        const deadline = Date.now() + 45_000;
        const dropped = (s: typeof state) => (s.stats.peerConnections?.oversizeRefused ?? 0) > 0;
        // Until dropped, or (without the check) until the liar's bytes arrived.
        while (
          !dropped(state) &&
          !(state.stats.p2pBytes > 0 && Date.now() > deadline - 35_000) &&
          Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 250));
          state = await read();
        }
        const inflated: number = await liar.evaluate(() => (window as any).inflated);
        const drops = state.errors.filter((e: { message: string }) => /announced a \d+-byte segment/.test(e.message));
        console.log(
          `# liar announced ${inflated} segment(s) as ${ANNOUNCED} B; honest viewer: ${JSON.stringify(state.stats.peerConnections)}, ${drops[0]?.message ?? "no drop"}; p2p ${state.stats.p2pBytes} B`,
        );
        assert.ok(inflated > 0, "the liar never served a segment");
        assert.equal(state.stats.p2pBytes, 0, "bytes of the oversize segment were buffered");
        assert.ok(dropped(state), "the oversize announcement was taken");
        assert.ok(drops.length > 0 && drops[0].kind === "peer");
        assert.deepEqual(
          state.errors.filter((e: { fatal: boolean }) => e.fatal),
          [],
        );
        assert.ok(state.time > 0, "the honest viewer does not play");
      } finally {
        await Promise.all(contexts.map((c) => c.close()));
      }
    });
  });
}
