import type { SegmentByteRange } from "./hash-index";

export interface SpotCheckOptions {
  /** Share (0–1) of unhashed segments from peers that are checked. */
  share: number;
  /** Bytes fetched from the CDN per check. */
  rangeBytes: number;
  fetchFn?: typeof fetch;
  random?: () => number;
}

export type SpotCheckResult = "match" | "mismatch" | "skipped";

export interface SpotCheckStats {
  checked: number;
  mismatches: number;
  /** Response body bytes fetched from the CDN for checks. */
  bytesFetched: number;
}

/**
 * Compares a random byte range of a segment received from a peer with the same range fetched
 * from the CDN (HTTP Range). For segments without a published hash: it cannot prove a segment
 * right, but a peer that alters bytes is caught with a probability that grows with the share
 * checked and the share of bytes it alters. The segment is held until the comparison is done
 * (PML awaits `validateP2PSegment`). A CDN that does not answer 206 with the range skips the check.
 */
export class SpotChecker {
  private readonly counters: SpotCheckStats = { checked: 0, mismatches: 0, bytesFetched: 0 };
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;

  constructor(private readonly options: SpotCheckOptions) {
    this.fetchFn = options.fetchFn ?? ((input, init) => globalThis.fetch(input, init));
    this.random = options.random ?? Math.random;
  }

  async check(url: string, byteRange: SegmentByteRange | undefined, data: ArrayBuffer): Promise<SpotCheckResult> {
    if (data.byteLength === 0 || this.random() >= this.options.share) return "skipped";
    const length = Math.min(this.options.rangeBytes, data.byteLength);
    const offset = Math.floor(this.random() * (data.byteLength - length + 1));
    const first = (byteRange?.start ?? 0) + offset;
    let body: Uint8Array;
    try {
      const response = await this.fetchFn(url, { headers: { range: `bytes=${first}-${first + length - 1}` } });
      if (response.status !== 206) {
        await response.body?.cancel();
        return "skipped";
      }
      body = new Uint8Array(await response.arrayBuffer());
    } catch {
      return "skipped";
    }
    this.counters.bytesFetched += body.byteLength;
    if (body.byteLength !== length) return "skipped";
    this.counters.checked++;
    const got = new Uint8Array(data, offset, length);
    for (let i = 0; i < length; i++) {
      if (got[i] !== body[i]) {
        this.counters.mismatches++;
        return "mismatch";
      }
    }
    return "match";
  }

  stats(): SpotCheckStats {
    return { ...this.counters };
  }
}
