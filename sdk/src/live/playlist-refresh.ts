import { PEER_COMMAND, type PeerCommand } from "../peers/peer-commands";
import type { LivePlayer, PlaylistEvent } from "./live-player";

export interface PlaylistRefreshOptions {
  /** No refresh sooner than this after the player's last load of the playlist, ms. */
  minAfterLoadMs: number;
  /** No refresh sooner than this after the last one, ms. */
  minIntervalMs: number;
  /** Announced segments at most this many past the newest one listed count: a peer cannot make this viewer poll by announcing far ahead. */
  maxAhead: number;
}

export interface PlaylistRefreshStats {
  /** Playlist reloads asked for because a peer announced a segment the playlist did not list yet. */
  refreshes: number;
}

/**
 * Reloads the live playlist as soon as a peer announces a segment the player's copy does not
 * list yet. A player reloads a live playlist once per target duration on a phase set when it
 * started, so it learns of a new segment 0 to 1 target duration after publication — and the
 * viewers whose phase falls late learn of every segment last, when the swarm has the least
 * time left to bring it to them before it turns urgent. A viewer that fetched the segment
 * early announces it to its peers the moment its fetch starts, so each of them can list the
 * segment within a round trip and a playlist load, and start pulling it.
 *
 * Segment ids in announcements are media sequence numbers on live streams (the SDK's and PML's
 * hls.js integration alike), comparable with the player's playlist.
 */
export class PlaylistRefresh {
  private newestListed: number | undefined;
  private loadedAt = -Infinity;
  private refreshedAt = -Infinity;
  private refreshes = 0;
  private player: LivePlayer | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly options: PlaylistRefreshOptions,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  bindPlayer(player: LivePlayer): void {
    this.unbind();
    if (!player.refreshPlaylist) return;
    this.player = player;
    this.unsubscribe = player.on("playlist-loaded", this.onPlaylistLoaded);
  }

  unbind(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.player = undefined;
  }

  /** A command arrived from a peer (the peer connection guard's `onPeerCommand`). */
  readonly onPeerCommand = (_channel: RTCDataChannel, command: PeerCommand): void => {
    if (command.type !== PEER_COMMAND.segmentsAnnouncement) return;
    const listed = this.newestListed;
    const player = this.player;
    if (listed === undefined || !player?.refreshPlaylist) return;
    const { minAfterLoadMs, minIntervalMs, maxAhead } = this.options;
    const unlisted = (id: number) => id > listed && id <= listed + maxAhead;
    if (!command.arrays.l?.some(unlisted) && !command.arrays.p?.some(unlisted)) return;
    const now = this.clock();
    if (now - this.loadedAt < minAfterLoadMs || now - this.refreshedAt < minIntervalMs) return;
    this.refreshedAt = now;
    this.refreshes++;
    player.refreshPlaylist();
  };

  stats(): PlaylistRefreshStats {
    return { refreshes: this.refreshes };
  }

  private readonly onPlaylistLoaded = ({ streamType, level, details }: PlaylistEvent): void => {
    if (streamType !== "main" || level !== this.player?.loadingLevel()) return;
    this.loadedAt = this.clock();
    const last = details.segments.at(-1);
    const sn = Number(last?.sn);
    this.newestListed = details.live && Number.isFinite(sn) ? sn : undefined;
  };
}
