// What the delay line costs: CPU seconds of its process per second of traffic it holds, at a
// few rates. Each rate is one TCP transfer from the hub into a viewer whose downlink is capped
// at that rate and whose received packets wait 20 ms.
//
//   npx tsx bench/links/delay-cost.ts [seconds] [rate,rate,...]
import { measureRate } from "./measure";
import { canCreateNamespaces, createLinkLab } from "./namespaces";

const seconds = Number(process.argv[2] ?? 6);
const rates = (process.argv[3] ?? "20,50").split(",").map(Number);

async function main(): Promise<void> {
  if (!canCreateNamespaces()) throw new Error("delay-cost needs root and network namespaces");
  const lab = createLinkLab(
    rates.map((mbps) => ({ uplinkMbps: 100, downlinkMbps: mbps, oneWayDelayMs: 20, cdnRttMs: 20, behindNat: false })),
    `scdc${process.pid % 10000}`,
  );
  try {
    await lab.ready;
    for (const [i, mbps] of rates.entries()) {
      const before = await lab.delayLineStats();
      const bytesBefore = lab.linkBytes(i).receivedBytes;
      const started = performance.now();
      const measured = await measureRate(lab.viewers[i].namespace, lab.hubAddress, "down", {
        seconds,
        skipSeconds: 1,
      });
      const wall = (performance.now() - started) / 1000;
      const after = await lab.delayLineStats();
      const carriedMbps = ((lab.linkBytes(i).receivedBytes - bytesBefore) * 8) / wall / 1e6;
      const cpu = after!.cpuSeconds - before!.cpuSeconds;
      const packets = after!.packets - before!.packets;
      console.log(
        JSON.stringify({
          capMbps: mbps,
          goodputMbps: Number(measured.toFixed(2)),
          carriedMbps: Number(carriedMbps.toFixed(2)),
          seconds: Number(wall.toFixed(2)),
          packets,
          packetsPerSecond: Math.round(packets / wall),
          cpuSeconds: cpu,
          coreShare: Number((cpu / wall).toFixed(4)),
          coreSharePerMbps: Number((cpu / wall / carriedMbps).toFixed(5)),
          meanLateUs: after!.meanLateUs,
          maxLateUs: after!.maxLateUs,
        }),
      );
    }
  } finally {
    lab.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
