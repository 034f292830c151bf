/**
 * Chromium's own WebSocket against the tracker: the framing and handshake browsers (and thus
 * PML's client) use, binary ids, offer/answer relay, and the 1001 close on drain.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { launchChromium } from "../../devkit/chromium";
import { startOurs } from "./helpers";

// Plain JavaScript run in the page (kept out of the TypeScript transform on purpose).
const PAGE_SCRIPT = `
async (url) => {
  const id = (seed) => Array.from({ length: 20 }, (_, i) => String.fromCharCode((seed * 97 + i * 31) & 0xff)).join("");
  const ih = id(1), pa = id(2), pb = id(3), offerId = id(9);
  const open = (u) => new Promise((resolve, reject) => {
    const ws = new WebSocket(u);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("socket error"));
  });
  const next = (ws, pred) => new Promise((resolve) => {
    const h = (e) => {
      const f = JSON.parse(e.data);
      if (pred(f)) { ws.removeEventListener("message", h); resolve(f); }
    };
    ws.addEventListener("message", h);
  });
  const a = await open(url);
  const b = await open(url);
  const replyA = next(a, (f) => f.interval !== undefined);
  a.send(JSON.stringify({ action: "announce", info_hash: ih, peer_id: pa, numwant: 0, event: "started" }));
  const ra = await replyA;
  const offerAtA = next(a, (f) => f.offer !== undefined);
  b.send(JSON.stringify({ action: "announce", info_hash: ih, peer_id: pb, numwant: 1, event: "started",
    offers: [{ offer: { type: "offer", sdp: "v=0 " + "x".repeat(300) }, offer_id: offerId }] }));
  const offer = await offerAtA;
  const answerAtB = next(b, (f) => f.answer !== undefined);
  a.send(JSON.stringify({ action: "announce", info_hash: ih, peer_id: pa, to_peer_id: pb, offer_id: offerId,
    answer: { type: "answer", sdp: "v=0 answer" } }));
  const answer = await answerAtB;
  window.__closed = new Promise((resolve) => { a.onclose = (e) => resolve(e.code); });
  return {
    replyOk: ra.info_hash === ih && ra.incomplete === 1,
    offerOk: offer.peer_id === pb && offer.offer_id === offerId && offer.offer.sdp.length === 304,
    answerOk: answer.peer_id === pa && answer.offer_id === offerId && answer.answer.sdp === "v=0 answer",
  };
}`;

describe("tracker with Chromium's WebSocket", () => {
  it("relays an offer and an answer between two browser sockets and closes them with 1001", async () => {
    const t = await startOurs();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const fn = await page.evaluateHandle(PAGE_SCRIPT);
      const result = (await fn.evaluate((f: any, url: string) => f(url), t.url)) as Record<string, boolean>;
      assert.deepEqual(result, { replyOk: true, offerOk: true, answerOk: true });
      const closing = t.close();
      assert.equal(await page.evaluate("window.__closed"), 1001);
      await closing;
    } finally {
      await browser.close();
      await t.close();
    }
  });
});
