// maxUploadKbps with ten viewers over real WebRTC: ten Node processes play the live stream
// through the SDK's engine entry (swarmcast/engine, the same live P2P session as the browser
// build) on @roamhq/wrtc data channels, with the real tracker and origin; every viewer is
// capped and they share. Every 10 s window of every viewer's upload (each chunk PML reports
// sending) must stay within the cap + 15 %: the limiter reserves the largest of the last 8
// segments seen, and this stream's segments vary from 161 to 184 kB, so a window can exceed its
// budget by at most that 14 % spread. Here requests reach a viewer spread out enough for the
// global upload switch alone to hold the cap (it held with per-request admission removed too):
// the many-requests-at-once case is the limiter's simulation (upload-cap.test.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startTracker, type RunningTracker } from "../../tracker/src/index";
import { buildViewerBundle } from "../../bench/audience/viewer-build";
import { VirtualViewerProcess } from "../../bench/audience/virtual-process";
import { waitFor } from "../../devkit/wait";
import { worstWindow } from "./peer-cases/upload-windows";

const VIEWERS = 10;
const CAP_KBPS = 400;
const WINDOW_MS = 10_000;
const TOLERANCE = 1.15;

describe("upload cap with ten viewers over real WebRTC", () => {
  let origin: Origin;
  let tracker: RunningTracker;
  before(async () => {
    [origin, tracker] = await Promise.all([
      startOrigin(),
      startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent" }),
      buildViewerBundle(),
    ]);
  });
  after(async () => {
    await Promise.all([origin?.close(), tracker?.close()]);
  });

  it(
    `keeps each of ${VIEWERS} capped viewers within ${CAP_KBPS} kbit/s over every 10 s window while they share`,
    { timeout: 150_000 },
    async () => {
      const swarmId = `cap-many-${Date.now()}`;
      const viewers = Array.from(
        { length: VIEWERS },
        (_, i) =>
          new VirtualViewerProcess({
            id: `v${i}`,
            mode: "swarmcast",
            manifestUrl: origin.liveUrl(`v${i}`),
            trackers: [tracker.url],
            swarmId,
            iceServers: [],
            sdkOptions: { maxUploadKbps: CAP_KBPS, upload: true },
            sampleIntervalMs: 500,
            logUploads: true,
          }),
      );
      const budget = (CAP_KBPS * 1000 * WINDOW_MS) / 1000 / 8;
      try {
        for (const viewer of viewers) viewer.start();
        // Until the cap held a viewer back and the uploading has gone on for a full window (an
        // unadmitted swarm overruns the budget within one segment's round of requests).
        await waitFor(
          () => {
            const held = viewers.reduce(
              (sum, v) => sum + (v.last?.uploadCap?.refusedRequests ?? 0) + (v.last?.uploadCap?.limitedCount ?? 0),
              0,
            );
            const first = Math.min(...viewers.map((v) => v.uploads[0]?.[0] ?? Infinity));
            return held > 0 && Date.now() - first >= WINDOW_MS + 2000;
          },
          { what: "capped viewers to refuse requests and upload for a full window", timeout: 100_000, interval: 500 },
        ).catch((error: unknown) => {
          for (const v of viewers) {
            const s = v.last;
            console.log(
              `# ${v.config.id}: ${s ? `watched ${s.watchMs} ms, p2p ${s.p2pBytes} B, uploaded ${s.uploadedBytes} B, peers ${s.peers}, connections ${JSON.stringify(s.connections)}, cap ${JSON.stringify(s.uploadCap)}` : "no sample"}; ${v.problems.join(" | ")}`,
            );
          }
          throw error;
        });
      } finally {
        await Promise.all(viewers.map((v) => v.stop()));
      }
      const lines: string[] = [];
      let p2p = 0;
      let refused = 0;
      let limited = 0;
      let uploaders = 0;
      let worstShare = 0;
      for (const v of viewers) {
        const s = v.last;
        assert.ok(s && s.firstFrameAt !== null, `${v.config.id} never played: ${v.problems.join(" | ")}`);
        assert.equal(s.uploadCap?.capKbps, CAP_KBPS);
        const { bytes: worst, events } = worstWindow(v.uploads, WINDOW_MS);
        const sent = v.uploads.reduce((sum, [, b]) => sum + b, 0);
        p2p += s.p2pBytes;
        refused += s.uploadCap?.refusedRequests ?? 0;
        limited += s.uploadCap?.limitedCount ?? 0;
        if (sent > 0) uploaders++;
        worstShare = Math.max(worstShare, worst / budget);
        lines.push(
          `${v.config.id} ${((worst * 8) / WINDOW_MS).toFixed(0)} kbit/s (${sent} B sent, ${s.uploadCap?.refusedRequests ?? 0} refused, held back ${s.uploadCap?.limitedCount ?? 0}×)`,
        );
        assert.ok(
          worst <= budget * TOLERANCE,
          `${v.config.id}: ${worst} B in a 10 s window > ${TOLERANCE} × ${budget} B: ${JSON.stringify(events.slice(0, 30))}`,
        );
      }
      console.log(
        `# ${VIEWERS} viewers, cap ${CAP_KBPS} kbit/s, worst 10 s window per viewer: ${lines.join("; ")}; ` +
          `worst ${(100 * worstShare).toFixed(0)} % of the cap; ${p2p} B received from peers, ${refused} requests refused, held back ${limited}×`,
      );
      assert.ok(p2p > 0, "no bytes crossed between the viewers: the cap was not tested");
      assert.ok(refused + limited > 0, "the cap never held anybody back: it was not tested");
      assert.ok(uploaders > 0);
    },
  );
});
