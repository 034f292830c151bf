import type { HlsConfig } from "hls.js";
import type { CoreConfig } from "p2p-media-loader-core";
import { TOKEN_QUERY_PARAM } from "../../shared/protocol";
import { DEFAULT_SWARMCAST_CONFIG } from "./config";
import { INTEGRITY_MODES, type IntegrityMode } from "./integrity/verifier";
import type { LiveEdgeConfig } from "./live/edge-fetcher";
import type { ReconnectSchedule } from "./signaling/backoff";
import { resolveLiveEdge, type LiveEdgeOptions } from "./live/live-options";
import { beaconUrlOf } from "./stats/beacon";
import { UPLOAD_MODES, type UploadMode } from "./upload/upload-consent";

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
  /**
   * Whether this viewer sends segments to peers. `"auto"` (default) uploads except on a
   * metered or data-saving connection or a discharging battery under 20 % (where the browser
   * tells); `true` and `false` override.
   */
  upload?: UploadMode;
  /** Cap of this viewer's upload to peers, in kbit/s, held over every few seconds. */
  maxUploadKbps?: number;
  /**
   * Share (0–1) of segments from peers without a published hash that are spot-checked against
   * a random byte range fetched from the CDN; a mismatch drops the peer. Default 0 (off).
   */
  spotCheck?: number;
  /** Most WebRTC peer connections this viewer holds at once, however many offers arrive. */
  maxPeerConnections?: number;
  /**
   * `"relay"` sends all peer traffic through the TURN servers in `iceServers`, so peers never
   * see this viewer's IP address. Default `"all"`.
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Retries of a lost tracker connection: the first after at most `minDelayMs` (default 2000),
   * doubling up to `maxDelayMs` (default 30000), each shortened by up to half at random.
   */
  trackerReconnect?: TrackerReconnectOptions;

  /** Live edge fetcher: who fetches new live segments from the CDN first (see sdk/README.md). */
  liveEdge?: LiveEdgeOptions;
  /**
   * While this viewer's own playback struggles (buffer nearly empty, frames dropped, timers
   * late), it stops fetching new segments early and serving peers, until it recovers.
   * Default `true`.
   */
  playbackHealth?: boolean;
  /**
   * Serve a peer only what this viewer's measured uplink sends within one segment duration,
   * counting what it already sends; a request that would arrive late is answered "absent" and
   * the peer takes the segment elsewhere. Default `true`.
   */
  uplinkBudget?: boolean;
  /**
   * Reload the live playlist as soon as a peer announces a segment it does not list yet (at most
   * once a second), instead of waiting for the player's next scheduled reload: the viewer starts
   * pulling a new segment from peers up to a target duration sooner. Default `true`.
   */
  playlistRefresh?: boolean;
  /**
   * Let the player fall back one segment further behind the live edge (slowing to 0.9× for a
   * while, never stalling) once a fifth of the new live segments reached this viewer from the CDN
   * late because its peers could not deliver them in time: large swarms and slow uplinks need
   * more time per segment to spread. Default `true`; `false` keeps the player's latency.
   */
  adaptiveLatency?: boolean;
  /**
   * Send the segments peers ask for one after another, each at the full measured uplink rate,
   * instead of all at once: the first peer has a segment sooner and passes it on while the
   * others wait their turn (needs `uplinkBudget`). Default `true`.
   */
  serialUploads?: boolean;
  /**
   * While a CDN fetch of this viewer's own runs, hold the segment data it sends to peers, so its
   * uplink's queue does not slow that fetch (for at most 2 s per fetch). Default `true`.
   */
  uplinkYield?: boolean;
  /**
   * Once `maxPeerConnections` are open, every 30 s close the connection that moved the fewest
   * bytes over the last minute, so the tracker can introduce a peer that delivers more.
   * Default `false` (sdk/README.md, "Peer limits", says why).
   */
  peerChoice?: boolean;
  /**
   * Report this viewer's byte counters (CDN, peers, uploaded) every 30 s to the tracker, which
   * shows audience-wide offload: `true` sends to the first tracker's `/beacon`, a string is the
   * http(s) URL to send to. Off by default.
   */
  statsBeacon?: boolean | string;
}

export interface TrackerReconnectOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
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
  upload: UploadMode;
  maxUploadKbps: number | undefined;
  maxPeerConnections: number;
  spotCheck: number;
  trackerReconnect: ReconnectSchedule;
  liveEdge: LiveEdgeConfig;
  playbackHealth: boolean;
  uplinkBudget: boolean;
  playlistRefresh: boolean;
  adaptiveLatency: boolean;
  serialUploads: boolean;
  uplinkYield: boolean;
  peerChoice: boolean;
  /** Where the stats beacon goes; undefined = off. */
  statsBeaconUrl: string | undefined;
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
  "maxPeerConnections",
  "iceTransportPolicy",
  "spotCheck",
  "trackerReconnect",
  "liveEdge",
  "playbackHealth",
  "uplinkBudget",
  "playlistRefresh",
  "adaptiveLatency",
  "serialUploads",
  "uplinkYield",
  "peerChoice",
  "statsBeacon",
] as const;
type EngineOptionName = (typeof ENGINE_OPTION_NAMES)[number];
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
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkTrackerUrl(url: unknown, index: number): string {
  const where = `trackers[${index}]`;
  if (typeof url !== "string" || url.trim() === "") {
    throw new SwarmcastOptionError("trackers", `option "${where}" must be a ws:// or wss:// URL, got ${describe(url)}`);
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
export function mergeCoreConfig(base: Partial<CoreConfig>, over: Partial<CoreConfig>): Partial<CoreConfig> {
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

const fail = (option: string, message: string): never => {
  throw new SwarmcastOptionError(option, message);
};

const isPositiveNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

/** A validator of one option: throws a {@link SwarmcastOptionError} for a bad value. */
type OptionCheck = (value: unknown, options: Partial<SwarmcastOptions>) => void;

function nonEmptyString(name: string): OptionCheck {
  return (value) => {
    if (typeof value !== "string" || value === "")
      fail(name, `option "${name}" must be a non-empty string, got ${describe(value)}`);
  };
}

function trueOrFalse(name: string): OptionCheck {
  return (value) => {
    if (typeof value !== "boolean") fail(name, `option "${name}" must be true or false, got ${describe(value)}`);
  };
}

function milliseconds(name: string, min: number): OptionCheck {
  return (value) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
      fail(name, `option "${name}" must be a number of milliseconds ≥ ${min}, got ${describe(value)}`);
    }
  };
}

function configObject(
  name: "hls" | "core",
  what: string,
  reserved: Record<string, string>,
  why: (key: string) => string,
): OptionCheck {
  return (value) => {
    if (!isPlainObject(value)) fail(name, `option "${name}" must be ${what}, got ${describe(value)}`);
    for (const key of Object.keys(value as object)) {
      if (key in reserved) fail(name, `option "${name}.${key}" cannot be set: ${why(key)}`);
    }
  };
}

function oneOf<T>(name: string, values: readonly T[]): OptionCheck {
  return (value) => {
    if (!values.includes(value as T)) {
      fail(
        name,
        `option "${name}" must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(value)}`,
      );
    }
  };
}

function checkIceServers(value: unknown): void {
  if (!Array.isArray(value)) {
    fail(
      "iceServers",
      `option "iceServers" must be an array of RTCIceServer objects ({ urls }), got ${describe(value)}`,
    );
  }
  (value as unknown[]).forEach((server, i) => {
    const urls = isPlainObject(server) ? server.urls : undefined;
    const ok =
      typeof urls === "string" || (Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === "string"));
    if (!ok)
      fail(
        "iceServers",
        `option "iceServers[${i}]" must be an object with "urls" (a string or strings), got ${describe(server)}`,
      );
  });
}

/**
 * One validator per option, run in this order for the options that are set (so the first bad
 * option in this order is the one named). Cross-option rules live in the resolvers below.
 */
const OPTION_CHECKS: Record<EngineOptionName, OptionCheck> = {
  p2p: trueOrFalse("p2p"),
  token: nonEmptyString("token"),
  trackers: (value) => {
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.length === 0) {
      fail(
        "trackers",
        `option "trackers" must be a ws:// or wss:// URL or a non-empty array of them, got ${describe(value)}`,
      );
    }
    (list as unknown[]).forEach(checkTrackerUrl);
  },
  swarmId: nonEmptyString("swarmId"),
  iceServers: checkIceServers,
  statsIntervalMs: milliseconds("statsIntervalMs", 0),
  rateWindowMs: milliseconds("rateWindowMs", 1),
  hls: configObject("hls", "an hls.js config object", RESERVED_HLS_KEYS, (key) => RESERVED_HLS_KEYS[key]),
  core: configObject(
    "core",
    "a PML core config object",
    RESERVED_CORE_KEYS,
    (key) => `use the "${RESERVED_CORE_KEYS[key]}" option`,
  ),
  integrity: oneOf("integrity", INTEGRITY_MODES),
  integrityMap: (value) => {
    if (typeof value !== "string" || value.trim() === "") {
      fail("integrityMap", `option "integrityMap" must be the URL of a JSON integrity map, got ${describe(value)}`);
    }
  },
  upload: oneOf("upload", UPLOAD_MODES),
  maxUploadKbps: (value) => {
    if (!isPositiveNumber(value)) {
      fail(
        "maxUploadKbps",
        `option "maxUploadKbps" must be a positive number of kbit/s (use upload: false for none), got ${describe(value)}`,
      );
    }
  },
  maxPeerConnections: (value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      fail("maxPeerConnections", `option "maxPeerConnections" must be an integer ≥ 1, got ${describe(value)}`);
    }
  },
  iceTransportPolicy: oneOf("iceTransportPolicy", ["all", "relay"]),
  spotCheck: (value) => {
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      fail("spotCheck", `option "spotCheck" must be a share of segments between 0 and 1, got ${describe(value)}`);
    }
  },
  trackerReconnect: () => undefined, // resolveTrackerReconnect validates field by field
  liveEdge: () => undefined, // resolveLiveEdge validates field by field
  playbackHealth: (value) => {
    if (typeof value !== "boolean")
      fail("playbackHealth", `option "playbackHealth" must be true or false, got ${describe(value)}`);
  },
  uplinkBudget: (value) => {
    if (typeof value !== "boolean")
      fail("uplinkBudget", `option "uplinkBudget" must be true or false, got ${describe(value)}`);
  },
  playlistRefresh: (value) => {
    if (typeof value !== "boolean")
      fail("playlistRefresh", `option "playlistRefresh" must be true or false, got ${describe(value)}`);
  },
  adaptiveLatency: (value) => {
    if (typeof value !== "boolean")
      fail("adaptiveLatency", `option "adaptiveLatency" must be true or false, got ${describe(value)}`);
  },
  serialUploads: (value) => {
    if (typeof value !== "boolean")
      fail("serialUploads", `option "serialUploads" must be true or false, got ${describe(value)}`);
  },
  uplinkYield: (value) => {
    if (typeof value !== "boolean")
      fail("uplinkYield", `option "uplinkYield" must be true or false, got ${describe(value)}`);
  },
  peerChoice: (value) => {
    if (typeof value !== "boolean")
      fail("peerChoice", `option "peerChoice" must be true or false, got ${describe(value)}`);
  },
  statsBeacon: (value) => {
    if (typeof value !== "boolean" && !(typeof value === "string" && /^https?:\/\//.test(value))) {
      fail("statsBeacon", `option "statsBeacon" must be true, false or an http(s):// URL, got ${describe(value)}`);
    }
  },
};

function checkOptionNames(input: Record<string, unknown>, requireSrc: boolean): void {
  const known: readonly string[] = requireSrc ? ATTACH_OPTION_NAMES : ENGINE_OPTION_NAMES;
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const hint = !requireSrc && unknown.includes("src") ? " (src belongs to attach())" : "";
  fail(
    unknown[0],
    `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}${hint}; ` +
      `known options: ${known.join(", ")}`,
  );
}

function resolveSrc(src: unknown): string {
  if (typeof src !== "string" || src.trim() === "") {
    fail("src", `option "src" is required: the URL of an HLS playlist (.m3u8), got ${describe(src)}`);
  }
  return (src as string).trim();
}

/** Tracker URLs with the token; none when P2P is off and none were given. */
function resolveTrackers(o: Partial<SwarmcastOptions>, p2p: boolean): string[] {
  if (o.trackers === undefined) {
    if (p2p)
      fail("trackers", `option "trackers" is required: one or more ws:// or wss:// tracker URLs (or set p2p: false)`);
    return [];
  }
  const list = typeof o.trackers === "string" ? [o.trackers] : o.trackers;
  return list.map((url, i) => withToken(checkTrackerUrl(url, i), o.token));
}

/** The reconnect schedule: the SDK's defaults under the user's fields. */
function resolveTrackerReconnect(value: unknown): ReconnectSchedule {
  const defaults = DEFAULT_SWARMCAST_CONFIG.trackerReconnect;
  if (value === undefined) return { ...defaults };
  if (!isPlainObject(value)) {
    fail(
      "trackerReconnect",
      `option "trackerReconnect" must be an object like { minDelayMs, maxDelayMs }, got ${describe(value)}`,
    );
  }
  const unknown = Object.keys(value as object).filter((k) => k !== "minDelayMs" && k !== "maxDelayMs");
  if (unknown.length > 0) {
    fail(
      "trackerReconnect",
      `option "trackerReconnect" has unknown field "${unknown[0]}"; known fields: minDelayMs, maxDelayMs`,
    );
  }
  const schedule = { ...defaults, ...(value as TrackerReconnectOptions) };
  for (const field of ["minDelayMs", "maxDelayMs"] as const) {
    if (!isPositiveNumber(schedule[field])) {
      fail(
        "trackerReconnect",
        `option "trackerReconnect.${field}" must be a positive number of milliseconds, got ${describe(schedule[field])}`,
      );
    }
  }
  if (schedule.maxDelayMs < schedule.minDelayMs) {
    fail(
      "trackerReconnect",
      `option "trackerReconnect.maxDelayMs" (${schedule.maxDelayMs}) must not be under minDelayMs (${schedule.minDelayMs})`,
    );
  }
  return schedule;
}

/** The map URL, absolute (relative to the page, like `src`). */
function resolveIntegrityMap(o: Partial<SwarmcastOptions>, integrity: IntegrityMode): string | undefined {
  if (o.integrityMap === undefined) return undefined;
  let url: string | undefined;
  try {
    url = new URL(o.integrityMap.trim(), globalThis.location?.href).href;
  } catch {
    fail(
      "integrityMap",
      `option "integrityMap" must be the URL of a JSON integrity map, got "${o.integrityMap}" (not a URL)`,
    );
  }
  if (integrity === "off") fail("integrityMap", `option "integrityMap" is set but "integrity" is "off"`);
  return url;
}

/** Where the stats beacon goes: the first tracker's `/beacon`, or the URL given; undefined = off. */
function resolveStatsBeacon(o: Partial<SwarmcastOptions>, trackers: string[]): string | undefined {
  if (o.statsBeacon === undefined || o.statsBeacon === false) return undefined;
  if (o.statsBeacon === true) {
    if (trackers.length === 0) {
      fail("statsBeacon", `option "statsBeacon" is true but there is no tracker to send to (give its URL instead)`);
    }
    return beaconUrlOf(trackers[0]);
  }
  return withToken(o.statsBeacon, o.token);
}

/** PML's core config: the SDK's defaults, the `core` option, then the first-class options. */
function buildCoreConfig(o: Partial<SwarmcastOptions>, trackers: string[]): Partial<CoreConfig> {
  const defaults = DEFAULT_SWARMCAST_CONFIG;
  const rtcConfig: RTCConfiguration = {
    iceServers: (o.iceServers ?? defaults.iceServers).map((s) => ({ ...s })),
    iceTransportPolicy: o.iceTransportPolicy ?? defaults.iceTransportPolicy,
  };
  return mergeCoreConfig(
    { ...defaults.core },
    {
      ...(o.core ?? {}),
      announceTrackers: trackers,
      rtcConfig,
      ...(o.swarmId !== undefined ? { swarmId: o.swarmId } : {}),
    },
  );
}

/**
 * Validates user options and merges them over {@link DEFAULT_SWARMCAST_CONFIG}.
 * Throws {@link SwarmcastOptionError} naming the first bad option.
 */
export function resolveOptions(input: unknown, { requireSrc }: { requireSrc: boolean }): ResolvedOptions {
  const defaults = DEFAULT_SWARMCAST_CONFIG;
  if (!isPlainObject(input)) fail("options", `options must be an object, got ${describe(input)}`);
  const record = input as Record<string, unknown>;
  checkOptionNames(record, requireSrc);
  const o = record as Partial<SwarmcastOptions>;
  const src = requireSrc ? resolveSrc(o.src) : undefined;
  for (const [name, check] of Object.entries(OPTION_CHECKS)) {
    if (record[name] !== undefined) check(record[name], o);
  }
  const p2p = o.p2p ?? defaults.p2p;
  const trackers = resolveTrackers(o, p2p);
  const integrity = o.integrity ?? defaults.integrity;
  return {
    src,
    p2p,
    trackers,
    hlsConfig: mergeHlsConfig(defaults.hls, o.hls ?? {}),
    coreConfig: buildCoreConfig(o, trackers),
    statsIntervalMs: o.statsIntervalMs ?? defaults.statsIntervalMs,
    rateWindowMs: o.rateWindowMs ?? defaults.rateWindowMs,
    integrity,
    integrityMap: resolveIntegrityMap(o, integrity),
    upload: o.upload ?? defaults.upload,
    maxUploadKbps: o.maxUploadKbps,
    statsBeaconUrl: resolveStatsBeacon(o, trackers),
    maxPeerConnections: o.maxPeerConnections ?? defaults.maxPeerConnections,
    spotCheck: o.spotCheck ?? defaults.spotCheck,
    trackerReconnect: resolveTrackerReconnect(o.trackerReconnect),
    liveEdge: resolveLiveEdge(o.liveEdge, defaults.liveEdge, (message) => fail("liveEdge", message)),
    playbackHealth: o.playbackHealth ?? defaults.playbackHealth.enabled,
    uplinkBudget: o.uplinkBudget ?? defaults.uplinkBudget.enabled,
    playlistRefresh: o.playlistRefresh ?? defaults.playlistRefresh.enabled,
    adaptiveLatency: o.adaptiveLatency ?? defaults.adaptiveLatency.enabled,
    serialUploads: o.serialUploads ?? defaults.serialUploads.enabled,
    uplinkYield: o.uplinkYield ?? defaults.uplinkYield.enabled,
    peerChoice: o.peerChoice ?? defaults.peerChoice.enabled,
  };
}
