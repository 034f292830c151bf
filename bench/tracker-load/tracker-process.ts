/**
 * A tracker alone in its own process — ours or bittorrent-tracker's Server — so its CPU time and
 * memory can be read without the load generator's. Reports process.cpuUsage() and RSS over IPC.
 */
import type { AddressInfo } from "node:net";
import Server from "bittorrent-tracker/server";
import { startTracker } from "../../tracker/src/index";
import type { TrackerReply, TrackerRequest } from "./messages";

const kind = process.argv[2];

let ours: Awaited<ReturnType<typeof startTracker>> | null = null;

async function start(): Promise<number> {
  if (kind === "swarmcast") {
    const t = (ours = await startTracker({
      host: "127.0.0.1",
      port: 0,
      logLevel: "warn",
      // Every connection of the bench comes from loopback and is deliberately busy.
      limits: { maxConnectionsPerIp: 0, messageRate: 1e6, messageBurst: 1e6 },
    }));
    return t.port;
  }
  if (kind === "reference") {
    const server = new Server({ udp: false, http: false, ws: true, stats: false });
    server.on("warning", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return (server.http.address() as AddressInfo).port;
  }
  throw new Error(`unknown tracker kind ${kind}`);
}

const gc = (globalThis as { gc?: () => void }).gc;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * After full GCs, the median of three RSS readings 200 ms apart: freed pages reach the kernel a
 * little after the collection, and one reading alone jumps by megabytes.
 */
async function settledMemory(): Promise<{ rss: number; heapUsed: number }> {
  const rss: number[] = [];
  let heapUsed = 0;
  for (let i = 0; i < 3; i++) {
    gc?.();
    gc?.();
    await sleep(200);
    const m = process.memoryUsage();
    rss.push(m.rss);
    heapUsed = m.heapUsed;
  }
  rss.sort((a, b) => a - b);
  return { rss: rss[1], heapUsed };
}

process.on("message", async (req: TrackerRequest) => {
  if (req.type === "exit") process.exit(0);
  if (req.type === "usage") {
    const cpu = process.cpuUsage();
    const mem = req.gc ? await settledMemory() : process.memoryUsage();
    const stats = ours?.stats();
    const reply: TrackerReply = {
      type: "usage",
      userUs: cpu.user,
      systemUs: cpu.system,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      ...(stats ? { framesOut: stats.framesOut, writes: stats.writes } : {}),
    };
    process.send!(reply);
  }
});
process.on("disconnect", () => process.exit(0));

start().then(
  (port) => process.send!({ type: "ready", port } satisfies TrackerReply),
  (err) => {
    process.send!({ type: "error", message: String(err?.stack ?? err) } satisfies TrackerReply);
    process.exit(1);
  },
);
