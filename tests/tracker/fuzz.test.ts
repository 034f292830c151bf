/**
 * Thousands of random and mutated frames (valid frames with fields swapped for wrong types,
 * deleted, duplicated, byte-flipped, truncated, or plain random bytes). The tracker must answer
 * or ignore each without an escaping exception, and serve a normal announce afterwards.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import pino from "pino";
import { mulberry32 } from "../../bench/tracker-load/zipf";
import { waitFor } from "../../devkit/wait";
import { announce, binId, isReply, offers, sleep, startOurs, TestClient } from "./helpers";

describe("fuzz", () => {
  it("survives thousands of random and mutated frames", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    // Seeded, so a failure can be replayed with FUZZ_SEED.
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const randStr = (n: number) =>
      Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * (rand() < 0.9 ? 256 : 0xffff)))).join("");
    const junk = (): unknown =>
      pick([
        () => null,
        () => true,
        () => 0,
        () => -1,
        () => 1e308,
        () => NaN,
        () => "",
        () => randStr(20),
        () => randStr(19),
        () => randStr(21),
        () => randStr(200),
        () => [],
        () => [randStr(20)],
        () => ({}),
        () => ({ sdp: 5 }),
        () => ({ type: "offer", sdp: randStr(30) }),
        () => [{ offer: null, offer_id: randStr(20) }],
        () => "announce",
        () => "scrape",
        () => "__proto__",
        () => ({ __proto__: { polluted: 1 } }),
      ])();

    const errors: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        errors.push(chunk.toString());
        cb();
      },
    });
    const t = await startOurs({
      logger: pino({ level: "error" }, sink),
      fullScrape: true,
      limits: { messageRate: 1e6, messageBurst: 1e6, maxSwarmsPerConnection: 1000 },
    });
    const swarms = Array.from({ length: 4 }, (_, i) => binId(`fz-ih-${i}`));
    const peers = Array.from({ length: 8 }, (_, i) => binId(`fz-p-${i}`));
    const clients: TestClient[] = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(t.url)));

    const valid = (): Record<string, unknown> =>
      pick([
        () =>
          announce(pick(swarms), pick(peers), {
            event: pick(["started", "update", "completed", "paused", "stopped", undefined]),
            numwant: 3,
            offers: offers(3, "fz"),
          }),
        () =>
          announce(pick(swarms), pick(peers), {
            to_peer_id: pick(peers),
            offer_id: binId(rand()),
            answer: { type: "answer", sdp: "a" },
          }),
        () => ({ action: "scrape", info_hash: pick([pick(swarms), swarms, undefined]) }),
        () => announce(pick(swarms), pick(peers), { left: pick([0, 10, null, "0", undefined]) }),
      ])();

    let sent = 0;
    let reconnects = 0;
    const deadline = Date.now() + 3000;
    while (sent < 6000 && Date.now() < deadline) {
      const slot = Math.floor(rand() * clients.length);
      if (clients[slot].closeCode !== null || clients[slot].ws.readyState !== clients[slot].ws.OPEN) {
        // Invalid UTF-8 in a text frame ends the connection (1007), as RFC 6455 requires.
        reconnects++;
        clients[slot] = await TestClient.connect(t.url);
      }
      const c = clients[slot];
      const kind = rand();
      if (kind < 0.45) {
        const f = valid();
        const keys = Object.keys(f);
        for (let m = Math.floor(rand() * 3); m >= 0; m--) {
          const k =
            rand() < 0.8
              ? pick(keys)
              : pick([
                  "action",
                  "info_hash",
                  "peer_id",
                  "offers",
                  "answer",
                  "event",
                  "numwant",
                  "to_peer_id",
                  "offer_id",
                  "constructor",
                ]);
          if (rand() < 0.2) delete f[k];
          else f[k] = junk();
        }
        c.send(JSON.stringify(f));
      } else if (kind < 0.7) {
        const s = JSON.stringify(valid());
        const chars = [...s];
        for (let m = Math.floor(rand() * 4); m >= 0; m--)
          chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
        c.send(rand() < 0.3 ? chars.join("").slice(0, Math.floor(rand() * s.length)) : chars.join(""));
      } else if (kind < 0.85) {
        c.ws.send(Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))), {
          binary: rand() < 0.5,
        });
      } else if (kind < 0.95) {
        c.send(JSON.stringify(pick([null, 1, "x", [], [valid()], { action: junk() }, valid(), valid()])));
      } else {
        c.send(JSON.stringify(valid()));
      }
      c.frames.length = 0;
      sent++;
      // Waits on time: a moment off the event loop now and then lets the sockets drain.
      if (sent % 200 === 0) await sleep(1);
    }
    // Frames on one socket are handled in order: a reply to a last scrape on every open client
    // means the tracker has handled everything sent before it.
    const barriers = clients.map((c, i) => {
      const barrier = binId(`fz-barrier-${i}`);
      if (c.ws.readyState === c.ws.OPEN) c.send({ action: "scrape", info_hash: barrier });
      return barrier;
    });
    await waitFor(
      () =>
        clients.every(
          (c, i) =>
            c.ws.readyState !== c.ws.OPEN ||
            c.frames.some((f) => f.action === "scrape" && f.files?.[barriers[i]] !== undefined),
        ),
      { what: "every open client's last scrape to be answered", timeout: 10_000, interval: 20 },
    );

    assert.ok(sent >= 1000, `sent ${sent}`);
    assert.ok(reconnects < sent / 4, `reconnects ${reconnects}`);
    assert.deepEqual(errors, [], `seed ${seed}`);
    const stats = t.stats();
    assert.ok(Object.values(stats.failures).reduce((a, b) => a + b, 0) > 100, `seed ${seed}: failures counted`);
    const probe = await TestClient.connect(t.url);
    const ih = binId(`probe-${seed}`);
    probe.send(announce(ih, binId("probe-peer"), { event: "started" }));
    const r = await probe.next(isReply);
    assert.equal(r.info_hash, ih);
    assert.equal(r.incomplete, 1);
    assert.equal((await fetch(`${t.httpUrl}/health`)).status, 200);
    for (const c of [...clients, probe]) c.close();
    await t.close();
  });
});
