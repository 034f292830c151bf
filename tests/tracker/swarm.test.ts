/** Guarantees of our tracker beyond the reference: answer matching, sweeps, limits on offers. */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Swarm, Peer } from "../../tracker/src/swarm";
import type { Connection } from "../../tracker/src/connection";
import {
  announce,
  binId,
  eventually,
  getJson,
  isAnswer,
  isFailure,
  isOffer,
  isReply,
  joinPeers,
  metricValue,
  offers,
  startOurs,
  TestClient,
} from "./helpers";

let seq = 0;
const fresh = () => binId(`swarm-${++seq}-${Math.random()}`);

describe("swarm core", () => {
  it("picks distinct random peers other than the sender, in small and large swarms", () => {
    for (const size of [1, 2, 5, 50]) {
      const s = new Swarm(fresh());
      const peers = Array.from({ length: size }, (_, i) => new Peer(binId(`p${i}`), {} as Connection, s, 0));
      for (const p of peers) s.add(p);
      const out: Peer[] = [];
      for (let round = 0; round < 50; round++) {
        s.pickOthers(peers[0], 10, out);
        assert.equal(out.length, Math.min(10, size - 1));
        assert.equal(new Set(out).size, out.length);
        assert.ok(!out.includes(peers[0]));
      }
    }
  });

  it("removes in O(1) by swap and keeps indexes and counts consistent", () => {
    const s = new Swarm(fresh());
    const peers = Array.from({ length: 100 }, (_, i) => new Peer(binId(`q${i}`), {} as Connection, s, 0));
    peers.forEach((p, i) => {
      p.complete = i % 3 === 0;
      s.add(p);
    });
    for (let i = 0; i < 100; i += 2) s.remove(peers[i]);
    s.remove(peers[0]);
    assert.equal(s.size, 50);
    s.peers.forEach((p, i) => assert.equal(p.index, i));
    assert.equal(s.complete, s.peers.filter((p) => p.complete).length);
    assert.equal(s.byId.size, 50);
  });
});

describe("tracker guarantees", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function setup(init: Parameters<typeof startOurs>[0] = {}) {
    const t = await startOurs(init);
    cleanup.push(() => t.close());
    const connect = async () => {
      const c = await TestClient.connect(t.url);
      cleanup.push(() => c.close());
      return c;
    };
    return { t, connect };
  }

  it("routes an answer only for an offer it relayed to that peer", async () => {
    const { t, connect } = await setup();
    const ih = fresh();
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const [pa, pb, pc] = [fresh(), fresh(), fresh()];
    a.send(announce(ih, pa, { event: "started" }));
    await a.next(isReply);
    const answer = { type: "answer", sdp: "x" };

    // Never relayed: dropped.
    b.send(announce(ih, pb, { event: "started" }));
    await b.next(isReply);
    b.send(announce(ih, pb, { to_peer_id: pa, offer_id: fresh(), answer }));
    assert.ok(await a.nothing(isAnswer, 200));

    // Relayed to one of a and b, answered by the other: dropped.
    const [o] = offers(1, "m");
    c.send(announce(ih, pc, { event: "started", numwant: 1, offers: [o] }));
    await c.next(isReply);
    const [aNone, bNone] = await Promise.all([a.nothing(isOffer, 300), b.nothing(isOffer, 300)]);
    assert.ok(aNone !== bNone, "exactly one peer received the offer");
    const to = aNone ? b : a;
    const toId = to === a ? pa : pb;
    const wrong = to === a ? b : a;
    const wrongId = to === a ? pb : pa;
    wrong.send(announce(ih, wrongId, { to_peer_id: pc, offer_id: o.offer_id, answer }));
    assert.ok(await c.nothing(isAnswer, 200), "answer from a peer the offer was not sent to");

    // The right peer: routed, once.
    to.send(announce(ih, toId, { to_peer_id: pc, offer_id: o.offer_id, answer }));
    const ans = await c.next(isAnswer);
    assert.equal(ans.peer_id, toId);
    to.send(announce(ih, toId, { to_peer_id: pc, offer_id: o.offer_id, answer }));
    assert.ok(await c.nothing(isAnswer, 200), "a second answer to the same offer");
    const m = await t.metrics();
    assert.equal(metricValue(m, 'swarmcast_tracker_failures_total{reason="unknown_offer"}'), 3);
    assert.equal(metricValue(m, "swarmcast_tracker_answers_relayed_total"), 1);
  });

  it("relays SDPs byte-exact, escapes included, and always as valid JSON", async () => {
    const { connect } = await setup();
    const ih = fresh();
    const [a, b] = [await connect(), await connect()];
    const [pa, pb] = [fresh(), fresh()];
    a.send(announce(ih, pa, { event: "started" }));
    await a.next(isReply);
    const tricky = [
      'v=0\r\na="quoted" \\ back\\slash \u2028 é 🎥 \u0000\r\n',
      "ends with backslash \\",
      '"sdp":"inner"',
      "",
    ];
    for (const sdp of tricky) {
      const offer_id = fresh();
      b.send(announce(ih, pb, { numwant: 1, offers: [{ offer: { type: "offer", sdp }, offer_id }] }));
      const got = await a.next(isOffer);
      assert.equal(got.offer.sdp, sdp);
      a.send(announce(ih, pa, { to_peer_id: pb, offer_id, answer: { type: "answer", sdp: sdp + "!" } }));
      assert.equal((await b.next(isAnswer)).answer.sdp, sdp + "!");
    }
    // Keys ending in "sdp" elsewhere in the frame may shift what is taken, never break the JSON.
    const offer_id = fresh();
    b.send(
      `{"x\\"sdp":"decoy","action":"announce","info_hash":${JSON.stringify(ih)},"peer_id":${JSON.stringify(pb)},"numwant":1,"offers":[{"offer":{"type":"offer","sdp":"real"},"offer_id":${JSON.stringify(offer_id)}}]}`,
    );
    const got = await a.next(isOffer);
    assert.equal(typeof got.offer.sdp, "string");
    assert.equal(got.offer_id, offer_id);
  });

  it("refuses answers after the offer expired", async () => {
    const { connect } = await setup({ limits: { offerTtl: 0.2 } });
    const ih = fresh();
    const [a, b] = [await connect(), await connect()];
    const [pa, pb] = [fresh(), fresh()];
    a.send(announce(ih, pa, { event: "started" }));
    await a.next(isReply);
    const [o] = offers(1, "ttl");
    b.send(announce(ih, pb, { event: "started", numwant: 1, offers: [o] }));
    await a.next(isOffer);
    // Waits on time: the offer has to outlive its 0.2 s TTL and be swept.
    await new Promise((r) => setTimeout(r, 1200));
    a.send(announce(ih, pa, { to_peer_id: pb, offer_id: o.offer_id, answer: { type: "answer", sdp: "late" } }));
    assert.ok(await b.nothing(isAnswer, 300));
  });

  it("sweeps silent peers after twice the interval and deletes empty swarms", async () => {
    const { t, connect } = await setup({ interval: 1 });
    const ih = fresh();
    const [a, b] = [await connect(), await connect()];
    const pa = fresh();
    a.send(announce(ih, pa, { event: "started" }));
    b.send(announce(ih, fresh(), { event: "started" }));
    await a.next(isReply);
    await b.next(isReply);
    assert.equal(t.stats().peers, 2);
    // a keeps announcing, b goes silent.
    const keep = setInterval(() => a.send(announce(ih, pa)), 400);
    try {
      await eventually(() => t.stats().peers === 1, 5000);
    } finally {
      clearInterval(keep);
    }
    assert.equal(t.stats().swarms, 1);
    await eventually(() => t.stats().swarms === 0, 5000);
    assert.equal(t.stats().peersSwept, 2);
    assert.equal(t.stats().connections, 2, "sweeping peers does not close their sockets");
  });

  it("drops every membership of a socket that used a peer_id per swarm", async () => {
    const { t, connect } = await setup();
    const a = await connect();
    for (let i = 0; i < 3; i++) {
      a.send(announce(fresh(), fresh(), { event: "started" }));
      await a.next(isReply);
    }
    assert.equal(t.stats().peers, 3);
    a.close();
    await eventually(() => t.stats().peers === 0 && t.stats().swarms === 0);
  });

  it("relays at most maxOffersPerAnnounce offers", async () => {
    const { connect } = await setup({ limits: { maxOffersPerAnnounce: 2 } });
    const ih = fresh();
    const others = await joinPeers(connect, ih, fresh, 4);
    const me = await connect();
    me.send(announce(ih, fresh(), { numwant: 5, offers: offers(5) }));
    await me.next(isReply);
    const none = await Promise.all(others.map((c) => c.nothing(isOffer, 250)));
    assert.equal(none.filter((x) => !x).length, 2);
  });

  it("answers a full scrape only when enabled", async () => {
    for (const fullScrape of [false, true]) {
      const { connect } = await setup({ fullScrape });
      const a = await connect();
      const ih = fresh();
      a.send(announce(ih, fresh(), { event: "started" }));
      await a.next(isReply);
      a.send({ action: "scrape" });
      const f = await a.next();
      if (fullScrape) assert.deepEqual(Object.keys(f.files), [ih]);
      else assert.ok(isFailure(f));
    }
  });

  it("serves /health, /stats.json and /metrics", async () => {
    const { t, connect } = await setup();
    const a = await connect();
    const ih = fresh();
    a.send(announce(ih, fresh(), { event: "started" }));
    await a.next(isReply);
    a.send("{oops");
    await a.next(isFailure);
    const health = await getJson(`${t.httpUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    const stats = await getJson(`${t.httpUrl}/stats.json`);
    assert.equal(stats.body.connections, 1);
    assert.equal(stats.body.swarms, 1);
    assert.equal(stats.body.peers, 1);
    assert.equal(stats.body.announces, 1);
    const res = await fetch(`${t.httpUrl}/metrics`);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    const text = await res.text();
    for (const [name, v] of [
      ["swarmcast_tracker_connections", 1],
      ["swarmcast_tracker_swarms", 1],
      ["swarmcast_tracker_peers", 1],
      ["swarmcast_tracker_announces_total", 1],
      ["swarmcast_tracker_offers_relayed_total", 0],
      ["swarmcast_tracker_answers_relayed_total", 0],
      ['swarmcast_tracker_failures_total{reason="invalid_json"}', 1],
    ] as const) {
      assert.equal(metricValue(text, name), v, name);
    }
    assert.ok(metricValue(text, "swarmcast_tracker_bytes_received_total") > 50);
    assert.ok(metricValue(text, "swarmcast_tracker_bytes_sent_total") > 50);
    assert.equal((await fetch(`${t.httpUrl}/nope`)).status, 404);
  });
});
