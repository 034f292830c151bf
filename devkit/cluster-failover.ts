/**
 * The tracker cluster's failure drill with real Chromium viewers, shared by the failover test
 * (short) and `npm run bench:tracker -- --failover` (longer, its figures committed).
 *
 * Three tracker nodes behind HAProxy (TCP mode), started by tracker/deploy/cluster.mjs — the
 * README's deploy example — on a real redis-server; viewers of one live stream, each in its own
 * browser context, reach the nodes through the balancer. Two faults in turn:
 *
 * 1. a node SIGKILLed: its viewers reconnect through the balancer;
 * 2. Redis SIGKILLed and started again (empty: it never persists).
 *
 * For each: playback stalls from the fault on, the time until the cluster's /stats.json counts
 * every viewer again (on surviving nodes, Redis up), the peers a viewer joining 5 s after the
 * fault connects to per node (peer ids mapped to nodes through the membership hashes in Redis),
 * and the offload ratio (bytes from peers / all bytes) over a window before the fault and over
 * sliding windows after it, until it is back within `recoveryPoints` of before.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./chromium";
import { startOrigin, type Origin } from "./origin/index";
import { startPageServer, type PageServer } from "./page-server";
import { type RedisProcess, startRedis } from "./redis";

export const DEFAULT_FAILOVER_DRILL = {
  /** Viewers before the faults (spread over the nodes by the balancer's round robin). */
  viewers: 3,
  /** Offload is compared over windows this long, milliseconds. */
  offloadWindowMs: 8_000,
  /** How long after a fault offload may take to come back, milliseconds. */
  recoveryMs: 30_000,
  /** Offload counts as back when within this many percentage points of before. */
  recoveryPoints: 5,
  /** The late viewer joins this long after the fault, milliseconds. */
  joinAfterMs: 5_000,
  /** How long the late viewer has to connect to peers on every node, milliseconds. */
  joinTimeoutMs: 20_000,
  /** How long the viewers have to re-register before the drill gives up, milliseconds. */
  registerTimeoutMs: 10_000,
  /** How long Redis stays down, milliseconds. */
  redisOutageMs: 3_000,
  /** Extra playback watched after each recovery (longer drills for the bench), milliseconds. */
  holdMs: 0,
};
export type FailoverDrillOptions = typeof DEFAULT_FAILOVER_DRILL;

export interface FaultFigures {
  fault: "node killed" | "redis restarted";
  /** From the fault until the cluster counts every viewer again, ms (null: not within the timeout). */
  reregisteredMs: number | null;
  /** Redis restart: how long Redis was away (from the kill until it answered again), ms. */
  outageMs: number | null;
  /** Redis restart: from Redis answering again until every viewer is counted, ms. */
  reregisteredAfterBackMs: number | null;
  /** Cluster-wide peers before the fault and when counted again. */
  peersBefore: number;
  peersAfter: number;
  /** Stalls (playhead still > 1 s while playing) per viewer from the fault on. */
  stalls: number[];
  offloadBefore: number;
  /** Best window after the fault that ended within recoveryMs; and when it ended. */
  offloadAfter: number;
  recoveredMs: number | null;
  /** Peers the late viewer connected to, per surviving node id. */
  joinerPeersByNode: Record<string, number>;
  /**
   * From its page load until it had a peer on every surviving node and segments crossed its
   * peer connections, received or sent, ms (null: never). A late viewer that reloads its
   * playlist first fetches each new segment itself and only sends.
   */
  joinerMetAllMs: number | null;
  joinerP2pBytes: number;
  joinerUploadedBytes: number;
  survivingNodes: string[];
}

export interface FailoverDrillResult {
  options: FailoverDrillOptions;
  viewers: number;
  /** Peers per node (node id → count) once the swarm formed. */
  placement: Record<string, number>;
  faults: FaultFigures[];
}

interface Deployed {
  balancer: string;
  nodes: { url: string; pid: number; port: number }[];
}

interface ClusterStats {
  redis: string;
  peers: number;
  nodes: { id: string; url: string; peersSeen: number }[];
}

/** A stall is the playhead not moving for over 1 s while the video plays, after the first frame. */
const WATCH_PLAYBACK = `(() => {
  const video = document.querySelector("video");
  const watch = (window.playbackWatch = { started: false, stallsAt: [] });
  let last = -1, since = performance.now(), stalled = false;
  setInterval(() => {
    const now = performance.now();
    if (!watch.started) { if (video.currentTime > 0) { watch.started = true; last = video.currentTime; since = now; } return; }
    if (video.currentTime !== last || video.paused) { last = video.currentTime; since = now; stalled = false; return; }
    if (now - since > 1000 && !stalled) { stalled = true; watch.stallsAt.push(Date.now()); }
  }, 100);
})();`;

interface ViewerRead {
  started: boolean;
  stallsAt: number[];
  http: number;
  p2p: number;
  uploaded: number;
  peerIds: string[];
  fatal: string[];
}

class DrillViewer {
  openedAt = Date.now();
  private constructor(
    readonly name: string,
    private readonly context: BrowserContext,
    private readonly page: Page,
  ) {}

  static async open(browser: Browser, url: string, name: string): Promise<DrillViewer> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on("pageerror", (err) => console.error(`[${name}] page error: ${err.message}`));
    await page.goto(url);
    await page.evaluate(WATCH_PLAYBACK);
    return new DrillViewer(name, context, page);
  }

  read(): Promise<ViewerRead> {
    return this.page.evaluate(() => {
      const w = window as unknown as {
        swarmcastTest: {
          player: {
            stats(): { httpBytes: number; p2pBytes: number; uploadedBytes: number; peers: { id: string }[] };
          } | null;
          errors: { message: string; fatal: boolean }[];
        };
        playbackWatch: { started: boolean; stallsAt: number[] };
      };
      const stats = w.swarmcastTest.player?.stats();
      return {
        started: w.playbackWatch.started,
        stallsAt: [...w.playbackWatch.stallsAt],
        http: stats?.httpBytes ?? 0,
        p2p: stats?.p2pBytes ?? 0,
        uploaded: stats?.uploadedBytes ?? 0,
        peerIds: stats?.peers.map((p) => p.id) ?? [],
        fatal: w.swarmcastTest.errors.filter((e) => e.fatal).map((e) => e.message),
      };
    });
  }

  close(): Promise<void> {
    return this.context.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const httpOf = (ws: string) => ws.replace(/^ws/, "http");

async function until<T>(check: () => Promise<T | false>, timeoutMs: number, everyMs = 250): Promise<T | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => false as const);
    if (v !== false) return v;
    if (Date.now() >= end) return null;
    await sleep(everyMs);
  }
}

/** Starts tracker/deploy/cluster.mjs, the README's deploy example; resolves with what it printed. */
export async function deployCluster(
  redisUrl: string,
  nodes: number,
  extra: string[] = ["--log-level", "warn"],
): Promise<{ deployed: Deployed; proc: ChildProcess; stop(): Promise<void> }> {
  const proc = spawn(
    process.execPath,
    ["tracker/deploy/cluster.mjs", "--redis", redisUrl, "--nodes", String(nodes), "--port", "0", "--", ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: proc.stdout });
  const [line] = (await Promise.race([
    once(lines, "line"),
    new Promise<string[]>((resolve) => setTimeout(() => resolve(["timeout"]), 60_000).unref()),
  ])) as string[];
  if (!line.startsWith("{")) throw new Error(`cluster.mjs did not start: ${line}`);
  lines.on("line", (l) => process.stdout.write(`# cluster: ${l}\n`));
  return {
    deployed: JSON.parse(line) as Deployed,
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

export async function runFailoverDrill(
  partial: Partial<FailoverDrillOptions> = {},
  log: (line: string) => void = (l) => console.log(`# ${l}`),
): Promise<FailoverDrillResult> {
  const options = { ...DEFAULT_FAILOVER_DRILL, ...partial };
  let redis: RedisProcess | undefined;
  let cluster: Awaited<ReturnType<typeof deployCluster>> | undefined;
  let origin: Origin | undefined;
  let pages: PageServer | undefined;
  let browser: Browser | undefined;
  let peek: Redis | undefined;
  const viewers: DrillViewer[] = [];
  try {
    redis = await startRedis();
    [cluster, origin, pages, browser] = await Promise.all([
      deployCluster(redis.url, 3),
      startOrigin(),
      startPageServer({ "/dist/": "sdk/dist", "/pages/": "tests/browser-pages" }),
      launchChromium(),
    ]);
    peek = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    peek.on("error", () => {});
    await peek.connect();
    const { deployed } = cluster;
    const query = new URLSearchParams({
      src: origin.liveUrl(),
      tracker: deployed.balancer,
      swarm: `failover-${Date.now()}`,
    });
    const url = `${pages.url}/pages/player.html?${query}`;
    const nodeStats = async (nodeUrl: string) =>
      ((await (await fetch(`${httpOf(nodeUrl)}/stats.json`)).json()) as { peers: number; cluster: ClusterStats })
        .cluster;
    const localPeers = async (nodeUrl: string) =>
      ((await (await fetch(`${httpOf(nodeUrl)}/stats.json`)).json()) as { peers: number }).peers;
    const readAll = (list = viewers) => Promise.all(list.map((v) => v.read()));

    for (let i = 0; i < options.viewers; i++) viewers.push(await DrillViewer.open(browser, url, `v${i}`));
    const formed = await until(
      async () => {
        const reads = await readAll();
        const perNode = await Promise.all(deployed.nodes.map((n) => localPeers(n.url)));
        return reads.every((r) => r.started && r.p2p + r.http > 0) &&
          reads.filter((r) => r.p2p > 0).length >= options.viewers - 1 &&
          perNode.every((p) => p > 0)
          ? perNode
          : false;
      },
      45_000,
      500,
    );
    if (formed === null) throw new Error(`the swarm never formed: ${JSON.stringify(await readAll())}`);
    const nodeIds = await Promise.all(deployed.nodes.map(async (n) => (await nodeStats(n.url)).nodes[0].id));
    const placement = Object.fromEntries(nodeIds.map((id, i) => [id, formed[i]]));
    log(`swarm formed: peers per node ${JSON.stringify(placement)}`);

    /** Peer id → node id, from each live node's membership hash. */
    const peerNodes = async (ids: string[]) => {
      const owner = new Map<string, string>();
      for (const id of ids) {
        const fields = await peek!.hkeys(`swarmcast:members:${id}`);
        for (const f of fields) if (f.length === 40) owner.set(f.slice(20), id);
      }
      return owner;
    };
    const totals = (reads: ViewerRead[]) =>
      reads.reduce((s, r) => ({ http: s.http + r.http, p2p: s.p2p + r.p2p }), { http: 0, p2p: 0 });
    const ratio = (a: { http: number; p2p: number }, b: { http: number; p2p: number }) => {
      const p2p = b.p2p - a.p2p;
      const all = p2p + b.http - a.http;
      return all > 0 ? p2p / all : 0;
    };

    const faults: FaultFigures[] = [];
    let alive = deployed.nodes.map((n, i) => ({ ...n, id: nodeIds[i] }));

    for (const fault of ["node killed", "redis restarted"] as const) {
      const base = viewers.slice();
      const w0 = totals(await readAll(base));
      await sleep(options.offloadWindowMs);
      const w1 = totals(await readAll(base));
      const offloadBefore = ratio(w0, w1);
      const peersBefore = (await nodeStats(alive[0].url)).peers;

      // The fault.
      const faultAt = Date.now();
      let backAt = faultAt;
      if (fault === "node killed") {
        // The node holding most viewers goes.
        const counts = await Promise.all(alive.map((n) => localPeers(n.url)));
        const victim = alive[counts.indexOf(Math.max(...counts))];
        process.kill(victim.pid, "SIGKILL");
        alive = alive.filter((n) => n !== victim);
        log(`SIGKILLed node ${victim.id} holding ${Math.max(...counts)} peers`);
      } else {
        await redis.kill();
        log("SIGKILLed redis-server");
        await sleep(options.redisOutageMs);
        await redis.start();
        backAt = Date.now();
        log(`redis-server started again after ${Date.now() - faultAt} ms`);
      }

      // Samples for the offload windows after the fault, every second.
      const samples: { at: number; t: { http: number; p2p: number } }[] = [];
      const sampler = setInterval(() => {
        const at = Date.now();
        void readAll(base).then(
          (r) => {
            samples.push({ at, t: totals(r) });
            samples.sort((a, b) => a.at - b.at);
          },
          () => {},
        );
      }, 1000);

      let peersAfter = 0;
      const registered = await until(
        async () => {
          const stats = await Promise.all(alive.map((n) => nodeStats(n.url)));
          peersAfter = stats[0].peers;
          return stats.every((s) => s.redis === "up" && s.nodes.length === alive.length && s.peers >= peersBefore)
            ? Date.now() - faultAt
            : false;
        },
        Math.max(options.registerTimeoutMs, 20_000),
        100,
      );
      log(`${fault}: every viewer counted again after ${registered ?? "—"} ms (${peersAfter}/${peersBefore} peers)`);

      await sleep(Math.max(0, faultAt + options.joinAfterMs - Date.now()));
      const joiner = await DrillViewer.open(browser, url, `late-${fault.split(" ")[0]}`);
      let byNode: Record<string, number> = {};
      const met = await until(
        async () => {
          const r = await joiner.read();
          const owners = await peerNodes(alive.map((n) => n.id));
          byNode = Object.fromEntries(alive.map((n) => [n.id, 0]));
          for (const id of r.peerIds) {
            const node = owners.get(id);
            if (node !== undefined) byNode[node]++;
          }
          const exchanged = r.p2p > 0 || r.uploaded > 0;
          return Object.values(byNode).every((n) => n > 0) && exchanged ? Date.now() - joiner.openedAt : false;
        },
        options.joinTimeoutMs,
        500,
      );
      const { p2p: joinerP2pBytes, uploaded: joinerUploadedBytes } = await joiner.read();
      // Its checks are done: one page fewer to decode on a machine of two cores.
      await joiner.close();
      log(`${fault}: late viewer's peers per node ${JSON.stringify(byNode)}, all met after ${met ?? "—"} ms`);

      // Offload: every window of samples ending within recoveryMs of the fault (the samples
      // were taken all along, so a slow late viewer does not shorten this).
      let offloadAfter = 0;
      let recoveredMs: number | null = null;
      const windowEnd = faultAt + options.recoveryMs;
      for (;;) {
        for (const last of samples) {
          if (last.at > windowEnd) break;
          const first = samples.find((x) => x.at >= last.at - options.offloadWindowMs);
          if (first === undefined || last.at - first.at < options.offloadWindowMs - 1500) continue;
          const r = ratio(first.t, last.t);
          if (r > offloadAfter) offloadAfter = r;
          if (r >= offloadBefore - options.recoveryPoints / 100) {
            recoveredMs = last.at - faultAt;
            break;
          }
        }
        if (recoveredMs !== null || Date.now() > windowEnd + 1000) break;
        await sleep(1000);
      }
      clearInterval(sampler);
      if (options.holdMs > 0) await sleep(options.holdMs);
      const reads = await readAll(base);
      const stalls = reads.map((r) => r.stallsAt.filter((t) => t >= faultAt).length);
      const fatal = reads.flatMap((r) => r.fatal);
      if (fatal.length > 0) throw new Error(`fatal player errors: ${fatal.join("; ")}`);
      log(
        `${fault}: offload ${(offloadBefore * 100).toFixed(1)} % before, ${(offloadAfter * 100).toFixed(1)} % after` +
          ` (back ${recoveredMs ?? "—"} ms after the fault); stalls per viewer ${stalls.join(", ")}`,
      );
      faults.push({
        fault,
        reregisteredMs: registered,
        outageMs: fault === "redis restarted" ? backAt - faultAt : null,
        reregisteredAfterBackMs:
          fault === "redis restarted" && registered !== null ? registered - (backAt - faultAt) : null,
        peersBefore,
        peersAfter,
        stalls,
        offloadBefore,
        offloadAfter,
        recoveredMs,
        joinerPeersByNode: byNode,
        joinerMetAllMs: met,
        joinerP2pBytes,
        joinerUploadedBytes,
        survivingNodes: alive.map((n) => n.id),
      });
    }
    return { options, viewers: options.viewers, placement, faults };
  } finally {
    for (const v of viewers) await v.close().catch(() => undefined);
    peek?.disconnect();
    await browser?.close().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await Promise.all([origin?.close(), pages?.close()]).catch(() => undefined);
    await redis?.stop().catch(() => undefined);
  }
}
