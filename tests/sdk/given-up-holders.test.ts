import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreEventMap } from "p2p-media-loader-core";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import { GivenUpHolders, passOverGivenUpHolders, setGivenUpHolders } from "../../sdk/src/peers/given-up-holders";

const SEGMENT = "http://cdn.test/live/seg-7.ts";
const OTHER = "http://cdn.test/live/seg-8.ts";
const FORGET_MS = DEFAULT_SWARMCAST_CONFIG.givenUpHolders.forgetMs;

type Listeners = Required<Pick<CoreEventMap, "onSegmentError" | "onSegmentAbort" | "onSegmentLoaded">>;

function holdersOn(now: () => number) {
  const given = new GivenUpHolders({ forgetMs: FORGET_MS }, now);
  const on = given.pmlListeners as Listeners;
  const segment = (url: string) => ({ url }) as Parameters<Listeners["onSegmentAbort"]>[0]["segment"];
  return {
    given,
    abort: (url: string, peerId: string | undefined, downloadSource: "p2p" | "http" = "p2p") =>
      on.onSegmentAbort({ segment: segment(url), downloadSource, peerId, streamType: "main" }),
    fail: (url: string, peerId: string) =>
      on.onSegmentError({
        segment: segment(url),
        downloadSource: "p2p",
        peerId,
        streamType: "main",
        error: { type: "bytes-receiving-timeout" },
      } as unknown as Parameters<Listeners["onSegmentError"]>[0]),
    loaded: (url: string) =>
      on.onSegmentLoaded({ segmentUrl: url, bytesLength: 1, downloadSource: "p2p", peerId: "x", streamType: "main" }),
  };
}

const ids = (holders: Array<{ id: string }>) => holders.map((h) => h.id);

describe("GivenUpHolders", () => {
  it("passes over a holder whose transfer of the segment was given up or failed, while another is left", () => {
    const { given, abort, fail } = holdersOn(() => 1_000);
    abort(SEGMENT, "a");
    fail(SEGMENT, "b");
    const holders = [{ id: "a" }, { id: "b" }, { id: "c" }];
    given.passOver(SEGMENT, holders);
    assert.deepEqual(ids(holders), ["c"]);
    // Only for that segment.
    const forOther = [{ id: "a" }, { id: "c" }];
    given.passOver(OTHER, forOther);
    assert.deepEqual(ids(forOther), ["a", "c"]);
  });

  it("keeps every holder when all of them were given up, or when there is only one", () => {
    const { given, abort } = holdersOn(() => 1_000);
    abort(SEGMENT, "a");
    abort(SEGMENT, "b");
    const both = [{ id: "a" }, { id: "b" }];
    given.passOver(SEGMENT, both);
    assert.deepEqual(ids(both), ["a", "b"], "PML draws among them as before");
    const one = [{ id: "a" }];
    given.passOver(SEGMENT, one);
    assert.deepEqual(ids(one), ["a"]);
  });

  it("forgets a given-up holder after forgetMs, and every one once the segment is loaded", () => {
    let now = 1_000;
    const { given, abort, loaded } = holdersOn(() => now);
    abort(SEGMENT, "a");
    now += FORGET_MS - 1;
    const soon = [{ id: "a" }, { id: "b" }];
    given.passOver(SEGMENT, soon);
    assert.deepEqual(ids(soon), ["b"]);
    now += 1;
    const later = [{ id: "a" }, { id: "b" }];
    given.passOver(SEGMENT, later);
    assert.deepEqual(ids(later), ["a", "b"]);

    abort(OTHER, "a");
    loaded(OTHER);
    const afterLoad = [{ id: "a" }, { id: "b" }];
    given.passOver(OTHER, afterLoad);
    assert.deepEqual(ids(afterLoad), ["a", "b"]);
  });

  it("ignores HTTP attempts and attempts without a peer", () => {
    const { given, abort } = holdersOn(() => 1_000);
    abort(SEGMENT, "a", "http");
    abort(SEGMENT, undefined);
    const holders = [{ id: "a" }, { id: "b" }];
    given.passOver(SEGMENT, holders);
    assert.deepEqual(ids(holders), ["a", "b"]);
  });

  it("follows a bounded number of segments", () => {
    const { given, abort } = holdersOn(() => 1_000);
    for (let i = 0; i < 1_000; i++) abort(`http://cdn.test/live/seg-${i}.ts`, "a");
    const oldest = [{ id: "a" }, { id: "b" }];
    given.passOver("http://cdn.test/live/seg-0.ts", oldest);
    assert.deepEqual(ids(oldest), ["a", "b"], "the oldest segment was dropped");
    const newest = [{ id: "a" }, { id: "b" }];
    given.passOver("http://cdn.test/live/seg-999.ts", newest);
    assert.deepEqual(ids(newest), ["b"]);
  });

  it("reaches the patched PML through its segment store", () => {
    const { given, abort } = holdersOn(() => 1_000);
    abort(SEGMENT, "a");
    const store = {};
    const holders = [{ id: "a" }, { id: "b" }];
    passOverGivenUpHolders(holders, { url: SEGMENT }, store);
    assert.deepEqual(ids(holders), ["a", "b"], "a store nobody registered changes nothing");
    setGivenUpHolders(store, given);
    passOverGivenUpHolders(holders, { url: SEGMENT }, store);
    assert.deepEqual(ids(holders), ["b"]);
    const unknown = [{ id: "a" }, { id: "b" }];
    passOverGivenUpHolders(unknown, { url: SEGMENT });
    assert.deepEqual(ids(unknown), ["a", "b"], "no store: PML's own draw");
  });
});
