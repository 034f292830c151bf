/**
 * CPU stall with legal frames: the budget counts bytes as well as messages (per connection and
 * per IP), and frames made of thousands of tiny keys — costly to parse, useless to the protocol —
 * are refused before JSON.parse. Default limits throughout: this is what a deployment gets.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { announce, binId, isFailure, isReply, startOurs, TestClient, type Frame } from "./helpers";

/** A legal-size frame (just under the 64 KiB default maxPayload) of ~6,500 tiny keys. */
function manyKeys(): string {
  const keys: string[] = [];
  for (let i = 0, length = 0; length < 60_000; i++) length += keys[keys.push(`"k${i}":1`) - 1].length + 1;
  return `{"action":"announce",${keys.join(",")}}`;
}

/** A legal-size announce carrying one long string. */
function bigAnnounce(): Frame {
  return announce(binId("cpu-ih"), binId(`cpu-${Math.random()}`), { event: "started", pad: "x".repeat(60_000) });
}

describe("CPU budget", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("refuses a frame of thousands of keys without parsing it", async () => {
    const t = await startOurs();
    cleanup.push(() => t.close());
    const c = await TestClient.connect(t.url);
    cleanup.push(() => c.close());
    c.send(manyKeys());
    assert.match((await c.next(isFailure))["failure reason"], /too many keys/);
    assert.equal(t.server.stats.failures.get("too_many_keys"), 1);
  });

  it("budgets bytes per connection: past the burst, the socket is not read until it refills", async () => {
    const t = await startOurs();
    cleanup.push(() => t.close());
    const c = await TestClient.connect(t.url);
    cleanup.push(() => c.close());
    for (let i = 0; i < 6; i++) c.send(bigAnnounce());
    // 128 KiB burst: two 60 KB frames fit, the third puts the socket in debt (handled, then
    // the socket is paused); the rest wait in TCP buffers for the 32 KiB/s refill.
    let handled = 0;
    while (!(await c.nothing(undefined, 500))) handled++;
    assert.ok(handled >= 3 && handled <= 4, `${handled} of 6 frames handled at once`);
    assert.ok(t.stats().readPauses >= 1);
    await c.next(isReply, 8000);
  });

  it("budgets bytes per IP: many sockets share one budget", async () => {
    const t = await startOurs({ limits: { ipByteRate: 1 } });
    cleanup.push(() => t.close());
    const clients = await Promise.all(Array.from({ length: 16 }, () => TestClient.connect(t.url)));
    for (const c of clients) cleanup.push(() => c.close());
    // 16 sockets × 4 frames of 60 KB = 3.8 MB, each socket within its own burst at first; the
    // IP's burst is 1 MiB and it refills at 1 B/s here.
    for (const c of clients) for (let i = 0; i < 4; i++) c.send(bigAnnounce());
    let handled = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (!(await c.nothing(undefined, 700))) handled++;
      }),
    );
    assert.ok(handled < 52, `${handled} of 64 frames handled`);
    assert.ok(t.stats().readPauses >= 16);
  });
});
