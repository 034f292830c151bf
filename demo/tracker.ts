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
}

export interface LocalTracker {
  /** ws://host:port */
  url: string;
  swarm(): SwarmCounts;
  close(): Promise<void>;
}

/** Starts swarmcast's tracker on `host` (loopback) at a free port, logging only problems. */
export async function startLocalTracker(host: string): Promise<LocalTracker> {
  const tracker = await startTracker({ host, port: 0, logLevel: "warn", drainTimeout: 1 });
  return {
    url: tracker.url,
    swarm() {
      const { swarms, peers } = tracker.stats();
      return { swarms, peers };
    },
    close: () => tracker.close(),
  };
}
