import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { edgeFetchDelaySec, secondsUntilUrgent } from "../../sdk/src/live/edge-timing";
import { LiveEdgeFetcher, type LiveEdgeConfig, type LiveEdgeHooks } from "../../sdk/src/live/edge-fetcher";
import type { SegmentOutcome } from "../../sdk/src/live/adaptive-latency";
import type { LivePlayer, PlaylistEvent } from "../../sdk/src/live/live-player";
import { LiveSegmentStore } from "../../sdk/src/live/segment-store";
import { keepUrgentPeerDownload } from "../../sdk/src/peers/keep-peer-download";
import { mergeHlsConfig, resolveOptions, SwarmcastOptionError } from "../../sdk/src/options";
import { CdnHealth } from "../../sdk/src/stats/cdn-health";

const timing = { reserveSec: 1, maxSpreadSec: 3, seedCopies: 4 };
const coreConfig = {} as Parameters<LiveSegmentStore["initialize"]>[0];
const streamConfig = {} as Parameters<LiveSegmentStore["initialize"]>[1];

describe("edge timing", () => {
  it("counts the time until a segment enters the high-demand window", () => {
    assert.equal(secondsUntilUrgent(110, 104, 2), 4);
    assert.equal(secondsUntilUrgent(110, 104, 2, 2), 2, "faster playback reaches it sooner");
    assert.equal(secondsUntilUrgent(110, 109, 2), -1);
    assert.equal(secondsUntilUrgent(110, 104, 2, 0), 4, "a paused rate counts as 1");
  });

  it("spreads the delay over the time left minus the reserve, capped", () => {
    assert.equal(edgeFetchDelaySec(4, 7, 0, timing), 0);
    assert.equal(edgeFetchDelaySec(4, 7, 0.5, timing), 1.5);
    assert.equal(edgeFetchDelaySec(4, 7, 0.999999, timing) < 3, true);
    assert.equal(edgeFetchDelaySec(10, 7, 0.5, timing), 1.5, "capped at maxSpreadSec");
    assert.equal(edgeFetchDelaySec(0.5, 7, 0.9, timing), 0, "no time left: fetch now");
    assert.equal(edgeFetchDelaySec(4, 0, 0.9, timing), 0, "alone: nobody else will fetch it");
    assert.equal(edgeFetchDelaySec(4, 3, 7, timing), 3, "u is clamped to [0, 1]");
  });

  it("rotates the fetch: every viewer is first about equally often", () => {
    // Deterministic pseudo-random draws; 8 viewers, 4000 segments.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const wins = new Array(8).fill(0);
    for (let s = 0; s < 4000; s++) {
      const delays = wins.map(() => edgeFetchDelaySec(4, 7, rand(), timing));
      wins[delays.indexOf(Math.min(...delays))]++;
    }
    for (const w of wins) assert.ok(w > 300 && w < 700, `wins ${wins.join(",")}`);
  });

  it("lets viewers whose uplink sends more copies in time fetch first, in proportion", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // Copies of a segment each viewer sends in time: 20 Mbit/s, 10, 5 (twice), and 1 Mbit/s.
    const copies = [5.7, 2, 1, 1, 0.3];
    const wins = new Array(copies.length).fill(0);
    for (let s = 0; s < 8000; s++) {
      const delays = copies.map((c) => edgeFetchDelaySec(4, 7, rand(), timing, c));
      wins[delays.indexOf(Math.min(...delays))]++;
    }
    // Weights 1, 0.5, 0.25, 0.25, and 0 (waits out the spread): shares 0.5, 0.25, 0.125, 0.125.
    const share = wins.map((w) => w / 8000);
    assert.ok(Math.abs(share[0] - 0.5) < 0.03, `shares ${share.join(", ")}`);
    assert.ok(Math.abs(share[1] - 0.25) < 0.03, `shares ${share.join(", ")}`);
    assert.ok(Math.abs(share[2] - 0.125) < 0.02 && Math.abs(share[3] - 0.125) < 0.02, `shares ${share.join(", ")}`);
    assert.equal(wins[4], 0, "a viewer that cannot send one copy in time never fetches first");
    assert.equal(edgeFetchDelaySec(4, 7, 0.5, timing, 40), 1.5, "beyond seedCopies: uniform, as unmeasured");
    assert.equal(edgeFetchDelaySec(4, 7, 0.5, timing), 1.5, "unmeasured: full weight");
    assert.ok(edgeFetchDelaySec(4, 7, 0.5, timing, 1) > 2.5, "a quarter of the weight draws late");
  });
});

describe("LiveSegmentStore", () => {
  async function makeStore() {
    const store = new LiveSegmentStore({
      keepBehindSec: 10,
      limitMiB: 1,
      relayReadWaitMs: 1000,
      relayExpiryMs: 10_000,
    });
    await store.initialize(coreConfig, streamConfig, streamConfig);
    const changes: string[] = [];
    store.setSegmentChangeCallback((id) => changes.push(id));
    return { store, changes };
  }

  it("announces a segment while it is fetched and hands its bytes to those who asked meanwhile", async () => {
    const { store, changes } = await makeStore();
    let finish!: (b: ArrayBuffer) => void;
    const fetching = new Promise<ArrayBuffer>((r) => (finish = r));
    const stored = store.storeWhenFetched("s", 7, 14, 16, fetching);
    assert.deepEqual(changes, ["s"], "announced at once");
    assert.equal(store.hasSegment("w", "s", 7), true);
    assert.equal(store.hasData("s", 7), false);
    assert.equal(store.isInFlight("s", 7), true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [7]);
    assert.deepEqual(store.usage(), { segments: 0, pending: 1, relaying: 0, bytes: 0, limitBytes: 1024 * 1024 });
    const asked = store.getSegmentData("w", "s", 7);
    finish(new Uint8Array([1, 2, 3]).buffer);
    assert.equal(await stored, true);
    assert.deepEqual(store.usage(), { segments: 1, pending: 0, relaying: 0, bytes: 3, limitBytes: 1024 * 1024 });
    assert.deepEqual(new Uint8Array((await asked)!), new Uint8Array([1, 2, 3]));
    assert.equal(store.hasData("s", 7), true);
  });

  it("withdraws a segment whose fetch failed and tells PML", async () => {
    const { store, changes } = await makeStore();
    const asked = store.storeWhenFetched("s", 3, 6, 8, Promise.reject(new Error("503")));
    const data = store.getSegmentData("w", "s", 3);
    assert.equal(await asked, false);
    assert.equal(await data, undefined, "a peer waiting for it is answered 'absent'");
    assert.equal(store.hasSegment("w", "s", 3), false);
    assert.deepEqual(changes, ["s", "s"]);
    assert.equal(await store.storeWhenFetched("s", 4, 8, 10, Promise.resolve(new ArrayBuffer(0))), false, "empty body");
  });

  it("relays a segment PML is pulling: announced to peers, not to PML, served once PML stores it", async () => {
    const { store, changes } = await makeStore();
    assert.equal(store.relay("s", 7, 14, 16), true);
    assert.deepEqual(changes, ["s"], "announced at once");
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [7]);
    assert.equal(store.hasSegment("w", "s", 7), false, "PML keeps pulling it");
    assert.equal(store.announces("s", 7), true);
    assert.equal(store.isRelaying("s", 7), true);
    assert.equal(store.isInFlight("s", 7), false, "no CDN fetch of it");
    assert.deepEqual(store.usage(), { segments: 0, pending: 0, relaying: 1, bytes: 0, limitBytes: 1024 * 1024 });
    assert.equal(store.relay("s", 7, 14, 16), false, "one entry per segment");
    const asked = store.getSegmentData("w", "s", 7);
    await store.storeSegment("w", "s", 7, new Uint8Array([4, 5]).buffer, 14, 16, "main", true);
    assert.deepEqual(new Uint8Array((await asked)!), new Uint8Array([4, 5]), "the peer that asked gets the bytes");
    assert.equal(store.isRelaying("s", 7), false);
    assert.deepEqual(changes, ["s"], "announced once: the stored bytes tell peers nothing new");
    assert.equal(store.hasSegment("w", "s", 7), true);
    assert.deepEqual(store.usage(), { segments: 1, pending: 0, relaying: 0, bytes: 2, limitBytes: 1024 * 1024 });
    store.withdrawRelay("s", 7);
    assert.equal(store.hasData("s", 7), true, "a stored segment is never withdrawn as a relay");
  });

  it("withdraws a relay whose pull failed, answers a read that would wait too long, and lets a stale one lapse", async () => {
    const store = new LiveSegmentStore({ keepBehindSec: 10, limitMiB: 1, relayReadWaitMs: 40, relayExpiryMs: 120 });
    const changes: string[] = [];
    store.setSegmentChangeCallback((id) => changes.push(id));
    store.relay("s", 3, 6, 8);
    const waiting = store.getSegmentData("w", "s", 3);
    store.withdrawRelay("s", 3);
    assert.equal(await waiting, undefined, "a peer waiting for it is answered 'absent'");
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), []);
    assert.deepEqual(changes, ["s", "s"], "PML is told both times");

    store.relay("s", 4, 8, 10);
    const startedAt = Date.now();
    assert.equal(await store.getSegmentData("w", "s", 4), undefined, "the pull did not finish in relayReadWaitMs");
    assert.ok(Date.now() - startedAt < 110, "answered after the read wait, not the expiry");
    assert.equal(store.isRelaying("s", 4), true, "the relay itself goes on");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(store.announces("s", 4), false, "lapsed after relayExpiryMs");

    store.relay("s", 5, 10, 12);
    const pending = store.getSegmentData("w", "s", 5);
    store.destroy();
    assert.equal(await pending, undefined, "destroy answers every waiting read");
  });

  it("refuses a second fetch of a segment it holds", async () => {
    const { store } = await makeStore();
    await store.storeSegment("w", "s", 1, new ArrayBuffer(4), 0, 2, "main", true);
    assert.equal(await store.storeWhenFetched("s", 1, 0, 2, Promise.resolve(new ArrayBuffer(4))), false);
    assert.deepEqual(store.lastIds.get("main"), { swarmId: "w", streamId: "s" });
  });

  it("keeps segments a while behind the playhead, then drops them", async () => {
    const { store, changes } = await makeStore();
    for (let i = 0; i < 10; i++)
      await store.storeSegment("w", "s", i, new ArrayBuffer(100), i * 2, i * 2 + 2, "main", true);
    store.onPlaybackUpdated(15, 1);
    await store.storeSegment("w", "s", 10, new ArrayBuffer(100), 20, 22, "main", true);
    assert.deepEqual(
      store.getStoredSegmentIds("w", "s"),
      [2, 3, 4, 5, 6, 7, 8, 9, 10],
      "ends before 15 − 10 s dropped",
    );
    assert.ok(changes.length > 11);
    const usage = store.getUsage();
    assert.equal(usage.totalCapacity, 1);
    assert.equal(usage.usedCapacity, 400 / 2 ** 20, "only segments ahead of the playhead count as used");
  });

  it("holds to its byte budget: the past goes first, then the segments farthest ahead", async () => {
    const { store } = await makeStore();
    const quarter = 256 * 1024;
    store.onPlaybackUpdated(12.5, 1);
    // 8 and 9 lie behind the playhead (within keepBehindSec), 10–13 ahead of it.
    for (let i = 4; i < 7; i++)
      await store.storeSegment("w", "s", i + 4, new ArrayBuffer(quarter), i * 2, i * 2 + 2, "main", true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [8, 9, 10]);
    await store.storeSegment("w", "s", 11, new ArrayBuffer(quarter), 14, 16, "main", true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [8, 9, 10, 11], "exactly the budget");
    await store.storeSegment("w", "s", 12, new ArrayBuffer(quarter), 16, 18, "main", true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [9, 10, 11, 12], "the oldest past segment goes");
    await store.storeSegment("w", "s", 13, new ArrayBuffer(quarter), 18, 20, "main", true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [10, 11, 12, 13]);
    assert.equal(store.roomForAnother(), false, "no room without dropping a segment the player needs");
    // Nothing behind the playhead is left: a segment further ahead cannot stay.
    await store.storeSegment("w", "s", 14, new ArrayBuffer(quarter), 20, 22, "main", true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [10, 11, 12, 13], "the farthest ahead is dropped");
    assert.equal(store.usage().bytes, 4 * quarter);
    // An in-flight segment holds no bytes yet and stays announced.
    let finish!: (b: ArrayBuffer) => void;
    const stored = store.storeWhenFetched("s", 15, 22, 24, new Promise((r) => (finish = r)));
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [10, 11, 12, 13, 15]);
    store.onPlaybackUpdated(16, 1);
    assert.equal(store.roomForAnother(), true, "10 lies behind the playhead now");
    finish(new ArrayBuffer(quarter));
    assert.equal(await stored, true);
    assert.deepEqual(store.getStoredSegmentIds("w", "s"), [11, 12, 13, 15]);
  });

  it("tells listeners when bytes arrive", async () => {
    const { store } = await makeStore();
    const seen: number[] = [];
    const off = store.onStored((_s, id) => seen.push(id));
    await store.storeSegment("w", "s", 5, new ArrayBuffer(1), 0, 2, "main", true);
    await store.storeWhenFetched("s", 6, 2, 4, Promise.resolve(new ArrayBuffer(1)));
    off();
    await store.storeSegment("w", "s", 7, new ArrayBuffer(1), 4, 6, "main", true);
    assert.deepEqual(seen, [5, 6]);
  });
});

describe("liveEdge option and live sync defaults", () => {
  const opts = (extra: Record<string, unknown>) => ({
    src: "https://cdn.example/live.m3u8",
    trackers: ["ws://127.0.0.1:1"],
    ...extra,
  });
  const resolve = (input: unknown) => resolveOptions(input, { requireSrc: true });

  it("merges liveEdge over the defaults", () => {
    assert.deepEqual(resolve(opts({})).liveEdge, DEFAULT_SWARMCAST_CONFIG.liveEdge);
    const r = resolve(opts({ liveEdge: { enabled: false, reserveSec: 0.5 } })).liveEdge;
    assert.equal(r.enabled, false);
    assert.equal(r.reserveSec, 0.5);
    assert.equal(r.maxSpreadSec, DEFAULT_SWARMCAST_CONFIG.liveEdge.maxSpreadSec);
    assert.equal(resolve(opts({ liveEdge: { seedCopies: 1 } })).liveEdge.seedCopies, 1);
    assert.equal(resolve(opts({ liveEdge: { relayMinCopies: 0 } })).liveEdge.relayMinCopies, 0);
  });

  it("names the bad liveEdge field", () => {
    const bad: [unknown, RegExp][] = [
      [5, /"liveEdge" must be an object/],
      [{ enabled: "yes" }, /"liveEdge.enabled" must be true or false/],
      [{ reserveSec: -1 }, /"liveEdge.reserveSec" must be a number of seconds ≥ 0, got -1/],
      [{ maxSpreadSec: "2" }, /"liveEdge.maxSpreadSec" .* got "2"/],
      [{ seedCopies: 0.5 }, /"liveEdge.seedCopies" must be a number ≥ 1 .* got 0.5/],
      [{ relayMinCopies: -1 }, /"liveEdge.relayMinCopies" must be a number ≥ 0 .* got -1/],
      [{ spread: 1 }, /unknown option "liveEdge.spread"/],
    ];
    for (const [value, pattern] of bad) {
      assert.throws(
        () => resolve(opts({ liveEdge: value })),
        (err: unknown) => err instanceof SwarmcastOptionError && err.option === "liveEdge" && pattern.test(err.message),
      );
    }
  });

  it("a user latency in segments replaces the default in seconds (hls.js refuses both)", () => {
    const merged = mergeHlsConfig({ liveSyncDuration: 7.5, maxBufferLength: 4 }, { liveSyncDurationCount: 4 });
    assert.deepEqual(merged, { liveSyncDurationCount: 4, maxBufferLength: 4 });
    const r = resolve(opts({ hls: { liveSyncDurationCount: 3 } })).hlsConfig;
    assert.equal(r.liveSyncDurationCount, 3);
    assert.equal("liveSyncDuration" in r, false);
  });
});

/** CDN failures the fetcher reported, newest last. */
const httpFailures: string[] = [];

/** The session's side of the fetcher: P2P on, failures noted, nothing else counted, no uplink measured. */
const hooks = {
  onHttpSegment: () => undefined,
  onHttpFailure: (url: string, reason: string) => void httpFailures.push(`${reason} ${url}`),
  p2pActive: () => true,
  serveCopies: () => undefined,
  onUrgentWindow: () => undefined,
};

/**
 * A fetcher bound to a player at `state` (playhead time, seconds buffered ahead) whose playlist
 * lists segments of 2 s under `base`; `publish` hands the player's playlist update to it.
 */
async function edgeOnPlayer(
  config: Partial<LiveEdgeConfig>,
  state: { time: number; ahead: number },
  base: string,
  withHooks: Partial<LiveEdgeHooks> = {},
) {
  const listeners: ((event: PlaylistEvent) => void)[] = [];
  const player: LivePlayer = {
    playhead: () => ({ time: state.time, rate: 1 }),
    loadingLevel: () => 0,
    bufferAhead: () => state.ahead,
    on: (event: string, fn: (event: PlaylistEvent) => void) => {
      if (event === "playlist-updated") listeners.push(fn);
      return () => undefined;
    },
  };
  const edge = new LiveEdgeFetcher({ ...DEFAULT_SWARMCAST_CONFIG.liveEdge, enabled: true, ...config }, 2, {
    ...hooks,
    ...withHooks,
  });
  const store = edge.createStore();
  await store.initialize(coreConfig, streamConfig, streamConfig);
  edge.bindPlayer(player);
  store.onSegmentRequested("w", "s", 1, 2, 4, "main");
  const segment = (sn: number) => ({
    sn,
    url: `${base}/s/${sn}.ts`,
    start: sn * 2,
    duration: 2,
    byteRange: [],
    tagList: [],
  });
  const publish = (sns: number[]) =>
    listeners.forEach((fn) =>
      fn({ streamType: "main", level: 0, details: { url: "s", live: true, segments: sns.map(segment) } }),
    );
  return { edge, store, segment, publish };
}

describe("LiveEdgeFetcher.whenStored", () => {
  const url = "https://cdn.example/s/9.ts";

  async function makeFetcher(waits: { peerFallbackWaitMs: number; peerStartWaitMs: number }, withPeer = true) {
    const edge = new LiveEdgeFetcher({ ...DEFAULT_SWARMCAST_CONFIG.liveEdge, ...waits }, 2, hooks);
    const store = edge.createStore();
    await store.initialize(coreConfig, streamConfig, streamConfig);
    store.onSegmentRequested("w", "s", 1, 2, 4, "main");
    if (withPeer) edge.pmlListeners.onPeerConnect!({ peerId: "p1", streamType: "main" } as never);
    return { edge, store };
  }

  const peerLoadStarts = (edge: LiveEdgeFetcher, segmentUrl: string) =>
    edge.onSegmentStart({ segment: { url: segmentUrl }, downloadSource: "p2p", peerId: "p1" } as never);

  it("resolves when a peer's copy of a segment PML failed reaches the store", async () => {
    const { edge, store } = await makeFetcher({ peerFallbackWaitMs: 5000, peerStartWaitMs: 50 });
    const waiting = edge.whenStored(url, 9);
    peerLoadStarts(edge, url);
    await new Promise((r) => setTimeout(r, 80));
    await store.storeSegment("w", "s", 8, new ArrayBuffer(4), 16, 18, "main");
    await store.storeSegment("w", "other", 9, new ArrayBuffer(4), 18, 20, "main");
    await store.storeSegment("w", "s", 9, new ArrayBuffer(4), 18, 20, "main");
    assert.equal(await waiting, true);
    assert.equal(await edge.whenStored(url, 9), true, "already stored");
    edge.destroy();
  });

  it("gives up when PML starts no peer download, when the wait ends, and at once without peers", async () => {
    const { edge } = await makeFetcher({ peerFallbackWaitMs: 60_000, peerStartWaitMs: 30 });
    peerLoadStarts(edge, "https://cdn.example/s/8.ts");
    assert.equal(await edge.whenStored(url, 9), false, "no peer download of it: nobody has it");
    edge.destroy();

    const slow = await makeFetcher({ peerFallbackWaitMs: 60, peerStartWaitMs: 10 });
    const waiting = slow.edge.whenStored(url, 9);
    peerLoadStarts(slow.edge, url);
    assert.equal(await waiting, false, "the peer's copy never came");
    slow.edge.destroy();

    const alone = await makeFetcher({ peerFallbackWaitMs: 60_000, peerStartWaitMs: 60_000 }, false);
    assert.equal(await alone.edge.whenStored(url, 9), false, "no peer can bring it");
    alone.edge.destroy();
  });
});

describe("LiveEdgeFetcher holds", () => {
  it("lets a held request go once the player runs dry, however far ahead its segment is", async () => {
    const state = { time: 10, ahead: 4 };
    // A closed local port: the edge fetch this schedules fails at once, nothing leaves the machine.
    const { edge, segment, publish } = await edgeOnPlayer({}, state, "http://127.0.0.1:9");
    publish([5, 6]);
    publish([5, 6, 7, 8, 9, 10]);
    const far = segment(10).url;
    assert.equal(edge.holdFor(far), true, "20 s ahead of a playhead at 10 s, 4 s buffered: held");
    state.ahead = 0;
    assert.equal(edge.holdFor(far), false, "a stalled player is not held back");
    edge.destroy();
  });
});

describe("LiveEdgeFetcher early fetches", () => {
  it("abandons an early fetch whose CDN does not answer and withdraws the segment's announcement", async () => {
    const held: ServerResponse[] = [];
    // A CDN edge that takes requests and never answers them.
    const cdn = createServer((_request, response) => held.push(response));
    await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    const responseTimeoutMs = 150;
    const { edge, store, publish } = await edgeOnPlayer(
      { maxSpreadSec: 0.01, responseTimeoutMs },
      { time: 10, ahead: 4 },
      base,
    );
    try {
      publish([5, 6]);
      publish([5, 6, 7]); // 7 is new: fetched early, announced as held while the fetch runs
      const deadline = Date.now() + 2000;
      while (held.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(held.length, 1, "the early fetch reached the CDN");
      assert.equal(store.isInFlight("s", 7), true, "announced while the fetch runs");
      await new Promise((r) => setTimeout(r, responseTimeoutMs + 150));
      assert.equal(store.isInFlight("s", 7), false, "withdrawn while the CDN still holds the request");
      assert.equal(held[0].writableEnded, false);
      assert.deepEqual(httpFailures.slice(-1), [`no answer in time ${base}/s/7.ts`], "reported as a CDN failure");
    } finally {
      edge.destroy();
      for (const response of held) response.destroy();
      cdn.closeAllConnections();
      await new Promise((r) => cdn.close(r));
    }
  });
});

describe("LiveEdgeFetcher second seeds", () => {
  /** A CDN answering every segment with 1 KB; counts its requests. */
  async function cdnServer() {
    const requests: string[] = [];
    const cdn = createServer((request, response) => {
      requests.push(request.url ?? "");
      response.end(Buffer.alloc(1000));
    });
    await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
    const close = async () => {
      cdn.closeAllConnections();
      await new Promise((r) => cdn.close(r));
    };
    return { base: `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`, requests, close };
  }

  /** A fetcher with one peer; segment 7 turns urgent 2 s from now (playhead 10, window 2 s). */
  async function fetcherWithPeer(
    base: string,
    redrawOnPeerFailure: boolean,
    cdnFailing?: (withinMs: number) => boolean,
    outcomes: [SegmentOutcome, number][] = [],
  ) {
    const fixture = await edgeOnPlayer({ maxSpreadSec: 0.05, redrawOnPeerFailure }, { time: 10, ahead: 4 }, base, {
      ...(cdnFailing ? { cdnFailing } : {}),
      onSegmentOutcome: (outcome, durationSec) => void outcomes.push([outcome, durationSec]),
    });
    fixture.edge.pmlListeners.onPeerConnect!({ peerId: "p1", streamType: "main" } as never);
    fixture.publish([5, 6]);
    fixture.publish([5, 6, 7]);
    const url = fixture.segment(7).url;
    // A peer announced 7 first: PML pulls it from that peer, and this viewer's early fetch is off.
    fixture.edge.onSegmentStart({ segment: { url }, downloadSource: "p2p", peerId: "p1" } as never);
    const refused = () =>
      fixture.edge.pmlListeners.onSegmentError!({
        segment: { url },
        downloadSource: "p2p",
        peerId: "p1",
        streamType: "main",
        error: { type: "peer-segment-absent" },
      } as never);
    return { ...fixture, refused };
  }

  it("draws the early fetch again when the holder refuses before the segment is urgent", async () => {
    const cdn = await cdnServer();
    const outcomes: [SegmentOutcome, number][] = [];
    const { edge, store, refused } = await fetcherWithPeer(cdn.base, true, undefined, outcomes);
    try {
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(cdn.requests, [], "PML is pulling it from a peer: no early fetch");
      refused();
      const deadline = Date.now() + 2000;
      while (!store.hasData("s", 7) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(cdn.requests, ["/s/7.ts"], "fetched from the CDN: a second seed");
      assert.deepEqual(edge.stats(), { seeded: 1, redraws: 1, redrawSeeded: 1, relayed: 0, relayWithdrawn: 0 });
      assert.deepEqual(outcomes, [["late", 2]], "a second seed is a segment the swarm did not deliver in time");
      refused();
      assert.equal(edge.stats().redraws, 1, "held now: nothing to draw for");
    } finally {
      edge.destroy();
      await cdn.close();
    }
  });

  it("lets PML take it from another holder meanwhile, and leaves it to PML when the option is off", async () => {
    const cdn = await cdnServer();
    const first = await fetcherWithPeer(cdn.base, true);
    const off = await fetcherWithPeer(cdn.base, false);
    try {
      first.refused();
      // Another holder announced it: PML starts pulling it before the new delay ends.
      first.edge.onSegmentStart({ segment: { url: first.segment(7).url }, downloadSource: "p2p" } as never);
      off.refused();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(cdn.requests, []);
      assert.deepEqual(first.edge.stats(), { seeded: 0, redraws: 1, redrawSeeded: 0, relayed: 0, relayWithdrawn: 0 });
      assert.deepEqual(off.edge.stats(), { seeded: 0, redraws: 0, redrawSeeded: 0, relayed: 0, relayWithdrawn: 0 });
    } finally {
      first.edge.destroy();
      off.edge.destroy();
      await cdn.close();
    }
  });

  it("relays the segment it pulls once the first bytes arrive, when its uplink sends two copies in time", async () => {
    const cdn = await cdnServer();
    const copies = { now: 3 as number | undefined };
    const fixture = await edgeOnPlayer({ maxSpreadSec: 0.05 }, { time: 10, ahead: 4 }, cdn.base, {
      serveCopies: () => copies.now,
    });
    const { edge, store, publish, segment } = fixture;
    const relay = edge.relay.pmlListeners;
    const pullFrom = (sn: number, peerId: string) => {
      const details = { segment: { url: segment(sn).url }, downloadSource: "p2p", peerId } as never;
      edge.onSegmentStart(details);
      relay.onSegmentStart!(details);
    };
    try {
      edge.pmlListeners.onPeerConnect!({ peerId: "p1", streamType: "main" } as never);
      publish([5, 6]);
      publish([5, 6, 7, 8, 9]);
      pullFrom(7, "p1");
      assert.deepEqual(store.getStoredSegmentIds("w", "s"), [], "not before the holder sends");
      relay.onChunkDownloaded!(16_384, "p2p", "p1");
      assert.deepEqual(store.getStoredSegmentIds("w", "s"), [7], "announced at the first bytes");
      assert.equal(store.hasSegment("w", "s", 7), false);
      relay.onSegmentLoaded!({ downloadSource: "p2p", peerId: "p1", segmentUrl: segment(7).url } as never);
      await store.storeSegment("w", "s", 7, new ArrayBuffer(10), 14, 16, "main", true);
      assert.equal(store.hasData("s", 7), true);

      pullFrom(8, "p1");
      relay.onChunkDownloaded!(16_384, "p2p", "p1");
      relay.onSegmentError!({ downloadSource: "p2p", peerId: "p1", segment: { url: segment(8).url } } as never);
      assert.equal(store.announces("s", 8), false, "withdrawn when the pull fails");

      copies.now = 1;
      pullFrom(9, "p1");
      relay.onChunkDownloaded!(16_384, "p2p", "p1");
      assert.equal(store.announces("s", 9), false, "one copy in time: its requesters do better at the holder");
      relay.onSegmentAbort!({ downloadSource: "p2p", peerId: "p1", segment: { url: segment(9).url } } as never);

      relay.onSegmentStart!({ segment: { url: `${cdn.base}/s/40.ts` }, downloadSource: "p2p", peerId: "p1" } as never);
      relay.onChunkDownloaded!(16_384, "p2p", "p1");
      assert.equal(store.getStoredSegmentIds("w", "s").includes(40), false, "only new live segments it watches");
      assert.equal(edge.stats().relayed, 2);
      assert.equal(edge.stats().relayWithdrawn, 1);
    } finally {
      edge.destroy();
      await cdn.close();
    }
  });

  it("fetches nothing early while this viewer's CDN is failing", async () => {
    const cdn = await cdnServer();
    const pauses: number[] = [];
    const { edge, refused } = await fetcherWithPeer(cdn.base, true, (withinMs) => {
      pauses.push(withinMs);
      return true;
    });
    try {
      refused();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(cdn.requests, [], "the redrawn fetch did not go to a failing CDN");
      assert.deepEqual(pauses, [DEFAULT_SWARMCAST_CONFIG.liveEdge.cdnFailurePauseMs]);
      assert.deepEqual(edge.stats(), { seeded: 0, redraws: 1, redrawSeeded: 0, relayed: 0, relayWithdrawn: 0 });
    } finally {
      edge.destroy();
      await cdn.close();
    }
  });
});

describe("LiveEdgeFetcher segment outcomes", () => {
  const loaded = (edge: LiveEdgeFetcher, url: string, downloadSource: "http" | "p2p") =>
    edge.pmlListeners.onSegmentLoaded!({ segmentUrl: url, downloadSource, streamType: "main" } as never);

  it("reports each new live segment once: a first seed, a peer's copy, PML's CDN fetch as late", async () => {
    const served: string[] = [];
    const cdn = createServer((request, response) => {
      served.push(request.url ?? "");
      response.end(Buffer.alloc(1000));
    });
    await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    const outcomes: [SegmentOutcome, number][] = [];
    const { edge, store, segment, publish } = await edgeOnPlayer(
      { maxSpreadSec: 0.05, reserveSec: 0 },
      { time: 10, ahead: 4 },
      base,
      { onSegmentOutcome: (outcome, durationSec) => void outcomes.push([outcome, durationSec]) },
    );
    try {
      edge.pmlListeners.onPeerConnect!({ peerId: "p1", streamType: "main" } as never);
      publish([5, 6]);
      publish([5, 6, 7, 8, 9]);
      // 8 and 9 come from PML: one from a peer, one over HTTP at the urgent moment.
      for (const sn of [8, 9])
        edge.onSegmentStart({ segment: { url: segment(sn).url }, downloadSource: "p2p" } as never);
      const deadline = Date.now() + 2000;
      while (!store.hasData("s", 7) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(served, ["/s/7.ts"]);
      loaded(edge, segment(8).url, "p2p");
      loaded(edge, segment(9).url, "http");
      loaded(edge, segment(9).url, "p2p");
      loaded(edge, segment(6).url, "http");
      assert.deepEqual(outcomes, [
        ["seed", 2],
        ["peer", 2],
        ["late", 2],
      ]);
    } finally {
      edge.destroy();
      cdn.closeAllConnections();
      await new Promise((r) => cdn.close(r));
    }
  });

  it("tells PML's queue to go on with an urgent peer download without the HTTP reserve while this viewer's CDN fails", async () => {
    // The CDN's answers as the session follows them, on a clock of the test's own.
    const health = new CdnHealth();
    let now = 1_000_000;
    const { edge, store } = await edgeOnPlayer({}, { time: 10, ahead: 4 }, "http://127.0.0.1:9", {
      cdnFailing: (withinMs) => health.failedWithin(withinMs, now),
    });
    try {
      const at = performance.now();
      // 700 of 875 KB in 1 s: the rest takes 0.25 s, and the segment is needed in 1 s.
      const request = {
        loadedBytes: 700_000,
        totalBytes: 875_000,
        progress: { startTimestamp: at - 1000, loadedBytes: 700_000, lastLoadedChunkTimestamp: at - 10 },
      };
      const keep = () => keepUrgentPeerDownload(request, { startTime: 11 }, { position: 10, rate: 1 }, store);
      assert.equal(keep(), false, "a working CDN needs a second in reserve");
      health.failed("503", now);
      assert.equal(keep(), true, "a failing CDN would lose what the peer sent");
      // Peers carried the viewer since: no CDN request, so no newer failure, for longer than the
      // pause of early fetches. The CDN has not answered since, so it still counts as failing.
      now += DEFAULT_SWARMCAST_CONFIG.liveEdge.cdnFailurePauseMs * 3;
      assert.equal(keep(), true, "an outage whose last failure is old is still an outage");
      health.succeeded(now);
      assert.equal(keep(), false, "a CDN that answered again gets its reserve back");
    } finally {
      edge.destroy();
    }
  });

  it("does not call a CDN fetch late without peers", async () => {
    const outcomes: SegmentOutcome[] = [];
    const { edge, segment, publish } = await edgeOnPlayer({}, { time: 10, ahead: 4 }, "http://127.0.0.1:9", {
      onSegmentOutcome: (outcome) => void outcomes.push(outcome),
      cdnFailing: () => true,
    });
    try {
      publish([5, 6]);
      publish([5, 6, 7]);
      loaded(edge, segment(7).url, "http");
      assert.deepEqual(outcomes, []);
    } finally {
      edge.destroy();
    }
  });
});
