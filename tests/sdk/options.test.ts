import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config";
import {
  mergeCoreConfig,
  mergeHlsConfig,
  resolveOptions,
  SwarmcastOptionError,
  withToken,
} from "../../sdk/src/options";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";

const TRACKER = "ws://127.0.0.1:8000";
const attachOpts = (extra: Record<string, unknown> = {}) => ({
  src: "https://cdn.example/live.m3u8",
  trackers: [TRACKER],
  ...extra,
});
const resolve = (input: unknown) => resolveOptions(input, { requireSrc: true });

/** Asserts a SwarmcastOptionError naming `option` whose message matches `pattern`. */
function throwsOption(fn: () => unknown, option: string, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SwarmcastOptionError, `expected SwarmcastOptionError, got ${String(err)}`);
    assert.equal(err.option, option);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("option validation", () => {
  it("rejects a non-object", () => {
    throwsOption(() => resolve(undefined), "options", /options must be an object, got undefined/);
    throwsOption(() => resolve("x"), "options", /got "x"/);
  });

  it("requires src and says what it expects", () => {
    throwsOption(
      () => resolve({ trackers: [TRACKER] }),
      "src",
      /"src" is required: the URL of an HLS playlist.*got undefined/,
    );
    throwsOption(() => resolve(attachOpts({ src: "  " })), "src", /"src" is required/);
    throwsOption(() => resolve(attachOpts({ src: 42 })), "src", /got number 42/);
  });

  it("does not require src for an engine and points src users to attach()", () => {
    assert.equal(resolveOptions({ trackers: [TRACKER] }, { requireSrc: false }).src, undefined);
    throwsOption(
      () => resolveOptions(attachOpts(), { requireSrc: false }),
      "src",
      /unknown option "src" \(src belongs to attach\(\)\)/,
    );
  });

  it("requires trackers when P2P is on, not when it is off", () => {
    throwsOption(
      () => resolve({ src: "a.m3u8" }),
      "trackers",
      /"trackers" is required: one or more ws:\/\/ or wss:\/\/ tracker URLs/,
    );
    throwsOption(() => resolve(attachOpts({ trackers: [] })), "trackers", /non-empty array/);
    assert.deepEqual(resolve({ src: "a.m3u8", p2p: false }).trackers, []);
  });

  it("rejects tracker URLs that are not ws:// or wss://, naming the index", () => {
    throwsOption(
      () => resolve(attachOpts({ trackers: [TRACKER, "http://t.example/announce"] })),
      "trackers",
      /"trackers\[1\]" must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/t.example\/announce" \(protocol http:\)/,
    );
    throwsOption(() => resolve(attachOpts({ trackers: ["not a url"] })), "trackers", /"trackers\[0\]".*\(not a URL\)/);
    throwsOption(() => resolve(attachOpts({ trackers: [7] })), "trackers", /"trackers\[0\]".*got number 7/);
  });

  it("accepts a single tracker string and both schemes", () => {
    assert.deepEqual(resolve(attachOpts({ trackers: "wss://t.example" })).trackers, ["wss://t.example"]);
    assert.deepEqual(resolve(attachOpts({ trackers: [TRACKER, "wss://t.example/x"] })).trackers, [
      TRACKER,
      "wss://t.example/x",
    ]);
  });

  it("names every unknown option", () => {
    throwsOption(
      () => resolve(attachOpts({ tracker: TRACKER, swarm: "x" })),
      "tracker",
      /unknown options "tracker", "swarm"; known options: src, trackers, swarmId/,
    );
  });

  it("checks types of the other options", () => {
    throwsOption(() => resolve(attachOpts({ p2p: "off" })), "p2p", /"p2p" must be true or false, got "off"/);
    throwsOption(() => resolve(attachOpts({ token: "" })), "token", /"token" must be a non-empty string/);
    throwsOption(
      () => resolve(attachOpts({ peerChoice: 1 })),
      "peerChoice",
      /"peerChoice" must be true or false, got number 1/,
    );
    throwsOption(() => resolve(attachOpts({ swarmId: 3 })), "swarmId", /"swarmId" must be a non-empty string/);
    throwsOption(() => resolve(attachOpts({ iceServers: "stun:x" })), "iceServers", /must be an array of RTCIceServer/);
    throwsOption(
      () => resolve(attachOpts({ iceServers: [{ url: "stun:x" }] })),
      "iceServers",
      /"iceServers\[0\]" must be an object with "urls"/,
    );
    throwsOption(() => resolve(attachOpts({ statsIntervalMs: -1 })), "statsIntervalMs", /≥ 0, got number -1/);
    throwsOption(() => resolve(attachOpts({ rateWindowMs: 0 })), "rateWindowMs", /≥ 1/);
    throwsOption(() => resolve(attachOpts({ hls: [] })), "hls", /"hls" must be an hls.js config object, got an array/);
    throwsOption(
      () => resolve(attachOpts({ core: null })),
      "core",
      /"core" must be a PML core config object, got null/,
    );
  });

  it("checks the upload mode, the connection cap and the ICE transport policy, naming each", () => {
    throwsOption(
      () => resolve(attachOpts({ upload: "yes" })),
      "upload",
      /"upload" must be one of "auto", true, false, got "yes"/,
    );
    throwsOption(
      () => resolve(attachOpts({ maxPeerConnections: 0 })),
      "maxPeerConnections",
      /integer ≥ 1, got number 0/,
    );
    throwsOption(() => resolve(attachOpts({ maxPeerConnections: 2.5 })), "maxPeerConnections", /integer ≥ 1/);
    throwsOption(
      () => resolve(attachOpts({ iceTransportPolicy: "none" })),
      "iceTransportPolicy",
      /one of "all", "relay", got "none"/,
    );
    const r = resolve(attachOpts({ iceTransportPolicy: "relay", maxPeerConnections: 5, upload: false }));
    assert.deepEqual(r.coreConfig.rtcConfig, {
      iceServers: DEFAULT_SWARMCAST_CONFIG.iceServers,
      iceTransportPolicy: "relay",
    });
    assert.equal(r.maxPeerConnections, 5);
    assert.equal(r.upload, false);
    assert.equal(resolve(attachOpts()).upload, "auto");
    assert.equal(resolve(attachOpts()).maxPeerConnections, 20);
  });

  it("checks the tracker reconnect schedule field by field, merged over the defaults", () => {
    throwsOption(
      () => resolve(attachOpts({ trackerReconnect: 2000 })),
      "trackerReconnect",
      /must be an object like \{ minDelayMs, maxDelayMs \}, got number 2000/,
    );
    throwsOption(
      () => resolve(attachOpts({ trackerReconnect: { minDelay: 1 } })),
      "trackerReconnect",
      /unknown field "minDelay"; known fields: minDelayMs, maxDelayMs/,
    );
    throwsOption(
      () => resolve(attachOpts({ trackerReconnect: { minDelayMs: 0 } })),
      "trackerReconnect",
      /"trackerReconnect.minDelayMs" must be a positive number of milliseconds, got number 0/,
    );
    throwsOption(
      () => resolve(attachOpts({ trackerReconnect: { maxDelayMs: 1000 } })),
      "trackerReconnect",
      /"trackerReconnect.maxDelayMs" \(1000\) must not be under minDelayMs \(2000\)/,
    );
    assert.deepEqual(resolve(attachOpts()).trackerReconnect, DEFAULT_SWARMCAST_CONFIG.trackerReconnect);
    assert.deepEqual(resolve(attachOpts({ trackerReconnect: { maxDelayMs: 10_000 } })).trackerReconnect, {
      ...DEFAULT_SWARMCAST_CONFIG.trackerReconnect,
      maxDelayMs: 10_000,
    });
  });

  it("refuses passthrough keys that the SDK owns, pointing to the right option", () => {
    throwsOption(
      () => resolve(attachOpts({ core: { announceTrackers: [TRACKER] } })),
      "core",
      /"core.announceTrackers" cannot be set: use the "trackers" option/,
    );
    throwsOption(() => resolve(attachOpts({ core: { rtcConfig: {} } })), "core", /use the "iceServers" option/);
    throwsOption(() => resolve(attachOpts({ core: { isP2PDisabled: true } })), "core", /use the "p2p" option/);
    throwsOption(() => resolve(attachOpts({ hls: { fLoader: class {} } })), "hls", /"hls.fLoader" cannot be set/);
  });
});

describe("defaults merging", () => {
  it("applies the SDK defaults when nothing is passed", () => {
    const r = resolve(attachOpts());
    assert.equal(r.p2p, true);
    assert.equal(r.peerChoice, false);
    assert.equal(r.statsIntervalMs, DEFAULT_SWARMCAST_CONFIG.statsIntervalMs);
    assert.equal(r.rateWindowMs, DEFAULT_SWARMCAST_CONFIG.rateWindowMs);
    assert.equal(r.hlsConfig.liveSyncDurationCount, DEFAULT_SWARMCAST_CONFIG.hls.liveSyncDurationCount);
    assert.equal(r.coreConfig.highDemandTimeWindow, DEFAULT_SWARMCAST_CONFIG.core.highDemandTimeWindow);
    assert.deepEqual(r.coreConfig.announceTrackers, [TRACKER]);
    assert.deepEqual(r.coreConfig.rtcConfig, {
      iceServers: DEFAULT_SWARMCAST_CONFIG.iceServers,
      iceTransportPolicy: "all",
    });
    assert.equal("swarmId" in r.coreConfig, false, "no swarmId: PML derives it from the playlist URL");
  });

  it("lets hls and core passthrough override the defaults", () => {
    const r = resolve(
      attachOpts({
        hls: { liveSyncDurationCount: 3, maxBufferLength: 12 },
        core: { highDemandTimeWindow: 10, simultaneousP2PDownloads: 5 },
      }),
    );
    assert.equal(r.hlsConfig.liveSyncDurationCount, 3);
    assert.equal(r.hlsConfig.maxBufferLength, 12);
    assert.equal(r.coreConfig.highDemandTimeWindow, 10);
    assert.equal(r.coreConfig.simultaneousP2PDownloads, 5);
  });

  it("maps first-class options into the core config", () => {
    const ice = [{ urls: "stun:stun.example:3478" }];
    const r = resolve(attachOpts({ swarmId: "match-1", iceServers: ice }));
    assert.equal(r.coreConfig.swarmId, "match-1");
    assert.deepEqual(r.coreConfig.rtcConfig, { iceServers: ice, iceTransportPolicy: "all" });
    assert.deepEqual(resolve(attachOpts({ iceServers: [] })).coreConfig.rtcConfig, {
      iceServers: [],
      iceTransportPolicy: "all",
    });
  });

  it("never mutates the defaults or the caller's objects", () => {
    const before = JSON.stringify(DEFAULT_SWARMCAST_CONFIG);
    const hls = { liveSyncDurationCount: 2 };
    const r = resolve(attachOpts({ hls }));
    r.hlsConfig.maxBufferLength = 99;
    (r.coreConfig.rtcConfig!.iceServers as RTCIceServer[]).push({ urls: "stun:x" });
    assert.equal(JSON.stringify(DEFAULT_SWARMCAST_CONFIG), before);
    assert.deepEqual(hls, { liveSyncDurationCount: 2 });
  });

  it("drops the SDK's live sync in segments when the user sets it in seconds", () => {
    const seconds = resolve(attachOpts({ hls: { liveSyncDuration: 8 } })).hlsConfig;
    assert.equal(seconds.liveSyncDuration, 8);
    assert.equal("liveSyncDurationCount" in seconds, false, "hls.js throws on a config with both");
    assert.deepEqual(
      mergeHlsConfig(
        { liveSyncDurationCount: 5, liveMaxLatencyDurationCount: 9, maxBufferLength: 4 },
        { liveMaxLatencyDuration: 30 },
      ),
      { maxBufferLength: 4, liveMaxLatencyDuration: 30 },
    );
    assert.equal(resolve(attachOpts({ hls: { liveSyncDurationCount: 2 } })).hlsConfig.liveSyncDurationCount, 2);
  });

  it("merges per-stream core objects key by key", () => {
    const merged = mergeCoreConfig(
      { highDemandTimeWindow: 4, mainStream: { p2pDownloadTimeWindow: 60, simultaneousHttpDownloads: 1 } },
      { mainStream: { simultaneousHttpDownloads: 3 }, secondaryStream: { swarmId: "audio" } },
    );
    assert.deepEqual(merged, {
      highDemandTimeWindow: 4,
      mainStream: { p2pDownloadTimeWindow: 60, simultaneousHttpDownloads: 3 },
      secondaryStream: { swarmId: "audio" },
    });
  });
});

describe("tracker token", () => {
  it("is appended to every tracker URL", () => {
    const r = resolve(attachOpts({ trackers: [TRACKER, "wss://t.example/announce?x=1"], token: "a.b c" }));
    assert.equal(TOKEN_QUERY_PARAM, "token");
    assert.deepEqual(r.trackers, [`${TRACKER}/?token=a.b+c`, "wss://t.example/announce?x=1&token=a.b+c"]);
    assert.deepEqual(r.coreConfig.announceTrackers, r.trackers);
    for (const url of r.trackers) assert.equal(new URL(url).searchParams.get(TOKEN_QUERY_PARAM), "a.b c");
  });

  it("replaces a token already in the URL and leaves URLs alone without one", () => {
    assert.equal(withToken("ws://h:1/?token=old", "new"), "ws://h:1/?token=new");
    assert.equal(withToken("ws://h:1", undefined), "ws://h:1");
  });
});
