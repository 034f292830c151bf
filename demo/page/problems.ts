/**
 * Errors in plain words: what happened, and what the viewer keeps (playback from the CDN)
 * or should check. Repeats collapse into one line with a count. Pure.
 */
import type { SwarmcastErrorEvent } from "../../sdk/src/index";

export interface Problem {
  /** Stable key: repeats of one problem share it. */
  key: string;
  text: string;
  severity: "info" | "warning" | "error";
  count: number;
  firstAt: number;
  lastAt: number;
}

interface Context {
  src: string;
  tracker: string;
}

/** Turns an SDK error event into a sentence and a key that groups its repeats. */
export function describeError(
  event: Pick<SwarmcastErrorEvent, "kind" | "message" | "fatal">,
  context: Context,
): Omit<Problem, "count" | "firstAt" | "lastAt"> {
  const detail = event.message.replace(/^Swarmcast:\s*/, "");
  switch (event.kind) {
    case "tracker":
      if (/warning/i.test(detail)) {
        return {
          key: `tracker-warning:${detail}`,
          severity: "warning",
          text: `The tracker sent a warning (${detail.replace(/^tracker warning:\s*/, "")}).`,
        };
      }
      if (/connection lost/i.test(detail)) {
        return {
          key: "tracker-lost",
          severity: "warning",
          text:
            `The connection to the tracker at ${context.tracker} dropped; reconnecting. Peers already ` +
            "connected keep sharing segments; new viewers are introduced again once it is back.",
        };
      }
      return {
        key: "tracker-error",
        severity: "warning",
        text: `Cannot reach the tracker at ${context.tracker}. No peers can be found, so this viewer plays everything from the CDN.`,
      };
    case "peer":
      if (/WebRTC is not available/i.test(detail)) {
        return {
          key: "no-webrtc",
          severity: "warning",
          text: "This browser has no WebRTC, so it cannot share with peers; it plays from the CDN only.",
        };
      }
      return {
        key: "peer",
        severity: "info",
        text: "A connection to a peer failed; its segments come from other peers or the CDN.",
      };
    case "network":
      if (/manifest|playlist|levelLoad/i.test(detail)) {
        return {
          key: `playlist:${event.fatal}`,
          severity: event.fatal ? "error" : "warning",
          text: event.fatal
            ? `The stream at ${context.src} could not be loaded. Check the link, and that its server allows cross-origin requests (CORS). (${detail})`
            : `Loading the playlist failed; retrying. (${detail})`,
        };
      }
      return {
        key: `network:${event.fatal}`,
        severity: event.fatal ? "error" : "warning",
        text: event.fatal
          ? `Downloading the stream failed and playback stopped. (${detail})`
          : `A download from the CDN failed; retrying. (${detail})`,
      };
    case "integrity":
      return {
        key: "integrity",
        severity: "warning",
        text: `A segment from a peer failed its SHA-256 check: the peer was dropped and the segment came from the CDN instead. (${detail})`,
      };
    case "media":
      return {
        key: `media:${event.fatal}`,
        severity: event.fatal ? "error" : "warning",
        text: event.fatal
          ? `The browser could not decode the video and playback stopped. (${detail})`
          : `A decoding hiccup; the player recovered. (${detail})`,
      };
    default:
      return { key: `other:${detail}`, severity: event.fatal ? "error" : "warning", text: `Player problem: ${detail}` };
  }
}

export class ProblemLog {
  private readonly problems = new Map<string, Problem>();

  constructor(private readonly limit = 8) {}

  add(entry: Omit<Problem, "count" | "firstAt" | "lastAt">, now: number): void {
    const existing = this.problems.get(entry.key);
    if (existing) {
      existing.count++;
      existing.lastAt = now;
      existing.text = entry.text;
      this.problems.delete(entry.key);
      this.problems.set(entry.key, existing);
    } else {
      this.problems.set(entry.key, { ...entry, count: 1, firstAt: now, lastAt: now });
    }
    while (this.problems.size > this.limit) {
      const oldest = this.problems.keys().next().value as string;
      this.problems.delete(oldest);
    }
  }

  /** Newest first. */
  list(): Problem[] {
    return [...this.problems.values()].reverse();
  }
}
