/**
 * Peer id takeover: announcing someone else's peer_id must neither route their offers to the
 * claimant nor let it remove them with `stopped`, while a client that reconnects with its own id
 * after its old socket died gets the id back within the claim timeout.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { announce, binId, isFailure, isOffer, isReply, offers, sleep, startOurs, TestClient } from "./helpers";

let seq = 0;
const fresh = () => binId(`owner-${++seq}-${Math.random()}`);

describe("peer id ownership", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function setup(limits: Record<string, number> = {}) {
    const t = await startOurs({ limits });
    cleanup.push(() => t.close());
    const connect = async (opts = {}) => {
      const c = await TestClient.connect(t.url, opts);
      cleanup.push(() => c.close());
      return c;
    };
    return { t, connect };
  }

  it("refuses another socket's claim on a live peer_id and ignores its stopped", async () => {
    const { t, connect } = await setup({ peerClaimTimeout: 0.3 });
    const ih = fresh();
    const victimId = fresh();
    const victim = await connect();
    victim.send(announce(ih, victimId, { event: "started" }));
    await victim.next(isReply);

    const attacker = await connect();
    attacker.send(announce(ih, victimId, { event: "started" }));
    assert.match((await attacker.next(isFailure))["failure reason"], /peer_id is in use/);
    // The victim answers the ping; after the claim timeout the id is still the victim's.
    // Waits on time: what is checked is that the claim timeout passes without the id moving.
    await sleep(600);
    attacker.send(announce(ih, victimId, { event: "stopped" }));
    await attacker.next(isReply);
    assert.equal(t.stats().peers, 1, "stopped from a non-owner is ignored");

    const offerer = await connect();
    offerer.send(announce(ih, fresh(), { event: "started", numwant: 1, offers: offers(1) }));
    await victim.next(isOffer);
    assert.ok(await attacker.nothing(isOffer, 300), "the claimant receives none of the victim's offers");
    assert.equal(t.server.stats.peerIdsMoved, 0);
  });

  it("gives the id to a reconnecting client within the claim timeout when the old socket is dead", async () => {
    const { t, connect } = await setup();
    const ih = fresh();
    const id = fresh();
    // The old socket is open but its client is gone: it answers no ping.
    const old = await connect({ autoPong: false });
    old.send(announce(ih, id, { event: "started" }));
    await old.next(isReply);

    const back = await connect();
    const started = Date.now();
    back.send(announce(ih, id, { event: "started" }));
    assert.match((await back.next(isFailure))["failure reason"], /peer_id is in use/);
    const reply = await back.next(isReply, 4000);
    const waited = Date.now() - started;
    assert.equal(reply.incomplete, 1);
    assert.ok(waited >= 1500, `the owner had its 2 s to answer (${waited} ms)`);
    assert.equal(t.server.stats.peerIdsMoved, 1);

    const offerer = await connect();
    offerer.send(announce(ih, fresh(), { event: "started", numwant: 1, offers: offers(1) }));
    await back.next(isOffer);
  });

  it("moves the id at once when the old socket closes during the claim", async () => {
    const { t, connect } = await setup({ peerClaimTimeout: 30 });
    const ih = fresh();
    const id = fresh();
    const old = await connect({ autoPong: false });
    old.send(announce(ih, id, { event: "started" }));
    await old.next(isReply);
    const back = await connect();
    back.send(announce(ih, id, { event: "started" }));
    await back.next(isFailure);
    old.close();
    await back.next(isReply, 2000);
    assert.equal(t.stats().peers, 1);
  });
});
