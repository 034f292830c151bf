// An offer flood: sockets announce into a viewer's swarm through the real tracker, each with a
// real WebRTC offer, so the tracker relays them all to the one real Chromium viewer; every
// relayed offer would make the viewer build an RTCPeerConnection. The page counts the
// connections its browser builds (a wrapper put on RTCPeerConnection before any script runs):
// at most `maxPeerConnections` may be open at once, and the viewer must keep playing.
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { waitFor } from "../../../devkit/wait";
import { FLOOD_OFFERS, floodStage as stage } from "./stage";

/** The SDK's default `maxPeerConnections`. */
const CAP = 20;
const FLOOD_SOCKETS = 6;
const OFFERS_PER_SOCKET = FLOOD_OFFERS / FLOOD_SOCKETS;

/** Counts RTCPeerConnections built in the page: open now and most at once. */
const COUNT_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  const count = (window.connectionCount = { open: 0, peak: 0, built: 0 });
  window.RTCPeerConnection = class extends Native {
    constructor(config) {
      super(config);
      count.built++;
      count.open++;
      if (count.open > count.peak) count.peak = count.open;
      let closed = false;
      const done = () => { if (!closed) { closed = true; count.open--; } };
      this.addEventListener("connectionstatechange", () => { if (this.connectionState === "closed") done(); });
      const close = this.close.bind(this);
      this.close = () => { done(); close(); };
    }
  };
})();`;

const id20 = () => randomBytes(20).toString("latin1");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(url: string): Promise<{ ws: WebSocket; frames: any[] }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: any[] = [];
  ws.on("message", (data: Buffer) => frames.push(JSON.parse(data.toString())));
  ws.on("error", () => undefined);
  await once(ws, "open");
  return { ws, frames };
}

export function offerFloodCase(): void {
  describe("an offer flood", () => {
    it(
      `keeps a viewer's peer connections at or under the default maxPeerConnections (${CAP})`,
      { timeout: 90_000 },
      async () => {
        const context = await stage.browser.newContext();
        const sockets: WebSocket[] = [];
        try {
          const page = await context.newPage();
          await page.addInitScript({ content: COUNT_CONNECTIONS });
          const params = {
            src: stage.origin.liveUrl("victim"),
            tracker: stage.tracker.url,
            swarm: `flood-${Date.now()}`,
          };
          await page.goto(`${stage.pages.url}/pages/trust-player.html?${new URLSearchParams(params)}`);
          // A real offer SDP, made by the browser in a blank page.
          const maker = await context.newPage();
          const sdp: string = await maker.evaluate(async () => {
            const pc = new RTCPeerConnection({ iceServers: [] });
            pc.createDataChannel("x");
            await pc.setLocalDescription(await pc.createOffer());
            return pc.localDescription!.sdp;
          });
          await maker.close();

          // The viewer's swarm, once it announced.
          const spy = await connect(stage.tracker.url);
          sockets.push(spy.ws);
          let infoHash: string | undefined;
          for (let i = 0; i < 60 && !infoHash; i++) {
            spy.ws.send(JSON.stringify({ action: "scrape" }));
            await sleep(500);
            const files =
              [...spy.frames].reverse().find((f: { action?: string }) => f.action === "scrape")?.files ?? {};
            infoHash = Object.keys(files)[0];
          }
          assert.ok(infoHash, "the viewer never announced");

          const handledBefore: number = await page.evaluate(
            () =>
              (window as any).connectionCount.built + (window as any).trustTest.player.stats().peerConnections.refused,
          );
          const before = stage.tracker.stats().offersRelayed;
          for (let s = 0; s < FLOOD_SOCKETS; s++) {
            const { ws } = await connect(stage.tracker.url);
            sockets.push(ws);
            for (let k = 0; k < OFFERS_PER_SOCKET; k++) {
              // Each flooding peer leaves at once, so the viewer is the only peer the next offer can go to.
              const peerId = id20();
              const base = { action: "announce", info_hash: infoHash, peer_id: peerId, uploaded: 0, downloaded: 0 };
              ws.send(
                JSON.stringify({
                  ...base,
                  numwant: 1,
                  event: "started",
                  offers: [{ offer: { type: "offer", sdp }, offer_id: id20() }],
                }),
              );
              ws.send(JSON.stringify({ ...base, numwant: 0, event: "stopped" }));
            }
          }
          // Until the viewer has handled every offer the tracker relayed to it: each one built a
          // connection or was refused at the cap.
          const handled = () =>
            page.evaluate(
              () =>
                (window as any).connectionCount.built +
                (window as any).trustTest.player.stats().peerConnections.refused,
            );
          await waitFor(async () => (await handled()) - handledBefore >= stage.tracker.stats().offersRelayed - before, {
            what: "the viewer to handle every relayed offer",
            timeout: 20_000,
            interval: 250,
          });
          const relayed = stage.tracker.stats().offersRelayed - before; // all to the viewer: it is the only peer that stays
          const state = await page.evaluate(() => ({
            count: (window as any).connectionCount,
            stats: (window as any).trustTest.player.stats(),
            time: (document.querySelector("video") as HTMLVideoElement).currentTime,
            fatal: (window as any).trustTest.errors.filter((e: { fatal: boolean }) => e.fatal),
          }));
          console.log(
            `# ${relayed} offers relayed to the viewer: ${state.count.built} RTCPeerConnections built, at most ${state.count.peak} open at once ` +
              `(cap ${CAP}); SDK: ${JSON.stringify(state.stats.peerConnections)}`,
          );
          assert.ok(relayed > CAP * 2, `only ${relayed} offers reached the viewer: the flood was not a flood`);
          assert.ok(state.count.peak <= CAP, `${state.count.peak} peer connections open at once, cap ${CAP}`);
          assert.ok(state.stats.peerConnections?.refused > 0);
          assert.deepEqual(state.fatal, []);
          assert.ok(state.time > 0, "the viewer stopped playing");
        } finally {
          for (const ws of sockets) ws.terminate();
          await context.close();
        }
      },
    );
  });
}
