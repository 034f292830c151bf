// Spot checks against the real local origin over HTTP Range: a segment as served matches, a
// segment with one altered byte in the checked range does not, and only the range is fetched.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { SpotChecker } from "../../sdk/src/integrity/spot-check";
import { SegmentHashIndex } from "../../sdk/src/integrity/hash-index";
import { SegmentVerifier } from "../../sdk/src/integrity/verifier";

let origin: Origin;
before(async () => (origin = await startOrigin({ hashTags: false })));
after(() => origin.close());

async function firstSegment(): Promise<{ url: string; data: ArrayBuffer }> {
  const playlistUrl = origin.vodUrl("spot");
  const playlist = await (await fetch(playlistUrl)).text();
  const uri = playlist.split("\n").find((l) => l && !l.startsWith("#"))!;
  const url = new URL(uri, playlistUrl).href;
  return { url, data: await (await fetch(url)).arrayBuffer() };
}

describe("spot check", () => {
  it("matches a segment as served, catches an altered byte, and fetches only the range", async () => {
    const { url, data } = await firstSegment();
    const always = new SpotChecker({ share: 1, rangeBytes: 4096, random: () => 0.5 });
    assert.equal(await always.check(url, undefined, data), "match");
    const offset = Math.floor(0.5 * (data.byteLength - 4096 + 1));
    const forged = data.slice(0);
    new Uint8Array(forged)[offset + 100] ^= 0xff;
    assert.equal(await always.check(url, undefined, forged), "mismatch");
    assert.deepEqual(always.stats(), { checked: 2, mismatches: 1, bytesFetched: 8192 });
    const never = new SpotChecker({ share: 0, rangeBytes: 4096 });
    assert.equal(await never.check(url, undefined, forged), "skipped");
  });

  it("makes the verifier refuse an unhashed segment that fails it", async () => {
    const { url, data } = await firstSegment();
    const forged = data.slice(0);
    const bytes = new Uint8Array(forged);
    for (let i = 0; i < bytes.length; i += 1024) bytes[i] ^= 0x5a;
    const verifier = new SegmentVerifier({
      mode: "if-present",
      index: new SegmentHashIndex(10),
      spotCheck: new SpotChecker({ share: 1, rangeBytes: 4096 }),
    });
    assert.equal(await verifier.verify(url, undefined, data), true);
    assert.equal(await verifier.verify(url, undefined, forged), false);
    assert.equal(verifier.takeVerdict(url, undefined), "spot-mismatch");
    assert.equal(verifier.stats().spotChecks.mismatches, 1);
  });
});
