/**
 * The WebTorrent tracker protocol as PML's client relies on it. Every case runs against our
 * tracker, against bittorrent-tracker's Server, so the cases encode the reference behaviour, and
 * against two of our trackers sharing swarms through Redis, clients taking the nodes in turn
 * (the first client of a case on node 1, the second on node 2, …).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { waitFor } from "../../devkit/wait";
import {
  announce,
  binId,
  isAnswer,
  isFailure,
  isOffer,
  isReply,
  joinPeers,
  offers,
  startCluster,
  startOurs,
  startReference,
  TestClient,
  type TrackerUnderTest,
} from "./helpers";

const targets: [string, () => Promise<TrackerUnderTest>][] = [
  ["swarmcast", () => startOurs()],
  ["bittorrent-tracker (reference)", () => startReference()],
  ["swarmcast 2-node cluster", () => startCluster(2)],
];

for (const [name, start] of targets) {
  describe(`protocol: ${name}`, () => {
    let tracker: TrackerUnderTest;
    const clients: TestClient[] = [];
    let turn = 0;
    const connect = async () => {
      const urls = tracker.urls ?? [tracker.url];
      const c = await TestClient.connect(urls[turn++ % urls.length]);
      clients.push(c);
      return c;
    };
    let n = 0;
    const fresh = () => binId(`${name}-${++n}-${Math.random()}`);

    before(async () => {
      tracker = await start();
    });
    beforeEach(() => {
      turn = 0;
    });
    after(async () => {
      for (const c of clients) c.close();
      await tracker.close();
    });

    it("replies to an announce with interval and swarm counts", async () => {
      const ih = fresh();
      const a = await connect();
      a.send(announce(ih, fresh(), { event: "started" }));
      const r = await a.next(isReply);
      assert.equal(r.action, "announce");
      assert.equal(r.info_hash, ih);
      assert.ok(r.interval > 0);
      assert.equal(r.complete, 0);
      assert.equal(r.incomplete, 1);
    });

    it("relays an offer to another peer and routes the answer back", async () => {
      const ih = fresh();
      const [a, b] = [await connect(), await connect()];
      const pa = fresh();
      const pb = fresh();
      a.send(announce(ih, pa, { event: "started" }));
      await a.next(isReply);
      const [offer] = offers(1, "ab");
      b.send(announce(ih, pb, { event: "started", numwant: 1, offers: [offer] }));
      const rb = await b.next(isReply);
      assert.equal(rb.incomplete, 2);

      const got = await a.next(isOffer);
      assert.deepEqual(got, {
        action: "announce",
        info_hash: ih,
        peer_id: pb,
        offer_id: offer.offer_id,
        offer: offer.offer,
      });

      const answer = { type: "answer", sdp: "v=0 answer" };
      a.send(announce(ih, pa, { to_peer_id: pb, offer_id: offer.offer_id, answer }));
      const ans = await b.next(isAnswer);
      assert.deepEqual(ans, { action: "announce", info_hash: ih, peer_id: pa, offer_id: offer.offer_id, answer });
      assert.ok(await a.nothing(isReply, 200), "an answer gets no announce reply");
    });

    it("sends each offer to a distinct other peer, never back to the sender", async () => {
      const ih = fresh();
      const others = await joinPeers(connect, ih, fresh, 3);
      const me = await connect();
      me.send(announce(ih, fresh(), { event: "started", numwant: 5, offers: offers(5, "d") }));
      await me.next(isReply);
      for (const c of others) {
        await c.next(isOffer);
        assert.ok(await c.nothing(isOffer, 150), "one offer per peer");
      }
      assert.ok(await me.nothing(isOffer, 100));
    });

    it("relays no more offers than it was given", async () => {
      const ih = fresh();
      const others = await joinPeers(connect, ih, fresh, 3);
      const me = await connect();
      me.send(announce(ih, fresh(), { event: "started", numwant: 2, offers: offers(2, "e") }));
      await me.next(isReply);
      const got = await Promise.all(others.map((c) => c.nothing(isOffer, 300)));
      assert.equal(got.filter((none) => !none).length, 2);
    });

    it("counts completed peers and forgets stopped ones", async () => {
      const ih = fresh();
      const [a, b] = [await connect(), await connect()];
      const pa = fresh();
      a.send(announce(ih, pa, { event: "started" }));
      await a.next(isReply);
      b.send(announce(ih, fresh(), { event: "completed", left: 0 }));
      const rb = await b.next(isReply);
      assert.equal(rb.complete, 1);
      assert.equal(rb.incomplete, 1);
      a.send(announce(ih, pa, { event: "stopped" }));
      const ra = await a.next(isReply);
      assert.equal(ra.incomplete, 0);
      assert.equal(ra.complete, 1);
    });

    it("scrapes one info_hash and a list", async () => {
      const ih = fresh();
      const unknown = fresh();
      const a = await connect();
      a.send(announce(ih, fresh(), { event: "started" }));
      await a.next(isReply);
      a.send({ action: "scrape", info_hash: ih });
      const one = await a.next((f) => f.action === "scrape");
      assert.deepEqual(one.files[ih], { complete: 0, incomplete: 1, downloaded: 0 });
      a.send({ action: "scrape", info_hash: [ih, unknown] });
      const two = await a.next((f) => f.action === "scrape");
      assert.deepEqual(Object.keys(two.files).sort(), [ih, unknown].sort());
      assert.deepEqual(two.files[unknown], { complete: 0, incomplete: 0, downloaded: 0 });
    });

    it("drops a peer from every swarm when its socket closes", async () => {
      const [ih1, ih2] = [fresh(), fresh()];
      const a = await connect();
      const watcher = await connect();
      const pa = fresh();
      a.send(announce(ih1, pa, { event: "started" }));
      await a.next(isReply);
      a.send(announce(ih2, pa, { event: "started" }));
      await a.next(isReply);
      a.close();
      const files: Record<string, any> = await waitFor(
        async () => {
          watcher.send({ action: "scrape", info_hash: [ih1, ih2] });
          const scraped: Record<string, any> = (await watcher.next((f) => f.action === "scrape")).files;
          return scraped[ih1].incomplete === 0 && scraped[ih2].incomplete === 0 && scraped;
        },
        { what: "both swarms to drop the closed peer", timeout: 3000, interval: 50 },
      );
      assert.equal(files[ih1].incomplete, 0);
      assert.equal(files[ih2].incomplete, 0);
    });

    it("keeps binary ids byte-exact", async () => {
      const ih = '\u0000\u00ff"\\\n\u0080abc\u00e9\u0001\u007f0123456'.slice(0, 20).padEnd(20, "\u00fe");
      const pb = "\u00ff".repeat(19) + "\u0000";
      assert.equal(ih.length, 20);
      const [a, b] = [await connect(), await connect()];
      a.send(announce(ih, fresh(), { event: "started" }));
      assert.equal((await a.next(isReply)).info_hash, ih);
      const [o] = offers(1, "bin");
      b.send(announce(ih, pb, { event: "started", numwant: 1, offers: [o] }));
      const got = await a.next(isOffer);
      assert.equal(got.peer_id, pb);
      assert.equal(got.info_hash, ih);
      assert.equal(got.offer_id, o.offer_id);
    });

    it("answers malformed frames with a failure reason and keeps serving", async () => {
      const a = await connect();
      for (const bad of [
        "{not json",
        JSON.stringify({ action: "dance" }),
        JSON.stringify(announce("short", fresh())),
        JSON.stringify(announce(fresh(), 12345 as unknown as string)),
        JSON.stringify({ action: "scrape", info_hash: ["x"] }),
      ]) {
        a.send(bad);
        const f = await a.next();
        assert.ok(isFailure(f), `failure for ${bad}: ${JSON.stringify(f)}`);
      }
      const ih = fresh();
      a.send(announce(ih, fresh(), { event: "bogus" }));
      const f = await a.next();
      assert.ok(isFailure(f));
      assert.equal(f.info_hash, ih);
      a.send(announce(ih, fresh(), { event: "started" }));
      assert.equal((await a.next(isReply)).info_hash, ih);
    });
  });
}
