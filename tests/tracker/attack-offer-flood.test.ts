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
});
