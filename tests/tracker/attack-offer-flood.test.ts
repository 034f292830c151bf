/**
 * Offer floods: each relayed offer makes the receiving browser build a peer connection, so one
 * target is delivered at most `offerBurst` offers at once and `offerRate` per second after,
 * however many senders there are.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { announce, binId, isOffer, isReply, offers, startOurs, TestClient } from "./helpers";

describe("offer flood", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("delivers at most the offer burst to one target", async () => {
    // Default limits: 30 offers at once, then 1 per second.
    const t = await startOurs();
    cleanup.push(() => t.close());
    const target = await TestClient.connect(t.url);
    cleanup.push(() => target.close());
    // Five senders, each alone with the target in a swarm of its own, 10 announces each with
    // one offer: 50 offers at the one target.
    const swarms = Array.from({ length: 5 }, (_, i) => binId(`flood-${i}-${Math.random()}`));
    for (const ih of swarms) {
      target.send(announce(ih, binId(`target-${Math.random()}`), { event: "started" }));
      await target.next(isReply);
    }
    const senders = await Promise.all(swarms.map(() => TestClient.connect(t.url)));
    for (const s of senders) cleanup.push(() => s.close());
    senders.forEach((s, k) => {
      const me = binId(`sender-${Math.random()}`);
      for (let i = 0; i < 10; i++) s.send(announce(swarms[k], me, { numwant: 1, offers: offers(1) }));
    });
    for (const s of senders) for (let i = 0; i < 10; i++) await s.next(isReply);
    let delivered = 0;
    while (!(await target.nothing(isOffer, 300))) delivered++;
    assert.ok(delivered >= 30 && delivered <= 32, `${delivered} offers delivered`);
    assert.ok(t.stats().offersDropped >= 18);
  });

  it("relays each offer with its own SDP when offers before it were dropped", async () => {
    const t = await startOurs({ limits: { offerBurst: 10, offerRate: 0.001, messageBurst: 100 } });
    cleanup.push(() => t.close());
    const ih = binId(`sdp-${Math.random()}`);
    const [spent, fresh] = [await TestClient.connect(t.url), await TestClient.connect(t.url)];
    cleanup.push(
      () => spent.close(),
      () => fresh.close(),
    );
    spent.send(announce(ih, binId(`spent-${Math.random()}`), { event: "started" }));
    await spent.next(isReply);
    // Spend the first target's budget.
    const sender = await TestClient.connect(t.url);
    cleanup.push(() => sender.close());
    const me = binId(`s-${Math.random()}`);
    for (let i = 0; i < 10; i++) {
      sender.send(announce(ih, me, { event: "started", numwant: 1, offers: offers(1, `first${i}`) }));
      await spent.next(isOffer);
    }
    fresh.send(announce(ih, binId(`fresh-${Math.random()}`), { event: "started" }));
    await fresh.next(isReply);
    // Two offers, one per target in random order (the spent one first in a third of the rounds,
    // so a mix-up shows with probability 1 − (2/3)^10); the one for the spent target is dropped.
    const two = [
      { offer: { type: "offer", sdp: `v=0 long ${"x".repeat(200)}` }, offer_id: binId(`a-${Math.random()}`) },
      { offer: { type: "offer", sdp: "v=0 short" }, offer_id: binId(`b-${Math.random()}`) },
    ];
    const sdpById = new Map<string, string>();
    for (let round = 0; round < 14; round++) {
      const sent = two.map((o) => ({ ...o, offer_id: binId(`${o.offer_id}-${round}`) }));
      for (const o of sent) sdpById.set(o.offer_id, o.offer.sdp);
      sender.send(announce(ih, me, { numwant: 2, offers: sent }));
      await sender.next(isReply);
    }
    let delivered = 0;
    for (;;) {
      let f;
      try {
        f = await fresh.next(isOffer, 300);
      } catch {
        break;
      }
      delivered++;
      assert.equal(f.offer.sdp, sdpById.get(f.offer_id), "each offer arrives with the SDP sent with it");
    }
    assert.equal(delivered, 10);
  });
});
