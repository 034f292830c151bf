import { readFileSync } from "node:fs";

/** One link class: its rate and the share of viewers that have it. */
export interface RateShare {
  mbps: number;
  share: number;
}

/** A link profile as written in `profiles.json`. */
export interface LinkProfile {
  description: string;
  uplink: RateShare[];
  downlink: RateShare[];
  /** Round trip between two viewers, drawn uniformly in [min, max]. */
  rttMs: { min: number; max: number };
  /** Round trip between a viewer and the origin. */
  cdnRttMs: number;
  /** Share of viewers behind a symmetric-like NAT. */
  natShare: number;
}

/**
 * `symmetric`: MASQUERADE with `--random-fully`, a new public port for every destination.
 * `cone`: plain MASQUERADE, which keeps one public port per private socket (filtering by
 * address and port: a port-restricted cone).
 */
export type NatKind = "symmetric" | "cone";

/** The link one viewer gets. */
export interface ViewerLink {
  uplinkMbps: number;
  downlinkMbps: number;
  /** This viewer's half of the round trip to other viewers, ms. */
  oneWayDelayMs: number;
  behindNat: boolean;
  /** The NAT a viewer `behindNat` sits behind; symmetric when left out. */
  natKind?: NatKind;
  /** Round trip to the CDN address (origin and tracker), ms; none when left out. */
  cdnRttMs?: number;
}

export const PROFILES_FILE = new URL("./profiles.json", import.meta.url);

export function loadProfiles(file: URL | string = PROFILES_FILE): Record<string, LinkProfile> {
  const profiles = JSON.parse(readFileSync(file, "utf8")) as Record<string, LinkProfile>;
  for (const [name, p] of Object.entries(profiles)) validateProfile(name, p);
  return profiles;
}

export function validateProfile(name: string, p: LinkProfile): void {
  for (const key of ["uplink", "downlink"] as const) {
    const list = p[key];
    if (!Array.isArray(list) || list.length === 0)
      throw new Error(`link profile "${name}": ${key} must list { mbps, share }`);
    const total = list.reduce((sum, c) => sum + c.share, 0);
    if (Math.abs(total - 1) > 1e-6) throw new Error(`link profile "${name}": ${key} shares add up to ${total}, not 1`);
    for (const c of list)
      if (!(c.mbps > 0)) throw new Error(`link profile "${name}": ${key} rate ${c.mbps} must be > 0 Mbit/s`);
  }
  if (!(p.rttMs.min >= 0 && p.rttMs.max >= p.rttMs.min))
    throw new Error(`link profile "${name}": rttMs needs 0 ≤ min ≤ max`);
  if (!(p.cdnRttMs >= 0)) throw new Error(`link profile "${name}": cdnRttMs must be ≥ 0`);
  if (!(p.natShare >= 0 && p.natShare <= 1)) throw new Error(`link profile "${name}": natShare must be in [0, 1]`);
}

/**
 * Exactly the profile's shares over `count` viewers (largest remainder), spread so that
 * consecutive viewers get different classes; uplink and downlink classes are assigned
 * independently of each other.
 */
export function assignLinks(profile: LinkProfile, count: number): ViewerLink[] {
  const ups = spread(profile.uplink, count, 0);
  const downs = spread(profile.downlink, count, Math.floor(count / 3));
  const nat = spread(
    [
      { mbps: 1, share: profile.natShare },
      { mbps: 0, share: 1 - profile.natShare },
    ],
    count,
    Math.floor(count / 2),
  );
  return Array.from({ length: count }, (_, i) => ({
    uplinkMbps: ups[i],
    downlinkMbps: downs[i],
    // Even spacing over the range instead of random draws: runs stay comparable.
    oneWayDelayMs:
      (profile.rttMs.min + ((profile.rttMs.max - profile.rttMs.min) * ((i * 7) % count)) / Math.max(1, count - 1)) / 2,
    behindNat: nat[i] === 1,
    natKind: "symmetric" as const,
    cdnRttMs: profile.cdnRttMs,
  }));
}

function spread(classes: RateShare[], count: number, offset: number): number[] {
  const exact = classes.map((c) => c.share * count);
  const counts = exact.map(Math.floor);
  let left = count - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i]++;
  }
  const sequence: number[] = [];
  const remaining = [...counts];
  // Round-robin over the classes, each as long as it has viewers left.
  while (sequence.length < count) {
    for (let i = 0; i < classes.length; i++) {
      if (remaining[i] > 0) {
        sequence.push(classes[i].mbps);
        remaining[i]--;
      }
    }
  }
  return sequence.map((_, i) => sequence[(i + offset) % count]);
}
