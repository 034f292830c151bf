// Uplink yield on real data channels (@roamhq/wrtc): segment data waits while this viewer's own
// fetch runs, small messages still pass, the writer's backpressure bounds what waits, and
// everything arrives in order once the hold ends.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type { CoreEventMap } from "p2p-media-loader-core";
import { waitFor } from "../../devkit/wait";
import { negotiate } from "../../devkit/webrtc-pair";
import { pmlHttpHolds, UplinkYield } from "../../sdk/src/upload/uplink-yield";

const require = createRequire(import.meta.url);
const wrtc = require("@roamhq/wrtc") as { RTCPeerConnection: typeof RTCPeerConnection };

const OPTIONS = { maxHoldMs: 5000, passThroughBytes: 1024 };
const CHUNK = 16_384;
/** The threshold PML's writer (simple-peer) sets, and over which it stops writing. */
const WRITER_THRESHOLD = 64 * 1024;

interface Pair {
  channel: RTCDataChannel;
  received: Uint8Array[];
  close(): void;
}

/** A connected pair of data channels; `prepare` sees the sending one before it opens. */
async function channelPair(prepare: (channel: RTCDataChannel) => void): Promise<Pair> {
  const sender = new wrtc.RTCPeerConnection({ iceServers: [] });
  const receiver = new wrtc.RTCPeerConnection({ iceServers: [] });
  const channel = sender.createDataChannel("pml");
  channel.binaryType = "arraybuffer";
  channel.bufferedAmountLowThreshold = WRITER_THRESHOLD;
  prepare(channel);
  const received: Uint8Array[] = [];
  receiver.ondatachannel = ({ channel: remote }) => {
    remote.binaryType = "arraybuffer";
    remote.onmessage = (event) => received.push(new Uint8Array(event.data as ArrayBuffer));
  };
  const open = new Promise<void>((resolve) => channel.addEventListener("open", () => resolve()));
  await negotiate(sender, receiver);
  await open;
  return {
    channel,
    received,
    close: () => {
      sender.close();
      receiver.close();
    },
  };
}

/**
 * Writes `count` chunks numbered in their first byte, as PML's writer does: on while the
 * channel's `bufferedAmount` is at most the threshold, then on its `bufferedamountlow`.
 */
function writeChunks(channel: RTCDataChannel, count: number): { written: () => number; done: Promise<void> } {
  let next = 0;
  const done = new Promise<void>((resolve) => {
    const pump = (): void => {
      while (next < count) {
        const chunk = new Uint8Array(CHUNK);
        chunk[0] = next++;
        channel.send(chunk.buffer);
        if (channel.bufferedAmount > WRITER_THRESHOLD) return;
      }
      channel.removeEventListener("bufferedamountlow", pump);
      resolve();
    };
    channel.addEventListener("bufferedamountlow", pump);
    pump();
  });
  return { written: () => next, done };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("UplinkYield", () => {
  it("holds segment data during a fetch, lets small messages through, bounds the wait and sends all in order after", async () => {
    const heldChanges: boolean[] = [];
    const uplink = new UplinkYield(OPTIONS, (held) => heldChanges.push(held));
    const pair = await channelPair((channel) => uplink.attach(channel));
    try {
      const release = uplink.hold();
      assert.equal(uplink.held, true);
      pair.channel.send(new Uint8Array([200, 1, 2]).buffer);
      await waitFor(() => pair.received.length === 1, { what: "the small message to pass the hold", timeout: 5000 });

      const writer = writeChunks(pair.channel, 50);
      await sleep(300);
      assert.equal(pair.received.length, 1, "segment data reached the peer during the hold");
      const waiting = uplink.stats().queuedBytes;
      assert.ok(waiting > 0 && waiting <= WRITER_THRESHOLD + CHUNK, `bytes waiting: ${waiting}`);
      assert.ok(writer.written() < 10, `the writer went on past the threshold: ${writer.written()} chunks`);
      assert.equal(pair.channel.bufferedAmount, waiting, "bufferedAmount does not count what waits");

      // A small message behind waiting data keeps its place.
      pair.channel.send(new Uint8Array([201]).buffer);
      const before = writer.written();
      release();
      release();
      assert.equal(uplink.held, false);
      await writer.done;
      await waitFor(() => pair.received.length === 52, {
        what: "every chunk to arrive after the hold",
        timeout: 10_000,
      });
      const order = pair.received.slice(1).map((m) => (m.byteLength === 1 ? -1 : m[0]));
      const small = order.indexOf(-1);
      assert.equal(small, before, `the small message overtook waiting data: ${JSON.stringify(order)}`);
      assert.deepEqual(
        order.filter((n) => n !== -1),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.deepEqual(heldChanges, [true, false]);
      const stats = uplink.stats();
      assert.equal(stats.holds, 1);
      assert.equal(stats.queuedBytes, 0);
      assert.ok(stats.heldMs >= 300, `held ${stats.heldMs} ms`);
      assert.ok(stats.peakQueuedBytes >= waiting);
    } finally {
      uplink.destroy();
      pair.close();
    }
  });

  it("lets go by itself after maxHoldMs, and holds until the last of several holds ends", async () => {
    const uplink = new UplinkYield({ ...OPTIONS, maxHoldMs: 400 });
    const pair = await channelPair((channel) => uplink.attach(channel));
    try {
      const first = uplink.hold();
      uplink.hold(); // never released: its fetch hung
      first();
      assert.equal(uplink.held, true);
      const writer = writeChunks(pair.channel, 20);
      await sleep(200);
      assert.equal(pair.received.length, 0);
      await writer.done;
      await waitFor(() => pair.received.length === 20, { what: "the data to flow after maxHoldMs", timeout: 10_000 });
      assert.equal(uplink.held, false);
    } finally {
      uplink.destroy();
      pair.close();
    }
  });

  it("sends straight through when nothing is held", async () => {
    const uplink = new UplinkYield(OPTIONS);
    const pair = await channelPair((channel) => uplink.attach(channel));
    try {
      await writeChunks(pair.channel, 30).done;
      await waitFor(() => pair.received.length === 30, { what: "the data to flow", timeout: 10_000 });
      assert.equal(uplink.stats().peakQueuedBytes, 0);
    } finally {
      uplink.destroy();
      pair.close();
    }
  });

  it("holds for each of PML's HTTP attempts, not for its peer attempts", () => {
    const uplink = new UplinkYield(OPTIONS);
    const listeners = pmlHttpHolds(uplink) as Required<
      Pick<CoreEventMap, "onSegmentStart" | "onSegmentLoaded" | "onSegmentError" | "onSegmentAbort">
    >;
    const segment = (url: string) => ({ url }) as Parameters<CoreEventMap["onSegmentStart"]>[0]["segment"];
    try {
      listeners.onSegmentStart({ segment: segment("a"), downloadSource: "p2p", peerId: "p" });
      assert.equal(uplink.held, false);
      listeners.onSegmentStart({ segment: segment("a"), downloadSource: "http", peerId: undefined });
      listeners.onSegmentStart({ segment: segment("b"), downloadSource: "http", peerId: undefined });
      assert.equal(uplink.held, true);
      listeners.onSegmentAbort({ segment: segment("a"), downloadSource: "p2p", peerId: "p", streamType: "main" });
      listeners.onSegmentLoaded({
        segmentUrl: "a",
        bytesLength: 1,
        downloadSource: "http",
        peerId: undefined,
        streamType: "main",
      });
      assert.equal(uplink.held, true, "b still runs");
      listeners.onSegmentError({
        segment: segment("b"),
        error: new Error("x") as never,
        downloadSource: "http",
        peerId: undefined,
        streamType: "main",
      });
      assert.equal(uplink.held, false);
      assert.equal(uplink.stats().holds, 2);
    } finally {
      uplink.destroy();
    }
  });

  it("names a wrong option", () => {
    assert.throws(() => new UplinkYield({ ...OPTIONS, maxHoldMs: -1 }), /maxHoldMs/);
  });
});
