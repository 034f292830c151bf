/**
 * Programmatic entry point: `startTracker()` starts a tracker and resolves once it listens.
 */
import pino, { type Logger } from "pino";
import { resolveOptions, type TrackerInit, type TrackerOptions } from "./options";
import { TrackerServer } from "./server";

export { DEFAULT_TRACKER_OPTIONS, OPTION_SPECS, OptionError, resolveOptions } from "./options";
export type { LogLevel, TrackerInit, TrackerLimits, TrackerOptions } from "./options";
export { mintToken, verifyToken } from "./token";
export type { AccessGrant, MintOptions, TokenCheck } from "./token";
export { PML_INFO_HASH_VERSION, streamShortId, swarmInfoHash } from "./swarm-info-hash";
export type { StreamAttributes } from "./swarm-info-hash";

export interface RunningTracker {
  /** ws:// (or wss://) URL clients announce to. */
  url: string;
  /** http:// (or https://) base of /health, /metrics and /stats.json. */
  httpUrl: string;
  port: number;
  host: string;
  options: TrackerOptions;
  /** Counts kept incrementally (the body of /stats.json). */
  stats(): ReturnType<TrackerServer["snapshot"]>;
  /** Prometheus exposition text (the body of /metrics). */
  metrics(): Promise<string>;
  /** Drains: refuses new connections, closes open ones with 1001, stops listening. */
  close(): Promise<void>;
  readonly server: TrackerServer;
}

export interface StartOptions {
  /** Use this pino logger instead of creating one from logLevel. */
  logger?: Logger;
}

export async function startTracker(options: TrackerInit & StartOptions = {}): Promise<RunningTracker> {
  const { logger, ...init } = options;
  const resolved = resolveOptions(init);
  const log = logger ?? pino({ level: resolved.logLevel, base: { name: "swarmcast-tracker" } });
  // ioredis and the cluster code load only for a cluster node.
  const cluster =
    resolved.redis === ""
      ? null
      : new (await import("./cluster/redis-directory")).RedisDirectory(
          resolved.redis,
          log,
          resolved.limits.maxPendingOffers,
          resolved.limits.offerTtl * 1000,
          resolved.limits.peerClaimTimeout * 1000 + 5000,
        );
  const server = new TrackerServer(resolved, log, cluster);
  const address = await server.listen();
  const host = urlHost(resolved.host === "0.0.0.0" || resolved.host === "::" ? "127.0.0.1" : resolved.host);
  const tls = resolved.cert !== "";
  const tracker: RunningTracker = {
    url: `${tls ? "wss" : "ws"}://${host}:${address.port}`,
    httpUrl: `${tls ? "https" : "http"}://${host}:${address.port}`,
    port: address.port,
    host: resolved.host,
    options: resolved,
    stats: () => server.snapshot(),
    metrics: () => server.registry.metrics(),
    close: () => server.close(),
    server,
  };
  if (server.cluster !== null) await server.cluster.start(server.core, tracker.url);
  log.info(
    { url: tracker.url, interval: resolved.interval, private: resolved.secret !== "", node: server.cluster?.id },
    "tracker listening",
  );
  return tracker;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
