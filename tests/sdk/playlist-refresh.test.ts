import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LivePlayer, LivePlayerEventMap, PlaylistEvent } from "../../sdk/src/live/live-player";
import { PlaylistRefresh } from "../../sdk/src/live/playlist-refresh";
import { PEER_COMMAND } from "../../sdk/src/peers/peer-commands";

const OPTIONS = { minAfterLoadMs: 500, minIntervalMs: 1000, maxAhead: 3 };

/** The part of a player the refresh uses: its playlist loads, its rendition, and the reload call. */
class PlaylistSource implements LivePlayer {
  refreshes = 0;
  private readonly loaded = new Set<(event: PlaylistEvent) => void>();

  playhead() {
    return undefined;
  }

  loadingLevel() {
    return 1;
  }

  refreshPlaylist(): void {
    this.refreshes++;
  }

  on<K extends keyof LivePlayerEventMap>(event: K, fn: (payload: LivePlayerEventMap[K]) => void): () => void {
    assert.equal(event, "playlist-loaded");
    const listener = fn as (event: PlaylistEvent) => void;
    this.loaded.add(listener);
    return () => this.loaded.delete(listener);
  }

  load(lastSn: number, level = 1, live = true): void {
    const segments = [lastSn - 1, lastSn].map((sn) => ({
      sn,
      url: `https://cdn.example/v${level}/${sn}.ts`,
      start: sn * 2,
      duration: 2,
      byteRange: [],
      tagList: [],
    }));
    for (const fn of this.loaded) fn({ streamType: "main", level, details: { url: "v.m3u8", live, segments } });
  }
}

const channel = {} as RTCDataChannel;
const announce = (l: number[], p: number[] = []) => ({
  type: PEER_COMMAND.segmentsAnnouncement,
  fields: {},
  arrays: { ...(l.length ? { l } : {}), ...(p.length ? { p } : {}) },
});

describe("PlaylistRefresh", () => {
  it("reloads the live playlist when a peer announces a segment it does not list yet", () => {
    let now = 0;
    const refresh = new PlaylistRefresh(OPTIONS, () => now);
    const player = new PlaylistSource();
    refresh.bindPlayer(player);
    refresh.onPeerCommand(channel, announce([100]));
    assert.equal(player.refreshes, 0, "nothing listed yet");
    player.load(100);
    now = 600;
    refresh.onPeerCommand(channel, announce([99, 100]));
    assert.equal(player.refreshes, 0, "listed already");
    refresh.onPeerCommand(channel, announce([100], [101]));
    assert.equal(player.refreshes, 1, "a segment being fetched counts");
    now = 900;
    refresh.onPeerCommand(channel, announce([101]));
    assert.equal(player.refreshes, 1, "at most one refresh a second");
    player.load(101);
    now = 1700;
    refresh.onPeerCommand(channel, announce([102]));
    assert.equal(player.refreshes, 2);
    assert.deepEqual(refresh.stats(), { refreshes: 2 });
  });

  it("ignores announcements far ahead, right after a load, of another rendition, and of a finished stream", () => {
    let now = 0;
    const refresh = new PlaylistRefresh(OPTIONS, () => now);
    const player = new PlaylistSource();
    refresh.bindPlayer(player);
    player.load(100);
    now = 100;
    refresh.onPeerCommand(channel, announce([101]));
    assert.equal(player.refreshes, 0, "the playlist was loaded 100 ms ago");
    now = 600;
    refresh.onPeerCommand(channel, announce([104, 5000]));
    assert.equal(player.refreshes, 0, "more than maxAhead past the newest listed");
    player.load(200, 0);
    now = 1200;
    refresh.onPeerCommand(channel, announce([103]));
    assert.equal(player.refreshes, 1, "a load of another rendition changes nothing");
    player.load(300, 1, false);
    now = 3000;
    refresh.onPeerCommand(channel, announce([301]));
    assert.equal(player.refreshes, 1, "not live");
    refresh.unbind();
  });
});
