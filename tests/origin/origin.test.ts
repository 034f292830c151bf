import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decideFault } from "../../devkit/origin/faults.js";
import { parseRange, startOrigin, type Origin } from "../../devkit/origin/index.js";
import { LiveTimeline } from "../../devkit/origin/live-timeline.js";
import type { MediaSource } from "../../devkit/origin/media-source.js";
import { SEGMENT_HASH_TAG } from "../../shared/protocol.js";

function fakeSource(durations: number[]): MediaSource {
  const segments = durations.map((duration, i) => ({
    uri: `s${i}.ts`,
    duration,
    data: Buffer.from([i]),
    sha256: `h${i}`,
  }));
  const loopDuration = durations.reduce((a, b) => a + b, 0);
  return {
    segments,
    targetDuration: Math.ceil(Math.max(...durations)),
    loopDuration,
    averageSegmentDuration: loopDuration / durations.length,
  };
}

describe("live timeline", () => {
  const epoch = 1_000_000;
  const timeline = new LiveTimeline(fakeSource([2, 2, 2]), epoch, 4);

  it("publishes a segment only once the clock passes its end", () => {
    assert.equal(timeline.headSequence(epoch + 1999), -1);
    assert.equal(timeline.headSequence(epoch + 2000), 0);
    assert.equal(timeline.headSequence(epoch + 6000), 2);
    assert.equal(timeline.headSequence(epoch + 13_999), 5);
    assert.equal(timeline.isPublished(6, epoch + 13_999), false);
  });

  it("loops the content with a discontinuity at every wrap", () => {
    const text = timeline.renderPlaylist(epoch + 14_000, false);
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:3\n/);
    assert.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
    assert.deepEqual(text.match(/seg-\d+\.ts/g), ["seg-3.ts", "seg-4.ts", "seg-5.ts", "seg-6.ts"]);
    // seg-6 starts the third pass of the content.
    assert.equal(text.split("\n").filter((l) => l === "#EXT-X-DISCONTINUITY").length, 1);
    assert.ok(text.indexOf("#EXT-X-DISCONTINUITY\n") < text.indexOf("seg-6.ts"));
    assert.ok(text.indexOf("#EXT-X-DISCONTINUITY\n") > text.indexOf("seg-5.ts"));
    assert.equal(timeline.segment(7).source.uri, "s1.ts");
  });

  it("writes the hash tag of every segment when asked", () => {
    const text = timeline.renderPlaylist(epoch + 14_000, true);
    assert.equal(text.split(SEGMENT_HASH_TAG).length - 1, 4);
    assert.match(text, new RegExp(`${SEGMENT_HASH_TAG}:h0\\n#EXTINF:2.000,\\nseg-6.ts`));
  });
});

describe("range and fault rules", () => {
  it("parses single byte ranges", () => {
    assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=50-500", 100), { start: 50, end: 99 });
    assert.equal(parseRange("bytes=100-", 100), undefined);
    assert.equal(parseRange("bytes=5-1", 100), undefined);
    assert.equal(parseRange("items=0-1", 100), undefined);
  });

  it("applies rules by client, time window and target", () => {
    const rules = [
      { clients: ["a"], status: 503, from: 100, until: 200 },
      { delayMs: 50, target: "all" as const },
    ];
    const plain = { hit: true, reset: false, paceFactor: 0 };
    assert.deepEqual(decideFault(rules, "a", "segment", 150), { ...plain, status: 503, delayMs: 50 });
    assert.deepEqual(decideFault(rules, "a", "segment", 200), { ...plain, delayMs: 50 });
    assert.deepEqual(decideFault(rules, "b", "segment", 150), { ...plain, delayMs: 50 });
    assert.deepEqual(decideFault(rules, "a", "playlist", 150), { ...plain, delayMs: 50 });
    assert.deepEqual(decideFault([rules[0]], "b", "segment", 150), {
      hit: false,
      delayMs: 0,
      reset: false,
      paceFactor: 0,
    });
  });

  it("paces segments only and resets whatever a reset rule targets", () => {
    const rules = [
      { paceFactor: 1.5, target: "all" as const },
      { reset: true, clients: ["x"] },
    ];
    assert.equal(decideFault(rules, "x", "segment", 0).paceFactor, 1.5);
    assert.equal(decideFault(rules, "x", "playlist", 0).paceFactor, 0);
    assert.equal(decideFault(rules, "x", "segment", 0).reset, true);
    assert.equal(decideFault(rules, "x", "playlist", 0).reset, false);
    assert.equal(decideFault(rules, "y", "segment", 0).reset, false);
  });
});

describe("origin over HTTP", () => {
  let origin: Origin;
  before(async () => {
    origin = await startOrigin();
  });
  after(() => origin.close());

  it("serves a full live window with CORS and counts egress per client", async () => {
    const playlistResponse = await fetch(origin.liveUrl("viewer-1"));
    assert.equal(playlistResponse.status, 200);
    assert.equal(playlistResponse.headers.get("access-control-allow-origin"), "*");
    const playlist = await playlistResponse.text();
    const uris = playlist.split("\n").filter((l) => l.endsWith(".ts"));
    assert.equal(uris.length, 10);
    const segment = await fetch(new URL(uris[uris.length - 1], origin.liveUrl("viewer-1")));
    const body = Buffer.from(await segment.arrayBuffer());
    assert.ok(body.length > 100_000, `segment of ${body.length} bytes is smaller than a real 2 s segment`);
    const report = origin.egress();
    assert.equal(report.byClient["viewer-1"].segmentBytes, body.length);
    assert.equal(report.byClient["viewer-1"].playlistBytes, Buffer.byteLength(playlist));
    assert.equal(report.totalBytes, body.length + Buffer.byteLength(playlist));
  });

  it("serves the ABR ladder live: a multivariant playlist and three aligned renditions, each playable alone", async () => {
    const master = await (await fetch(origin.ladderUrl("ladder-1"))).text();
    const uris = master.split("\n").filter((l) => l.endsWith(".m3u8"));
    assert.equal(uris.length, 3);
    assert.deepEqual(origin.ladderBitrates, [880_000, 1_760_000, 3_520_000]);
    assert.equal(new URL(uris[1], origin.ladderUrl("ladder-1")).href, origin.renditionUrl(1, "ladder-1"));
    const playlists = await Promise.all(
      [0, 1, 2].map(async (i) => (await fetch(origin.renditionUrl(i, "ladder-1"))).text()),
    );
    const sequences = playlists.map((p) => /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(p)?.[1]);
    assert.ok(
      sequences.every((s) => s === sequences[0]),
      `renditions out of step: ${sequences.join(", ")}`,
    );
    const sizes = await Promise.all(
      playlists.map(async (p, i) => {
        const last = p
          .split("\n")
          .filter((l) => l.endsWith(".ts"))
          .pop()!;
        return (await (await fetch(new URL(last, origin.renditionUrl(i, "ladder-1")))).arrayBuffer()).byteLength;
      }),
    );
    // 2 s at 0.8 / 1.6 / 3.2 Mbit/s, within the encoder's spread.
    sizes.forEach((bytes, i) =>
      assert.ok(Math.abs((bytes * 8) / 2 / (0.8e6 * 2 ** i) - 1) < 0.3, `rendition ${i}: ${bytes} bytes`),
    );
  });

  it("answers ranges with 206 and counts only the bytes sent", async () => {
    origin.resetEgress();
    const response = await fetch(`${origin.url}/c/r/live/seg-1.ts`, { headers: { range: "bytes=10-19" } });
    assert.equal(response.status, 206);
    assert.equal((await response.arrayBuffer()).byteLength, 10);
    assert.equal(origin.egress().byClient.r.segmentBytes, 10);
  });

  it("refuses segments not yet published", async () => {
    const response = await fetch(`${origin.url}/live/seg-99999.ts`);
    assert.equal(response.status, 404);
    await response.arrayBuffer();
  });

  it("injects 503s for chosen clients only", async () => {
    origin.setFaults([{ clients: ["bad"], status: 503 }]);
    const bad = await fetch(`${origin.url}/c/bad/live/seg-1.ts`);
    const good = await fetch(`${origin.url}/c/good/live/seg-1.ts`);
    assert.equal(bad.status, 503);
    assert.equal(good.status, 200);
    await Promise.all([bad.arrayBuffer(), good.arrayBuffer()]);
    assert.equal(origin.egress().byClient.bad.errors, 1);
    origin.setFaults([]);
  });

  it("resets the connection of chosen clients only, and counts the fault", async () => {
    origin.resetEgress();
    origin.setFaults([{ clients: ["cut"], reset: true }]);
    await assert.rejects(fetch(`${origin.url}/c/cut/live/seg-1.ts`).then((r) => r.arrayBuffer()));
    const good = await fetch(`${origin.url}/c/fine/live/seg-1.ts`);
    assert.equal(good.status, 200);
    await good.arrayBuffer();
    const playlist = await fetch(`${origin.url}/c/cut/live/index.m3u8`);
    assert.equal(playlist.status, 200, "playlists are not segments: the default target spares them");
    await playlist.text();
    const report = origin.egress().byClient;
    assert.equal(report.cut.faults, 1);
    assert.equal(report.cut.segmentBytes, 0);
    assert.equal(report.fine.faults, 0);
    origin.setFaults([]);
  });

  it("holds a response for delayMs, then answers it whole", async () => {
    origin.setFaults([{ clients: ["slow"], delayMs: 400 }]);
    const started = Date.now();
    const response = await fetch(`${origin.url}/c/slow/live/seg-1.ts`);
    const body = await response.arrayBuffer();
    assert.ok(Date.now() - started >= 390, `answered after ${Date.now() - started} ms`);
    assert.equal(response.status, 200);
    assert.ok(body.byteLength > 0);
    origin.setFaults([]);
  });

  it("paces a segment's body to a multiple of its media duration, and only inside the rule's window", async () => {
    // 0.25 × a 2 s segment: the body arrives over ~500 ms instead of at once.
    origin.setFaults([{ paceFactor: 0.25, from: Date.now(), until: Date.now() + 60_000 }]);
    let started = Date.now();
    await (await fetch(`${origin.url}/c/paced/live/seg-1.ts`)).arrayBuffer();
    const paced = Date.now() - started;
    assert.ok(paced >= 400, `a paced segment took ${paced} ms`);
    origin.setFaults([{ paceFactor: 0.25, from: Date.now() - 2000, until: Date.now() - 1000 }]);
    started = Date.now();
    await (await fetch(`${origin.url}/c/paced/live/seg-1.ts`)).arrayBuffer();
    assert.ok(Date.now() - started < paced / 2, "a rule whose window has passed still paced");
    assert.equal(origin.egress().byClient.paced.faults, 1);
    origin.setFaults([]);
  });

  it("counts a segment sent whole to the same client twice", async () => {
    origin.resetEgress();
    for (let i = 0; i < 2; i++) await (await fetch(`${origin.url}/c/twice/live/seg-1.ts`)).arrayBuffer();
    await (await fetch(`${origin.url}/c/twice/live/seg-2.ts`)).arrayBuffer();
    await (await fetch(`${origin.url}/c/once/live/seg-1.ts`)).arrayBuffer();
    assert.equal(origin.egress().byClient.twice.repeatedSegments, 1);
    assert.equal(origin.egress().byClient.once.repeatedSegments, 0);
  });

  it("answers the SHA-256 of what a path serves, uncounted as egress", async () => {
    origin.resetEgress();
    const body = Buffer.from(await (await fetch(`${origin.url}/live/seg-1.ts`)).arrayBuffer());
    const hash = await (await fetch(`${origin.url}/c/h/sha256/live/seg-1.ts`)).text();
    assert.equal(hash, createHash("sha256").update(body).digest("hex"));
    assert.equal(origin.egress().byClient.h.segmentBytes, 0);
    assert.equal((await fetch(`${origin.url}/sha256/live/nope.ts`)).status, 404);
  });

  it("rejects malformed fault rules and unknown options with a clear message", async () => {
    assert.throws(() => origin.setFaults([{ status: 200 }]), /status must be an HTTP error status/);
    assert.throws(() => origin.setFaults([{}]), /needs a status, a delayMs, reset or a paceFactor/);
    assert.throws(() => origin.setFaults([{ paceFactor: 0 }]), /paceFactor must be a number > 0/);
    assert.throws(() => origin.setFaults([{ reset: true, status: 503 }]), /reset and status exclude each other/);
    assert.throws(() => origin.setFaults([{ status: 503, from: 10, until: 5 }]), /until \(5\) must be after from/);
    await assert.rejects(startOrigin({ windowSize: 3 } as never), /unknown option "windowSize"/);
  });

  it("serves the clip as VOD", async () => {
    const playlist = await (await fetch(origin.vodUrl())).text();
    assert.match(playlist, /#EXT-X-ENDLIST/);
    const first = playlist.split("\n").find((l) => l.endsWith(".ts"))!;
    const segment = await fetch(new URL(first, origin.vodUrl()));
    assert.equal(segment.status, 200);
    await segment.arrayBuffer();
  });
});
