/** Abuse limits: frame size, connections per IP, message rate, swarms per connection, idleness. */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  announce,
  binId,
  eventually,
  isFailure,
  isReply,
  metricValue,
  refusedUpgrade,
  startOurs,
  TestClient,
} from "./helpers";

let seq = 0;
const fresh = () => binId(`limits-${++seq}-${Math.random()}`);

describe("abuse limits", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function setup(limits: Record<string, number>) {
    const t = await startOurs({ limits });
    cleanup.push(() => t.close());
    const connect = async (opts = {}) => {
      const c = await TestClient.connect(t.url, opts);
      cleanup.push(() => c.close());
      return c;
    };
    return { t, connect };
  }

  it("closes a connection that sends a frame above maxPayload with 1009", async () => {
    const { t, connect } = await setup({ maxPayload: 1024 });
    const a = await connect();
    a.send(announce(fresh(), fresh(), { event: "started", pad: "x".repeat(2000) }));
    assert.equal(await a.closed(), 1009);
    await eventually(
      async () => metricValue(await t.metrics(), 'swarmcast_tracker_failures_total{reason="frame_too_large"}') === 1,
    );
    const b = await connect();
    b.send(announce(fresh(), fresh(), { event: "started" }));
    await b.next(isReply);
  });

  it("refuses connections above maxConnectionsPerIp with 429", async () => {
    const { t, connect } = await setup({ maxConnectionsPerIp: 2 });
    const a = await connect();
    await connect();
    const r = await refusedUpgrade(t.url);
    assert.equal(r.status, 429);
    assert.match(r.body, /too many connections/);
    a.close();
    await eventually(() => t.stats().connections === 1);
    await connect();
    assert.equal(
      metricValue(
        await t.metrics(),
        'swarmcast_tracker_rejected_connections_total{reason="too_many_connections_from_ip"}',
      ),
      1,
    );
  });

  it("rate-limits messages per connection with a token bucket", async () => {
    const { t, connect } = await setup({ messageRate: 1, messageBurst: 3 });
    const a = await connect();
    const ih = fresh();
    const pa = fresh();
    for (let i = 0; i < 6; i++) a.send(announce(ih, pa, { event: "started" }));
    let replies = 0;
    let limited = 0;
    for (let i = 0; i < 6; i++) {
      const f = await a.next();
      if (isReply(f)) replies++;
      else if (isFailure(f) && /rate limit/.test(f["failure reason"])) limited++;
    }
    assert.equal(replies, 3);
    assert.equal(limited, 3);
    assert.equal(metricValue(await t.metrics(), 'swarmcast_tracker_failures_total{reason="rate_limited"}'), 3);
    // Waits on time: the bucket refills at one message a second.
    await new Promise((r) => setTimeout(r, 1100));
    a.send(announce(ih, pa));
    await a.next(isReply);
  });

  it("closes a connection that keeps flooding past the limit", async () => {
    const { connect } = await setup({ messageRate: 1, messageBurst: 2 });
    const a = await connect();
    for (let i = 0; i < 20; i++) a.send("{}");
    assert.equal(await a.closed(), 1008);
  });

  it("caps the swarms one connection may join", async () => {
    const { connect } = await setup({ maxSwarmsPerConnection: 2 });
    const a = await connect();
    for (let i = 0; i < 2; i++) {
      a.send(announce(fresh(), fresh(), { event: "started" }));
      await a.next(isReply);
    }
    const ih = fresh();
    a.send(announce(ih, fresh(), { event: "started" }));
    const f = await a.next();
    assert.ok(isFailure(f));
    assert.match(f["failure reason"], /too many swarms/);
    assert.equal(f.info_hash, ih);
  });

  it("caps info_hashes per scrape", async () => {
    const { connect } = await setup({ maxScrapeHashes: 3 });
    const a = await connect();
    a.send({ action: "scrape", info_hash: [fresh(), fresh(), fresh(), fresh()] });
    assert.match((await a.next(isFailure))["failure reason"], /too many/);
  });

  it("closes connections silent for idleTimeout", async () => {
    const { t, connect } = await setup({ idleTimeout: 0.5 });
    const a = await connect();
    assert.equal(await a.closed(5000), 4000);
    assert.equal(t.stats().connections, 0);
  });

  it("terminates connections that stop answering pings", async () => {
    const { t, connect } = await setup({ pingInterval: 0.3 });
    const alive = await connect();
    const dead = await connect({ autoPong: false });
    await dead.closed(5000);
    assert.equal(alive.closeCode, null);
    assert.equal(metricValue(await t.metrics(), "swarmcast_tracker_connections_closed_heartbeat_total"), 1);
  });
});
