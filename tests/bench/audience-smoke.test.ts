// The audience bench end to end, small: virtual viewers on emulated links share the ladder's
// 1.6 Mbit/s rendition, every uplink stays under its cap, and the report files are written.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { canCreateNamespaces } from "../../bench/links/namespaces";
import { DEFAULT_AUDIENCE_OPTIONS, runAudienceBench } from "../../bench/audience/run";

describe("audience bench smoke", { skip: !canCreateNamespaces() && "needs root and network namespaces" }, () => {
  it(
    "virtual viewers on capped links exchange segments within their uplinks and the report is written",
    { timeout: 240_000 },
    async () => {
      const out = mkdtempSync(join(tmpdir(), "audience-smoke-"));
      try {
        const { result, files } = await runAudienceBench(
          {
            ...DEFAULT_AUDIENCE_OPTIONS,
            viewers: 5,
            modes: ["swarmcast"],
            links: "default",
            ladder: 1,
            joinIntervalSec: 0.5,
            warmupSec: 25,
            durationSec: 30,
            name: "smoke",
            outDir: out,
          },
          () => undefined,
        );
        for (const file of files) assert.ok(existsSync(file), `${file} not written`);
        const mode = result.modes[0];
        assert.ok(
          mode.viewers.every((v) => v.watchMs > 0),
          `not every viewer played: ${JSON.stringify(mode.viewers.map((v) => v.problems))}`,
        );
        assert.ok(mode.steady.viewerP2pShare > 0, "no segment crossed between viewers");
        for (const v of mode.viewers) {
          // Measured by the links' own counters over the steady window (every packet, headers included).
          assert.ok(
            v.linkUpMbps !== null && v.linkUpMbps <= v.uplinkMbps * 1.1,
            `${v.id} sent ${v.linkUpMbps} Mbit/s on a ${v.uplinkMbps} Mbit/s uplink`,
          );
          assert.ok(
            v.linkDownMbps !== null && v.linkDownMbps <= v.downlinkMbps * 1.1,
            `${v.id} received ${v.linkDownMbps} Mbit/s on a ${v.downlinkMbps} Mbit/s downlink`,
          );
        }
        const upload = Object.entries(mode.steady.uploadMbpsByUplink).map(
          ([k, u]) => `${k}: SDK ${u.sdkMedian?.toFixed(2)} / link ${u.linkMedian?.toFixed(2)}`,
        );
        console.log(`# offload ${(mode.steady.offload * 100).toFixed(1)} %, upload by uplink ${upload.join(", ")}`);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});
