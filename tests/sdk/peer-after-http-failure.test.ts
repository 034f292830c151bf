import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { peerAfterHttpFailure } from "../../sdk/src/peers/peer-after-http-failure";
import { setHttpFallback, type HttpFallback } from "../../sdk/src/peers/http-fallback";

const attempts = (...sources: string[]) => ({
  failedAttempts: { lastAttempt: sources.length ? { downloadSource: sources[sources.length - 1] } : undefined },
});
const holders = (held: boolean) => ({ isSegmentLoadedBySomeone: (_: string) => held });
/** A PML segment store the SDK tells the patch about, with this viewer's CDN as `cdn` says. */
const storeWith = (cdn: Partial<HttpFallback>) => {
  const store = {};
  setHttpFallback(store, () => ({ seconds: 0.5, failing: false, failedLately: false, ...cdn }));
  return store;
};

describe("peerAfterHttpFailure", () => {
  it("sends a segment whose HTTP attempt failed to a peer that holds it", () => {
    assert.equal(peerAfterHttpFailure(attempts("http"), "s1", holders(true)), true);
    assert.equal(peerAfterHttpFailure(attempts("p2p", "http"), "s1", holders(true)), true);
  });

  it("retries HTTP when no peer holds it", () => {
    assert.equal(peerAfterHttpFailure(attempts("http"), "s1", holders(false)), false);
  });

  it("tries HTTP first, and again after a peer failed: the sources alternate", () => {
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(true)), false);
    assert.equal(peerAfterHttpFailure(attempts(), "s1", holders(true)), false);
    assert.equal(peerAfterHttpFailure(attempts("http", "p2p"), "s1", holders(true)), false);
  });

  it("while this viewer's CDN failed lately, sends even a first attempt to a peer that holds the segment", () => {
    const failedLately = storeWith({ failing: true, failedLately: true });
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(true), failedLately), true);
    assert.equal(peerAfterHttpFailure(attempts(), "s1", holders(true), failedLately), true);
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(false), failedLately), false);
    // The sources still alternate: HTTP after a peer failed.
    assert.equal(peerAfterHttpFailure(attempts("p2p"), "s1", holders(true), failedLately), false);
  });

  it("asks the CDN first again once its last failure is old, or when the store is not the SDK's", () => {
    const failedLongAgo = storeWith({ failing: true, failedLately: false });
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(true), failedLongAgo), false);
    assert.equal(peerAfterHttpFailure(attempts("http"), "s1", holders(true), failedLongAgo), true);
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(true), storeWith({})), false);
    assert.equal(peerAfterHttpFailure(undefined, "s1", holders(true), {}), false);
  });

  it("asks about the segment it was given", () => {
    const asked: string[] = [];
    peerAfterHttpFailure(attempts("http"), "s7", {
      isSegmentLoadedBySomeone: (s: string) => (asked.push(s), true),
    });
    assert.deepEqual(asked, ["s7"]);
  });
});
