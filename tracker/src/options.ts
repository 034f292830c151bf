/**
 * Every tunable of the tracker, with its default, in one place. The CLI, the env variables and
 * `--help` are generated from {@link OPTION_SPECS}, so a new option is added here once.
 */

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Abuse limits. 0 means "no limit" where noted. */
export interface TrackerLimits {
  /** Largest accepted WebSocket frame, bytes; bigger frames close the connection with 1009. */
  maxPayload: number;
  /** Concurrent connections from one IP address; 0 = unlimited. */
  maxConnectionsPerIp: number;
  /** Sustained messages per second per connection (token bucket refill rate). */
  messageRate: number;
  /** Token bucket size: messages a connection may send in a burst. */
  messageBurst: number;
  /** Swarms a single connection may join at once. */
  maxSwarmsPerConnection: number;
  /** Offers relayed per announce (each to a distinct peer); extra offers are ignored. */
  maxOffersPerAnnounce: number;
  /** info_hashes accepted in one scrape request. */
  maxScrapeHashes: number;
  /** Relayed offers remembered for answer matching, tracker-wide; when full, new offers are not relayed. */
  maxPendingOffers: number;
  /** Share of that table one connection may hold; its own oldest entry is forgotten first. */
  maxPendingOffersPerConnection: number;
  /** Seconds an answer to a relayed offer is accepted. */
  offerTtl: number;
  /** Seconds without any message after which a connection is closed; 0 = never. */
  idleTimeout: number;
  /** Seconds between WebSocket pings; a connection that misses one pong is terminated; 0 = off. */
  pingInterval: number;
  /** Sustained payload bytes per second per connection (token bucket refill rate). */
  byteRate: number;
  /** Payload bytes a connection may send in a burst (at least maxPayload, so one frame always fits). */
  byteBurst: number;
  /** Sustained payload bytes per second from one IP address, all its connections together. */
  ipByteRate: number;
  /** Payload bytes one IP address may send in a burst. */
  ipByteBurst: number;
  /** Object keys and objects (`":` and `{`) one frame may contain; more is refused before parsing. */
  maxFrameKeys: number;
  /** Offers delivered to one connection per second, sustained (token bucket refill rate). */
  offerRate: number;
  /** Offers delivered to one connection in a burst. */
  offerBurst: number;
  /** Bytes queued for one socket that has not read them; more closes it. */
  maxQueuedBytes: number;
  /** Bytes queued for all sockets together; above it the largest queues are closed first. */
  maxTotalQueuedBytes: number;
  /** Seconds a socket's queue may stay non-empty before the socket is closed; 0 = never. */
  queueDrainTimeout: number;
  /** Seconds an owner has to answer a ping when another socket claims its peer_id. */
  peerClaimTimeout: number;
  /** Sockets open at once with one access token; 0 = unlimited. */
  maxConnectionsPerToken: number;
  /** Longest token lifetime accepted (exp minus now), seconds; 0 = no maximum. */
  maxTokenTtl: number;
}

export interface TrackerOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Announce interval sent to clients, seconds. Peers silent for twice this are dropped. */
  interval: number;
  /** HMAC secret for signed access tokens; empty = public tracker. */
  secret: string;
  /** Allowed values of the Origin header; empty = any origin. */
  origins: string[];
  /** Answer a scrape without info_hash with every swarm. */
  fullScrape: boolean;
  /**
   * Proxies in front of the tracker: the client address is the N-th X-Forwarded-For hop counted
   * from the end (the one the outermost trusted proxy appended); 0 = use the socket's address.
   */
  trustProxy: number;
  /** Bearer secret /metrics and /stats.json require; empty = open. */
  metricsSecret: string;
  /** Serve /metrics and /stats.json on this separate port only (0 = on the main port). */
  metricsPort: number;
  /** Interface of that separate listener. */
  metricsHost: string;
  /** TLS certificate and key files (PEM); both set = serve wss:// and https://. */
  cert: string;
  key: string;
  /** Seconds /health reports 503 before sockets are closed on shutdown. */
  drainGrace: number;
  /** Seconds to wait for closing handshakes before connections are cut. */
  drainTimeout: number;
  logLevel: LogLevel;
  /** redis://host:port of the Redis that nodes of one cluster share; empty = a single node. */
  redis: string;
  limits: TrackerLimits;
}

/** What {@link startTracker} accepts: any subset, limits included. */
export type TrackerInit = Partial<Omit<TrackerOptions, "limits" | "trustProxy">> & {
  limits?: Partial<TrackerLimits>;
  trustProxy?: number | boolean;
};

export const DEFAULT_TRACKER_OPTIONS: Readonly<TrackerOptions> = Object.freeze({
  host: "0.0.0.0",
  port: 8000,
  interval: 120,
  secret: "",
  origins: [],
  fullScrape: false,
  trustProxy: 0,
  metricsSecret: "",
  metricsPort: 0,
  metricsHost: "127.0.0.1",
  cert: "",
  key: "",
  drainGrace: 0,
  drainTimeout: 3,
  logLevel: "info",
  redis: "",
  limits: Object.freeze({
    maxPayload: 64 * 1024,
    maxConnectionsPerIp: 200,
    messageRate: 20,
    messageBurst: 20,
    maxSwarmsPerConnection: 32,
    maxOffersPerAnnounce: 10,
    maxScrapeHashes: 64,
    maxPendingOffers: 200_000,
    maxPendingOffersPerConnection: 100,
    offerTtl: 60,
    idleTimeout: 600,
    pingInterval: 30,
    byteRate: 32 * 1024,
    byteBurst: 128 * 1024,
    ipByteRate: 256 * 1024,
    ipByteBurst: 1024 * 1024,
    maxFrameKeys: 256,
    offerRate: 1,
    offerBurst: 30,
    maxQueuedBytes: 256 * 1024,
    maxTotalQueuedBytes: 256 * 1024 * 1024,
    queueDrainTimeout: 30,
    peerClaimTimeout: 2,
    maxConnectionsPerToken: 10,
    maxTokenTtl: 86_400,
  }),
} as TrackerOptions);

const LOG_LEVELS: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** "hops": an integer ≥ 0, where a bare flag or `true` means 1 and `false` means 0. */
type Kind = "int" | "number" | "string" | "bool" | "list" | "level" | "hops";

export interface OptionSpec {
  /** Key in TrackerOptions, or "limits.x". */
  key: string;
  flag: string;
  env: string;
  kind: Kind;
  min?: number;
  max?: number;
  help: string;
}

function spec(key: string, kind: Kind, help: string, range: { min?: number; max?: number } = {}): OptionSpec {
  const name = key.replace(/^limits\./, "");
  const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const env = `SWARMCAST_TRACKER_${flag.replace(/-/g, "_").toUpperCase()}`;
  return { key, flag, env, kind, help, ...range };
}

export const OPTION_SPECS: OptionSpec[] = [
  spec("host", "string", "interface to listen on"),
  spec("port", "int", "TCP port (0 = any free port)", { min: 0, max: 65535 }),
  spec("interval", "int", "announce interval sent to clients, seconds", { min: 1, max: 86400 }),
  spec("secret", "string", "HMAC secret: when set, clients need a signed ?token="),
  spec("origins", "list", "comma-separated allowed Origin values (empty = any)"),
  spec("fullScrape", "bool", "answer a scrape without info_hash with all swarms"),
  spec(
    "trustProxy",
    "hops",
    "proxies in front: client address = N-th X-Forwarded-For hop from the end (bare flag = 1)",
    { min: 0, max: 16 },
  ),
  spec("metricsSecret", "string", "bearer secret required by /metrics and /stats.json (empty = open)"),
  spec("metricsPort", "int", "serve /metrics and /stats.json only on this port (0 = main port)", {
    min: 0,
    max: 65535,
  }),
  spec("metricsHost", "string", "interface of the --metrics-port listener"),
  spec("cert", "string", "TLS certificate file (PEM); with --key serves wss://"),
  spec("key", "string", "TLS private key file (PEM)"),
  spec("drainGrace", "number", "seconds /health says 503 before sockets close on shutdown", { min: 0, max: 300 }),
  spec("drainTimeout", "number", "seconds to wait for close handshakes on shutdown", { min: 0, max: 300 }),
  spec("logLevel", "level", `log level: ${LOG_LEVELS.join(", ")}`),
  spec("redis", "string", "redis://host:port shared by the nodes of a cluster (empty = single node)"),
  spec("limits.maxPayload", "int", "largest WebSocket frame, bytes", { min: 256, max: 64 * 1024 * 1024 }),
  spec("limits.maxConnectionsPerIp", "int", "connections per client IP (0 = unlimited)", { min: 0 }),
  spec("limits.messageRate", "number", "messages per second per connection (sustained)", { min: 0.001 }),
  spec("limits.messageBurst", "int", "messages per connection in a burst", { min: 1 }),
  spec("limits.maxSwarmsPerConnection", "int", "swarms one connection may join", { min: 1 }),
  spec("limits.maxOffersPerAnnounce", "int", "offers relayed per announce", { min: 0, max: 100 }),
  spec("limits.maxScrapeHashes", "int", "info_hashes per scrape request", { min: 1 }),
  spec("limits.maxPendingOffers", "int", "relayed offers remembered for answer matching", { min: 1 }),
  spec("limits.maxPendingOffersPerConnection", "int", "share of those one connection may hold", { min: 1 }),
  spec("limits.offerTtl", "number", "seconds an answer to a relayed offer is accepted", { min: 0.001 }),
  spec("limits.idleTimeout", "number", "close connections silent this many seconds (0 = never)", { min: 0 }),
  spec("limits.pingInterval", "number", "seconds between pings; one missed pong closes (0 = off)", { min: 0 }),
  spec("limits.byteRate", "number", "payload bytes per second per connection (sustained)", { min: 1 }),
  spec("limits.byteBurst", "int", "payload bytes per connection in a burst (≥ max-payload)", { min: 256 }),
  spec("limits.ipByteRate", "number", "payload bytes per second per client IP (sustained)", { min: 1 }),
  spec("limits.ipByteBurst", "int", "payload bytes per client IP in a burst (≥ max-payload)", { min: 256 }),
  spec("limits.maxFrameKeys", "int", "keys and objects in one frame; more is refused unparsed", { min: 16 }),
  spec("limits.offerRate", "number", "offers delivered to one connection per second (sustained)", { min: 0.001 }),
  spec("limits.offerBurst", "int", "offers delivered to one connection in a burst", { min: 1 }),
  spec("limits.maxQueuedBytes", "int", "unsent bytes queued for one socket before it is closed", { min: 1024 }),
  spec("limits.maxTotalQueuedBytes", "int", "unsent bytes queued for all sockets; largest closed first", { min: 1024 }),
  spec("limits.queueDrainTimeout", "number", "seconds a socket's queue may stay unsent (0 = no limit)", { min: 0 }),
  spec("limits.peerClaimTimeout", "number", "seconds the owner of a claimed peer_id has to answer a ping", {
    min: 0.05,
    max: 60,
  }),
  spec("limits.maxConnectionsPerToken", "int", "sockets open at once with one token (0 = unlimited)", { min: 0 }),
  spec("limits.maxTokenTtl", "number", "longest token lifetime accepted, seconds (0 = no maximum)", { min: 0 }),
];

export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = "OptionError";
  }
}

/** Parses a textual value (flag or env) for one option; throws an OptionError naming it. */
export function parseOptionValue(s: OptionSpec, raw: string, label: string): unknown {
  switch (s.kind) {
    case "string":
      return raw;
    case "list":
      return raw
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    case "hops":
      if (/^(true|yes|on)?$/i.test(raw)) return 1;
      if (/^(false|no|off)$/i.test(raw)) return 0;
      if (!/^\d+$/.test(raw))
        throw new OptionError(label, `expected a number of proxies (or no value for 1), got "${raw}"`);
      checkValue(s, Number(raw), label);
      return Number(raw);
    case "bool":
      if (/^(1|true|yes|on)?$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new OptionError(label, `expected true or false, got "${raw}"`);
    case "level":
      if (!LOG_LEVELS.includes(raw as LogLevel)) {
        throw new OptionError(label, `expected one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
      }
      return raw;
    case "int":
    case "number": {
      const n = raw.trim() === "" ? NaN : Number(raw);
      if (!Number.isFinite(n) || (s.kind === "int" && !Number.isInteger(n))) {
        throw new OptionError(label, `expected ${s.kind === "int" ? "an integer" : "a number"}, got "${raw}"`);
      }
      checkValue(s, n, label);
      return n;
    }
  }
}

function checkValue(s: OptionSpec, value: unknown, label: string): void {
  switch (s.kind) {
    case "string":
    case "level":
      if (typeof value !== "string") throw new OptionError(label, "expected a string");
      if (s.kind === "level" && !LOG_LEVELS.includes(value as LogLevel)) {
        throw new OptionError(label, `expected one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
      }
      return;
    case "bool":
      if (typeof value !== "boolean") throw new OptionError(label, "expected a boolean");
      return;
    case "list":
      if (!Array.isArray(value) || value.some((x) => typeof x !== "string")) {
        throw new OptionError(label, "expected a list of strings");
      }
      return;
    case "hops":
    case "int":
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value) || (s.kind !== "number" && !Number.isInteger(value))) {
        throw new OptionError(
          label,
          `expected ${s.kind !== "number" ? "an integer" : "a number"}, got ${String(value)}`,
        );
      }
      if (s.min !== undefined && value < s.min) throw new OptionError(label, `must be ≥ ${s.min}, got ${value}`);
      if (s.max !== undefined && value > s.max) throw new OptionError(label, `must be ≤ ${s.max}, got ${value}`);
  }
}

function get(obj: Record<string, unknown>, key: string): unknown {
  const [a, b] = key.split(".");
  if (b === undefined) return obj[a];
  const inner = obj[a] as Record<string, unknown> | undefined;
  return inner?.[b];
}

/** Merges a partial configuration over the defaults and validates every field. */
export function resolveOptions(init: TrackerInit = {}): TrackerOptions {
  const known = new Set(OPTION_SPECS.map((s) => s.key.split(".")[0]));
  for (const k of Object.keys(init)) {
    if (!known.has(k)) throw new OptionError(k, "unknown option");
  }
  const limitKeys = new Set(OPTION_SPECS.filter((s) => s.key.startsWith("limits.")).map((s) => s.key.slice(7)));
  for (const k of Object.keys(init.limits ?? {})) {
    if (!limitKeys.has(k)) throw new OptionError(`limits.${k}`, "unknown limit");
  }
  const merged: TrackerOptions = {
    ...DEFAULT_TRACKER_OPTIONS,
    ...stripUndefined(init),
    // `true` keeps meaning one trusted proxy, as the flag did before it took a count.
    ...(typeof init.trustProxy === "boolean" ? { trustProxy: init.trustProxy ? 1 : 0 } : {}),
    origins: [...(init.origins ?? DEFAULT_TRACKER_OPTIONS.origins)],
    limits: { ...DEFAULT_TRACKER_OPTIONS.limits, ...stripUndefined(init.limits ?? {}) },
  } as TrackerOptions;
  for (const s of OPTION_SPECS) checkValue(s, get(merged as unknown as Record<string, unknown>, s.key), s.key);
  for (const burst of ["byteBurst", "ipByteBurst"] as const) {
    if (merged.limits[burst] < merged.limits.maxPayload) {
      throw new OptionError(
        `limits.${burst}`,
        `must be ≥ maxPayload (${merged.limits.maxPayload}) so one frame fits, got ${merged.limits[burst]}`,
      );
    }
  }
  if (merged.redis !== "" && !/^rediss?:\/\/[^/\s]+(\/\d+)?$/.test(merged.redis)) {
    throw new OptionError("redis", `expected redis://host:port, got "${merged.redis}"`);
  }
  if ((merged.cert === "") !== (merged.key === "")) {
    throw new OptionError(merged.cert === "" ? "cert" : "key", "--cert and --key must be given together");
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
