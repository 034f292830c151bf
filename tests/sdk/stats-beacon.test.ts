// The SDK's stats beacon against the real tracker: deltas add up to the viewer's counters,
// the option resolves to the tracker's /beacon (token kept), bad values name the option, and
// the embed attribute sets it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readEmbedOptions } from "../../sdk/src/embed/attributes";
import { resolveOptions, SwarmcastOptionError } from "../../sdk/src/options";
import { beaconUrlOf, startStatsBeacon } from "../../sdk/src/stats/beacon";
import { eventually, getJson, startOurs } from "../tracker/helpers";

describe("stats beacon (SDK)", () => {
  it("sends byte deltas that add up, at the tracker, to the viewer's counters", async () => {
    const t = await startOurs();
    try {
      const counters = { httpBytes: 0, p2pBytes: 0, uploadedBytes: 0 };
      const beacon = startStatsBeacon({
        url: beaconUrlOf(t.url),
        swarm: "beacon-live",
        intervalMs: 100,
        read: () => ({ ...counters }),
      });
      for (let i = 1; i <= 4; i++) {
        counters.httpBytes += 1000 * i;
        counters.p2pBytes += 3000 * i;
        counters.uploadedBytes += 500;
        await new Promise((r) => setTimeout(r, 120));
      }
      beacon.stop();
      let row: any;
      await eventually(async () => {
        row = (await getJson(`${t.httpUrl}/stats.json`)).body.audience.swarms.find(
          (s: any) => s.swarm === "beacon-live",
        );
        return row !== undefined && row.cdn === counters.httpBytes && row.peers === counters.p2pBytes;
      }, 3000).catch(() =>
        assert.fail(`tracker has ${JSON.stringify(row)}, viewer counted ${JSON.stringify(counters)}`),
      );
      assert.equal(row.uploaded, counters.uploadedBytes);
      assert.equal(row.offloadRatio, 0.75);
    } finally {
      await t.close();
    }
  });

  it("statsBeacon: true goes to the first tracker's /beacon with the token; bad values name the option", () => {
    const r = resolveOptions(
      { src: "https://cdn.example/live.m3u8", trackers: "wss://t.example/x", token: "abc", statsBeacon: true },
      { requireSrc: true },
    );
    assert.equal(r.statsBeaconUrl, "https://t.example/beacon?token=abc");
    assert.equal(
      resolveOptions({ src: "https://cdn.example/a.m3u8", trackers: "ws://t.example" }, { requireSrc: true })
        .statsBeaconUrl,
      undefined,
    );
    assert.throws(
      () =>
        resolveOptions(
          { src: "https://cdn.example/a.m3u8", trackers: "ws://t.example", statsBeacon: "ftp://x" },
          { requireSrc: true },
        ),
      (e: unknown) => e instanceof SwarmcastOptionError && e.option === "statsBeacon",
    );
    assert.throws(
      () => resolveOptions({ src: "https://cdn.example/a.m3u8", p2p: false, statsBeacon: true }, { requireSrc: true }),
      (e: unknown) => e instanceof SwarmcastOptionError && e.option === "statsBeacon",
    );
  });

  it("data-swarmcast-stats-beacon sets the option", () => {
    const el = (attrs: Record<string, string>) => ({ getAttribute: (n: string) => attrs[n] ?? null });
    assert.equal(
      readEmbedOptions(el({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-stats-beacon": "on" })).statsBeacon,
      true,
    );
    assert.equal(
      readEmbedOptions(
        el({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-stats-beacon": "https://stats.example/beacon" }),
      ).statsBeacon,
      "https://stats.example/beacon",
    );
    assert.equal(readEmbedOptions(el({ "data-swarmcast-src": "a.m3u8" })).statsBeacon, undefined);
  });
});
