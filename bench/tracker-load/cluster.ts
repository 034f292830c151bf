/**
 * `npm run bench:tracker -- --nodes N`: the cost of clustering, side by side in one run.
 *
 * The same offered load (announces with offers, every offer answered) runs against one tracker
 * without Redis and against N trackers sharing swarms through a real redis-server, clients
 * spread evenly over the nodes. Reported: tracker CPU (all nodes together) per 1,000 announces,
 * Redis's own CPU, and offer relay latency measured by probe pairs — offerer and receiver on the
 * same node for the single tracker, on different nodes for the cluster — while the load runs.
 *
 * The two configurations alternate over several rounds (1 node, N nodes, 1 node, …), each with
 * fresh processes (and a fresh redis-server), and the ratio is that of the medians: other work
 * on a shared machine then weighs on both sides instead of on whichever ran during it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { median } from "../../devkit/quantiles";
import { type RedisProcess, startRedis } from "../../devkit/redis";
import type { TrackerReply, TrackerUsage } from "./messages";
import type { ProbeReply, ProbeRequest } from "./probe-process";
import { EXEC_ARGV } from "./run";
import { Client, id20 } from "./wt-client";

const here = `${dirname(fileURLToPath(import.meta.url))}/`;

export interface ClusterBenchConfig {
  nodes: number;
  connections: number;
  swarms: number;
  /** Announces per second, offered load. */
  rate: number;
  offers: number;
  warmupSeconds: number;
  seconds: number;
  /** Probe offers per second (each pair sends one offer per tick). */
  probeRate: number;
  probePairs: number;
  /** Rounds of (1 node, N nodes), interleaved. */
  rounds: number;
  /**
   * Each round also runs the N nodes without Redis (the same layout, so no offer leaves its
   * node): what N processes cost before any sharing.
   */
  separate: boolean;
}

export const DEFAULT_CLUSTER_BENCH: ClusterBenchConfig = {
  nodes: 2,
  connections: 1000,
  swarms: 50,
  rate: 300,
  offers: 5,
  warmupSeconds: 3,
  seconds: 15,
  probeRate: 20,
  probePairs: 4,
  rounds: 5,
  separate: false,
};

interface Node {
  proc: ChildProcess;
  url: string;
}

function startNode(redisUrl: string): Promise<Node> {
  const proc = fork(`${here}tracker-process.ts`, ["swarmcast", redisUrl], {
    execArgv: EXEC_ARGV,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    proc.once("message", (m: TrackerReply) =>
      m.type === "ready" ? resolve({ proc, url: `ws://127.0.0.1:${m.port}` }) : reject(new Error(JSON.stringify(m))),
    );
    proc.once("exit", (code) => reject(new Error(`tracker exited ${code}`)));
  });
}

/** CPU milliseconds of a tracker process: [user, system]. */
function usage(node: Node): Promise<[number, number]> {
  return new Promise((resolve) => {
    node.proc.once("message", (m: TrackerUsage) => resolve([m.userUs / 1000, m.systemUs / 1000]));
    node.proc.send({ type: "usage", gc: false });
  });
}

/**
 * Times a process went to sleep waiting (voluntary context switches, from /proc): each is one
 * wake-up of its event loop, which costs kernel and scheduler time whatever work it brings.
 */
function wakeups(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^voluntary_ctxt_switches:\s+(\d+)/m);
  return line === null ? 0 : Number(line[1]);
}

/** Commands Redis has run, by name (INFO commandstats): how many PUBLISHes carried the relay. */
async function redisCalls(url: string): Promise<Map<string, number>> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const info = await client.info("commandstats");
    return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
  } finally {
    client.disconnect();
  }
}

/** CPU milliseconds of a process, from /proc (redis-server is not ours to ask). */
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The probe process (probe-process.ts), once its pairs are open and sending. */
function startProbes(senderUrl: string, receiverUrl: string, cfg: ClusterBenchConfig): Promise<ChildProcess> {
  const proc = fork(
    `${here}probe-process.ts`,
    [senderUrl, receiverUrl, String(cfg.probePairs), String(cfg.probeRate)],
    { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  return new Promise((resolve, reject) => {
    proc.once("message", (m: ProbeReply) =>
      m.type === "ready" ? resolve(proc) : reject(new Error(JSON.stringify(m))),
    );
    proc.once("exit", (code) => reject(new Error(`probe process exited ${code}`)));
  });
}

/** The probes' latencies (sorted) and offers sent while measuring; the process exits. */
function probeReport(proc: ChildProcess): Promise<{ latencies: number[]; sent: number }> {
  return new Promise((resolve) => {
    proc.once("message", (m: ProbeReply) => {
      if (m.type !== "report") return;
      proc.send({ type: "exit" } satisfies ProbeRequest);
      resolve({ latencies: m.latencies.sort((a, b) => a - b), sent: m.sent });
    });
    proc.send({ type: "report" } satisfies ProbeRequest);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface ClusterPhase {
  label: string;
  nodes: number;
  announces: number;
  trackerCpuMs: number;
  redisCpuMs: number;
  cpuMsPer1000: number;
  /** The kernel's share of cpuMsPer1000 (socket reads and writes, wake-ups). */
  systemCpuMsPer1000: number;
  redisCpuMsPer1000: number;
  /** Event-loop wake-ups of all tracker nodes per 1,000 announces. */
  wakeupsPer1000: number;
  /** PUBLISH commands (relay, membership, claims) Redis ran per 1,000 announces. */
  publishesPer1000: number;
  probeOffers: number;
  probeLost: number;
  relayP50Ms: number;
  relayP99Ms: number;
}

async function runPhase(
  label: string,
  nodeCount: number,
  redis: RedisProcess | null,
  redisPid: number | null,
  cfg: ClusterBenchConfig,
): Promise<ClusterPhase> {
  const nodes: Node[] = [];
  for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(redis?.url ?? ""));
  const clients: Client[] = [];
  const swarms = Array.from({ length: cfg.swarms }, (_, i) => id20(`s${i}-`));
  // Consecutive connections go to different nodes but the same swarm, so every swarm has peers
  // on every node and offers cross nodes as often as the balancer would make them.
  for (let i = 0; i < cfg.connections; i += 50) {
    const batch = [];
    for (let k = i; k < Math.min(cfg.connections, i + 50); k++)
      batch.push(Client.open(nodes[k % nodeCount].url, swarms[Math.floor(k / nodeCount) % cfg.swarms]));
    clients.push(...(await Promise.all(batch)));
  }
  // Probe pairs: the offerer on the first node, the receiver on the last, alone in their swarm.
  const probes = await startProbes(nodes[0].url, nodes[nodeCount - 1].url, cfg);

  const tickMs = 10;
  const perTick = (cfg.rate * tickMs) / 1000;
  let carry = 0;
  let sent = 0;
  const load = setInterval(() => {
    carry += perTick;
    for (; carry >= 1; carry--) {
      clients[(Math.random() * clients.length) | 0].announce(cfg.offers);
      sent++;
    }
  }, tickMs);

  await sleep(cfg.warmupSeconds * 1000);
  const replies0 = clients.reduce((s, c) => s + c.replies, 0);
  const sum = (u: [number, number][]): [number, number] => u.reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
  const [user0, sys0] = sum(await Promise.all(nodes.map(usage)));
  const cpu0 = user0 + sys0;
  const wake0 = nodes.reduce((s, n) => s + wakeups(n.proc.pid!), 0);
  const redis0 = redisPid === null ? 0 : procCpuMs(redisPid);
  const calls0 = redis === null ? new Map<string, number>() : await redisCalls(redis.url);
  probes.send({ type: "measure", on: true });
  await sleep(cfg.seconds * 1000);
  probes.send({ type: "measure", on: false });
  const [user1, sys1] = sum(await Promise.all(nodes.map(usage)));
  const cpu1 = user1 + sys1;
  const wake1 = nodes.reduce((s, n) => s + wakeups(n.proc.pid!), 0);
  const redis1 = redisPid === null ? 0 : procCpuMs(redisPid);
  const calls1 = redis === null ? new Map<string, number>() : await redisCalls(redis.url);
  const replies1 = clients.reduce((s, c) => s + c.replies, 0);
  clearInterval(load);
  await sleep(500);
  const { latencies, sent: probeSent } = await probeReport(probes);

  for (const c of clients) c.ws.terminate();
  for (const n of nodes) {
    n.proc.send({ type: "exit" });
  }
  await Promise.all(
    nodes.map((n) => new Promise((r) => (n.proc.exitCode !== null ? r(null) : n.proc.once("exit", r)))),
  );

  const announces = replies1 - replies0;
  void sent;
  return {
    label,
    nodes: nodeCount,
    announces,
    trackerCpuMs: Math.round(cpu1 - cpu0),
    redisCpuMs: Math.round(redis1 - redis0),
    cpuMsPer1000: ((cpu1 - cpu0) / announces) * 1000,
    systemCpuMsPer1000: ((sys1 - sys0) / announces) * 1000,
    redisCpuMsPer1000: ((redis1 - redis0) / announces) * 1000,
    wakeupsPer1000: ((wake1 - wake0) / announces) * 1000,
    publishesPer1000: (((calls1.get("publish") ?? 0) - (calls0.get("publish") ?? 0)) / announces) * 1000,
    probeOffers: probeSent,
    probeLost: Math.max(0, probeSent - latencies.length),
    relayP50Ms: percentile(latencies, 50),
    relayP99Ms: percentile(latencies, 99),
  };
}

export interface ClusterRound {
  single: ClusterPhase;
  cluster: ClusterPhase;
  /** The N nodes without Redis, with `separate`. */
  separate?: ClusterPhase;
  /** This round's ratio of tracker CPU per 1,000 announces, cluster / single. */
  cpuRatio: number;
}

export interface ClusterBenchResult {
  config: ClusterBenchConfig;
  date: string;
  loadAverage: number[];
  cpus: number;
  rounds: ClusterRound[];
  /** Per configuration, the median of each figure over the rounds. */
  phases: ClusterPhase[];
  /** Median cluster CPU per 1,000 announces / median single-node CPU per 1,000 announces. */
  cpuRatio: number;
  /** The same for the N nodes without Redis (with `separate`): the share of the ratio before any relay. */
  separateRatio?: number;
  note: string;
}

/** Each figure's median over the phases of one configuration (the label is theirs in common). */
function medianPhase(phases: ClusterPhase[]): ClusterPhase {
  const out: Record<string, unknown> = { ...phases[0] };
  for (const [key, value] of Object.entries(phases[0]))
    if (typeof value === "number") out[key] = median(phases.map((p) => p[key as keyof ClusterPhase] as number));
  return out as unknown as ClusterPhase;
}

export async function runClusterBench(
  config: Partial<ClusterBenchConfig> = {},
  note = "",
  log: (line: string) => void = () => {},
): Promise<ClusterBenchResult> {
  const cfg = { ...DEFAULT_CLUSTER_BENCH, ...config };
  const os = await import("node:os");
  const loadBefore = os.loadavg();
  const rounds: ClusterRound[] = [];
  for (let i = 0; i < cfg.rounds; i++) {
    const single = await runPhase("1 node, no Redis", 1, null, null, cfg);
    const redis = await startRedis();
    let cluster: ClusterPhase;
    try {
      cluster = await runPhase(`${cfg.nodes} nodes, Redis`, cfg.nodes, redis, redis.pid() || null, cfg);
    } finally {
      await redis.stop();
    }
    const separate = cfg.separate
      ? await runPhase(`${cfg.nodes} nodes, no Redis`, cfg.nodes, null, null, cfg)
      : undefined;
    const round = { single, cluster, separate, cpuRatio: cluster.cpuMsPer1000 / single.cpuMsPer1000 };
    rounds.push(round);
    log(
      `round ${i + 1}/${cfg.rounds}: 1 node ${single.cpuMsPer1000.toFixed(0)} ms, ${cfg.nodes} nodes ` +
        `${cluster.cpuMsPer1000.toFixed(0)} ms per 1,000 announces (${round.cpuRatio.toFixed(2)}×), ` +
        `relay p99 ${cluster.relayP99Ms.toFixed(1)} ms, load ${os.loadavg()[0].toFixed(2)}`,
    );
  }
  const loadAfter = os.loadavg();
  return summarizeRounds(cfg, rounds, {
    date: new Date().toISOString(),
    loadAverage: loadBefore.map((l, i) => Math.round(((l + loadAfter[i]) / 2) * 100) / 100),
    cpus: os.cpus().length,
    note,
  });
}

/** The result of alternated rounds: each configuration's median figures and the ratio of the medians. */
export function summarizeRounds(
  config: ClusterBenchConfig,
  rounds: ClusterRound[],
  run: Pick<ClusterBenchResult, "date" | "loadAverage" | "cpus" | "note">,
): ClusterBenchResult {
  const phases = [medianPhase(rounds.map((r) => r.single)), medianPhase(rounds.map((r) => r.cluster))];
  const separate = rounds.flatMap((r) => (r.separate ? [r.separate] : []));
  if (separate.length > 0) phases.push(medianPhase(separate));
  return {
    config,
    ...run,
    rounds,
    phases,
    cpuRatio: phases[1].cpuMsPer1000 / phases[0].cpuMsPer1000,
    separateRatio: phases[2] ? phases[2].cpuMsPer1000 / phases[0].cpuMsPer1000 : undefined,
  };
}

export function renderClusterMarkdown(r: ClusterBenchResult): string {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  const row = (label: string, p: ClusterPhase) =>
    `| ${label} | ${f(p.announces, 0)} | ${f(p.cpuMsPer1000, 0)} | ${f(p.systemCpuMsPer1000, 0)} | ${f(p.wakeupsPer1000, 0)} | ${f(p.publishesPer1000, 0)} | ${f(p.redisCpuMsPer1000, 0)} | ${f(p.probeOffers, 0)} | ${f(p.probeLost, 0)} | ${f(p.relayP50Ms, 2)} | ${f(p.relayP99Ms, 2)} |`;
  const c = r.config;
  const header = [
    "| configuration | announces answered | tracker CPU ms / 1,000 announces (all nodes) | of which kernel | tracker wake-ups / 1,000 | Redis PUBLISHes / 1,000 | Redis CPU ms / 1,000 | probe offers | lost | relay p50 ms | relay p99 ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const ratios = r.rounds.map((x) => f(x.cpuRatio, 2));
  return [
    "# Tracker cluster cost",
    "",
    `${r.date}, ${r.cpus} cores, load average ${r.loadAverage.join(" / ")} (1/5/15 min, mean of before and after)${r.note ? `; ${r.note}` : ""}.`,
    "",
    `${c.connections} connections in ${c.swarms} swarms, ${c.rate} announces/s offered with ${c.offers} offers each (every offer answered), ` +
      `${c.warmupSeconds} s warm-up then ${c.seconds} s measured per configuration; ${c.probePairs} probe pairs in a process of their own send ${c.probeRate} offers/s each ` +
      "(cluster: offerer on node 1, receiver on the last node; single: both on the one node). " +
      `${r.rounds.length} rounds, the configurations alternating (1 node, ${c.nodes} nodes, 1 node, …), fresh processes each time; ` +
      "the table gives each figure's median over the rounds.",
    "",
    ...header,
    ...r.phases.map((p) => row(p.label, p)),
    "",
    `**Tracker CPU per 1,000 announces, ${r.phases[1].nodes} nodes vs 1: ${f(r.cpuRatio, 2)}×** (ratio of the medians; goal ≤ 1.5×; ` +
      `rounds: ${ratios.join(", ")}); cross-node relay p99 ${f(r.phases[1].relayP99Ms, 1)} ms (median of the rounds; goal ≤ 20 ms on loopback).`,
    ...(r.separateRatio === undefined
      ? []
      : [
          "",
          `The same ${c.nodes} nodes without Redis (each swarm split over the nodes, no offer leaves its node; the probes' ` +
            `offers find no peer, so their latency is not measured): ${f(r.separateRatio, 2)}× the single node's CPU per 1,000 announces ` +
            `(rounds: ${r.rounds.map((x) => f(x.separate!.cpuMsPer1000 / x.single.cpuMsPer1000, 2)).join(", ")}). ` +
            `What sharing through Redis adds on top: ${f(r.cpuRatio - r.separateRatio, 2)}× of a single node.`,
        ]),
    "",
    "## Each round",
    "",
    ...header,
    ...r.rounds.flatMap((x, i) => [
      row(`${i + 1}: ${x.single.label}`, x.single),
      row(`${i + 1}: ${x.cluster.label}`, x.cluster),
      ...(x.separate ? [row(`${i + 1}: ${x.separate.label}`, x.separate)] : []),
    ]),
    "",
  ].join("\n");
}

/**
 * The cluster bench at several offered loads, one after another in one run: what clustering
 * costs depends on how many announces share each wake-up of a node, so one load alone says
 * little about a node near its capacity, where a second node is added.
 */
export async function runClusterSweep(
  rates: number[],
  config: Partial<ClusterBenchConfig> = {},
  note = "",
  log: (line: string) => void = () => {},
): Promise<ClusterBenchResult[]> {
  const results: ClusterBenchResult[] = [];
  for (const rate of rates) {
    log(`offered load ${rate} announces/s`);
    results.push(await runClusterBench({ ...config, rate }, note, log));
  }
  return results;
}

/** A sweep's summary table (one row per offered load), then each load's own report. */
export function renderClusterSweepMarkdown(results: ClusterBenchResult[]): string {
  if (results.length === 1) return renderClusterMarkdown(results[0]);
  const f = (n: number | undefined, d = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : "–");
  const nodes = results[0].config.nodes;
  const rows = results.map((r) => {
    const [single, cluster] = r.phases;
    // ms per 1,000 announces × announces/s ÷ 1,000 = ms per s; ÷ 10 = % of a core
    const busy = (p: ClusterPhase) => (p.cpuMsPer1000 * r.config.rate) / 10_000;
    return (
      `| ${r.config.rate} | ${f(single.cpuMsPer1000, 0)} (${f(busy(single), 0)} %) | ${f(cluster.cpuMsPer1000, 0)} (${f(busy(cluster), 0)} %) | ` +
      `**${f(r.cpuRatio, 2)}×** | ${f(r.separateRatio, 2)}${r.separateRatio === undefined ? "" : "×"} | ${f(cluster.wakeupsPer1000 / single.wakeupsPer1000, 1)}× | ` +
      `${f(cluster.relayP99Ms, 1)} | ${r.cpuRatio <= 1.5 && cluster.relayP99Ms <= 20 ? "yes" : "no"} |`
    );
  });
  return [
    "# Tracker cluster cost by offered load",
    "",
    `${results.length} offered loads run one after another; each is the cluster bench below (rounds alternating 1 node and ${nodes} nodes, medians).`,
    "",
    `| announces/s offered | 1 node: CPU ms / 1,000 announces (share of a core) | ${nodes} nodes, Redis: the same, all nodes | ratio (goal ≤ 1.5×) | ${nodes} nodes without Redis | wake-ups, ${nodes} nodes ÷ 1 | relay p99 ms (goal ≤ 20) | both goals |`,
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...results.map((r) =>
      renderClusterMarkdown(r)
        .replace(/^# Tracker cluster cost$/m, `## ${r.config.rate} announces/s`)
        .replace(/^## Each round$/m, "### Each round"),
    ),
  ].join("\n");
}
