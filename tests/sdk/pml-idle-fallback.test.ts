// A request of a player that ran dry, which PML does not work on, is fetched from the CDN: the
// engine build (real PML, patched as shipped) over the real origin and tracker, WebRTC from
// @roamhq/wrtc, no peers. The player is stalled with its next segment far ahead of its frozen
// playhead (what a long stall leaves behind); PML counts urgency from the playhead, so it starts
// nothing for that segment while no peer holds it, and unwatched the request never settles.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startTracker, type RunningTracker } from "../../tracker/src/index";
import { ENGINE_BUILD } from "../../bench/audience/viewer-build";
import { parseMediaPlaylist } from "../../bench/audience/hls-playlist";
import type { LivePlayer, LivePlayerEventMap, PlaylistEvent } from "../../sdk/src/engine-entry";

type EngineModule = typeof import("../../sdk/src/engine-entry");

describe("a request PML stopped working on", () => {
  let origin: Origin;
  let tracker: RunningTracker;
  before(async () => {
    const wrtc = createRequire(import.meta.url)("@roamhq/wrtc") as Record<string, unknown>;
    for (const name of ["RTCPeerConnection", "RTCSessionDescription", "RTCIceCandidate"]) {
      (globalThis as Record<string, unknown>)[name] ??= wrtc[name];
    }
    [origin, tracker] = await Promise.all([
      startOrigin(),
      startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent" }),
    ]);
  });
  after(async () => {
    await Promise.all([origin?.close(), tracker?.close()]);
  });

  it("is taken back from PML and fetched from the CDN", { timeout: 30_000 }, async () => {
    const { createLiveEngine } = (await import(pathToFileURL(ENGINE_BUILD).href)) as EngineModule;
    const url = origin.liveUrl("idle");
    const playlist = parseMediaPlaylist(await (await fetch(url)).text(), url);
    const zero = playlist.segments[0].programDateMs;
    const segments = playlist.segments.map((s) => ({
      sn: s.sn,
      url: s.url,
      start: (s.programDateMs - zero) / 1000,
      duration: s.duration,
      byteRange: s.byteRange,
      tagList: s.tagList,
    }));
    const listeners = new Map<string, Set<(payload: never) => void>>();
    // Stalled at the start of the window (run dry): the live edge is far ahead, not urgent to PML.
    const player: LivePlayer = {
      playhead: () => ({ time: 0, rate: 1 }),
      loadingLevel: () => 0,
      bufferAhead: () => 0,
      on<K extends keyof LivePlayerEventMap>(event: K, fn: (payload: LivePlayerEventMap[K]) => void) {
        const set = listeners.get(event) ?? new Set();
        listeners.set(event, set);
        set.add(fn);
        return () => set.delete(fn);
      },
    };
    const engine = createLiveEngine({
      trackers: [tracker.url],
      iceServers: [],
      swarmId: `idle-${Date.now()}`,
      liveEdge: { enabled: false },
    });
    try {
      assert.ok(engine.core, "P2P is on");
      engine.setManifest(url, [{ url, bitrate: 0 }]);
      engine.bindPlayer(player);
      const event: PlaylistEvent = { streamType: "main", level: 0, details: { url, live: true, segments } };
      for (const name of ["playlist-loaded", "playlist-updated"])
        for (const fn of listeners.get(name) ?? []) (fn as (e: PlaylistEvent) => void)(event);

      // PML puts its playhead on the first segment it is asked for; the feeder then moves it to the player's.
      await engine.loadSegment(segments[0]);
      await new Promise((r) => setTimeout(r, 600));
      const edge = segments[segments.length - 1];
      assert.ok(edge.start > 4, `the requested segment starts ${edge.start} s ahead of the playhead`);
      const pmlStarts: string[] = [];
      engine.core.addEventListener("onSegmentStart", (d) => pmlStarts.push(`${d.segment.url} ${d.downloadSource}`));
      const started = performance.now();
      const loaded = await engine.loadSegment(edge);
      const tookMs = performance.now() - started;
      console.log(
        `# fetched from the CDN ${Math.round(tookMs)} ms after the request; PML started: ${pmlStarts.join(", ") || "nothing"}`,
      );
      assert.ok(loaded.data.byteLength > 10_000, `${loaded.data.byteLength} B`);
      assert.deepEqual(pmlStarts, [], "PML loaded it: the case was not made");
      assert.ok(engine.stats().httpBytes >= loaded.data.byteLength, "counted as CDN bytes");
    } finally {
      engine.destroy();
    }
  });
});
