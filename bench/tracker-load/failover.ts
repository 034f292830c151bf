/**
 * `npm run bench:tracker -- --failover`: the cluster's failure drill (devkit/cluster-failover.ts)
 * with Chromium viewers, longer than the test's run, its figures as JSON and Markdown.
 */
import { cpus, loadavg } from "node:os";
import { DEFAULT_FAILOVER_DRILL, type FailoverDrillResult, runFailoverDrill } from "../../devkit/cluster-failover";

/** Longer than the test: one more viewer, wider offload windows, playback watched 30 s longer. */
export const BENCH_FAILOVER_DRILL = {
  ...DEFAULT_FAILOVER_DRILL,
  viewers: 4,
  offloadWindowMs: 10_000,
  joinTimeoutMs: 30_000,
  holdMs: 30_000,
};

export interface FailoverBenchResult extends FailoverDrillResult {
  date: string;
  cpus: number;
  loadAverage: number[];
  note: string;
}

export async function runFailoverBench(note = ""): Promise<FailoverBenchResult> {
  const before = loadavg();
  const result = await runFailoverDrill(BENCH_FAILOVER_DRILL, (line) => process.stdout.write(`${line}\n`));
  const after = loadavg();
  return {
    ...result,
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: before.map((l, i) => Math.round(((l + after[i]) / 2) * 100) / 100),
    note,
  };
}

export function renderFailoverMarkdown(r: FailoverBenchResult): string {
  const ms = (v: number | null) => (v === null ? "not within the timeout" : `${(v / 1000).toFixed(1)} s`);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const o = r.options;
  const rows = r.faults.map(
    (f) =>
      `| ${f.fault} | ${ms(f.reregisteredMs)}${f.reregisteredAfterBackMs === null ? "" : ` (${ms(f.reregisteredAfterBackMs)} after Redis answered)`} | ${f.peersAfter}/${f.peersBefore} | ${f.stalls.join(", ")} | ${pct(f.offloadBefore)} | ${pct(f.offloadAfter)} | ${ms(f.recoveredMs)} | ${Object.values(f.joinerPeersByNode).join(" + ")} (${ms(f.joinerMetAllMs)}) |`,
  );
  return [
    "# Tracker cluster failover with Chromium viewers",
    "",
    `${r.date}, ${r.cpus} cores, load average ${r.loadAverage.join(" / ")} (1/5/15 min, mean of before and after)${r.note ? `; ${r.note}` : ""}.`,
    "",
    `3 tracker nodes behind HAProxy (TCP mode) started by \`tracker/deploy/cluster.mjs\`, a real redis-server, ${r.viewers} Chromium viewers of one live stream (each in its own browser context) spread over the nodes by the balancer (peers per node: ${Object.values(r.placement).join(", ")}). ` +
      `First the node holding most viewers is SIGKILLed; then redis-server is SIGKILLed and started again (empty) ${ms(r.faults[1]?.outageMs ?? o.redisOutageMs)} later. ` +
      `Offload (bytes from peers / all bytes, the first viewers together) over ${o.offloadWindowMs / 1000} s before each fault against the best ${o.offloadWindowMs / 1000} s window ending within ${o.recoveryMs / 1000} s after it ("back" = the first window after the fault within ${o.recoveryPoints} points; the whole window being after the fault, it cannot end before ${(o.offloadWindowMs - 1500) / 1000} s). ` +
      `A late viewer joins ${o.joinAfterMs / 1000} s after each fault; its peers are mapped to nodes through the membership hashes in Redis. Playback watched ${o.holdMs / 1000} s longer after each recovery; a stall is the playhead still for over 1 s while playing.`,
    "",
    "| fault | every viewer counted again (cluster /stats.json) | peers after/before | stalls per viewer | offload before | offload after | offload back after | late viewer's peers per remaining node (time to meet all) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
