import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IncomingRequests } from "../../sdk/src/peers/incoming-requests";
import { announcedSegmentSize, parsePeerCommand, PEER_COMMAND } from "../../sdk/src/peers/peer-commands";
import { admittingStorage } from "../../sdk/src/upload/admission-storage";
import { UploadQueue } from "../../sdk/src/upload/upload-queue";

// PML's own serializer (not among its package exports): the parser must read what PML writes.
const { serializePeerCommand } = (await import(
  new URL("../../node_modules/p2p-media-loader-core/lib/p2p/commands/commands.js", import.meta.url).href
)) as { serializePeerCommand: (command: object, maxChunkSize: number) => Uint8Array[] | Uint8Array };

function wire(command: object): Uint8Array {
  const out = serializePeerCommand(command, 16 * 1024);
  return Array.isArray(out) ? out[0] : out;
}

/** A data channel's event surface: the request tracker only listens for "close" on it. */
function channel(): RTCDataChannel & { close(): void } {
  const target = new EventTarget();
  return Object.assign(target, { close: () => target.dispatchEvent(new Event("close")) }) as never;
}

const RATE = 1_000_000; // bytes per second: 100 KB leave in 100 ms
const OPTIONS = { maxWaitMs: 250, overlapMs: 20 };

describe("UploadQueue", () => {
  it("sends one upload at a time at the measured rate, the next one overlapMs before the one ahead has left", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const queue = new UploadQueue(OPTIONS, () => RATE);
    const started: Array<[string, number]> = [];
    assert.equal(queue.enqueue(100_000), true, "an idle uplink sends at once");
    const second = queue.enqueue(100_000);
    const third = queue.enqueue(100_000);
    assert.ok(second instanceof Promise && third instanceof Promise);
    void second.then((go) => started.push([`second ${go}`, Date.now()]));
    void third.then((go) => started.push([`third ${go}`, Date.now()]));
    for (let ms = 0; ms < 300; ms += 10) {
      t.mock.timers.tick(10);
      await Promise.resolve();
    }
    assert.deepEqual(started, [
      ["second true", 80],
      ["third true", 180],
    ]);
    assert.deepEqual(queue.stats(), { waiting: 0, queued: 2, refused: 0, cancelled: 0 });
    queue.destroy();
  });

  it("refuses a request whose turn would come after maxWaitMs, and sends at once while the rate is unknown", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const queue = new UploadQueue(OPTIONS, () => RATE);
    assert.equal(queue.enqueue(300_000), true);
    assert.equal(queue.enqueue(100_000), false, "300 ms ahead of it");
    assert.equal(queue.stats().refused, 1);
    queue.destroy();
    const unmeasured = new UploadQueue(OPTIONS, () => undefined);
    assert.equal(unmeasured.enqueue(300_000), true);
    assert.equal(unmeasured.enqueue(300_000), true);
  });

  it("counts the time a peer already waited for the bytes against maxWaitMs", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const queue = new UploadQueue(OPTIONS, () => RATE);
    assert.equal(queue.enqueue(150_000), true);
    const fresh = queue.enqueue(10_000, undefined, 0);
    assert.ok(fresh instanceof Promise, "its turn in 130 ms fits 250 ms");
    assert.equal(queue.enqueue(10_000, undefined, 200), false, "after 200 ms of waiting for a relayed segment, not");
    queue.destroy();
  });

  it("gives up the turn of a requester that stopped waiting; the one behind moves up", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const queue = new UploadQueue(OPTIONS, () => RATE);
    assert.equal(queue.enqueue(100_000), true);
    const gone = new AbortController();
    const second = queue.enqueue(50_000, gone.signal) as Promise<boolean>;
    const third = queue.enqueue(50_000) as Promise<boolean>;
    let thirdAt = -1;
    void third.then(() => (thirdAt = Date.now()));
    t.mock.timers.tick(30);
    gone.abort();
    assert.equal(await second, false);
    for (let ms = 30; ms < 200; ms += 10) {
      t.mock.timers.tick(10);
      await Promise.resolve();
    }
    assert.equal(await third, true);
    assert.equal(thirdAt, 80, "its turn comes where the cancelled one's would have");
    assert.equal(queue.stats().cancelled, 1);
    queue.destroy();
  });
});

describe("peer commands on the wire", () => {
  it("reads PML's requests, cancels and segment-data headers as PML serializes them", () => {
    assert.deepEqual(parsePeerCommand(wire({ c: PEER_COMMAND.segmentRequest, i: 1234567, r: 812 })), {
      type: PEER_COMMAND.segmentRequest,
      fields: { i: 1234567, r: 812 },
      arrays: {},
    });
    assert.deepEqual(parsePeerCommand(wire({ c: PEER_COMMAND.cancelSegmentRequest, i: 7, r: 0 }))?.fields, {
      i: 7,
      r: 0,
    });
    assert.equal(announcedSegmentSize(wire({ c: PEER_COMMAND.segmentData, i: 9, r: 3, s: 875_000 })), 875_000);
    assert.equal(announcedSegmentSize(wire({ c: PEER_COMMAND.segmentRequest, i: 9, r: 3 })), undefined);
    const held = [5, 6, 7, 255, 256, 1_000_000, 1_000_001, 70_000];
    assert.deepEqual(parsePeerCommand(wire({ c: PEER_COMMAND.segmentsAnnouncement, l: held, p: [1_000_002] })), {
      type: PEER_COMMAND.segmentsAnnouncement,
      fields: {},
      arrays: { l: held, p: [1_000_002] },
    });
    assert.deepEqual(parsePeerCommand(wire({ c: PEER_COMMAND.segmentsAnnouncement, l: [], p: [] }))?.arrays, {});
    assert.equal(parsePeerCommand(new Uint8Array(16 * 1024)), undefined, "segment data");
  });
});

const request = (i: number, r: number) => ({ type: PEER_COMMAND.segmentRequest, fields: { i, r }, arrays: {} });
const cancel = (i: number, r: number) => ({ type: PEER_COMMAND.cancelSegmentRequest, fields: { i, r }, arrays: {} });

describe("IncomingRequests", () => {
  it("pairs each store read with the oldest request for that segment, and aborts it when its peer stops waiting", () => {
    const requests = new IncomingRequests();
    const [a, b, c] = [channel(), channel(), channel()];
    requests.onPeerCommand(a, request(10, 1));
    requests.onPeerCommand(b, request(10, 2));
    requests.onPeerCommand(c, request(11, 3));
    const fromA = requests.take(10)!;
    const fromB = requests.take(10)!;
    const fromC = requests.take(11)!;
    assert.equal(requests.take(10), undefined, "no third request for segment 10");
    requests.onPeerCommand(a, cancel(10, 99));
    assert.equal(fromA.aborted, false, "another request's cancel");
    requests.onPeerCommand(a, cancel(10, 1));
    assert.equal(fromA.aborted, true, "cancelled");
    requests.onPeerCommand(b, request(12, 4));
    assert.equal(fromB.aborted, true, "a PML peer downloads one segment at a time: asking again gives up the last");
    c.close();
    assert.equal(fromC.aborted, true, "channel closed");
  });

  it("forgets a request no read answered within a second", () => {
    let now = 0;
    const requests = new IncomingRequests(() => now);
    requests.onPeerCommand(channel(), request(10, 1));
    now = 1500;
    assert.equal(requests.take(10), undefined);
  });
});

describe("admitting store with serial uploads", () => {
  it("hands a peer's read its bytes when its turn comes, and nothing when its peer stopped waiting", async () => {
    const data = new ArrayBuffer(1000);
    const store = {
      hasSegment: () => true,
      getSegmentData: () => Promise.resolve(data),
      onSegmentRequested: () => undefined,
    } as unknown as Parameters<typeof admittingStorage>[0];
    const turns: Array<(go: boolean) => void> = [];
    const requests = new IncomingRequests();
    const wrapped = admittingStorage(
      store,
      (_bytes, _duration, requester) =>
        new Promise<boolean>((resolve) => {
          turns.push(resolve);
          requester?.addEventListener("abort", () => resolve(false));
        }),
      (segmentId) => requests.take(segmentId),
    );
    const [a, b] = [channel(), channel()];
    requests.onPeerCommand(a, request(5, 1));
    requests.onPeerCommand(b, request(5, 2));
    const forA = wrapped.getSegmentData("swarm", "stream", 5);
    const forB = wrapped.getSegmentData("swarm", "stream", 5);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(turns.length, 2);
    requests.onPeerCommand(b, cancel(5, 2));
    turns[0](true);
    assert.equal(await forA, data);
    assert.equal(await forB, undefined);
  });

  it("serves a relayed segment it announces, and tells admission how long the peer waited for its bytes", async () => {
    let arrive!: (data: ArrayBuffer) => void;
    const relayed = new Promise<ArrayBuffer>((resolve) => (arrive = resolve));
    const store = {
      hasSegment: () => false, // PML is pulling it itself
      announces: (_stream: string, id: number) => id === 5,
      getSegmentData: () => relayed,
      onSegmentRequested: () => undefined,
    } as unknown as Parameters<typeof admittingStorage>[0];
    const waits: number[] = [];
    const wrapped = admittingStorage(store, (_bytes, _duration, _requester, waitedMs) => {
      waits.push(waitedMs);
      return true;
    });
    assert.equal(await wrapped.getSegmentData("swarm", "stream", 6), undefined, "not announced: absent");
    const read = wrapped.getSegmentData("swarm", "stream", 5);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const data = new ArrayBuffer(8);
    arrive(data);
    assert.equal(await read, data);
    assert.equal(waits.length, 1);
    assert.ok(waits[0] >= 50 && waits[0] < 1000, `waited ${waits[0]} ms`);
  });
});
