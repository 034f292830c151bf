// Must stay the first import: see peers/peer-connection-guard.ts.
import "../peers/install";
import Hls, { type HlsConfig } from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import type { SwarmcastEventMap } from "../events";
import { HlsLivePlayer } from "../hlsjs/hls-live-player";
import { holdFragmentLoader } from "../hlsjs/held-fragment-loader";
import { bindDefaultSwarmId } from "../hlsjs/default-swarm-id";
import { keepLiveForwardBuffer } from "../hlsjs/live-forward-buffer";
import { DEFAULT_SWARMCAST_CONFIG } from "../config";
import { resolveOptions, type ResolvedOptions, type SwarmcastEngineOptions } from "../options";
import type { SwarmcastStats } from "../stats/accumulator";
import { createCountingLoader } from "./counting-loader";
import { LiveP2PSession, type P2PCoreHandle } from "./session";

export { isP2PSupported } from "./session";

/**
 * P2P delivery for an hls.js instance the page owns.
 *
 * ```ts
 * const engine = createP2PEngine({ trackers: ["wss://tracker.example"], hls: { maxBufferLength: 20 } });
 * const hls = new Hls(engine.hlsConfig);
 * engine.bindHls(hls);          // before loadSource()
 * hls.loadSource(url); hls.attachMedia(video);
 * ```
 */
export interface SwarmcastEngine {
  /** hls.js config to construct hls.js with: the SDK defaults, the `hls` option, and PML's loaders. */
  readonly hlsConfig: Partial<HlsConfig>;
  /** The PML engine, or null when P2P is off. For advanced use (dynamic config, raw events). */
  readonly p2pEngine: HlsJsP2PEngine | null;
  /** Whether peer-to-peer delivery is on. */
  readonly p2pEnabled: boolean;
  /** Connects the engine to the hls.js instance built from {@link hlsConfig}. Call before `loadSource`. */
  bindHls(hls: Hls): void;
  stats(): SwarmcastStats;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): () => void;
  off<K extends keyof SwarmcastEventMap>(event: K, fn: (payload: SwarmcastEventMap[K]) => void): void;
  /** Closes peers and the tracker connection, stops timers, drops listeners. Idempotent. */
  destroy(): void;
}

/** Builds an engine from options already validated (shared by {@link createP2PEngine} and `attach`). */
export function createEngineFromResolved(resolved: ResolvedOptions): SwarmcastEngine {
  const session = new LiveP2PSession(resolved);
  const p2pEngine = session.p2pEnabled ? createHlsJsP2PEngine(session) : null;
  const hlsConfig = buildHlsConfig(resolved, session, p2pEngine);
  let boundHls: Hls | null = null;
  return {
    hlsConfig,
    p2pEngine,
    p2pEnabled: session.p2pEnabled,
    bindHls(hls: Hls) {
      if (session.destroyedAlready) throw new Error("Swarmcast: bindHls() on a destroyed engine");
      if (boundHls && boundHls !== hls) {
        throw new Error(
          "Swarmcast: this engine is already bound to another hls.js instance; create one engine per instance",
        );
      }
      boundHls = hls;
      if (p2pEngine) keepLiveForwardBuffer(hls);
      p2pEngine?.bindHls(hls);
      if (p2pEngine && resolved.coreConfig.swarmId === undefined) bindDefaultSwarmId(hls, p2pEngine);
      session.bindPlayer(new HlsLivePlayer(hls));
    },
    stats: () => session.snapshot(Date.now()),
    on: (event, fn) => session.emitter.on(event, fn),
    off: (event, fn) => session.emitter.off(event, fn),
    destroy() {
      session.destroy();
      boundHls = null;
    },
  };
}

/** PML's hls.js engine on the session's core config, with the session listening to it. */
function createHlsJsP2PEngine(session: LiveP2PSession): HlsJsP2PEngine {
  const engine = new HlsJsP2PEngine({ core: session.coreConfig() });
  session.attachCore(hlsJsCoreHandle(engine));
  return engine;
}

function hlsJsCoreHandle(engine: HlsJsP2PEngine): P2PCoreHandle {
  return {
    addEventListener: (name, fn) => engine.addEventListener(name, fn),
    removeEventListener: (name, fn) => engine.removeEventListener(name, fn),
    applyCoreConfig: (core) => engine.applyDynamicConfig({ core }),
    coreConfig: () => engine.getConfig().core,
    destroy: () => engine.destroy(),
  };
}

/**
 * hls.js config: the user's, a loader that counts hls.js's own HTTP segment fetches, and PML's
 * loaders (the fragment loader held back while the edge fetcher fetches a segment).
 */
function buildHlsConfig(
  resolved: ResolvedOptions,
  session: LiveP2PSession,
  p2pEngine: HlsJsP2PEngine | null,
): Partial<HlsConfig> {
  const baseLoader = resolved.hlsConfig.loader ?? Hls.DefaultConfig.loader;
  const loader = createCountingLoader(baseLoader, {
    onSegment: (url, bytes) => session.countHttpSegment(url, bytes),
    onFailure: (url, reason) => session.countHttpFailure(url, reason),
  });
  if (!p2pEngine) return { ...resolved.hlsConfig, loader };
  const { fLoader, pLoader } = p2pEngine.getConfigForHlsJs();
  const edge = session.edge;
  const fragmentLoader = fLoader as NonNullable<HlsConfig["fLoader"]>;
  return {
    ...resolved.hlsConfig,
    loader,
    fLoader: holdFragmentLoader(fragmentLoader, edge, {
      activity: session.pmlActivity,
      config: DEFAULT_SWARMCAST_CONFIG.pmlIdleFallback,
      needsNow: (startSec) => session.needsNow(startSec),
    }),
    pLoader: pLoader as HlsConfig["pLoader"],
  };
}

/**
 * P2P for a page that builds its own hls.js instance: validates `options`
 * (see {@link SwarmcastEngineOptions}) and returns a {@link SwarmcastEngine}.
 */
export function createP2PEngine(options: SwarmcastEngineOptions): SwarmcastEngine {
  return createEngineFromResolved(resolveOptions(options, { requireSrc: false }));
}
