import type { CoreEventMap, PeerDetails, SegmentStartDetails } from "p2p-media-loader-core";
import type { LivePlayer, PlaylistEvent, PlaylistSegment } from "./live-player";
import { LiveSegmentStore, type LiveSegmentStoreOptions, type SegmentStoreUsage } from "./segment-store";
import { edgeFetchDelaySec, playerNeedsSegment, secondsUntilUrgent, type EdgeTimingConfig } from "./edge-timing";
import { UrgentWindow, type UrgentWindowOptions } from "./urgent-window";
import { GivenUpHolders, setGivenUpHolders } from "../peers/given-up-holders";
import { setHttpFallback } from "../peers/http-fallback";
import type { SegmentOutcome } from "./adaptive-latency";
import { PeerRelay } from "./peer-relay";

export interface LiveEdgeConfig extends EdgeTimingConfig, LiveSegmentStoreOptions {
  /** Whether viewers fetch new live segments from the CDN themselves (see {@link LiveEdgeFetcher}). */
  enabled: boolean;
  /** A CDN fetch of one segment that takes longer than this is abandoned (PML takes over). */
  fetchTimeoutMs: number;
  /**
   * A CDN fetch with no response after this long is abandoned: the segment was announced as held
   * when the fetch started, and peers wait on this viewer while its CDN edge hangs.
   */
  responseTimeoutMs: number;
  /** How often held requests re-check the playhead, ms. */
  holdTickMs: number;
  /**
   * After PML failed a segment over HTTP, how long the player's request waits for a peer's
   * copy to reach the store before the failure goes to the player, ms.
   */
  peerFallbackWaitMs: number;
  /** How soon after such a failure PML must have started loading the segment from a peer, ms. */
  peerStartWaitMs: number;
  /** How the urgent window follows the CDN's fetch times (`urgent-window.ts`). */
  urgentWindow: Omit<UrgentWindowOptions, "baseSec">;
  /**
   * A peer attempt that failed (the holder refused: its uplink is taken) before the segment is
   * urgent draws the early fetch again, so a second seed comes from the viewers left waiting.
   */
  redrawOnPeerFailure: boolean;
  /** After a failed request to the CDN (and none succeeded since), no early fetch for this long, ms. */
  cdnFailurePauseMs: number;
  /** Relay new segments pulled from peers when the uplink sends this many copies in time (`peer-relay.ts`); 0: never. */
  relayMinCopies: number;
}

/** What the edge fetcher did, for `stats().liveEdge`. */
export interface LiveEdgeStats {
  /** Early CDN fetches of new live segments this viewer made (it seeded them). */
  seeded: number;
  /** Draws reopened after a failed peer attempt, and of those, the ones that ended in a fetch of this viewer's. */
  redraws: number;
  redrawSeeded: number;
  /** New segments announced while being pulled from a peer, and of those, the ones withdrawn (the pull failed). */
  relayed: number;
  relayWithdrawn: number;
}

interface EdgeTask {
  url: string;
  sn: number;
  level: number;
  start: number;
  end: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The draw was reopened after a failed peer attempt. */
  redrawn: boolean;
  /** How this viewer obtained the segment, once it has. */
  outcome: SegmentOutcome | undefined;
}

/** A player's request for a segment, waiting for the edge fetch of it. */
export interface Hold {
  url: string;
  release: () => void;
}

export interface LiveEdgeHooks {
  /** Bytes of a segment this viewer fetched from the CDN itself. */
  onHttpSegment(url: string, bytes: number): void;
  /** A fetch of this viewer's to the CDN failed (error status, network error, no answer in time). */
  onHttpFailure(url: string, reason: string): void;
  /** Whether P2P is on for the main stream now (integrity can switch it off). */
  p2pActive(): boolean;
  /**
   * How many copies of a segment lasting `durationSec` this viewer could send to peers in time
   * (0: it serves nobody now; undefined: not measured yet).
   */
  serveCopies(durationSec: number): number | undefined;
  /** The urgent window changed to `seconds` (PML's `highDemandTimeWindow` must follow). */
  onUrgentWindow(seconds: number): void;
  /** A CDN fetch of this viewer's starts: uploads to peers may wait for it; returns the release. */
  holdUplink?(): () => void;
  /**
   * This viewer's CDN is failing: its last request failed, within `cdnFailurePauseMs`, and none
   * succeeded since. It fetches nothing early meanwhile (an announcement it would withdraw at
   * once sends its peers elsewhere late); the player's own requests, which PML still tries over
   * HTTP, tell when the CDN is back, and after the pause an early fetch tries it again.
   */
  cdnFailing?(withinMs: number): boolean;
  /**
   * How this viewer obtained a new live segment lasting `durationSec` (one call per segment the
   * fetcher watched): from a peer, as the first early fetch (a seed), or late, from the CDN after
   * the swarm could not deliver it in time (PML's urgent fetch, or a seed drawn again after a
   * holder refused). `adaptive-latency.ts` reads it.
   */
  onSegmentOutcome?(outcome: SegmentOutcome, durationSec: number): void;
}

/**
 * Makes sure somebody in the swarm fetches each new live segment early, and only one viewer
 * (most of the time).
 *
 * PML only takes a segment from peers if one has announced it before it turns urgent, and its
 * own "random HTTP" fetches come too late for a live edge. Here each viewer, when its playlist
 * shows a new segment, waits a random delay (spread over the time before the segment turns
 * urgent, see `edge-timing.ts`) and, unless PML has meanwhile started loading the segment (from a
 * peer who announced it), fetches it from the CDN and puts it into PML's store, announced as
 * held from the moment the fetch starts. The others' PML see the announcement and pull it over
 * WebRTC. The player's own request for that segment is held back until the store has it (or until
 * it turns urgent, when PML's usual logic takes over), so PML never races the fetch with one of its
 * own: the player's loader asks {@link holdFor}, waits through {@link addHold}, and reports the
 * request it passed to PML with {@link markPassed} (`src/hlsjs/held-fragment-loader.ts` for hls.js).
 */
export class LiveEdgeFetcher {
  private store: LiveSegmentStore | undefined;
  private player: LivePlayer | null = null;
  private readonly unsubscribePlayer: (() => void)[] = [];
  private readonly tasks = new Map<string, EdgeTask>();
  private readonly holds = new Set<Hold>();
  /** Segments PML has started loading (it needs no edge fetch), by URL: the latest start's source and time. */
  private readonly pmlLoading = new Map<string, { source: "http" | "p2p"; at: number }>();
  private readonly urgent: UrgentWindow;
  /** Segments the player has asked PML for: PML owns them, an edge fetch would leave its request waiting. */
  private readonly passedToPml = new Set<string>();
  private lastSn = -1;
  private streamLevel: number | undefined;
  private holdTimer: ReturnType<typeof setInterval> | undefined;
  private readonly aborts = new Set<AbortController>();
  private destroyed = false;
  private unsubscribeStore: (() => void) | undefined;
  private readonly peers = new Set<string>();
  private paused = false;
  private readonly counts = { seeded: 0, redraws: 0, redrawSeeded: 0 };
  /** Announces new segments this viewer pulls from peers while they arrive. */
  readonly relay: PeerRelay;
  /** Holders PML passes over for a segment they just failed to send (its listeners: the session's). */
  readonly givenUpHolders = new GivenUpHolders();

  constructor(
    private readonly config: LiveEdgeConfig,
    highDemandSec: number,
    private readonly hooks: LiveEdgeHooks,
  ) {
    this.urgent = new UrgentWindow({ ...config.urgentWindow, baseSec: highDemandSec });
    this.relay = new PeerRelay(
      { minCopies: config.relayMinCopies },
      {
        store: () => (this.destroyed ? undefined : this.store),
        segmentAt: (url) => {
          const task = this.tasks.get(url);
          return task && task.level === this.streamLevel
            ? { sn: task.sn, start: task.start, end: task.end }
            : undefined;
        },
        serveCopies: (durationSec) => this.hooks.serveCopies(durationSec),
      },
    );
  }

  /** Seconds ahead of the playhead at which a segment turns urgent (see {@link UrgentWindow}). */
  get highDemandSec(): number {
    return this.urgent.seconds;
  }

  /** An HTTP fetch of a segment, by this fetcher or by PML, took `seconds`. */
  private noteHttpFetch(seconds: number): void {
    const changed = this.urgent.noteHttpFetch(seconds);
    if (changed !== undefined && !this.destroyed) this.hooks.onUrgentWindow(changed);
  }

  /** PML's `customSegmentStorageFactory`: a fresh store each time PML (re)creates its storage. */
  readonly createStore = (): LiveSegmentStore => {
    this.unsubscribeStore?.();
    const { keepBehindSec, limitMiB, relayReadWaitMs, relayExpiryMs } = this.config;
    const store = new LiveSegmentStore({ keepBehindSec, limitMiB, relayReadWaitMs, relayExpiryMs });
    const original = store.onSegmentRequested.bind(store);
    store.onSegmentRequested = (swarmId, streamId, segmentId, s, e, streamType) => {
      original(swarmId, streamId, segmentId, s, e, streamType);
      if (streamType === "main" && this.streamLevel === undefined && this.player)
        this.streamLevel = this.player.loadingLevel();
    };
    this.unsubscribeStore = store.onStored(() => this.checkHolds());
    setGivenUpHolders(store, this.givenUpHolders);
    setHttpFallback(store, () => ({
      seconds: this.urgent.fallbackSec(),
      // However long ago the last failure was: while peers carry a viewer whose CDN fails, it asks
      // the CDN only when a peer transfer is given up, so its failures grow sparse as the outage
      // goes on, and a transfer given up for a fetch that fails is asked for again from a holder,
      // behind whatever that holder is sending by then.
      failing: this.hooks.cdnFailing?.(Infinity) ?? false,
      failedLately: this.hooks.cdnFailing?.(this.config.cdnFailurePauseMs) ?? false,
    }));
    this.store = store;
    return store;
  };

  /** What the store PML uses now holds; null before PML created it. */
  storeUsage(): SegmentStoreUsage | null {
    return this.store?.usage() ?? null;
  }

  /** PML's `onSegmentStart`: a segment PML is loading (from a peer or the CDN) needs no edge fetch. */
  readonly onSegmentStart = ({ segment, downloadSource }: SegmentStartDetails): void => {
    this.pmlLoading.set(segment.url, { source: downloadSource, at: Date.now() });
    const task = this.tasks.get(segment.url);
    if (task && task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    if (this.pmlLoading.size > 64) this.pmlLoading.delete(this.pmlLoading.keys().next().value as string);
  };

  /** PML events the fetcher listens to, for `addEventListener`. */
  readonly pmlListeners: Partial<CoreEventMap> = {
    onSegmentStart: (details) => this.onSegmentStart(details),
    onSegmentLoaded: ({ segmentUrl, downloadSource, streamType }) => {
      if (streamType === "main")
        this.noteOutcome(this.tasks.get(segmentUrl), downloadSource === "p2p" ? "peer" : "late");
      const start = this.pmlLoading.get(segmentUrl);
      if (downloadSource !== "http" || streamType !== "main" || start?.source !== "http") return;
      this.noteHttpFetch((Date.now() - start.at) / 1000);
    },
    onSegmentError: ({ segment, downloadSource, streamType }) => {
      if (downloadSource === "p2p" && streamType === "main") this.redraw(segment.url);
    },
    onPeerConnect: ({ peerId, streamType }: PeerDetails) => {
      if (streamType === "main") this.peers.add(peerId);
    },
    onPeerClose: ({ peerId, streamType }: PeerDetails) => {
      if (streamType === "main") this.peers.delete(peerId);
    },
  };

  bindPlayer(player: LivePlayer): void {
    this.player = player;
    this.unsubscribePlayer.push(
      player.on("playlist-updated", this.onPlaylistUpdated),
      player.on("level-switching", this.onLevelSwitching),
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const task of this.tasks.values()) if (task.timer !== undefined) clearTimeout(task.timer);
    this.tasks.clear();
    for (const abort of this.aborts) abort.abort();
    this.aborts.clear();
    if (this.holdTimer !== undefined) clearInterval(this.holdTimer);
    this.holds.clear();
    this.unsubscribeStore?.();
    for (const unsubscribe of this.unsubscribePlayer.splice(0)) unsubscribe();
    this.player = null;
  }

  /**
   * Paused: no early CDN fetches, and the player's requests go to PML at once (while this viewer's
   * own playback struggles, see `health/playback-health.ts`).
   */
  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (!paused) return;
    for (const task of this.tasks.values()) {
      if (task.timer !== undefined) clearTimeout(task.timer);
      task.timer = undefined;
    }
    this.checkHolds();
  }

  private readonly onLevelSwitching = (): void => {
    this.streamLevel = undefined;
  };

  private readonly onPlaylistUpdated = ({ details, level }: PlaylistEvent): void => {
    if (!details.live || this.destroyed) return;
    const fragments = details.segments;
    const newest = fragments.length > 0 ? (fragments[fragments.length - 1].sn as number) : -1;
    const first = this.lastSn < 0;
    if (first || level !== this.streamLevel || !this.config.enabled || this.paused || !this.hooks.p2pActive()) {
      this.lastSn = Math.max(this.lastSn, newest);
      return;
    }
    for (const frag of fragments) {
      if (typeof frag.sn !== "number" || frag.sn <= this.lastSn) continue;
      this.schedule(frag, level);
    }
    this.lastSn = Math.max(this.lastSn, newest);
    this.prune(fragments[0]?.sn as number | undefined);
  };

  private playhead(): { time: number; rate: number } | undefined {
    return this.player?.playhead();
  }

  private schedule(frag: PlaylistSegment, level: number): void {
    if (frag.byteRange.length > 0 || this.tasks.has(frag.url)) return;
    const task: EdgeTask = {
      url: frag.url,
      sn: frag.sn as number,
      level,
      start: frag.start,
      end: frag.start + frag.duration,
      timer: undefined,
      redrawn: false,
      outcome: undefined,
    };
    if (this.timeToUrgent(task) <= 0) return;
    this.tasks.set(frag.url, task);
    if (this.pmlLoading.has(frag.url)) return;
    this.draw(task);
  }

  private timeToUrgent(task: EdgeTask): number {
    const at = this.playhead();
    return at ? secondsUntilUrgent(task.start, at.time, this.highDemandSec, at.rate) : 0;
  }

  /** Arms the task's early fetch after a delay drawn for this viewer (`edge-timing.ts`). */
  private draw(task: EdgeTask): void {
    const delaySec = edgeFetchDelaySec(
      this.timeToUrgent(task),
      this.peers.size,
      Math.random(),
      this.config,
      this.hooks.serveCopies(task.end - task.start),
    );
    task.timer = setTimeout(() => {
      task.timer = undefined;
      void this.fetchIfNobodyHas(task);
    }, delaySec * 1000);
  }

  /**
   * A peer attempt at `url` failed: its holder refused (its uplink is taken) or went. Other
   * viewers waiting on that holder fail too, and the segment would reach them only over HTTP
   * when it turns urgent, each for itself. Unless PML starts it from another holder meanwhile,
   * the early fetch is drawn again among them: the first whose delay ends fetches it and becomes
   * a second seed.
   */
  private redraw(url: string): void {
    const task = this.tasks.get(url);
    if (!this.config.redrawOnPeerFailure || !task || task.timer !== undefined || this.destroyed || this.paused) return;
    if (this.passedToPml.has(url) || this.streamLevel !== task.level || !this.hooks.p2pActive()) return;
    const ids = this.store?.lastIds.get("main");
    if (!ids || this.store?.hasSegment(ids.swarmId, ids.streamId, task.sn)) return;
    if (this.timeToUrgent(task) <= 0) return;
    this.pmlLoading.delete(url);
    task.redrawn = true;
    this.counts.redraws++;
    this.draw(task);
  }

  private noteOutcome(task: EdgeTask | undefined, outcome: SegmentOutcome): void {
    if (!task || task.outcome !== undefined || this.destroyed) return;
    task.outcome = outcome;
    // Without peers the CDN is the only source, never a sign of a swarm short of time.
    if (outcome === "late" && this.peers.size === 0) return;
    this.hooks.onSegmentOutcome?.(outcome, task.end - task.start);
  }

  stats(): LiveEdgeStats {
    return { ...this.counts, ...this.relay.stats() };
  }

  private async fetchIfNobodyHas(task: EdgeTask): Promise<void> {
    const store = this.store;
    const ids = store?.lastIds.get("main");
    if (this.destroyed || !store || !ids || this.streamLevel !== task.level) return;
    if (
      this.pmlLoading.has(task.url) ||
      this.passedToPml.has(task.url) ||
      this.hooks.cdnFailing?.(this.config.cdnFailurePauseMs)
    )
      return;
    if (store.hasSegment(ids.swarmId, ids.streamId, task.sn) || !store.roomForAnother()) return;
    this.counts.seeded++;
    if (task.redrawn) this.counts.redrawSeeded++;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timeout = setTimeout(() => abort.abort(), this.config.fetchTimeoutMs);
    const noResponse = setTimeout(() => abort.abort(), this.config.responseTimeoutMs);
    const startedAt = Date.now();
    const releaseUplink = this.hooks.holdUplink?.();
    const fetching = fetch(task.url, { signal: abort.signal, credentials: "same-origin" }).then(async (response) => {
      clearTimeout(noResponse);
      if (!response.ok) {
        if (!this.destroyed) this.hooks.onHttpFailure(task.url, `HTTP ${response.status}`);
        return undefined;
      }
      return await response.arrayBuffer();
    });
    if (releaseUplink) fetching.then(releaseUplink, releaseUplink);
    const counted = fetching.then(
      (data) => {
        if (data && data.byteLength > 0 && !this.destroyed) {
          this.hooks.onHttpSegment(task.url, data.byteLength);
          this.noteHttpFetch((Date.now() - startedAt) / 1000);
          this.noteOutcome(task, task.redrawn ? "late" : "seed");
        }
        return data;
      },
      (error: unknown) => {
        // Aborted by destroy() is no CDN failure; aborted by a timeout is one.
        if (!this.destroyed)
          this.hooks.onHttpFailure(
            task.url,
            abort.signal.aborted ? "no answer in time" : error instanceof Error ? error.message : String(error),
          );
        return undefined;
      },
    );
    try {
      await store.storeWhenFetched(ids.streamId, task.sn, task.start, task.end, counted);
    } finally {
      clearTimeout(timeout);
      clearTimeout(noResponse);
      this.aborts.delete(abort);
      this.checkHolds();
    }
  }

  /** The player's request for `url` went to PML: PML owns the segment now. */
  markPassed(url: string): void {
    this.passedToPml.add(url);
    if (this.passedToPml.size > 64) this.passedToPml.delete(this.passedToPml.values().next().value as string);
  }

  /** A promise-free check: whether the player's request for `url` should wait for an edge fetch. */
  holdFor(url: string): boolean {
    const task = this.tasks.get(url);
    if (!task || this.destroyed) return false;
    if (this.ready(task)) return false;
    return true;
  }

  /**
   * Whether the player's request for the task's segment can go to PML now: the segment is in
   * the store, or urgent, or the player has run dry. The last matters when the playhead cannot
   * reach the urgent moment: a player stalled long enough for its next segment to leave the
   * live window asks for one far ahead of a playhead that no longer moves.
   */
  private ready(task: EdgeTask): boolean {
    if (this.paused) return true;
    const store = this.store;
    const ids = store?.lastIds.get("main");
    if (store && ids && store.hasData(ids.streamId, task.sn)) return true;
    return playerNeedsSegment(this.player, task.start, this.highDemandSec);
  }

  /**
   * Resolves true once segment `sn` (at `url`) of the main stream is in the store; false at
   * once without peers, after {@link LiveEdgeConfig.peerStartWaitMs} if PML has not started
   * loading it from a peer, and after {@link LiveEdgeConfig.peerFallbackWaitMs} in any case.
   * For a load PML failed: PML gives an urgent segment three HTTP attempts and rejects the
   * player's request, then (attempts spent) loads it from a peer that has it, in the
   * background. hls.js would ask again only after its retry delay, which doubles up to 8 s; a
   * viewer whose CDN edge fails stalls on that delay with the segment already in hand. When the
   * whole CDN is down nobody has it, and the player's own retry must not wait.
   */
  whenStored(url: string, sn: number): Promise<boolean> {
    const store = this.store;
    const ids = store?.lastIds.get("main");
    if (!store || !ids || this.destroyed || this.peers.size === 0) return Promise.resolve(false);
    if (store.hasData(ids.streamId, sn)) return Promise.resolve(true);
    const failedAt = Date.now();
    return new Promise((resolve) => {
      const finish = (stored: boolean): void => {
        clearTimeout(giveUp);
        clearTimeout(checkPeerLoad);
        unsubscribe();
        resolve(stored);
      };
      const giveUp = setTimeout(() => finish(false), this.config.peerFallbackWaitMs);
      const checkPeerLoad = setTimeout(() => {
        const start = this.pmlLoading.get(url);
        if (start?.source !== "p2p" || start.at < failedAt) finish(false);
      }, this.config.peerStartWaitMs);
      const unsubscribe = store.onStored((streamId, segmentId) => {
        if (streamId === ids.streamId && segmentId === sn) finish(true);
      });
    });
  }

  /** Keeps `hold` until its segment is ready for PML, then calls its `release`. */
  addHold(hold: Hold): void {
    this.holds.add(hold);
    this.holdTimer ??= setInterval(() => this.checkHolds(), this.config.holdTickMs);
  }

  /** Drops a waiting request without releasing it (the player aborted it). */
  removeHold(hold: Hold): void {
    this.holds.delete(hold);
    if (this.holds.size === 0 && this.holdTimer !== undefined) {
      clearInterval(this.holdTimer);
      this.holdTimer = undefined;
    }
  }

  private checkHolds(): void {
    for (const hold of [...this.holds]) {
      const task = this.tasks.get(hold.url);
      if (this.destroyed || !task || this.ready(task)) {
        this.removeHold(hold);
        hold.release();
      }
    }
  }

  /** Forgets tasks of segments that left the playlist. */
  private prune(oldestSn: number | undefined): void {
    if (oldestSn === undefined) return;
    for (const [url, task] of this.tasks) {
      if (task.sn >= oldestSn) continue;
      if (task.timer !== undefined) clearTimeout(task.timer);
      this.tasks.delete(url);
    }
  }
}
