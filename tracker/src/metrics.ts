/**
 * Prometheus exposition. Each tracker owns a registry (several may run in one process, as in
 * tests); every metric is read from TrackerStats/TrackerCore at scrape time.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { TrackerCore } from "./core";
import type { OutputQueues } from "./limits/output-queues";
import type { TrackerStats } from "./stats";

const P = "swarmcast_tracker_";

export function createMetrics(
  core: TrackerCore,
  stats: TrackerStats,
  output: OutputQueues,
  processMetrics: boolean,
): Registry {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: P, eventLoopMonitoringPrecision: 50 });

  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: P + name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name: P + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  gauge("connections", "Open WebSocket connections.", () => core.connections.size);
  gauge("swarms", "Swarms with at least one peer.", () => core.swarms.size);
  gauge("peers", "Peers across all swarms.", () => core.peerCount);
  gauge("pending_offers", "Relayed offers awaiting an answer.", () => core.pendingOffers);
  gauge(
    "queued_bytes",
    "Bytes queued for sockets that have not read them (at the last check).",
    () => output.totalQueued,
  );
  counter("connections_closed_slow_total", "Connections closed for not reading their output.", () => output.closed);
  counter(
    "connections_closed_token_expired_total",
    "Connections closed when their access token expired.",
    () => stats.connectionsClosedTokenExpired,
  );
  counter(
    "read_pauses_total",
    "Times a socket was not read until its (or its IP's) byte budget refilled.",
    () => core.throttle.pauses,
  );
  counter(
    "offers_dropped_total",
    "Offers not relayed (target's offer budget spent, or pending table full).",
    () => stats.offersDropped,
  );
  counter(
    "peer_ids_moved_total",
    "Peer ids moved to a new socket after their owner missed the claim ping.",
    () => stats.peerIdsMoved,
  );
  counter("connections_accepted_total", "WebSocket connections accepted.", () => stats.connectionsAccepted);
  counter("connections_closed_idle_total", "Connections closed for inactivity.", () => stats.connectionsClosedIdle);
  counter(
    "connections_closed_heartbeat_total",
    "Connections closed after a missed pong.",
    () => stats.connectionsClosedHeartbeat,
  );
  counter("messages_received_total", "Frames received.", () => stats.messages);
  counter("announces_total", "Announces handled (answers excluded).", () => stats.announces);
  counter("scrapes_total", "Scrapes handled.", () => stats.scrapes);
  counter("offers_relayed_total", "Offers relayed to another peer.", () => stats.offersRelayed);
  counter("answers_received_total", "Answer frames received.", () => stats.answers);
  counter("answers_relayed_total", "Answers relayed to the offering peer.", () => stats.answersRelayed);
  counter("peers_swept_total", "Peers dropped for missing their announces.", () => stats.peersSwept);
  counter("bytes_received_total", "WebSocket payload bytes received.", () => stats.bytesIn);
  counter("bytes_sent_total", "WebSocket frame bytes sent.", () => stats.bytesOut);
  counter("frames_sent_total", "WebSocket frames sent.", () => stats.framesOut);
  counter(
    "socket_writes_total",
    "Socket writes carrying those frames (coalesced per event-loop turn).",
    () => stats.writes,
  );

  new Counter({
    name: P + "failures_total",
    help: "Frames refused, by reason.",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of stats.failures) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: P + "rejected_connections_total",
    help: "Connections refused at upgrade, by reason.",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of stats.rejections) this.inc({ reason }, n);
    },
  });
  return registry;
}
