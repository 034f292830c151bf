import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SEGMENT_HASH_TAG } from "../../shared/protocol";
import { parseIntegrityMap } from "../../sdk/src/integrity/integrity-map";
import { stripPlaylist, tagPlaylist } from "../../sdk/publish/hash-playlist";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "sdk/publish/bin/swarmcast-hash.mjs");
const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const work = mkdtempSync(join(tmpdir(), "swarmcast-hash-"));
after(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("tagPlaylist", () => {
  const files: Record<string, string> = { "a.ts": "AAAA", "b.ts": "BBBB", "all.ts": "0123456789" };
  const read = (uri: string) => {
    if (!(uri in files)) throw new Error("ENOENT");
    return new TextEncoder().encode(files[uri]);
  };

  it("writes the tag before each segment's tags and is idempotent", () => {
    const input = [
      "#EXTM3U",
      "#EXT-X-TARGETDURATION:2",
      "#EXTINF:2,",
      "a.ts",
      "#EXT-X-DISCONTINUITY",
      "#EXTINF:2,",
      "b.ts",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n");
    const once = tagPlaylist(input, read);
    assert.equal(
      once.text,
      [
        "#EXTM3U",
        "#EXT-X-TARGETDURATION:2",
        `${SEGMENT_HASH_TAG}:${sha("AAAA")}`,
        "#EXTINF:2,",
        "a.ts",
        `${SEGMENT_HASH_TAG}:${sha("BBBB")}`,
        "#EXT-X-DISCONTINUITY",
        "#EXTINF:2,",
        "b.ts",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
    assert.equal(tagPlaylist(once.text, read).text, once.text);
    assert.equal(stripPlaylist(once.text), input);
    // Stale tags are replaced, CRLF kept.
    const stale = once.text.replace(sha("AAAA"), sha("old")).replaceAll("\n", "\r\n");
    assert.equal(tagPlaylist(stale, read).text, once.text.replaceAll("\n", "\r\n"));
  });

  it("hashes byte ranges, with and without explicit offsets", () => {
    const input = [
      "#EXTM3U",
      "#EXT-X-BYTERANGE:4@0",
      "#EXTINF:2,",
      "all.ts",
      "#EXTINF:2,",
      "#EXT-X-BYTERANGE:6",
      "all.ts",
      "",
    ].join("\n");
    const r = tagPlaylist(input, read);
    assert.deepEqual(r.segments, [
      { uri: "all.ts", byteRange: { start: 0, end: 3 }, hash: sha("0123") },
      { uri: "all.ts", byteRange: { start: 4, end: 9 }, hash: sha("456789") },
    ]);
    assert.throws(
      () => tagPlaylist(input.replace("BYTERANGE:6", "BYTERANGE:7"), read, "x.m3u8"),
      /x\.m3u8, line 7: byte range 4-10 of "all.ts" is past its end/,
    );
  });

  it("names the playlist and line of a segment it cannot read, and refuses non-playlists", () => {
    assert.throws(
      () => tagPlaylist("#EXTM3U\n#EXTINF:2,\nmissing.ts\n", read, "p.m3u8"),
      /p\.m3u8, line 3: cannot read segment "missing\.ts"/,
    );
    assert.throws(() => tagPlaylist("hello\n", read, "p.m3u8"), /p\.m3u8: not an HLS playlist/);
  });
});

describe("swarmcast-hash CLI", () => {
  it("tags every playlist of a folder, follows nothing twice, writes a map the SDK reads", () => {
    mkdirSync(join(work, "show/v1"), { recursive: true });
    writeFileSync(join(work, "show/v1/s0.ts"), "zero");
    writeFileSync(join(work, "show/v1/s 1.ts"), "one");
    writeFileSync(
      join(work, "show/v1/index.m3u8"),
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\ns0.ts\n#EXTINF:2,\ns%201.ts\n#EXT-X-ENDLIST\n",
    );
    writeFileSync(join(work, "show/master.m3u8"), "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nv1/index.m3u8\n");
    const first = cli("show", "--map", "show/hashes.json");
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /show\/master\.m3u8: multivariant, 1 media playlist/);
    assert.match(first.out, /show\/v1\/index\.m3u8: 2 segment\(s\) tagged/);
    const tagged = readFileSync(join(work, "show/v1/index.m3u8"), "utf8");
    assert.equal(tagged.split(SEGMENT_HASH_TAG).length - 1, 2);
    assert.ok(tagged.includes(`${SEGMENT_HASH_TAG}:${sha("one")}\n#EXTINF:2,\ns%201.ts`));

    const map = JSON.parse(readFileSync(join(work, "show/hashes.json"), "utf8"));
    assert.deepEqual(map, { "v1/s0.ts": sha("zero"), "v1/s%201.ts": sha("one") });
    const parsed = parseIntegrityMap(map, "https://cdn.example/show/hashes.json");
    assert.deepEqual(
      parsed.entries.map((e) => e.url),
      ["https://cdn.example/show/v1/s0.ts", "https://cdn.example/show/v1/s%201.ts"],
    );

    assert.equal(cli("show").code, 0);
    assert.equal(readFileSync(join(work, "show/v1/index.m3u8"), "utf8"), tagged, "a second run changes nothing");
    assert.equal(cli("--check", "show/master.m3u8").code, 0);

    writeFileSync(join(work, "show/v1/s0.ts"), "changed");
    const check = cli("--check", "show");
    assert.equal(check.code, 1);
    assert.match(check.out, /index\.m3u8: 1 segment tag\(s\) missing or wrong/);

    assert.equal(cli("--strip", "show").code, 0);
    assert.ok(!readFileSync(join(work, "show/v1/index.m3u8"), "utf8").includes(SEGMENT_HASH_TAG));
  });

  it("explains bad usage and unreadable segments with exit code 2", () => {
    const none = cli();
    assert.equal(none.code, 2);
    assert.match(none.err, /give at least one playlist or folder/);
    assert.match(cli("--map", "x.txt", "show").err, /--map: expected a \.json file name/);
    assert.match(cli("nowhere").err, /"nowhere": no such file or folder/);
    writeFileSync(join(work, "broken.m3u8"), "#EXTM3U\n#EXTINF:2,\nhttps://cdn.example/remote.ts\n");
    const remote = cli("broken.m3u8");
    assert.equal(remote.code, 2);
    assert.match(
      remote.err,
      /broken\.m3u8, line 3: cannot read segment "https:\/\/cdn\.example\/remote\.ts": not a local file/,
    );
  });
});
