/**
 * /metrics and /stats.json can be closed to the public (a bearer secret, or a listener of their
 * own), and the pending-offer table gives each connection its share, so one client's offers
 * never push out another's.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { announce, binId, isAnswer, isOffer, isReply, offers, startOurs, TestClient } from "./helpers";

describe("reports and shared tables", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("asks for the bearer secret on /metrics and /stats.json", async () => {
    const t = await startOurs({ metricsSecret: "m3trics" });
    cleanup.push(() => t.close());
    for (const path of ["/metrics", "/stats.json"]) {
      const open = await fetch(t.httpUrl + path);
      assert.equal(open.status, 401, path);
      assert.match(open.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await fetch(t.httpUrl + path, { headers: { Authorization: "Bearer wrong!!" } })).status, 401);
      assert.equal((await fetch(t.httpUrl + path, { headers: { Authorization: "Bearer m3trics" } })).status, 200);
    }
    assert.equal((await fetch(`${t.httpUrl}/health`)).status, 200, "/health stays open for load balancers");
  });

  it("serves /metrics and /stats.json only on --metrics-port when set", async () => {
    const t = await startOurs({ metricsPort: 0 });
    cleanup.push(() => t.close());
    const probe = await startOurs();
    const port = probe.port;
    await probe.close();
    const t2 = await startOurs({ metricsPort: port, metricsHost: "127.0.0.1" });
    cleanup.push(() => t2.close());
    for (const path of ["/metrics", "/stats.json"]) {
      assert.equal((await fetch(t2.httpUrl + path)).status, 404, `${path} is not on the public port`);
      assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 200, `${path} on the metrics port`);
    }
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 404);
    assert.equal((await fetch(`${t2.httpUrl}/health`)).status, 200);
  });

  it("keeps one client's pending offers from evicting another's", async () => {
    const t = await startOurs({
      limits: { maxPendingOffers: 10, maxPendingOffersPerConnection: 4, messageBurst: 100 },
    });
    cleanup.push(() => t.close());
    const join = async (ih: string) => {
      const c = await TestClient.connect(t.url);
      cleanup.push(() => c.close());
      const id = binId(`p-${Math.random()}`);
      c.send(announce(ih, id, { event: "started" }));
      await c.next(isReply);
      return { c, id };
    };
    const ih = binId(`share-${Math.random()}`);
    const honest = await join(ih);
    const answerer = await join(ih);
    honest.c.send(announce(ih, honest.id, { numwant: 1, offers: offers(1, "honest") }));
    const offer = await answerer.c.next(isOffer);

    // Another swarm: the flooder's offers, many more than the whole table holds.
    const ih2 = binId(`share2-${Math.random()}`);
    const sink = await join(ih2);
    const flooder = await join(ih2);
    for (let i = 0; i < 20; i++) flooder.c.send(announce(ih2, flooder.id, { numwant: 1, offers: offers(1, `f${i}`) }));
    for (let i = 0; i < 20; i++) await flooder.c.next(isReply);
    assert.ok(t.stats().pendingOffers <= 5, `${t.stats().pendingOffers} pending`);

    answerer.c.send(
      announce(ih, answerer.id, {
        to_peer_id: honest.id,
        offer_id: offer.offer_id,
        answer: { type: "answer", sdp: "v=0 a" },
      }),
    );
    await honest.c.next(isAnswer);
    void sink;
  });
});
