/**
 * Slow readers: a client that stops reading must not make the tracker hold what is queued for it.
 * Each socket may have `maxQueuedBytes` unsent, a queue must drain within `queueDrainTimeout`,
 * and only pongs that answer our pings keep a connection alive.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { announce, binId, clientFrame, eventually, isReply, rawWebSocket, startOurs, TestClient } from "./helpers";

const unlimited = {
  messageRate: 1e6,
  messageBurst: 1e6,
  byteRate: 1e9,
  byteBurst: 1e9,
  ipByteRate: 1e9,
  ipByteBurst: 1e9,
  offerRate: 1e6,
  offerBurst: 1e6,
};

describe("slow readers", () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  /** A raw client joins `ih`, then stops reading; a normal client pushes big offers at it. */
  async function floodNonReader(
    limits: Record<string, number>,
    totalBytes: number,
    stopWhen: (t: Awaited<ReturnType<typeof startOurs>>) => boolean,
  ) {
    const t = await startOurs({ limits: { ...unlimited, ...limits } });
    cleanup.push(() => t.close());
    const ih = binId(`slow-${Math.random()}`);
    const reader = await rawWebSocket(t.port);
    cleanup.push(() => reader.destroy());
    reader.write(
      clientFrame(JSON.stringify(announce(ih, binId(`slow-reader-${Math.random()}`), { event: "started" }))),
    );
    await eventually(() => t.stats().peers === 1);
    reader.pause();
    const pusher = await TestClient.connect(t.url);
    cleanup.push(() => pusher.close());
    const me = binId(`pusher-${Math.random()}`);
    const sdp = "a".repeat(60_000);
    let sent = 0;
    let maxQueued = 0;
    while (sent < totalBytes && !stopWhen(t)) {
      const offer = [{ offer: { type: "offer", sdp }, offer_id: binId(`${sent}-${Math.random()}`) }];
      pusher.send(announce(ih, me, { numwant: 1, offers: offer }));
      await pusher.next(isReply);
      sent += sdp.length;
      maxQueued = Math.max(maxQueued, t.stats().queuedBytes ?? 0);
    }
    return { t, sent, maxQueued };
  }

  it("cuts a socket that stops reading once its queue passes maxQueuedBytes", async () => {
    // The kernel's socket buffers take up to ~4 MiB before anything queues in the process; 6 MiB
    // then queues ~2 MiB, far past the cap (a 4 MiB cap would not have cut it).
    const { t, sent } = await floodNonReader(
      { queueDrainTimeout: 0 },
      6 * 1024 * 1024,
      (t) => t.stats().connections < 2,
    );
    await eventually(() => t.stats().connections === 1, 5000);
    assert.equal(t.stats().connectionsClosedSlow, 1);
    console.log(`non-reader cut after ${(sent / 1048576).toFixed(1)} MiB relayed to it`);
  });

  it("cuts a socket whose queue does not drain within queueDrainTimeout", async () => {
    const { t } = await floodNonReader(
      { queueDrainTimeout: 1, maxQueuedBytes: 64 * 1024 * 1024 },
      24 * 1024 * 1024,
      (t) => t.stats().queuedBytes > 0,
    );
    await eventually(() => t.stats().connections === 1, 5000);
    assert.equal(t.stats().connectionsClosedSlow, 1);
  });

  it("keeps no connection alive with pongs nobody asked for", async () => {
    const t = await startOurs({ limits: { pingInterval: 0.3 } });
    cleanup.push(() => t.close());
    const c = await TestClient.connect(t.url, { autoPong: false });
    cleanup.push(() => c.close());
    // Unasked pongs, empty and with guessed payloads.
    let n = 0;
    const pongs = setInterval(() => c.ws.readyState === 1 && c.ws.pong(n++ % 2 ? Buffer.alloc(4) : undefined), 50);
    cleanup.push(() => clearInterval(pongs));
    await eventually(() => t.stats().connections === 0, 3000);
    assert.equal(t.server.stats.connectionsClosedHeartbeat, 1);
  });
});
