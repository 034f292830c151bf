import {
  Core,
  CoreRequestError,
  type CoreConfig,
  type DynamicCoreConfig,
  type SegmentResponse,
} from "p2p-media-loader-core";
import type { SwarmcastEventMap } from "../events";
import type { LivePlayer, PlaylistSegment } from "../live/live-player";
import type { ResolvedOptions } from "../options";
import type { SwarmcastStats } from "../stats/accumulator";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { watchPmlIdle } from "../live/pml-activity";
import { CoreStreamFeeder, fetchSegment, segmentRuntimeId } from "./core-stream-feeder";
import { messageOf } from "./message-of";
import { ensureNavigator } from "./node-runtime";
import { LiveP2PSession, type P2PCoreHandle } from "./session";
import { defaultWireSwarmId } from "./wire-identity";

/** One rendition of the multivariant playlist, as the player parsed it. */
export interface Rendition {
  /** Absolute URL of its media playlist. */
  url: string;
  /** `BANDWIDTH` (peak) in bit/s; 0 for a media playlist played on its own. */
  bitrate: number;
  /** The video codec of `CODECS`, e.g. "avc1.64001f". */
  videoCodec?: string;
  width?: number;
  height?: number;
  frameRate?: string;
  videoRange?: string;
}

export interface LoadedSegment {
  data: ArrayBuffer;
  /** Throughput of the load as PML or the HTTP fetch measured it, bit/s (what hls.js's ABR sees). */
  bandwidthBps: number;
}

/**
 * The SDK's live P2P path without hls.js: PML's `Core` driven by any {@link LivePlayer}. The
 * player tells it the renditions, binds itself, and asks it for every media segment it wants.
 */
export interface LiveEngine {
  readonly p2pEnabled: boolean;
  /** PML's core, or null when P2P is off. */
  readonly core: Core | null;
  /** The renditions of the stream at `manifestUrl`. Call once, before {@link bindPlayer}. */
  setManifest(manifestUrl: string, renditions: Rendition[]): void;
  /** Subscribes to the player's playlists, rendition switches and playhead. */
  bindPlayer(player: LivePlayer): void;
  /** A media segment of the current playlist, from peers or the CDN. */
  loadSegment(segment: PlaylistSegment): Promise<LoadedSegment>;
  stats(): SwarmcastStats;
  on<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): () => void;
  off<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): void;
  destroy(): void;
}

/** How often the playhead is passed to PML (hls.js's media element fires `timeupdate` about this often). */
const PLAYBACK_UPDATE_MS = 250;

export function createLiveEngineFromResolved(resolved: ResolvedOptions): LiveEngine {
  ensureNavigator();
  const session = new LiveP2PSession(resolved);
  const core = session.p2pEnabled ? new Core(session.coreConfig()) : null;
  if (core) session.attachCore(coreHandle(core));
  const feeder = core ? new CoreStreamFeeder(core) : undefined;
  let playbackTimer: ReturnType<typeof setInterval> | undefined;

  return {
    p2pEnabled: session.p2pEnabled,
    core,
    setManifest(manifestUrl, renditions) {
      // Same swarm as the hls.js engine's viewers of this playlist (hlsjs/default-swarm-id.ts).
      if (core && resolved.coreConfig.swarmId === undefined) {
        const swarmId: Pick<CoreConfig, "swarmId"> = { swarmId: defaultWireSwarmId(manifestUrl) };
        core.applyDynamicConfig(swarmId as DynamicCoreConfig);
      }
      feeder?.setManifest(manifestUrl, renditions);
    },
    bindPlayer(player) {
      if (session.destroyedAlready) throw new Error("Swarmcast: bindPlayer() on a destroyed engine");
      if (feeder) {
        feeder.bind(player);
        playbackTimer = setInterval(() => feeder.updatePlayback(player), PLAYBACK_UPDATE_MS);
      }
      session.bindPlayer(player);
    },
    loadSegment: (segment) => loadSegment(session, core, segment),
    stats: () => session.snapshot(Date.now()),
    on: (event, fn) => session.emitter.on(event, fn),
    off: (event, fn) => session.emitter.off(event, fn),
    destroy() {
      if (playbackTimer !== undefined) clearInterval(playbackTimer);
      feeder?.unbind();
      session.destroy();
    },
  };
}

function coreHandle(core: Core): P2PCoreHandle {
  return {
    addEventListener: (name, fn) => core.addEventListener(name, fn),
    removeEventListener: (name, fn) => core.removeEventListener(name, fn),
    applyCoreConfig: (config) => core.applyDynamicConfig(config),
    coreConfig: () => core.getConfig(),
    destroy: () => core.destroy(),
  };
}

/**
 * A segment through PML when PML manages it (after the edge fetcher's hold), else over HTTP
 * here, counted like hls.js's own loader is in the browser.
 */
async function loadSegment(
  session: LiveP2PSession,
  core: Core | null,
  segment: PlaylistSegment,
): Promise<LoadedSegment> {
  const id = segmentRuntimeId(segment);
  if (!core || !core.hasSegment(id) || !core.isSegmentLoadable(id)) return fetchOverHttp(session, segment);
  const edge = session.edge;
  if (edge?.holdFor(segment.url)) {
    await new Promise<void>((release) => edge.addHold({ url: segment.url, release }));
  }
  edge?.markPassed(segment.url);
  // PML's answer, or null when PML stopped working on the request (it is taken back: see PmlActivity).
  const throughPml = () =>
    new Promise<SegmentResponse | null>((resolve, reject) => {
      const stopWatching = watchPmlIdle(
        session.pmlActivity,
        segment.url,
        DEFAULT_SWARMCAST_CONFIG.pmlIdleFallback,
        () => session.needsNow(segment.start),
        () => {
          // Settled first: PML answers the abort with an "aborted" error at once.
          resolve(null);
          core.abortSegmentLoading(id);
        },
      );
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          stopWatching();
          done(value);
        };
      void core.loadSegment(id, { onSuccess: settle(resolve), onError: settle(reject) }).catch(settle(reject));
    });
  const response = await throughPml()
    .catch(async (error: unknown) => {
      // PML failed it over HTTP and may be fetching it from a peer (see LiveEdgeFetcher.whenStored).
      if (edge && typeof segment.sn === "number" && (await edge.whenStored(segment.url, segment.sn)))
        return throughPml();
      throw error;
    })
    .catch((error: unknown) => {
      throw error instanceof CoreRequestError
        ? new Error(`segment ${segment.url}: ${error.type} (${error.message})`)
        : error;
    });
  if (!response) return fetchOverHttp(session, segment);
  return { data: response.data, bandwidthBps: response.bandwidth };
}

async function fetchOverHttp(session: LiveP2PSession, segment: PlaylistSegment): Promise<LoadedSegment> {
  const loaded = await fetchSegment(segment).catch((error: unknown) => {
    session.countHttpFailure(segment.url, messageOf(error));
    throw error;
  });
  session.countHttpSegment(segment.url, loaded.data.byteLength);
  return loaded;
}
