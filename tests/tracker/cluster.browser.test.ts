// Two Chromium viewers of one live stream, reaching two different tracker nodes through HAProxy
// (the nodes share swarms through a real redis-server), find each other and share segments:
// the origin serves less than the viewers consumed.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { type RedisProcess, startRedis } from "../../devkit/redis";
import { useStage } from "../../devkit/stage";
import { waitFor } from "../../devkit/wait";
import { openViewer, type Viewer, type ViewerState } from "../sdk/viewer";

const stage = useStage();

interface Deployed {
  balancer: string;
  nodes: { url: string; pid: number; port: number }[];
}

describe("tracker cluster with Chromium viewers", () => {
  let redis: RedisProcess;
  let proc: ChildProcess | undefined;
  let deployed: Deployed;

  before(async () => {
    redis = await startRedis();
    proc = spawn(
      process.execPath,
      ["tracker/deploy/cluster.mjs", "--redis", redis.url, "--nodes", "2", "--port", "0", "--", "--log-level", "warn"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const [line] = (await Promise.race([
      once(createInterface({ input: proc.stdout! }), "line"),
      new Promise<string[]>((resolve) => setTimeout(() => resolve(["timeout"]), 60_000).unref()),
    ])) as string[];
    if (!line.startsWith("{")) throw new Error(`cluster.mjs did not start: ${line}`);
    deployed = JSON.parse(line) as Deployed;
  });
  after(async () => {
    if (proc !== undefined && proc.exitCode === null) {
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    }
    await redis?.stop();
  });

  const localPeers = async (url: string) =>
    (await (await fetch(`${url.replace(/^ws/, "http")}/stats.json`)).json()).peers as number;

  it(
    "viewers on different nodes share segments (offload > 0, by the origin's egress)",
    { timeout: 90_000 },
    async () => {
      const swarm = `cluster-live-${Date.now()}`;
      const viewers: Viewer[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const id = `node-viewer${i}`;
          viewers.push(
            await openViewer(stage.browser, stage.pages.url, id, {
              src: stage.origin.liveUrl(id),
              tracker: deployed.balancer,
              swarm,
            }),
          );
          // The second viewer joins once the first has a segment to offer.
          if (i === 0)
            await waitFor(async () => (await viewers[0].read()).segments.http > 0, {
              what: "the first viewer's first segment",
            });
        }
        // Round robin put one viewer on each node: each node holds exactly one peer.
        await waitFor(
          async () => (await Promise.all(deployed.nodes.map((n) => localPeers(n.url)))).every((p) => p === 1),
          {
            what: "one peer on each node",
            timeout: 15_000,
            interval: 250,
          },
        );

        let states: ViewerState[] = [];
        await waitFor(
          async () => {
            states = await Promise.all(viewers.map((v) => v.read()));
            return (
              states.reduce((sum, s) => sum + (s.stats?.p2pBytes ?? 0), 0) > 0 &&
              states.every((s) => s.currentTime >= 8)
            );
          },
          { what: "peer bytes between the viewers on different nodes", timeout: 45_000, interval: 1000 },
        );
        const consumed = states.reduce((sum, s) => sum + (s.stats?.httpBytes ?? 0) + (s.stats?.p2pBytes ?? 0), 0);
        const p2p = states.reduce((sum, s) => sum + (s.stats?.p2pBytes ?? 0), 0);
        const egress = stage.origin.egress().segmentBytes;
        console.log(
          `# across nodes: P2P ${((100 * p2p) / consumed).toFixed(1)} % of ${(consumed / 1e6).toFixed(2)} MB consumed; origin segment egress ${(egress / 1e6).toFixed(2)} MB`,
        );
        assert.ok(egress < consumed, `origin egress ${egress} ≥ consumed ${consumed}`);
        for (const s of states)
          assert.deepEqual(
            s.errors.filter((e) => e.fatal),
            [],
          );
      } finally {
        await Promise.all(viewers.map((v) => v.close()));
      }
    },
  );
});
