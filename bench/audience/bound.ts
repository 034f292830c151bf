/** The best offload any swarm can reach on one rendition, and which limit sets it. */
export interface RenditionBound {
  /** Viewers watching the rendition. */
  viewers: number;
  bitrateBps: number;
  /** (n − 1) / n: one CDN copy of every segment is needed. */
  copyBound: number;
  /** Σ uplinks / (n · bitrate): peers cannot send more than their uplinks carry. */
  uplinkBound: number;
  bound: number;
  binding: "copies" | "uplink";
}

/**
 * Per rendition r with n_r viewers of uplinks u_i: min((n_r − 1) / n_r, Σ u_i / (n_r · bitrate_r)).
 * Uplinks are counted whole for every rendition a viewer watches (a viewer watches one at a time).
 */
export function renditionBound(uplinksBps: number[], bitrateBps: number): RenditionBound {
  const n = uplinksBps.length;
  if (n === 0) return { viewers: 0, bitrateBps, copyBound: 0, uplinkBound: 0, bound: 0, binding: "copies" };
  const copyBound = (n - 1) / n;
  const uplinkBound = uplinksBps.reduce((a, b) => a + b, 0) / (n * bitrateBps);
  return {
    viewers: n,
    bitrateBps,
    copyBound,
    uplinkBound,
    bound: Math.min(copyBound, uplinkBound),
    binding: uplinkBound < copyBound ? "uplink" : "copies",
  };
}

/** The total bound: the renditions' bounds weighted by the bytes consumed of each. */
export function totalBound(renditions: RenditionBound[], bytesConsumed: number[]): number {
  const total = bytesConsumed.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  return renditions.reduce((sum, r, i) => sum + r.bound * (bytesConsumed[i] ?? 0), 0) / total;
}
