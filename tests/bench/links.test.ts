// Emulated links: each viewer namespace's measured TCP throughput matches its profile's caps.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canCreateNamespaces, createLinkLab } from "../../bench/links/namespaces";
import { measureLink } from "../../bench/links/measure";
import { assignLinks, loadProfiles, type LinkProfile, type ViewerLink } from "../../bench/links/profile";

const profiles = loadProfiles();

/** One viewer per uplink class, each with one of the downlink classes in turn. */
function oneOfEach(profile: LinkProfile): ViewerLink[] {
  const count = Math.max(profile.uplink.length, profile.downlink.length);
  return Array.from({ length: count }, (_, i) => ({
    uplinkMbps: profile.uplink[i % profile.uplink.length].mbps,
    downlinkMbps: profile.downlink[i % profile.downlink.length].mbps,
    oneWayDelayMs: 0,
    behindNat: false,
  }));
}

describe("emulated links", { skip: !canCreateNamespaces() && "needs root and network namespaces" }, () => {
  it("assigns the profile's shares exactly", () => {
    const links = assignLinks(profiles.default, 100);
    const count = (mbps: number) => links.filter((l) => l.uplinkMbps === mbps).length;
    assert.deepEqual([count(1), count(5), count(20)], [30, 50, 20]);
    assert.equal(links.filter((l) => l.behindNat).length, 20);
    const ladder = assignLinks(profiles.ladder, 10)
      .map((l) => l.downlinkMbps)
      .sort((a, b) => a - b);
    assert.deepEqual(ladder, [2, 2, 2, 4, 4, 4, 4, 10, 10, 10]);
  });

  for (const [name, profile] of Object.entries(profiles)) {
    it(`profile "${name}": every class's measured rate is within 10 % of its cap`, { timeout: 120_000 }, async () => {
      const lab = createLinkLab(oneOfEach(profile), `sct${process.pid % 10000}${name.slice(0, 1)}`);
      try {
        for (const viewer of lab.viewers) {
          const measured = await measureLink(viewer.namespace, lab.hubAddress);
          const { uplinkMbps, downlinkMbps } = viewer.link;
          const line = `up ${measured.uplinkMbps.toFixed(2)}/${uplinkMbps}, down ${measured.downlinkMbps.toFixed(2)}/${downlinkMbps} Mbit/s`;
          console.log(`# ${name} ${viewer.namespace}: ${line}`);
          assert.ok(Math.abs(measured.uplinkMbps / uplinkMbps - 1) <= 0.1, `uplink ${line}`);
          assert.ok(Math.abs(measured.downlinkMbps / downlinkMbps - 1) <= 0.1, `downlink ${line}`);
        }
      } finally {
        lab.close();
      }
    });
  }
});
