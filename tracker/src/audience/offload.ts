/**
 * Audience-wide offload: byte counters viewers report (from the CDN, from peers, uploaded),
 * summed per swarm. Bounded: at most `maxSwarms` swarms are tracked by name, the rest add up
 * under "other"; metrics show the top swarms by bytes plus "other".
 */

export const OFFLOAD_DEFAULTS = Object.freeze({
  /** Swarms tracked by name; later ones are counted as "other". */
  maxSwarms: 1000,
  /** Swarms labelled by name in /metrics and /stats.json; the rest are summed as "other". */
  topSwarms: 10,
});

export const OTHER = "other";

export interface ByteCounts {
  cdn: number;
  peers: number;
  uploaded: number;
  beacons: number;
}

export interface SwarmOffload extends ByteCounts {
  swarm: string;
  /** Share of the bytes played that came from peers. */
  offloadRatio: number;
}

export function zeroCounts(): ByteCounts {
  return { cdn: 0, peers: 0, uploaded: 0, beacons: 0 };
}

export class OffloadTotals {
  readonly bySwarm = new Map<string, ByteCounts>();

  constructor(private readonly maxSwarms: number = OFFLOAD_DEFAULTS.maxSwarms) {}

  /** The name counts are kept under: the swarm itself, or "other" once the table is full. */
  slot(swarm: string): string {
    return this.bySwarm.has(swarm) || this.bySwarm.size < this.maxSwarms ? swarm : OTHER;
  }

  /** Adds counts under the swarm's slot; `exact` keeps the given name (already slotted). */
  add(swarm: string, d: ByteCounts, exact = false): void {
    const key = exact ? swarm : this.slot(swarm);
    let c = this.bySwarm.get(key);
    if (c === undefined) this.bySwarm.set(key, (c = zeroCounts()));
    c.cdn += d.cdn;
    c.peers += d.peers;
    c.uploaded += d.uploaded;
    c.beacons += d.beacons;
  }

  /** Top swarms by bytes played, then "other" with everything else. */
  top(n = OFFLOAD_DEFAULTS.topSwarms): SwarmOffload[] {
    const all = [...this.bySwarm.entries()].filter(([k]) => k !== OTHER);
    all.sort((a, b) => b[1].cdn + b[1].peers - (a[1].cdn + a[1].peers));
    const rows = all.slice(0, n).map(([swarm, c]) => row(swarm, c));
    const rest = zeroCounts();
    for (const [, c] of all.slice(n)) accumulate(rest, c);
    const other = this.bySwarm.get(OTHER);
    if (other !== undefined) accumulate(rest, other);
    if (rest.beacons > 0) rows.push(row(OTHER, rest));
    return rows;
  }

  total(): SwarmOffload {
    const t = zeroCounts();
    for (const c of this.bySwarm.values()) accumulate(t, c);
    return row("all", t);
  }
}

function accumulate(into: ByteCounts, c: ByteCounts): void {
  into.cdn += c.cdn;
  into.peers += c.peers;
  into.uploaded += c.uploaded;
  into.beacons += c.beacons;
}

function row(swarm: string, c: ByteCounts): SwarmOffload {
  const played = c.cdn + c.peers;
  return { swarm, ...c, offloadRatio: played === 0 ? 0 : c.peers / played };
}
