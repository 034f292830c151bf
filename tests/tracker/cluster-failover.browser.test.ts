// The tracker cluster's failure drill with Chromium viewers (devkit/cluster-failover.ts): three
// nodes behind HAProxy started by the README's deploy script, a real redis-server, four
// viewers of one live stream spread over the nodes. A node is SIGKILLed mid-stream, then Redis
// is killed and started again. After each: no viewer stalls, the cluster's /stats.json counts
// every viewer again within 10 s, a viewer joining 5 s after the fault connects to viewers on
// every remaining node, and offload is back within 5 points of before within 30 s.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runFailoverDrill } from "../../devkit/cluster-failover";

describe("tracker cluster failover with Chromium viewers", () => {
  it(
    "a node killed, then Redis restarted: no stall, viewers re-registered, late viewers meet every node, offload back",
    { timeout: 180_000 },
    async () => {
      const result = await runFailoverDrill();
      for (const f of result.faults) {
        assert.deepEqual(
          f.stalls.filter((n) => n > 0),
          [],
          `${f.fault}: stalls per viewer ${f.stalls.join(", ")}`,
        );
        assert.ok(
          f.reregisteredMs !== null && f.reregisteredMs <= 10_000,
          `${f.fault}: viewers counted again after ${f.reregisteredMs} ms (${f.peersAfter}/${f.peersBefore} peers)`,
        );
        assert.ok(
          f.joinerMetAllMs !== null,
          `${f.fault}: the late viewer's peers per node ${JSON.stringify(f.joinerPeersByNode)} (bytes from peers ${f.joinerP2pBytes}, to peers ${f.joinerUploadedBytes})`,
        );
        assert.ok(
          f.recoveredMs !== null,
          `${f.fault}: offload ${(f.offloadBefore * 100).toFixed(1)} % before, best ${(f.offloadAfter * 100).toFixed(1)} % within 30 s after`,
        );
      }
    },
  );
});
