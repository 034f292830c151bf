import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreEventMap } from "p2p-media-loader-core";
import {
  nextHolderAfterGivingUp,
  peerAfterHttpFailure,
  type PmlHolder,
} from "../../sdk/src/peers/peer-after-http-failure";
import { GivenUpHolders, setGivenUpHolders } from "../../sdk/src/peers/given-up-holders";
import { setHttpFallback, type HttpFallback } from "../../sdk/src/peers/http-fallback";

interface Segment {
  url: string;
}
const s1: Segment = { url: "s1" };
const attempts = (...sources: string[]) => ({
  failedAttempts: { lastAttempt: sources.length ? { downloadSource: sources[sources.length - 1] } : undefined },
});
const holders = (held: boolean) => ({ isSegmentLoadedBySomeone: (_: Segment) => held });
/** PML's peer loader with these peers: `loaded` hold s1, `busy` are sending this viewer something. */
const loaderWith = (...peers: Array<{ id: string; loaded?: boolean; busy?: boolean }>) => ({
  isSegmentLoadedBySomeone: (segment: Segment) => peers.some((p) => p.loaded && segment.url === "s1"),
  trackerClient: {
    peers: (): PmlHolder<Segment>[] =>
      peers.map((p) => ({
        id: p.id,
        downloadingSegment: p.busy ? {} : undefined,
        getSegmentStatus: (segment: Segment) => (p.loaded && segment.url === "s1" ? "loaded" : undefined),
      })),
  },
});
/** A PML segment store the SDK tells the patches about, with this viewer's CDN as `cdn` says. */
const storeWith = (cdn: Partial<HttpFallback>, givenUp = new GivenUpHolders({ forgetMs: 10_000 })) => {
  const store = {};
  setHttpFallback(store, () => ({ seconds: 0.5, failing: false, failedLately: false, ...cdn }));
  setGivenUpHolders(store, givenUp);
  return store;
};
type SegmentError = Parameters<CoreEventMap["onSegmentError"]>[0];
const peerFailed = (givenUp: GivenUpHolders, peerId: string, url = "s1") =>
  givenUp.pmlListeners.onSegmentError?.({ segment: { url }, downloadSource: "p2p", peerId } as unknown as SegmentError);

describe("peerAfterHttpFailure", () => {
  it("sends a segment whose HTTP attempt failed to a peer that holds it", () => {
    assert.equal(peerAfterHttpFailure(attempts("http"), s1, holders(true)), true);
    assert.equal(peerAfterHttpFailure(attempts("p2p", "http"), s1, holders(true)), true);
  });

  it("retries HTTP when no peer holds it", () => {
    assert.equal(peerAfterHttpFailure(attempts("http"), s1, holders(false)), false);
  });

  it("tries HTTP first, and again after a peer failed: the sources alternate", () => {
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(true)), false);
    assert.equal(peerAfterHttpFailure(attempts(), s1, holders(true)), false);
    assert.equal(peerAfterHttpFailure(attempts("http", "p2p"), s1, holders(true)), false);
    assert.equal(
      peerAfterHttpFailure(attempts("p2p"), s1, loaderWith({ id: "a", loaded: true }), storeWith({})),
      false,
    );
  });

  it("while this viewer's CDN failed lately, sends even a first attempt to a peer that holds the segment", () => {
    const failedLately = storeWith({ failing: true, failedLately: true });
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(true), failedLately), true);
    assert.equal(peerAfterHttpFailure(attempts(), s1, holders(true), failedLately), true);
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(false), failedLately), false);
  });

  it("while this viewer's CDN failed lately, tries the next free holder after a peer failed, and HTTP once none is left", () => {
    const givenUp = new GivenUpHolders({ forgetMs: 10_000 });
    const failedLately = storeWith({ failing: true, failedLately: true }, givenUp);
    const afterPeer = attempts("http", "p2p");
    const loader = loaderWith(
      { id: "a", loaded: true },
      { id: "b", loaded: true },
      { id: "c", loaded: true, busy: true },
    );
    peerFailed(givenUp, "a");
    assert.equal(peerAfterHttpFailure(afterPeer, s1, loader, failedLately), true, "b is free and fresh");
    peerFailed(givenUp, "b");
    assert.equal(peerAfterHttpFailure(afterPeer, s1, loader, failedLately), false, "c is busy: HTTP");
    // Another segment's failures do not count against a holder.
    peerFailed(givenUp, "a", "s2");
    const fresh = storeWith({ failing: true, failedLately: true });
    assert.equal(peerAfterHttpFailure(afterPeer, s1, loaderWith({ id: "a", loaded: true }), fresh), true);
    // Without the loader's holders (not PML's loader) or a store the SDK made: HTTP after a peer.
    assert.equal(peerAfterHttpFailure(afterPeer, s1, holders(true), failedLately), false);
    assert.equal(peerAfterHttpFailure(afterPeer, s1, loader, {}), false);
  });

  it("asks the CDN first again once its last failure is old, or when the store is not the SDK's", () => {
    const failedLongAgo = storeWith({ failing: true, failedLately: false });
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(true), failedLongAgo), false);
    assert.equal(
      peerAfterHttpFailure(attempts("p2p"), s1, loaderWith({ id: "a", loaded: true }), failedLongAgo),
      false,
    );
    assert.equal(peerAfterHttpFailure(attempts("http"), s1, holders(true), failedLongAgo), true);
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(true), storeWith({})), false);
    assert.equal(peerAfterHttpFailure(undefined, s1, holders(true), {}), false);
  });

  it("asks about the segment it was given", () => {
    const asked: string[] = [];
    peerAfterHttpFailure(
      attempts("http"),
      { url: "s7" },
      {
        isSegmentLoadedBySomeone: (s: Segment) => (asked.push(s.url), true),
      },
    );
    assert.deepEqual(asked, ["s7"]);
  });
});

describe("nextHolderAfterGivingUp", () => {
  it("while this viewer's CDN is failing, hands a given-up transfer to the next free holder not given up lately", () => {
    const givenUp = new GivenUpHolders({ forgetMs: 10_000 });
    const failing = storeWith({ failing: true, failedLately: false }, givenUp);
    const loader = loaderWith(
      { id: "a", loaded: true },
      { id: "b", loaded: true },
      { id: "c", busy: true, loaded: true },
    );
    peerFailed(givenUp, "a");
    assert.equal(nextHolderAfterGivingUp(s1, loader, failing), true, "b is free and fresh");
    peerFailed(givenUp, "b");
    assert.equal(nextHolderAfterGivingUp(s1, loader, failing), false, "c is busy");
    assert.equal(nextHolderAfterGivingUp({ url: "s2" }, loader, failing), false, "nobody holds s2");
  });

  it("goes to HTTP when the CDN works, or for a store or loader the SDK does not know", () => {
    const loader = loaderWith({ id: "a", loaded: true });
    assert.equal(nextHolderAfterGivingUp(s1, loader, storeWith({})), false);
    assert.equal(nextHolderAfterGivingUp(s1, loader, {}), false);
    assert.equal(nextHolderAfterGivingUp(s1, loader), false);
    assert.equal(nextHolderAfterGivingUp(s1, holders(true), storeWith({ failing: true })), false);
  });
});
