/**
 * What starting virtual viewers costs: N swarmcast viewers started at once against the origin
 * and tracker, each measured from spawn to its first sample (engine loaded, playlist read,
 * player started) and by its RSS; then whether every one played and connected to a peer.
 *
 *   tsx bench/audience/start-cost.ts --viewers 25 [--runner bundle|source] [--links default|off]
 *     [--join-interval 0] [--hold 30]
 * (--hold counts from the last start.)
 */
import { startOrigin } from "../../devkit/origin/index";
import { startTracker } from "../../tracker/src/index";
import { createLinkLab } from "../links/namespaces";
import { assignLinks, loadProfiles } from "../links/profile";
import { buildViewerBundle } from "./viewer-build";
import { VirtualViewerProcess } from "./virtual-process";

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i], argv[i + 1]);
  const viewers = Number(args.get("--viewers") ?? 10);
  const runner = (args.get("--runner") ?? "bundle") as "bundle" | "source";
  const links = args.get("--links") ?? "off";
  const holdSec = Number(args.get("--hold") ?? 30);
  const joinIntervalSec = Number(args.get("--join-interval") ?? 0);
  if (runner === "bundle") await buildViewerBundle();
  const lab = links === "off" ? undefined : createLinkLab(assignLinks(loadProfiles()[links], viewers));
  const host = lab?.hubAddress ?? "127.0.0.1";
  const [origin, tracker] = await Promise.all([
    startOrigin({ host }),
    startTracker({ host, port: 0, logLevel: "silent" }),
  ]);
  const swarmId = `start-cost-${Date.now()}`;
  const processes = Array.from(
    { length: viewers },
    (_, i) =>
      new VirtualViewerProcess(
        {
          id: `cost-${i}`,
          mode: "swarmcast",
          manifestUrl: origin.renditionUrl(1, `cost-${i}`),
          trackers: [`ws://${host}:${new URL(tracker.url).port}`],
          swarmId,
          iceServers: [],
          sampleIntervalMs: 2000,
        },
        { netns: lab?.viewers[i].namespace, runner },
      ),
  );
  const started = Date.now();
  try {
    for (const p of processes) {
      p.start();
      if (joinIntervalSec > 0) await new Promise((r) => setTimeout(r, joinIntervalSec * 1000));
    }
    await new Promise((r) => setTimeout(r, holdSec * 1000));
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([origin.close(), tracker.close()]);
    lab?.close();
  }
  const startMs = processes.flatMap((p) => (p.firstSampleAt === null ? [] : [p.firstSampleAt - p.spawnedAt]));
  const rssMB = processes.flatMap((p) => (p.last ? [p.last.rssBytes / 2 ** 20] : []));
  const played = processes.filter((p) => p.last?.firstFrameAt != null).length;
  const connected = processes.filter((p) => (p.last?.connections.connected ?? 0) > 0).length;
  const p2p = processes.filter((p) => (p.last?.p2pBytes ?? 0) > 0).length;
  console.log(
    JSON.stringify({
      runner,
      viewers,
      links,
      joinIntervalSec,
      holdSec,
      startMs: { median: quantile(startMs, 0.5), p95: quantile(startMs, 0.95), max: Math.max(...startMs) },
      started: startMs.length,
      rssMB: { median: +quantile(rssMB, 0.5).toFixed(1), max: +Math.max(...rssMB).toFixed(1) },
      played,
      connectedToAPeer: connected,
      receivedFromPeers: p2p,
      wallSec: (Date.now() - started) / 1000,
      problems: processes.flatMap((p) => p.problems.slice(-1)).slice(0, 3),
    }),
  );
}

await main();
