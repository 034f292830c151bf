/**
 * Figures of one mode, computed from cumulative counters: the origin's per-client egress and
 * each viewer's snapshots. Pure functions, so the arithmetic is testable without a browser.
 */
import type { ClientEgress } from "../../devkit/origin/index.js";
import type { ViewerSnapshot } from "../pages/viewer.js";

export interface ViewerRecord {
  id: string;
  slot: number;
  joinedAt: number;
  leftAt: number | null;
  pageErrors: number;
  samples: ViewerSnapshot[];
}

export interface EgressSample {
  at: number;
  byClient: Record<string, ClientEgress>;
}

export interface Distribution {
  n: number;
  median: number | null;
  p95: number | null;
  max: number | null;
}

export interface WindowFigures {
  /** Epoch ms the window starts and ends. */
  from: number;
  to: number;
  /** Viewers present at any time in the window. */
  viewers: number;
  egressSegmentBytes: number;
  egressPlaylistBytes: number;
  /** Segment bytes the viewers received, HTTP + peers. */
  consumedBytes: number;
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
  /** 1 − egress segment bytes / consumed bytes; null without consumed bytes. */
  offload: number | null;
  /** p2p / consumed as the viewers count it: cross-checks `offload`. */
  viewerReportedOffload: number | null;
  /** consumed / egress: ≈ 1 when nothing comes from peers. */
  consumedToEgress: number | null;
  stalls: number;
  stalledMs: number;
  watchMs: number;
  /** stalledMs / watchMs. */
  rebufferShare: number | null;
  latencySeconds: Distribution;
  hlsFatal: number;
  hlsNonFatal: number;
  playerErrors: number;
  /** Per viewer: p2p / (http + p2p) in the window; null for a viewer that received nothing. */
  p2pShareByViewer: Record<string, number | null>;
  p2pShare: Distribution;
}

const ZERO: ViewerSnapshot = {
  at: 0,
  startedAt: 0,
  firstFrameAt: null,
  playing: false,
  stalls: 0,
  stalledMs: 0,
  watchMs: 0,
  httpBytes: 0,
  p2pBytes: 0,
  uploadedBytes: 0,
  peers: 0,
  latency: null,
  hlsFatal: 0,
  hlsNonFatal: 0,
  playerErrors: 0,
  recentErrors: [],
};

export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { n: 0, median: null, p95: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted[sorted.length - 1],
  };
}

/** Linear interpolation between closest ranks, on sorted input. */
export function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** The last snapshot taken at or before `at`, or zeros before the first. */
export function snapshotAt(samples: ViewerSnapshot[], at: number): ViewerSnapshot {
  let found = ZERO;
  for (const s of samples) {
    if (s.at <= at) found = s;
    else break;
  }
  return found;
}

function egressAt(samples: EgressSample[], at: number, client: string): ClientEgress {
  let found: ClientEgress | undefined;
  for (const s of samples) {
    if (s.at <= at) found = s.byClient[client];
    else break;
  }
  return found ?? { segmentBytes: 0, playlistBytes: 0, requests: 0, errors: 0, faults: 0, repeatedSegments: 0 };
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/**
 * Figures over [from, to]: deltas of the cumulative counters between the snapshots in force at
 * the two instants. The bench samples every viewer and the origin at both instants.
 */
export function windowFigures(
  viewers: ViewerRecord[],
  egress: EgressSample[],
  from: number,
  to: number,
): WindowFigures {
  const inWindow = viewers.filter((v) => v.joinedAt <= to && (v.leftAt === null || v.leftAt >= from));
  let egressSegmentBytes = 0;
  let egressPlaylistBytes = 0;
  let httpBytes = 0;
  let p2pBytes = 0;
  let uploadedBytes = 0;
  let stalls = 0;
  let stalledMs = 0;
  let watchMs = 0;
  let hlsFatal = 0;
  let hlsNonFatal = 0;
  let playerErrors = 0;
  const latencies: number[] = [];
  const p2pShareByViewer: Record<string, number | null> = {};
  for (const viewer of inWindow) {
    const start = snapshotAt(viewer.samples, from);
    const end = snapshotAt(viewer.samples, to);
    const e0 = egressAt(egress, from, viewer.id);
    const e1 = egressAt(egress, to, viewer.id);
    egressSegmentBytes += e1.segmentBytes - e0.segmentBytes;
    egressPlaylistBytes += e1.playlistBytes - e0.playlistBytes;
    const http = end.httpBytes - start.httpBytes;
    const p2p = end.p2pBytes - start.p2pBytes;
    httpBytes += http;
    p2pBytes += p2p;
    uploadedBytes += end.uploadedBytes - start.uploadedBytes;
    stalls += end.stalls - start.stalls;
    stalledMs += end.stalledMs - start.stalledMs;
    watchMs += end.watchMs - start.watchMs;
    hlsFatal += end.hlsFatal - start.hlsFatal;
    hlsNonFatal += end.hlsNonFatal - start.hlsNonFatal;
    playerErrors += end.playerErrors - start.playerErrors;
    p2pShareByViewer[viewer.id] = ratio(p2p, http + p2p);
    for (const s of viewer.samples) {
      if (s.at >= from && s.at <= to && s.latency !== null) latencies.push(s.latency);
    }
  }
  const consumedBytes = httpBytes + p2pBytes;
  const shares = Object.values(p2pShareByViewer).filter((v): v is number => v !== null);
  return {
    from,
    to,
    viewers: inWindow.length,
    egressSegmentBytes,
    egressPlaylistBytes,
    consumedBytes,
    httpBytes,
    p2pBytes,
    uploadedBytes,
    offload: consumedBytes > 0 ? 1 - egressSegmentBytes / consumedBytes : null,
    viewerReportedOffload: ratio(p2pBytes, consumedBytes),
    consumedToEgress: ratio(consumedBytes, egressSegmentBytes),
    stalls,
    stalledMs,
    watchMs,
    rebufferShare: ratio(stalledMs, watchMs),
    latencySeconds: distribution(latencies),
    hlsFatal,
    hlsNonFatal,
    playerErrors,
    p2pShareByViewer,
    p2pShare: distribution(shares),
  };
}

/** (N−1)/N: at least one of N viewers watching the same segments fetches each from the CDN. */
export function offloadBound(viewers: number): number {
  return viewers > 0 ? (viewers - 1) / viewers : 0;
}

/** Startup: attach to first rendered frame, per viewer that started. */
export function startupDistribution(viewers: ViewerRecord[]): { ms: Distribution; notStarted: number } {
  const times: number[] = [];
  let notStarted = 0;
  for (const v of viewers) {
    const last = v.samples[v.samples.length - 1];
    if (last?.firstFrameAt != null && last.startedAt > 0) times.push(last.firstFrameAt - last.startedAt);
    else notStarted++;
  }
  return { ms: distribution(times), notStarted };
}
