// The page's pure parts: settings from /config.json and the query, number formats, the sums
// over viewers, problems in plain words and the tracker state line.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatAge,
  formatBytes,
  formatPercent,
  formatRate,
  kilobytesPerSecond,
  shortPeerId,
} from "../../demo/page/format.js";
import { describeError, ProblemLog } from "../../demo/page/problems.js";
import { resolvePageSettings, viewerUrl, type DemoConfig } from "../../demo/page/settings.js";
import { ViewerTotals } from "../../demo/page/totals.js";
import { trackerView, TRACKER_ERROR_MEMORY_MS } from "../../demo/page/tracker-state.js";

const LOCAL: DemoConfig = {
  src: "/origin/live/index.m3u8",
  tracker: "/tracker",
  swarm: "swarmcast-demo",
  localStream: true,
  localTracker: true,
  swarmStats: "/swarm.json",
  version: "0.1.0",
};
const AT = { href: "http://127.0.0.1:8080/?x=1", protocol: "http:", host: "127.0.0.1:8080" };

describe("resolvePageSettings", () => {
  test("defaults: the local stream and tracker through the page's own host, no STUN", () => {
    const s = resolvePageSettings(LOCAL, new URLSearchParams(""), AT);
    assert.equal(s.src, "http://127.0.0.1:8080/origin/live/index.m3u8");
    assert.equal(s.tracker, "ws://127.0.0.1:8080/tracker");
    assert.equal(s.swarmId, "swarmcast-demo");
    assert.deepEqual(s.iceServers, []);
    assert.equal(s.localTracker, true);
    assert.equal(s.swarmStats, "/swarm.json");
    assert.equal(s.compact, false);
    assert.equal(s.viewer, "1");
    assert.deepEqual(s.warnings, []);
  });

  test("https page → wss tracker", () => {
    const s = resolvePageSettings(LOCAL, new URLSearchParams(""), {
      href: "https://demo.example/",
      protocol: "https:",
      host: "demo.example",
    });
    assert.equal(s.tracker, "wss://demo.example/tracker");
  });

  test("query src/tracker/swarm/ice override; a custom src drops the demo swarm id", () => {
    const q = new URLSearchParams({
      src: "https://cdn.example/live.m3u8",
      tracker: "wss://t.example/announce",
      ice: "stun:stun.example:3478, turn:turn.example",
    });
    const s = resolvePageSettings(LOCAL, q, AT);
    assert.equal(s.src, "https://cdn.example/live.m3u8");
    assert.equal(s.tracker, "wss://t.example/announce");
    assert.equal(s.swarmId, undefined);
    assert.deepEqual(s.iceServers, [{ urls: "stun:stun.example:3478" }, { urls: "turn:turn.example" }]);
    assert.equal(s.localTracker, false);
    assert.equal(s.swarmStats, null);
    const withSwarm = resolvePageSettings(
      LOCAL,
      new URLSearchParams({ src: "https://cdn.example/a.m3u8", swarm: "room-1" }),
      AT,
    );
    assert.equal(withSwarm.swarmId, "room-1");
  });

  test("an external tracker without ice= keeps the SDK's STUN defaults", () => {
    const s = resolvePageSettings(LOCAL, new URLSearchParams({ tracker: "wss://t.example" }), AT);
    assert.equal(s.iceServers, undefined);
    const empty = resolvePageSettings(LOCAL, new URLSearchParams({ tracker: "wss://t.example", ice: "" }), AT);
    assert.deepEqual(empty.iceServers, []);
  });

  test("bad query values are ignored with a sentence naming the parameter", () => {
    const q = new URLSearchParams({
      src: "javascript:alert(1)",
      tracker: "http://t.example",
      ice: "stun:ok.example,bogus",
    });
    const s = resolvePageSettings(LOCAL, q, AT);
    assert.equal(s.src, "http://127.0.0.1:8080/origin/live/index.m3u8");
    assert.equal(s.tracker, "ws://127.0.0.1:8080/tracker");
    assert.deepEqual(s.iceServers, [{ urls: "stun:ok.example" }]);
    assert.equal(s.warnings.length, 3);
    assert.match(s.warnings[0], /"src"/);
    assert.match(s.warnings[1], /"tracker"/);
    assert.match(s.warnings[2], /"ice".*bogus/);
  });

  test("config with absolute URLs (--stream, --tracker)", () => {
    const config: DemoConfig = {
      ...LOCAL,
      src: "https://cdn.example/x.m3u8",
      tracker: "wss://t.example",
      swarm: null,
      localStream: false,
      localTracker: false,
      swarmStats: null,
    };
    const s = resolvePageSettings(config, new URLSearchParams(""), AT);
    assert.equal(s.src, "https://cdn.example/x.m3u8");
    assert.equal(s.tracker, "wss://t.example");
    assert.equal(s.swarmId, undefined);
    assert.equal(s.iceServers, undefined);
  });

  test("compact viewer label is checked", () => {
    assert.equal(resolvePageSettings(LOCAL, new URLSearchParams({ compact: "1", viewer: "3" }), AT).viewer, "3");
    assert.equal(resolvePageSettings(LOCAL, new URLSearchParams({ viewer: "<b>" }), AT).viewer, "1");
    assert.equal(resolvePageSettings(LOCAL, new URLSearchParams({ compact: "1" }), AT).compact, true);
  });

  test("viewerUrl forwards stream parameters only", () => {
    const q = new URLSearchParams({
      src: "https://cdn.example/a.m3u8",
      swarm: "s",
      compact: "1",
      viewer: "9",
      other: "x",
    });
    const url = new URL(viewerUrl(AT, q, { compact: "1", viewer: "2" }));
    assert.equal(url.origin + url.pathname, "http://127.0.0.1:8080/");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      src: "https://cdn.example/a.m3u8",
      swarm: "s",
      compact: "1",
      viewer: "2",
    });
  });
});

describe("format", () => {
  test("bytes, rates, percent", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(-5), "0 B");
    assert.equal(formatBytes(NaN), "0 B");
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(1234), "1.23 kB");
    assert.equal(formatBytes(12_345), "12.3 kB");
    assert.equal(formatBytes(123_456), "123 kB");
    assert.equal(formatBytes(3_070_000), "3.07 MB");
    assert.equal(formatRate(84_200), "84.2 kB/s");
    assert.equal(kilobytesPerSecond(84_250), 84.3);
    assert.equal(kilobytesPerSecond(Infinity), 0);
    assert.equal(formatPercent(0.456), "46 %");
    assert.equal(formatPercent(1.2), "100 %");
    assert.equal(formatPercent(NaN), "0 %");
  });

  test("peer ids: printable tail", () => {
    assert.equal(shortPeerId("-PM0230-abcdefgh1234"), "efgh1234");
    assert.equal(shortPeerId("\u0001\u0002ab"), "ab");
    assert.equal(shortPeerId("\u0001"), "(unnamed)");
  });

  test("ages", () => {
    assert.equal(formatAge(0, 4_400), "4 s");
    assert.equal(formatAge(0, 125_000), "2 min");
    assert.equal(formatAge(0, 7_300_000), "2 h");
    assert.equal(formatAge(10, 0), "0 s");
  });
});

describe("ViewerTotals", () => {
  const stats = (http: number, p2p: number, up = 0, rate = 0) => ({
    httpBytes: http,
    p2pBytes: p2p,
    uploadedBytes: up,
    httpDownloadRate: rate,
    p2pDownloadRate: rate,
    uploadRate: rate,
  });

  test("sums viewers; offload over all bytes", () => {
    const t = new ViewerTotals();
    assert.equal(t.sum().offloadRatio, 0);
    t.update("1", stats(300, 100, 50, 10));
    t.update("2", stats(100, 300, 350, 20));
    const s = t.sum();
    assert.equal(s.viewers, 2);
    assert.equal(s.httpBytes, 400);
    assert.equal(s.p2pBytes, 400);
    assert.equal(s.uploadedBytes, 400);
    assert.equal(s.offloadRatio, 0.5);
    assert.equal(s.httpRate, 30);
  });

  test("an update replaces the viewer's figures; a retired viewer keeps its bytes, not its rates", () => {
    const t = new ViewerTotals();
    t.update("1", stats(100, 0, 0, 5));
    t.update("2", stats(0, 50, 0, 5));
    t.update("2", { ...stats(0, 100, 0, 5), integrity: { verifiedSegments: 3 } as never, integrityFailures: 1 });
    t.retire("2");
    t.retire("2");
    t.retire("nobody");
    const s = t.sum();
    assert.equal(s.viewers, 1);
    assert.equal(s.p2pBytes, 100);
    assert.equal(s.httpRate, 5);
    assert.equal(s.p2pRate, 5);
    assert.equal(s.verifiedSegments, 3);
    assert.equal(s.integrityFailures, 1);
    assert.equal(t.has("2"), false);
  });
});

describe("problems", () => {
  const ctx = { src: "https://cdn.example/a.m3u8", tracker: "wss://t.example" };

  test("each error kind reads as a sentence with what happens next", () => {
    assert.match(
      describeError({ kind: "tracker", message: "tracker error: closed; playing on from HTTP", fatal: false }, ctx)
        .text,
      /Cannot reach the tracker at wss:\/\/t\.example.*CDN/,
    );
    const lost = describeError(
      {
        kind: "tracker",
        message:
          "tracker wss://t.example connection lost (retrying in 1.4 s); playing on from HTTP and connected peers",
        fatal: false,
      },
      ctx,
    );
    assert.match(lost.text, /dropped; reconnecting\. Peers already connected keep sharing/);
    assert.doesNotMatch(lost.text, /Cannot reach/);
    assert.match(
      describeError({ kind: "tracker", message: "tracker warning: busy", fatal: false }, ctx).text,
      /warning \(busy\)/,
    );
    assert.match(
      describeError({ kind: "network", message: "hls.js networkError: manifestLoadError", fatal: true }, ctx).text,
      /could not be loaded.*CORS/,
    );
    assert.match(
      describeError({ kind: "network", message: "hls.js networkError: fragLoadError", fatal: false }, ctx).text,
      /failed; retrying/,
    );
    assert.match(describeError({ kind: "media", message: "bufferStalledError", fatal: false }, ctx).text, /recovered/);
    assert.match(describeError({ kind: "integrity", message: "bad hash", fatal: false }, ctx).text, /SHA-256/);
    assert.match(
      describeError({ kind: "peer", message: "WebRTC is not available in this browser", fatal: false }, ctx).text,
      /no WebRTC/,
    );
    assert.match(
      describeError({ kind: "other", message: "Swarmcast: odd", fatal: true }, ctx).text,
      /Player problem: odd/,
    );
    assert.equal(describeError({ kind: "other", message: "x", fatal: true }, ctx).severity, "error");
  });

  test("repeats collapse, newest first, bounded", () => {
    const log = new ProblemLog(3);
    log.add({ key: "a", text: "A", severity: "warning" }, 1);
    log.add({ key: "b", text: "B", severity: "warning" }, 2);
    log.add({ key: "a", text: "A again", severity: "warning" }, 3);
    assert.deepEqual(
      log.list().map((p) => [p.key, p.count, p.text]),
      [
        ["a", 2, "A again"],
        ["b", 1, "B"],
      ],
    );
    log.add({ key: "c", text: "C", severity: "info" }, 4);
    log.add({ key: "d", text: "D", severity: "info" }, 5);
    assert.deepEqual(
      log.list().map((p) => p.key),
      ["d", "c", "a"],
    );
    assert.equal(log.list()[2].firstAt, 1);
  });
});

describe("trackerView", () => {
  const base = { p2pEnabled: true, probe: "pending" as const, peers: 0, msSinceError: null };
  test("states", () => {
    assert.equal(trackerView(base).text, "connecting…");
    assert.deepEqual(trackerView({ ...base, probe: "reachable" }), {
      text: "connected",
      detail: "waiting for other viewers",
      tone: "ok",
    });
    assert.equal(trackerView({ ...base, peers: 2 }).detail, "introduced 2 peers");
    assert.equal(trackerView({ ...base, probe: "unreachable" }).tone, "bad");
    assert.equal(trackerView({ ...base, msSinceError: 1000 }).text, "unreachable");
    assert.equal(trackerView({ ...base, probe: "reachable", msSinceError: 1000 }).text, "reconnecting…");
    assert.equal(
      trackerView({ ...base, probe: "reachable", msSinceError: TRACKER_ERROR_MEMORY_MS + 1 }).text,
      "connected",
    );
    assert.equal(trackerView({ ...base, p2pEnabled: false, peers: 3 }).text, "not used");
  });
});
