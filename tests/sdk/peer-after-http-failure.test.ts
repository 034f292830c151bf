import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { peerAfterHttpFailure } from "../../sdk/src/peers/peer-after-http-failure";

const attempts = (...sources: string[]) => ({
  failedAttempts: { lastAttempt: sources.length ? { downloadSource: sources[sources.length - 1] } : undefined },
});
const holders = (held: boolean) => ({ isSegmentLoadedBySomeone: (_: string) => held });

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

  it("asks about the segment it was given", () => {
    const asked: string[] = [];
    peerAfterHttpFailure(attempts("http"), "s7", {
      isSegmentLoadedBySomeone: (s: string) => (asked.push(s), true),
    });
    assert.deepEqual(asked, ["s7"]);
  });
});
