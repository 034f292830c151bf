import type { Core } from "p2p-media-loader-core";

/** Segments and bytes a viewer took from the CDN for one cause. */
export interface CauseCount {
  segments: number;
  bytes: number;
}

/**
 * Why a viewer's segments came from the CDN: every CDN segment is either a seed (this viewer's
 * own early fetch at the live edge, made before anybody announced it), a PML load that went
 * straight to HTTP (urgent before any peer had announced it), or a PML load that fell back to
 * HTTP after a peer attempt failed, by the attempt's last error.
 */
export interface HttpCauseCounts {
  edge: CauseCount;
  direct: CauseCount;
  afterPeer: CauseCount;
  /** Fallbacks after a peer attempt, by PML's error type of the last failed attempt ("abort": given up for HTTP). */
  afterPeerByError: Record<string, number>;
}

/** Segments whose PML attempts are remembered. */
const KEEP_SEGMENTS = 64;

/** Sorts a viewer's CDN segments by cause, from PML's segment events and the path's `segment` events. */
export class HttpCauses {
  readonly counts: HttpCauseCounts = {
    edge: { segments: 0, bytes: 0 },
    direct: { segments: 0, bytes: 0 },
    afterPeer: { segments: 0, bytes: 0 },
    afterPeerByError: {},
  };
  /** Per segment URL: whether PML started it over HTTP, and the last peer attempt's outcome. */
  private readonly attempts = new Map<string, { http: boolean; peerError: string | null }>();

  constructor(core: Pick<Core, "addEventListener">) {
    core.addEventListener("onSegmentStart", ({ segment, downloadSource }) => {
      const entry = this.entry(segment.url);
      if (downloadSource === "http") entry.http = true;
      // A new peer attempt counts as given up until PML reports an error for it.
      else entry.peerError = "abort";
    });
    core.addEventListener("onSegmentError", ({ segment, downloadSource, error }) => {
      if (downloadSource === "p2p") this.entry(segment.url).peerError = error.type;
    });
  }

  /** A whole segment the viewer loaded; only HTTP ones are sorted. */
  noteSegment(url: string, bytes: number, source: string): void {
    if (source !== "http") return;
    const attempt = this.attempts.get(url);
    const cause = !attempt?.http ? this.counts.edge : attempt.peerError ? this.counts.afterPeer : this.counts.direct;
    cause.segments++;
    cause.bytes += bytes;
    if (attempt?.http && attempt.peerError) {
      this.counts.afterPeerByError[attempt.peerError] = (this.counts.afterPeerByError[attempt.peerError] ?? 0) + 1;
    }
  }

  private entry(url: string): { http: boolean; peerError: string | null } {
    let entry = this.attempts.get(url);
    if (!entry) {
      this.attempts.set(url, (entry = { http: false, peerError: null }));
      if (this.attempts.size > KEEP_SEGMENTS) this.attempts.delete(this.attempts.keys().next().value as string);
    }
    return entry;
  }
}
