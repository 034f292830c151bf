/**
 * The viewer soak (`--scenario viewer-soak`): what each viewer holds in memory, sampled through a
 * long calm window, and whether it stays bounded. A figure is bounded when its highest value in
 * the window's last quarter exceeds its highest in the first quarter by no more than the larger
 * of a share of that first high and a fixed slack (a heap breathes with garbage collection, a
 * store with segment sizes); a leak grows past both over hours.
 */
import type { VirtualSnapshot } from "./virtual-protocol";

/** One point of a viewer's resource curve: the last sample of each bucket of the window. */
export interface ResourcePoint {
  /** Minutes since the steady window began. */
  min: number;
  heapMB: number | null;
  timers: number | null;
  storeSegments: number | null;
  storeMB: number | null;
  peers: number;
  /** Live latency, s: how far the playhead sits behind the live edge (reported, not judged). */
  latencySec: number | null;
  /** Whole process (virtual viewer) or browser process tree PSS (Chromium), MB: reported, not judged. */
  rssMB: number;
}

export type JudgedFigure = "heapMB" | "timers" | "storeSegments" | "storeMB" | "peers";

/** What a figure may grow by between the first and the last quarter: a share of the first high, or a slack. */
export const SOAK_GROWTH_ALLOWANCE: Record<JudgedFigure, { share: number; slack: number }> = {
  heapMB: { share: 0.25, slack: 8 },
  timers: { share: 0.25, slack: 10 },
  storeSegments: { share: 0.25, slack: 4 },
  storeMB: { share: 0.25, slack: 4 },
  peers: { share: 0, slack: 3 },
};

export interface FigureGrowth {
  firstHigh: number;
  lastHigh: number;
  bounded: boolean;
}

export interface ViewerSoak {
  id: string;
  kind: "virtual" | "chromium";
  points: ResourcePoint[];
  /** Per judged figure; absent when the viewer never reported it (no SDK in http-only). */
  growth: Partial<Record<JudgedFigure, FigureGrowth>>;
}

const MB = 2 ** 20;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The viewer's samples in [from, to] reduced to the first one and then one per bucket (its last). */
export function resourceCurve(
  samples: VirtualSnapshot[],
  from: number,
  to: number,
  bucketSec: number,
): ResourcePoint[] {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to);
  const buckets = new Map<number, VirtualSnapshot>();
  for (const s of inWindow) buckets.set(Math.floor((s.at - from) / 1000 / bucketSec), s);
  const kept = inWindow.length > 0 ? [inWindow[0], ...buckets.values()] : [];
  return [...new Set(kept)].map((s) => {
    const r = s.resources;
    return {
      min: round((s.at - from) / 60_000),
      heapMB: r?.heapUsedBytes != null ? round(r.heapUsedBytes / MB) : null,
      timers: r?.timers ?? null,
      storeSegments: r?.storeSegments ?? null,
      storeMB: r?.storeBytes != null ? round(r.storeBytes / MB) : null,
      peers: s.peers,
      latencySec: s.latency != null ? round(s.latency, 1) : null,
      rssMB: round(s.rssBytes / MB, 1),
    };
  });
}

/** First-quarter high against last-quarter high, per judged figure. */
export function judgeGrowth(points: ResourcePoint[]): Partial<Record<JudgedFigure, FigureGrowth>> {
  const growth: Partial<Record<JudgedFigure, FigureGrowth>> = {};
  if (points.length < 4) return growth;
  const end = points[points.length - 1].min;
  const firstQuarter = points.filter((p) => p.min <= end / 4);
  const lastQuarter = points.filter((p) => p.min >= (end * 3) / 4);
  for (const figure of Object.keys(SOAK_GROWTH_ALLOWANCE) as JudgedFigure[]) {
    const high = (ps: ResourcePoint[]) => {
      const values = ps.flatMap((p) => (p[figure] === null ? [] : [p[figure]]));
      return values.length > 0 ? Math.max(...values) : null;
    };
    const firstHigh = high(firstQuarter);
    const lastHigh = high(lastQuarter);
    if (firstHigh === null || lastHigh === null) continue;
    const { share, slack } = SOAK_GROWTH_ALLOWANCE[figure];
    growth[figure] = { firstHigh, lastHigh, bounded: lastHigh - firstHigh <= Math.max(share * firstHigh, slack) };
  }
  return growth;
}
