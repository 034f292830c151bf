import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { SEGMENT_HASH_TAG } from "../../shared/protocol";
import { SegmentHashIndex, segmentKey } from "../../sdk/src/integrity/hash-index";
import { IntegrityMapError, parseIntegrityMap, loadIntegrityMap } from "../../sdk/src/integrity/integrity-map";
import { hashesFromFragments, toInclusiveRange } from "../../sdk/src/integrity/playlist-hashes";
import { isSha256Hex, sha256Hex } from "../../sdk/src/integrity/sha256";
import { SegmentVerifier } from "../../sdk/src/integrity/verifier";
import { IntegrityGuard } from "../../sdk/src/integrity/guard";

const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const bytes = (text: string) => new TextEncoder().encode(text).buffer;

describe("sha256Hex", () => {
  it("matches node's SHA-256 through WebCrypto", async () => {
    const data = new Uint8Array(170_000).map((_, i) => (i * 31) & 0xff);
    assert.equal(await sha256Hex(data), sha(data));
    assert.equal(await sha256Hex(new ArrayBuffer(0)), sha(""));
    assert.ok(isSha256Hex(sha("x")));
    assert.ok(!isSha256Hex(sha("x").toUpperCase()));
    assert.ok(!isSha256Hex("abc"));
  });
});

describe("SegmentHashIndex", () => {
  it("keys by URL and inclusive byte range, falls back to the URL without its query", () => {
    const index = new SegmentHashIndex(10);
    const h = sha("a");
    assert.ok(index.set("http://o/a.ts", undefined, h.toUpperCase()));
    assert.equal(index.get("http://o/a.ts"), h);
    assert.equal(index.get("http://o/a.ts?sig=1"), h);
    assert.equal(index.get("http://o/b.ts"), undefined);
    assert.ok(index.set("http://o/v.mp4", { start: 0, end: 99 }, h));
    assert.equal(index.get("http://o/v.mp4", { start: 0, end: 99 }), h);
    assert.equal(index.get("http://o/v.mp4", { start: 100, end: 199 }), undefined);
    assert.equal(index.get("http://o/v.mp4"), undefined);
    assert.equal(segmentKey("u", { start: 1, end: 2 }), "u|1-2");
    assert.equal(index.set("http://o/c.ts", undefined, "not-a-hash"), false);
    assert.throws(() => new SegmentHashIndex(0), /maxEntries/);
  });

  it("keeps every hash of three loaded VOD renditions of 1,000 segments under a 2,000 bound, and refuses forged bytes for the first", async () => {
    const index = new SegmentHashIndex(2000);
    const body = (r: number, n: number) => new TextEncoder().encode(`rendition ${r} segment ${n}`).buffer;
    const sha256 = (data: ArrayBuffer) => createHash("sha256").update(Buffer.from(data)).digest("hex");
    for (let r = 0; r < 3; r++) {
      const listed = Array.from({ length: 1000 }, (_, n) => ({
        url: `http://o/v${r}/s${n}.ts`,
        byteRange: undefined,
        hash: sha256(body(r, n)),
      }));
      index.setPlaylist(`http://o/v${r}.m3u8`, listed);
    }
    assert.equal(index.size, 3000);
    const verifier = new SegmentVerifier({ mode: "if-present", index });
    assert.equal(await verifier.verify("http://o/v0/s0.ts", undefined, body(0, 0)), true);
    assert.equal(
      await verifier.verify("http://o/v0/s0.ts", undefined, body(9, 9)),
      false,
      "forged bytes for rendition 0 were accepted",
    );
    assert.equal(verifier.stats().unhashedSegments, 0);
  });

  it("bounds only hashes no loaded playlist lists: a sliding live window forgets the oldest", () => {
    const index = new SegmentHashIndex(3);
    const live = (first: number) =>
      Array.from({ length: 4 }, (_, i) => ({
        url: `u${first + i}`,
        byteRange: undefined,
        hash: sha(String(first + i)),
      }));
    index.setPlaylist("live.m3u8", live(0));
    for (let first = 1; first <= 6; first++) index.setPlaylist("live.m3u8", live(first));
    // Listed now: u6..u9; slid out: u0..u5, of which the 3 most recent stay.
    for (let n = 6; n <= 9; n++) assert.equal(index.get(`u${n}`), sha(String(n)));
    assert.deepEqual(
      [0, 1, 2].map((n) => index.get(`u${n}`)),
      [undefined, undefined, undefined],
    );
    assert.deepEqual(
      [3, 4, 5].map((n) => index.get(`u${n}`)),
      [3, 4, 5].map((n) => sha(String(n))),
    );
    // A segment two playlists list stays while either does.
    index.setPlaylist("other.m3u8", [{ url: "u7", byteRange: undefined, hash: sha("7") }]);
    index.setPlaylist("live.m3u8", []);
    assert.equal(index.get("u7"), sha("7"));
    index.dropPlaylist("other.m3u8");
    assert.equal(index.size, 3);
  });

  it("stays bounded: the entries set longest ago go first, re-set entries stay", () => {
    const index = new SegmentHashIndex(3);
    for (const n of [1, 2, 3]) index.set(`u${n}`, undefined, sha(String(n)));
    index.set("u1", undefined, sha("1")); // still listed in the next live playlist
    index.set("u4", undefined, sha("4"));
    assert.equal(index.size, 3);
    assert.equal(index.get("u2"), undefined);
    assert.equal(index.get("u1"), sha("1"));
    assert.equal(index.get("u4"), sha("4"));
  });
});

describe("playlist tags as hls.js stores them", () => {
  const h0 = sha("seg0");
  const h1 = sha("seg1");
  // hls.js's m3u8 parser keeps an unknown `#NAME:value` line as ["NAME", "value"] in the
  // tagList of the fragment it precedes (the browser tests cover the real parser).
  const tag = (hex: string) => [SEGMENT_HASH_TAG.slice(1), hex];
  const fragments = [
    { url: "http://o/live/seg-7.ts", byteRange: [], tagList: [tag(h0), ["INF", "2.0"]] },
    { url: "http://o/live/seg-8.ts", byteRange: [], tagList: [["INF", "2.0"]] },
    null,
    { url: "http://o/live/all.ts", byteRange: [0, 1000], tagList: [tag(h1.toUpperCase()), ["INF", "2.0"]] },
    { url: "http://o/live/seg-10.ts", byteRange: [], tagList: [tag("zz"), ["INF", "2.0"]] },
  ];

  it("finds each segment's hash; untagged and malformed ones have none", () => {
    assert.deepEqual(hashesFromFragments(fragments), [
      { url: "http://o/live/seg-7.ts", byteRange: undefined, hash: h0 },
      { url: "http://o/live/seg-8.ts", byteRange: undefined, hash: undefined },
      { url: "http://o/live/all.ts", byteRange: { start: 0, end: 999 }, hash: h1 },
      { url: "http://o/live/seg-10.ts", byteRange: undefined, hash: undefined },
    ]);
    assert.equal(toInclusiveRange([]), undefined);
    assert.deepEqual(toInclusiveRange([10, 20]), { start: 10, end: 19 });
  });
});

describe("JSON integrity map", () => {
  it("resolves keys against the map URL and reads whole-file and byte-range entries", () => {
    const { entries, problems } = parseIntegrityMap(
      {
        "seg-0.ts": sha("0"),
        "https://cdn.example/other/seg-1.ts": sha("1"),
        "../up.ts": sha("2").toUpperCase(),
        "video.mp4": { "0-99": sha("r0"), "100-199": sha("r1"), "9-1": sha("bad"), x: sha("bad") },
        "bad.ts": "1234",
        "worse.ts": 42,
      },
      "https://cdn.example/vod/hashes.json",
    );
    assert.deepEqual(entries, [
      { url: "https://cdn.example/vod/seg-0.ts", byteRange: undefined, hash: sha("0") },
      { url: "https://cdn.example/other/seg-1.ts", byteRange: undefined, hash: sha("1") },
      { url: "https://cdn.example/up.ts", byteRange: undefined, hash: sha("2") },
      { url: "https://cdn.example/vod/video.mp4", byteRange: { start: 0, end: 99 }, hash: sha("r0") },
      { url: "https://cdn.example/vod/video.mp4", byteRange: { start: 100, end: 199 }, hash: sha("r1") },
    ]);
    assert.equal(problems.length, 4);
    assert.match(problems.join("\n"), /"video.mp4" range "9-1"/);
    assert.match(problems.join("\n"), /"bad.ts": not a 64-digit hex SHA-256/);
    assert.match(problems.join("\n"), /"worse.ts": expected a hex string/);
  });

  it("refuses a map that is not an object, naming the map", () => {
    assert.throws(
      () => parseIntegrityMap([], "http://o/m.json"),
      (e: Error) => e instanceof IntegrityMapError && /m\.json.*array/.test(e.message),
    );
  });

  it("names the map URL on HTTP and JSON errors", async () => {
    const fake = (status: number, body: string) =>
      (() => Promise.resolve(new Response(body, { status }))) as unknown as typeof fetch;
    await assert.rejects(loadIntegrityMap("http://o/m.json", fake(404, "no")), /http:\/\/o\/m\.json: HTTP 404/);
    await assert.rejects(loadIntegrityMap("http://o/m.json", fake(200, "{oops")), /m\.json: not JSON/);
    const ok = await loadIntegrityMap("http://o/vod/m.json", fake(200, JSON.stringify({ "a.ts": sha("a") })));
    assert.deepEqual(ok.entries, [{ url: "http://o/vod/a.ts", byteRange: undefined, hash: sha("a") }]);
  });
});

describe("SegmentVerifier", () => {
  const index = new SegmentHashIndex(100);
  index.set("http://o/good.ts", undefined, sha("good bytes"));

  it("if-present: accepts matching and unhashed segments, refuses mismatches and says why", async () => {
    const v = new SegmentVerifier({ mode: "if-present", index });
    assert.equal(await v.verify("http://o/good.ts", undefined, bytes("good bytes")), true);
    assert.equal(await v.verify("http://o/good.ts", undefined, bytes("good byteS")), false);
    assert.equal(await v.verify("http://o/unknown.ts", undefined, bytes("anything")), true);
    assert.equal(v.takeVerdict("http://o/good.ts", undefined), "mismatch");
    assert.equal(v.takeVerdict("http://o/good.ts", undefined), undefined);
    assert.equal(v.blamePeer("peerA"), 1);
    assert.equal(v.blamePeer("peerA"), 2);
    const s = v.stats();
    assert.equal(s.verifiedSegments, 1);
    assert.equal(s.failures, 1);
    assert.equal(s.unhashedSegments, 1);
    assert.equal(s.verifyCount, 2);
    assert.ok(s.verifyMsTotal >= 0 && s.verifyMsMax <= s.verifyMsTotal);
    assert.deepEqual(s.failuresByPeer, { peerA: 2 });
  });

  it("required: refuses segments without a published hash", async () => {
    const v = new SegmentVerifier({ mode: "required", index });
    assert.equal(await v.verify("http://o/unknown.ts", undefined, bytes("anything")), false);
    assert.equal(v.takeVerdict("http://o/unknown.ts", undefined), "missing-hash");
    assert.equal(await v.verify("http://o/good.ts", undefined, bytes("good bytes")), true);
  });

  it("waits for a map still loading, and survives one that failed", async () => {
    const late = new SegmentHashIndex(10);
    let release!: () => void;
    const ready = new Promise<void>((r) => (release = r));
    const v = new SegmentVerifier({ mode: "required", index: late, ready });
    const pending = v.verify("http://o/x.ts", undefined, bytes("x"));
    late.set("http://o/x.ts", undefined, sha("x"));
    release();
    assert.equal(await pending, true);
    const broken = new SegmentVerifier({ mode: "if-present", index: late, ready: Promise.reject(new Error("404")) });
    assert.equal(await broken.verify("http://o/x.ts", undefined, bytes("y")), false);
  });

  it("refuses rather than throws when hashing fails", async () => {
    const v = new SegmentVerifier({
      mode: "if-present",
      index,
      digest: () => Promise.reject(new Error("no WebCrypto")),
    });
    assert.equal(await v.verify("http://o/good.ts", undefined, bytes("good bytes")), false);
    // Not the peer's doing: nothing to blame it for.
    assert.equal(v.takeVerdict("http://o/good.ts", undefined), "unverifiable");
  });
});

describe("SegmentVerifier on segments PML completed over HTTP", () => {
  const good = bytes("the CDN's segment");
  const mixed = bytes("a liar's first bytes, then the CDN's rest");
  function verifier(onCdnMismatch?: (url: string) => void) {
    const index = new SegmentHashIndex(10);
    index.set("http://o/s1.ts", undefined, sha("the CDN's segment"));
    return new SegmentVerifier({ mode: "required", index, ...(onCdnMismatch ? { onCdnMismatch } : {}) });
  }

  it("refuses a copy resumed from a peer's bytes that does not match, so PML fetches it again in full", async () => {
    const v = verifier();
    assert.equal(await v.verifyHttp("http://o/s1.ts", undefined, mixed), false);
    assert.equal(v.takeVerdict("http://o/s1.ts", undefined), "mismatch");
    assert.equal(await v.verifyHttp("http://o/s1.ts", undefined, good), true, "the full CDN copy is taken");
    assert.equal(v.stats().httpRefetches, 1);
    assert.equal(v.stats().cdnMismatches, 0);
  });

  it("plays the CDN's own copy when it does not match either (a wrong published hash), and says so", async () => {
    const seen: string[] = [];
    const v = verifier((url) => seen.push(url));
    assert.equal(await v.verifyHttp("http://o/s1.ts", undefined, mixed), false);
    assert.equal(await v.verifyHttp("http://o/s1.ts", undefined, mixed), true, "the CDN stays the source of truth");
    assert.deepEqual(seen, ["http://o/s1.ts"]);
    assert.equal(v.stats().cdnMismatches, 1);
  });

  it("takes an HTTP segment without a published hash as it is", async () => {
    const v = verifier();
    assert.equal(await v.verifyHttp("http://o/other.ts", undefined, mixed), true);
    assert.equal(v.stats().httpRefetches, 0);
  });
});

describe("IntegrityGuard bans", () => {
  /** PML's onSegmentError for a refused segment from `peerId`. */
  const refused = (url: string, peerId: string) =>
    ({
      error: { type: "p2p-segment-validation-failed" },
      segment: { url, byteRange: undefined },
      peerId,
    }) as unknown as Parameters<IntegrityGuard["onSegmentError"]>[0];

  it("a peer on its first mismatch, and counts what the tracker socket dropped from it", async () => {
    const reports: string[] = [];
    const guard = new IntegrityGuard({ mode: "if-present", maxTagEntries: 10 }, (p) => reports.push(p.message));
    const validate = guard.validateP2PSegment!;
    // No hash for it: accepted. Then hashes arrive from a playlist the test feeds.
    assert.equal(await validate("http://o/x.ts", undefined, bytes("x")), true);
    const player = {
      on: (event: string, fn: (e: unknown) => void) => {
        if (event === "playlist-loaded")
          fn({
            streamType: "main",
            details: {
              url: "http://o/index.m3u8",
              segments: [{ url: "http://o/x.ts", byteRange: [], tagList: [[SEGMENT_HASH_TAG.slice(1), sha("x")]] }],
            },
          });
        return () => undefined;
      },
    };
    guard.bindPlayer(player as never);
    assert.equal(await validate("http://o/x.ts", undefined, bytes("forged")), false);
    guard.onSegmentError(refused("http://o/x.ts", "liar"));
    assert.equal(guard.isBanned("liar"), true);
    assert.equal(guard.stats().bannedPeers, 1);
    assert.match(reports.at(-1)!, /failed its SHA-256 check; peer dropped and banned/);
    assert.equal(guard.isBanned("honest"), false);
    guard.noteBannedSignal();
    assert.equal(guard.stats().bannedSignalsDropped, 1);
  });
});
