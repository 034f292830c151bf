import type { HlsConfig } from "hls.js";
import type { CoreConfig } from "p2p-media-loader-core";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { DEFAULT_SWARMCAST_CONFIG } from "./config";
import { INTEGRITY_MODES, type IntegrityMode } from "./integrity/verifier";
import type { LiveEdgeConfig } from "./live/edge-fetcher";
import { resolveLiveEdge, type LiveEdgeOptions } from "./live/live-options";

/** Options of {@link createP2PEngine}: everything about delivery, nothing about the element. */
export interface SwarmcastEngineOptions {
  /** WebTorrent tracker URLs (`ws://` or `wss://`). Required unless `p2p` is false. */
  trackers?: string | string[];
  /** Peers of the same swarm id share segments. Default: the playlist URL without its query. */
  swarmId?: string;
  /** ICE servers for WebRTC (PML `rtcConfig.iceServers`). */
  iceServers?: RTCIceServer[];
  /** Peer-to-peer delivery; `false` plays from HTTP only and never contacts a tracker. */
  p2p?: boolean;
  /** Access token of a private swarm, sent to the tracker as `?token=`. */
  token?: string;
  /** hls.js config, applied over the SDK's hls.js defaults. */
  hls?: Partial<HlsConfig>;
  /** PML core config, applied over the SDK's core defaults. */
  core?: Partial<CoreConfig>;
  /** Period of the `stats` event in ms; 0 turns the periodic event off. */
  statsIntervalMs?: number;
  /** Sliding window of the byte rates in ms. */
  rateWindowMs?: number;
  /**
   * Check of segments received from peers against the SHA-256 published with the stream
   * (`#EXT-X-SWARMCAST-SHA256` playlist tags, or `integrityMap`): `"required"` takes from
   * peers only segments with a matching hash, `"if-present"` (default) checks those that have
   * one, `"off"` checks nothing.
   */
  integrity?: IntegrityMode;
  /** URL of a JSON map of segment URL → SHA-256 hex (VOD), read once at start. */
  integrityMap?: string;
  /** Whether this viewer sends segments to peers (default true). */
  upload?: boolean;
  /** Cap of this viewer's upload to peers, in kbit/s, held over every few seconds. */
  maxUploadKbps?: number;
  /** Live edge fetcher: who fetches new live segments from the CDN first (see sdk/README.md). */
  liveEdge?: LiveEdgeOptions;
}

/** Options of {@link attach}. */
export interface SwarmcastOptions extends SwarmcastEngineOptions {
  /** URL of the HLS playlist (multivariant or media). */
  src: string;
}

export interface ResolvedOptions {
  src: string | undefined;
  p2p: boolean;
  /** Tracker URLs, token included. */
  trackers: string[];
  hlsConfig: Partial<HlsConfig>;
  coreConfig: Partial<CoreConfig>;
  statsIntervalMs: number;
  rateWindowMs: number;
  integrity: IntegrityMode;
  integrityMap: string | undefined;
  upload: boolean;
  maxUploadKbps: number | undefined;
  liveEdge: LiveEdgeConfig;
}

/** Bad input to the SDK. `option` names the offending option. */
export class SwarmcastOptionError extends Error {
  override name = "SwarmcastOptionError";
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`Swarmcast: ${message}`);
  }
}

const ENGINE_OPTION_NAMES = [
  "trackers",
  "swarmId",
  "iceServers",
  "p2p",
  "token",
  "hls",
  "core",
  "statsIntervalMs",
  "rateWindowMs",
  "integrity",
  "integrityMap",
  "upload",
  "maxUploadKbps",
  "liveEdge",
] as const;
const ATTACH_OPTION_NAMES = ["src", ...ENGINE_OPTION_NAMES] as const;

/** hls.js keys the SDK sets itself: a user value would silently cut P2P or the byte counts. */
const RESERVED_HLS_KEYS: Record<string, string> = {
  fLoader: "the fragment loader is PML's; wrap `hls.loader` instead",
  pLoader: "the playlist loader is PML's; wrap `hls.loader` instead",
};

/** Core keys that have a first-class option. */
const RESERVED_CORE_KEYS: Record<string, string> = {
  announceTrackers: "trackers",
  rtcConfig: "iceServers",
  swarmId: "swarmId",
  isP2PDisabled: "p2p",
  validateP2PSegment: "integrity",
  isP2PUploadDisabled: "upload",
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value === "" ? "an empty string" : `"${value}"`;
  if (typeof value === "object") return "an object";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `${typeof value} ${String(value)}`;
  }
  // undefined, a function or a symbol: the type says it all.
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkTrackerUrl(url: unknown, index: number): string {
  const where = `trackers[${index}]`;
  if (typeof url !== "string" || url.trim() === "") {
    throw new SwarmcastOptionError(
      "trackers",
      `option "${where}" must be a ws:// or wss:// URL, got ${describe(url)}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new SwarmcastOptionError(
      "trackers",
      `option "${where}" must be a ws:// or wss:// URL, got "${url}" (not a URL)`,
    );
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new SwarmcastOptionError(
      "trackers",
      `option "${where}" must be a ws:// or wss:// URL, got "${url}" (protocol ${parsed.protocol})`,
    );
  }
  return url.trim();
}

/** Adds the access token to a tracker URL, replacing a token already there. */
export function withToken(trackerUrl: string, token: string | undefined): string {
  if (token === undefined) return trackerUrl;
  const url = new URL(trackerUrl);
  url.searchParams.set(TOKEN_QUERY_PARAM, token);
  return url.toString();
}

/**
 * Merges two PML core configs: top-level keys of `over` win, and the per-stream objects
 * (`mainStream`, `secondaryStream`) merge key by key instead of replacing each other.
 */
export function mergeCoreConfig(
  base: Partial<CoreConfig>,
  over: Partial<CoreConfig>,
): Partial<CoreConfig> {
  const merged: Partial<CoreConfig> = { ...base, ...over };
  for (const key of ["mainStream", "secondaryStream"] as const) {
    if (base[key] || over[key]) merged[key] = { ...base[key], ...over[key] };
  }
  return merged;
}

/**
 * Merges the user's hls.js config over the SDK's. Live latency is set either in segments
 * (`liveSyncDurationCount`) or in seconds (`liveSyncDuration`), and hls.js refuses a config
 * with both: whichever form the user sets replaces the SDK's default of the other form.
 */
export function mergeHlsConfig(base: Partial<HlsConfig>, over: Partial<HlsConfig>): Partial<HlsConfig> {
  const merged: Partial<HlsConfig> = { ...base };
  if (over.liveSyncDuration !== undefined || over.liveMaxLatencyDuration !== undefined) {
    delete merged.liveSyncDurationCount;
    delete merged.liveMaxLatencyDurationCount;
  }
  if (over.liveSyncDurationCount !== undefined || over.liveMaxLatencyDurationCount !== undefined) {
    delete merged.liveSyncDuration;
    delete merged.liveMaxLatencyDuration;
  }
  return { ...merged, ...over };
}

/**
 * Validates user options and merges them over {@link DEFAULT_SWARMCAST_CONFIG}.
 * Throws {@link SwarmcastOptionError} naming the first bad option.
 */
export function resolveOptions(
  input: unknown,
  { requireSrc }: { requireSrc: boolean },
): ResolvedOptions {
  const defaults = DEFAULT_SWARMCAST_CONFIG;
  if (!isPlainObject(input)) {
    throw new SwarmcastOptionError("options", `options must be an object, got ${describe(input)}`);
  }
  const known: readonly string[] = requireSrc ? ATTACH_OPTION_NAMES : ENGINE_OPTION_NAMES;
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const hint = !requireSrc && unknown.includes("src") ? " (src belongs to attach())" : "";
    throw new SwarmcastOptionError(
      unknown[0],
      `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}${hint}; ` +
        `known options: ${known.join(", ")}`,
    );
  }
  const o = input as Partial<SwarmcastOptions>;

  let src: string | undefined;
  if (requireSrc) {
    if (typeof o.src !== "string" || o.src.trim() === "") {
      throw new SwarmcastOptionError(
        "src",
        `option "src" is required: the URL of an HLS playlist (.m3u8), got ${describe(o.src)}`,
      );
    }
    src = o.src.trim();
  }

  if (o.p2p !== undefined && typeof o.p2p !== "boolean") {
    throw new SwarmcastOptionError("p2p", `option "p2p" must be true or false, got ${describe(o.p2p)}`);
  }
  const p2p = o.p2p ?? defaults.p2p;

  if (o.token !== undefined && (typeof o.token !== "string" || o.token === "")) {
    throw new SwarmcastOptionError(
      "token",
      `option "token" must be a non-empty string, got ${describe(o.token)}`,
    );
  }

  let trackers: string[] = [];
  if (o.trackers === undefined) {
    if (p2p) {
      throw new SwarmcastOptionError(
        "trackers",
        `option "trackers" is required: one or more ws:// or wss:// tracker URLs (or set p2p: false)`,
      );
    }
  } else {
    const list = typeof o.trackers === "string" ? [o.trackers] : o.trackers;
    if (!Array.isArray(list) || list.length === 0) {
      throw new SwarmcastOptionError(
        "trackers",
        `option "trackers" must be a ws:// or wss:// URL or a non-empty array of them, got ${describe(o.trackers)}`,
      );
    }
    trackers = list.map((url, i) => withToken(checkTrackerUrl(url, i), o.token));
  }

  if (o.swarmId !== undefined && (typeof o.swarmId !== "string" || o.swarmId === "")) {
    throw new SwarmcastOptionError(
      "swarmId",
      `option "swarmId" must be a non-empty string, got ${describe(o.swarmId)}`,
    );
  }

  if (o.iceServers !== undefined) {
    if (!Array.isArray(o.iceServers)) {
      throw new SwarmcastOptionError(
        "iceServers",
        `option "iceServers" must be an array of RTCIceServer objects ({ urls }), got ${describe(o.iceServers)}`,
      );
    }
    o.iceServers.forEach((server, i) => {
      const urls = isPlainObject(server) ? server.urls : undefined;
      const ok =
        typeof urls === "string" ||
        (Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === "string"));
      if (!ok) {
        throw new SwarmcastOptionError(
          "iceServers",
          `option "iceServers[${i}]" must be an object with "urls" (a string or strings), got ${describe(server)}`,
        );
      }
    });
  }

  for (const name of ["statsIntervalMs", "rateWindowMs"] as const) {
    const value = o[name];
    const min = name === "statsIntervalMs" ? 0 : 1;
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value < min)) {
      throw new SwarmcastOptionError(
        name,
        `option "${name}" must be a number of milliseconds ≥ ${min}, got ${describe(value)}`,
      );
    }
  }

  if (o.hls !== undefined && !isPlainObject(o.hls)) {
    throw new SwarmcastOptionError("hls", `option "hls" must be an hls.js config object, got ${describe(o.hls)}`);
  }
  for (const key of Object.keys(o.hls ?? {})) {
    if (key in RESERVED_HLS_KEYS) {
      throw new SwarmcastOptionError(
        "hls",
        `option "hls.${key}" cannot be set: ${RESERVED_HLS_KEYS[key]}`,
      );
    }
  }
  if (o.core !== undefined && !isPlainObject(o.core)) {
    throw new SwarmcastOptionError("core", `option "core" must be a PML core config object, got ${describe(o.core)}`);
  }
  for (const key of Object.keys(o.core ?? {})) {
    if (key in RESERVED_CORE_KEYS) {
      throw new SwarmcastOptionError(
        "core",
        `option "core.${key}" cannot be set: use the "${RESERVED_CORE_KEYS[key]}" option`,
      );
    }
  }

  if (o.integrity !== undefined && !INTEGRITY_MODES.includes(o.integrity)) {
    throw new SwarmcastOptionError(
      "integrity",
      `option "integrity" must be one of ${INTEGRITY_MODES.map((m) => `"${m}"`).join(", ")}, got ${describe(o.integrity)}`,
    );
  }
  let integrityMap: string | undefined;
  if (o.integrityMap !== undefined) {
    if (typeof o.integrityMap !== "string" || o.integrityMap.trim() === "") {
      throw new SwarmcastOptionError(
        "integrityMap",
        `option "integrityMap" must be the URL of a JSON integrity map, got ${describe(o.integrityMap)}`,
      );
    }
    try {
      // Relative to the page, like `src`.
      integrityMap = new URL(o.integrityMap.trim(), globalThis.location?.href).href;
    } catch {
      throw new SwarmcastOptionError(
        "integrityMap",
        `option "integrityMap" must be the URL of a JSON integrity map, got "${o.integrityMap}" (not a URL)`,
      );
    }
    if ((o.integrity ?? defaults.integrity) === "off") {
      throw new SwarmcastOptionError("integrityMap", `option "integrityMap" is set but "integrity" is "off"`);
    }
  }
  if (o.upload !== undefined && typeof o.upload !== "boolean") {
    throw new SwarmcastOptionError("upload", `option "upload" must be true or false, got ${describe(o.upload)}`);
  }
  if (
    o.maxUploadKbps !== undefined &&
    (typeof o.maxUploadKbps !== "number" || !Number.isFinite(o.maxUploadKbps) || o.maxUploadKbps <= 0)
  ) {
    throw new SwarmcastOptionError(
      "maxUploadKbps",
      `option "maxUploadKbps" must be a positive number of kbit/s (use upload: false for none), got ${describe(o.maxUploadKbps)}`,
    );
  }

  const coreConfig = mergeCoreConfig(
    { ...defaults.core },
    {
      ...(o.core ?? {}),
      announceTrackers: trackers,
      rtcConfig: { iceServers: (o.iceServers ?? defaults.iceServers).map((s) => ({ ...s })) },
      ...(o.swarmId !== undefined ? { swarmId: o.swarmId } : {}),
    },
  );

  return {
    src,
    p2p,
    trackers,
    hlsConfig: mergeHlsConfig(defaults.hls, o.hls ?? {}),
    coreConfig,
    statsIntervalMs: o.statsIntervalMs ?? defaults.statsIntervalMs,
    rateWindowMs: o.rateWindowMs ?? defaults.rateWindowMs,
    integrity: o.integrity ?? defaults.integrity,
    integrityMap,
    upload: o.upload ?? defaults.upload,
    maxUploadKbps: o.maxUploadKbps,
    liveEdge: resolveLiveEdge(o.liveEdge, defaults.liveEdge, (message) => {
      throw new SwarmcastOptionError("liveEdge", message);
    }),
  };
}
