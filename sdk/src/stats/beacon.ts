/**
 * The stats beacon: every `intervalMs`, the bytes this viewer took from the CDN and from peers
 * and sent to peers since the previous beacon, POSTed to the tracker's /beacon for its swarm,
 * so the broadcaster sees audience-wide offload. Deltas, so nothing is counted twice; a last
 * beacon leaves on stop(). Sent as text/plain (navigator.sendBeacon when present): no CORS
 * preflight, nothing to wait for.
 */
import { TOKEN_QUERY_PARAM } from "../../../shared/protocol";

export interface BeaconCounters {
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
}

export interface StatsBeaconOptions {
  url: string;
  swarm: string;
  intervalMs: number;
  read: () => BeaconCounters;
}

/** The tracker's beacon URL for a tracker WebSocket URL: same host, http(s), /beacon, token kept. */
export function beaconUrlOf(trackerUrl: string): string {
  const url = new URL(trackerUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = "/beacon";
  const token = url.searchParams.get(TOKEN_QUERY_PARAM);
  url.search = "";
  if (token !== null) url.searchParams.set(TOKEN_QUERY_PARAM, token);
  return url.href;
}

export function startStatsBeacon(options: StatsBeaconOptions): { stop(): void } {
  let sent: BeaconCounters = { httpBytes: 0, p2pBytes: 0, uploadedBytes: 0 };
  const send = () => {
    const now = options.read();
    const body = JSON.stringify({
      swarm: options.swarm.slice(0, 200),
      cdn: Math.max(0, now.httpBytes - sent.httpBytes),
      peers: Math.max(0, now.p2pBytes - sent.p2pBytes),
      uploaded: Math.max(0, now.uploadedBytes - sent.uploadedBytes),
    });
    sent = { ...now };
    const nav = globalThis.navigator as Navigator | undefined;
    if (typeof nav?.sendBeacon === "function" && nav.sendBeacon(options.url, body)) return;
    fetch(options.url, { method: "POST", body, keepalive: true, headers: { "content-type": "text/plain" } }).catch(
      () => {},
    );
  };
  const timer = setInterval(send, options.intervalMs);
  return {
    stop() {
      clearInterval(timer);
      send();
    },
  };
}
