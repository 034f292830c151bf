/**
 * One line on the tracker connection, from what the page can see: the SDK's tracker errors,
 * connected peers, and a plain WebSocket probe of the tracker URL. Pure.
 */

export type ProbeState = "pending" | "reachable" | "unreachable";

export interface TrackerView {
  /** One or two words. */
  text: string;
  detail: string;
  tone: "ok" | "wait" | "bad";
}

export interface TrackerInput {
  p2pEnabled: boolean;
  probe: ProbeState;
  peers: number;
  /** Milliseconds since the SDK last reported a tracker error, or null if never. */
  msSinceError: number | null;
}

/** An error older than this no longer colours the state if the probe went through since. */
export const TRACKER_ERROR_MEMORY_MS = 20_000;

export function trackerView(input: TrackerInput): TrackerView {
  if (!input.p2pEnabled) return { text: "not used", detail: "P2P is off: HTTP only", tone: "bad" };
  if (input.peers > 0)
    return { text: "connected", detail: `introduced ${input.peers} peer${input.peers === 1 ? "" : "s"}`, tone: "ok" };
  const recentError = input.msSinceError !== null && input.msSinceError < TRACKER_ERROR_MEMORY_MS;
  if (input.probe === "unreachable" || (recentError && input.probe !== "reachable")) {
    return { text: "unreachable", detail: "retrying; playing from the CDN", tone: "bad" };
  }
  if (recentError) return { text: "reconnecting…", detail: "the connection dropped", tone: "wait" };
  if (input.probe === "reachable") return { text: "connected", detail: "waiting for other viewers", tone: "ok" };
  return { text: "connecting…", detail: "", tone: "wait" };
}

/** Opens and closes a WebSocket to `url`: whether the tracker accepts connections at all. */
export function probeTracker(url: string, timeoutMs = 5000): Promise<"reachable" | "unreachable"> {
  return new Promise((resolve) => {
    let done = false;
    let ws: WebSocket;
    const finish = (state: "reachable" | "unreachable") => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        ws.close();
      } catch {
        // already closed
      }
      resolve(state);
    };
    const timer = setTimeout(() => finish("unreachable"), timeoutMs);
    try {
      ws = new WebSocket(url);
    } catch {
      return finish("unreachable");
    }
    ws.onopen = () => finish("reachable");
    ws.onerror = () => finish("unreachable");
    ws.onclose = () => finish("unreachable");
  });
}
