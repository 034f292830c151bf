/**
 * The tracker the demo starts when none is given: the one place that knows which tracker
 * implementation runs, so the rest of the demo sees only {@link LocalTracker}.
 */
import { startTracker } from "../tracker/src/index.js";

export interface SwarmCounts {
  /** Swarms (one per stream rendition) with at least one peer. */
  swarms: number;
  /** Peers announced across all swarms. */
  peers: number;
  /** What viewers' stats beacons reported, all swarms together (the audience-wide offload). */
  audience: { cdn: number; peers: number; offloadRatio: number; beacons: number };
}

export interface LocalTracker {
  /** ws://host:port */
  url: string;
  /** http://host:port of the tracker's HTTP endpoints (/beacon, /stats.json). */
  httpUrl: string;
  swarm(): SwarmCounts;
  close(): Promise<void>;
}

/** Starts swarmcast's tracker on `host` (loopback) at a free port, logging only problems. */
export async function startLocalTracker(host: string): Promise<LocalTracker> {
  const tracker = await startTracker({ host, port: 0, logLevel: "warn", drainTimeout: 1 });
  return {
    url: tracker.url,
    httpUrl: tracker.httpUrl,
    swarm() {
      const { swarms, peers, audience } = tracker.stats();
      const { cdn, peers: fromPeers, offloadRatio, beacons } = audience.total;
      return { swarms, peers, audience: { cdn, peers: fromPeers, offloadRatio, beacons } };
    },
    close: () => tracker.close(),
  };
}
