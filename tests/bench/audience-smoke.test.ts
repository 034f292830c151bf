// The audience bench end to end, small: 10 virtual and 2 Chromium viewers (each browser in its own
// namespace) on emulated links share the ladder's 1.6 Mbit/s rendition for 30 s; segments cross
// between the two kinds, every link stays under its cap, the SDK's uplink estimates stay near
// the caps, and the report files are written.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { canCreateNamespaces } from "../../bench/links/namespaces";
import { DEFAULT_AUDIENCE_OPTIONS, runAudienceBench } from "../../bench/audience/run";

/** About one segment of the 1.6 Mbit/s rendition: more than WebRTC's own signalling ever carries. */
const ONE_SEGMENT_BYTES = 300_000;

describe("audience bench smoke", { skip: !canCreateNamespaces() && "needs root and network namespaces" }, () => {
  it(
    "virtual and Chromium viewers on capped links exchange segments within their caps and the report is written",
    { timeout: 240_000 },
    async () => {
      const out = mkdtempSync(join(tmpdir(), "audience-smoke-"));
      try {
        const { result, files } = await runAudienceBench(
          {
            ...DEFAULT_AUDIENCE_OPTIONS,
            viewers: 12,
            browsers: 2,
            modes: ["swarmcast"],
            links: "default",
            ladder: 1,
            joinIntervalSec: 0.5,
            warmupSec: 15,
            durationSec: 30,
            name: "smoke",
            outDir: out,
          },
          () => undefined,
        );
        assert.equal(files.length, 3);
        for (const file of files) assert.ok(existsSync(file), `${file} not written`);
        const mode = result.modes[0];
        const chromium = mode.viewers.filter((v) => v.kind === "chromium");
        assert.equal(chromium.length, 2);
        assert.ok(
          mode.viewers.every((v) => v.watchMs > 0),
          `not every viewer played: ${JSON.stringify(mode.viewers.filter((v) => v.watchMs === 0).map((v) => [v.id, v.problems]))}`,
        );
        const crossing = mode.steady.crossing;
        assert.ok(
          crossing.virtualFromChromiumBytes + crossing.virtualToChromiumBytes >= ONE_SEGMENT_BYTES,
          `segments did not cross between virtual and Chromium viewers: ${JSON.stringify(crossing)}`,
        );
        for (const v of mode.viewers) {
          // Measured by the links' own counters over the steady window (every packet, headers included).
          assert.ok(
            v.linkUpMbps !== null && v.uplinkMbps !== null && v.linkUpMbps <= v.uplinkMbps * 1.1,
            `${v.id} sent ${v.linkUpMbps} Mbit/s on a ${v.uplinkMbps} Mbit/s uplink`,
          );
          assert.ok(
            v.linkDownMbps !== null && v.downlinkMbps !== null && v.linkDownMbps <= v.downlinkMbps * 1.1,
            `${v.id} received ${v.linkDownMbps} Mbit/s on a ${v.downlinkMbps} Mbit/s downlink`,
          );
        }
        // The SDK's uplink budget measures each virtual viewer's link on its connections' counters:
        // close to the link, lifted by the link's queue filled at the start of a short stretch
        // (the estimate is the fastest stretch in its window; one run read 2.15x a 1 Mbit/s link).
        const measured = mode.viewers.filter(
          (v) => v.uplinkEstimateMbps !== null && v.uplinkEstimateMbps !== undefined,
        );
        assert.ok(measured.length > 0, "no virtual viewer measured its uplink");
        for (const v of measured) {
          assert.ok(
            (v.uplinkEstimateMbps as number) <= v.uplinkMbps * 2.5,
            `${v.id} estimated ${v.uplinkEstimateMbps} Mbit/s on a ${v.uplinkMbps} Mbit/s uplink`,
          );
        }
        console.log(
          `# offload ${(mode.steady.offload * 100).toFixed(1)} %, virtual ← Chromium ${(crossing.virtualFromChromiumBytes / 1e6).toFixed(1)} MB, virtual → Chromium ${(crossing.virtualToChromiumBytes / 1e6).toFixed(1)} MB, valid: ${result.valid.counts || result.valid.reasons.join("; ")}`,
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});
