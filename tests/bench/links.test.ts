// Emulated links: each link class's measured TCP throughput matches its profile's caps, the
// delay line gives the profile's round trips, and NAT lets through what real NAT lets through
// (real @roamhq/wrtc peers, coturn as STUN/TURN).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectPair, type IcePeerResult } from "../../bench/links/ice-check";
import { median } from "../../devkit/quantiles";
import { measureRate, measureRtts } from "../../bench/links/measure";
import { canCreateNamespaces, createLinkLab, type LinkLab } from "../../bench/links/namespaces";
import { assignLinks, loadProfiles, type LinkProfile, type ViewerLink } from "../../bench/links/profile";
import type { TurnUserUsage } from "../../bench/links/turn";

const profiles = loadProfiles();
const TIMING = { seconds: 3.5, skipSeconds: 1 };
const GROUP_MBPS = 120;

/**
 * One viewer per uplink class of every profile, each with one of the profile's downlink classes
 * in turn, one-way delays spread over the profile's range, and the profile's CDN round trip.
 * The last profile's viewers sit behind NAT (symmetric, then cone), so caps are measured through
 * a home router too. One more public and one more cone viewer complete the NAT pairs.
 */
function labLinks(): { links: ViewerLink[]; profileOf: string[] } {
  const links: ViewerLink[] = [];
  const profileOf: string[] = [];
  const names = Object.keys(profiles);
  for (const [p, name] of names.entries()) {
    const profile: LinkProfile = profiles[name];
    const count = Math.max(profile.uplink.length, profile.downlink.length);
    for (let i = 0; i < count; i++) {
      const behindNat = p === names.length - 1;
      links.push({
        uplinkMbps: profile.uplink[i % profile.uplink.length].mbps,
        downlinkMbps: profile.downlink[i % profile.downlink.length].mbps,
        oneWayDelayMs: (profile.rttMs.min + ((profile.rttMs.max - profile.rttMs.min) * i) / (count - 1)) / 2,
        cdnRttMs: profile.cdnRttMs,
        behindNat,
        natKind: i === count - 1 ? "cone" : "symmetric",
      });
      profileOf.push(name);
    }
  }
  const extra = { uplinkMbps: 5, downlinkMbps: 10, oneWayDelayMs: 10, cdnRttMs: 20 };
  links.push({ ...extra, behindNat: false }, { ...extra, behindNat: true, natKind: "cone" });
  profileOf.push("extra", "extra");
  return { links, profileOf };
}

describe("emulated links", { skip: !canCreateNamespaces() && "needs root and network namespaces" }, () => {
  const { links, profileOf } = labLinks();
  let lab: LinkLab;
  let turnBefore: TurnUserUsage[];
  /** The WebRTC pairs of the NAT test: they run while the round trips are measured. */
  let natPairs: Promise<[IcePeerResult, IcePeerResult][]>;
  before(async () => {
    lab = createLinkLab(links, `sct${process.pid % 10000}`);
    await lab.ready;
    const v = lab.viewers;
    const symmetric = v.filter((x) => x.nat?.kind === "symmetric");
    const cone = v.filter((x) => x.nat?.kind === "cone");
    const open = v.filter((x) => !x.nat);
    const stunOnly = (i: number) => lab.iceServers(i).filter((s) => String(s.urls).startsWith("stun:"));
    const peer = (x: (typeof v)[number], servers: "stun" | "turn") => {
      const i = v.indexOf(x);
      return { namespace: x.namespace, iceServers: servers === "stun" ? stunOnly(i) : lab.iceServers(i) };
    };
    turnBefore = lab.turnUsage();
    natPairs = Promise.all([
      connectPair(peer(symmetric[0], "stun"), peer(symmetric[1], "stun"), 10_000),
      connectPair(peer(symmetric[0], "turn"), peer(symmetric[1], "turn"), 10_000),
      connectPair(peer(cone[0], "stun"), peer(cone[1], "stun"), 10_000),
      connectPair(peer(symmetric[0], "stun"), peer(open[0], "stun"), 10_000),
    ]);
    natPairs.catch(() => undefined);
  });
  after(() => lab?.close());

  it("assigns the profile's shares exactly", () => {
    const assigned = assignLinks(profiles.default, 100);
    const count = (mbps: number) => assigned.filter((l) => l.uplinkMbps === mbps).length;
    assert.deepEqual([count(1), count(5), count(20)], [30, 50, 20]);
    assert.equal(assigned.filter((l) => l.behindNat).length, 20);
    const ladder = assignLinks(profiles.ladder, 10)
      .map((l) => l.downlinkMbps)
      .sort((a, b) => a - b);
    assert.deepEqual(ladder, [2, 2, 2, 4, 4, 4, 4, 10, 10, 10]);
  });

  it("round trips are the profile's within 20 %: to the CDN, between viewers, through NAT", async () => {
    // Every viewer pings the CDN address and one public viewer (NAT viewers can only send
    // first, which is all a ping needs), while the NAT pairs below try their connections.
    const publicViewers = lab.viewers.filter((v) => !v.nat);
    const targetOf = (i: number) => {
      const k = publicViewers.indexOf(lab.viewers[i]);
      return publicViewers[(k < 0 ? i : k + 1) % publicViewers.length];
    };
    const measured = await Promise.all(
      lab.viewers.map((v, i) => measureRtts(v.namespace, [lab.hubAddress, targetOf(i).address])),
    );
    const failures: string[] = [];
    for (const [i, v] of lab.viewers.entries()) {
      const target = targetOf(i);
      const checks = [
        { to: lab.hubAddress, what: "CDN", expected: v.link.cdnRttMs ?? 0 },
        { to: target.address, what: target.namespace, expected: v.link.oneWayDelayMs + target.link.oneWayDelayMs },
      ];
      for (const c of checks) {
        const rtts = measured[i][c.to];
        const rtt = median(rtts);
        const line = `${v.namespace}${v.nat ? ` (${v.nat.kind} NAT)` : ""} → ${c.what}: median ${rtt.toFixed(1)} ms of ${rtts.length}, min ${Math.min(...rtts).toFixed(1)}, expected ${c.expected}`;
        console.log(`# ${line}`);
        if (!(Math.abs(rtt / c.expected - 1) <= 0.2)) failures.push(line);
      }
    }
    assert.deepEqual(failures, []);
  });

  it("NAT: symmetric pairs need TURN and connect through a relay; cone pairs and symmetric-to-public connect with STUN", async () => {
    const v = lab.viewers;
    const symmetric = v.filter((x) => x.nat?.kind === "symmetric");
    const [symStun, symTurn, coneStun, symOpen] = await natPairs;
    const show = (name: string, r: typeof symStun) =>
      console.log(
        `# ${name}: ${r.map((s) => (s.connected ? `connected ${s.local}→${s.remote} in ${s.ms} ms` : `not connected in ${s.ms} ms (${s.iceState})`)).join(" / ")}`,
      );
    show("symmetric ↔ symmetric, STUN", symStun);
    show("symmetric ↔ symmetric, STUN + TURN", symTurn);
    show("cone ↔ cone, STUN", coneStun);
    show("symmetric ↔ public, STUN", symOpen);

    assert.ok(
      symStun.every((s) => !s.connected),
      "two symmetric NATs connect without TURN",
    );
    assert.ok(symStun[0].candidates.includes("srflx"), "the symmetric viewer learnt its public address from STUN");
    assert.ok(
      symTurn.every((s) => s.connected),
      "two symmetric NATs fail with TURN",
    );
    assert.ok(
      symTurn.some((s) => s.local === "relay"),
      `the pair relays: ${JSON.stringify(symTurn.map((s) => s.local))}`,
    );
    assert.ok(coneStun.every((s) => s.connected && s.local === "srflx" && s.remote === "srflx"));
    assert.ok(symOpen.every((s) => s.connected));

    // coturn saw the relayed pair's allocations, under their own credentials, and nobody else's.
    const turnAfter = lab.turnUsage();
    const allocated = turnAfter.map((u, i) => u.allocations - turnBefore[i].allocations);
    for (const x of symmetric.slice(0, 2))
      assert.ok(allocated[v.indexOf(x)] >= 1, `allocations: ${allocated.join(", ")}`);
    assert.equal(
      allocated.reduce((a, b) => a + b, 0),
      allocated[v.indexOf(symmetric[0])] + allocated[v.indexOf(symmetric[1])],
    );
  });

  it("every class's measured rate is within 10 % of its cap, behind NAT too", async () => {
    // Links in groups of at most GROUP_MBPS together (more at once starves the receiving
    // processes of a loaded 2-core machine), first up, then down; never one link's up and down
    // together: the ACKs of one direction ride the other.
    const v = lab.viewers;
    const halves = (rate: (x: (typeof v)[number]) => number) => {
      const groups: { indexes: number[]; mbps: number }[] = [];
      for (const i of [...v.keys()].sort((a, b) => rate(v[b]) - rate(v[a]))) {
        const group = groups.find((g) => g.mbps + rate(v[i]) <= GROUP_MBPS);
        if (group) {
          group.indexes.push(i);
          group.mbps += rate(v[i]);
        } else groups.push({ indexes: [i], mbps: rate(v[i]) });
      }
      return groups.map((g) => g.indexes);
    };
    const up: number[] = [];
    const down: number[] = [];
    for (const [direction, rates, rateOf] of [
      ["up", up, (x: (typeof v)[number]) => x.link.uplinkMbps],
      ["down", down, (x: (typeof v)[number]) => x.link.downlinkMbps],
    ] as const) {
      for (const half of halves(rateOf)) {
        const measured = await Promise.all(
          half.map((i) => measureRate(v[i].namespace, lab.hubAddress, direction, TIMING)),
        );
        for (const [k, i] of half.entries()) rates[i] = measured[k];
      }
    }
    const failures: string[] = [];
    for (const [i, x] of v.entries()) {
      const { uplinkMbps, downlinkMbps } = x.link;
      const line = `${profileOf[i]} ${x.namespace}${x.nat ? ` (${x.nat.kind} NAT)` : ""}: up ${up[i].toFixed(2)}/${uplinkMbps}, down ${down[i].toFixed(2)}/${downlinkMbps} Mbit/s`;
      console.log(`# ${line}`);
      if (Math.abs(up[i] / uplinkMbps - 1) > 0.1 || Math.abs(down[i] / downlinkMbps - 1) > 0.1) failures.push(line);
    }
    assert.deepEqual(failures, []);
  });
});
