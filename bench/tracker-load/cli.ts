/**
 * `npm run bench:tracker [-- options]`: the same load against our tracker and against
 * bittorrent-tracker's Server in one run; writes bench/results/tracker-load.{json,md}.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CLUSTER_BENCH, renderClusterSweepMarkdown, runClusterSweep } from "./cluster";
import { renderFailoverMarkdown, runFailoverBench } from "./failover";
import { DEFAULT_RELAY_BENCH, renderRelayTransportMarkdown, runRelayTransportBench } from "./relay-transport";
import { renderMarkdown } from "./report";
import { DEFAULT_SOAK_CONFIG, runSoak } from "./soak";
import { renderSoakChart, renderSoakMarkdown } from "./soak-report";
import {
  DEFAULT_BENCH_CONFIG,
  FLOOR_KINDS,
  type FloorKind,
  runTrackerBench,
  SMOKE_CONFIG,
  type TrackerBenchConfig,
  type TrackerKind,
} from "./run";

const d = DEFAULT_BENCH_CONFIG;
const HELP = `Usage: npm run bench:tracker -- [options]

Runs the same load against swarmcast's tracker and bittorrent-tracker's Server, each alone in
its own process, and reports efficiency (announce replies per tracker CPU-second at a fixed
offered load), saturation throughput, p99 announce-reply latency and RSS per idle connection.

  --connections <n>     connections during the load phases (default ${d.connections})
  --swarms <n>          swarms, Zipf popularity (default ${d.swarms})
  --zipf <s>            Zipf exponent (default ${d.zipfS})
  --offers <n>          offers per announce (default ${d.offers})
  --rate <n>            fixed offered load, announces/s (default ${d.rate})
  --rate-seconds <s>    duration of the fixed-load phase (default ${d.rateSeconds})
  --rounds <n>          load phases cut into n rounds alternating the trackers (default ${d.rounds})
  --warmup-seconds <s>  unmeasured load before the fixed-load phase (default ${d.warmupSeconds})
  --window <n>          saturation: connections with one announce outstanding (default ${d.window})
  --saturation-seconds <s>  duration of the saturation phase (default ${d.saturationSeconds})
  --idle <n,n>          idle-connection counts for the memory phases (default ${d.idleConnections.join(",")})
  --trackers <a,b>      swarmcast,reference (default both)
  --floors <a,b|none>   memory floors held like the idle phases, with no tracker behind them:
                        socket-floor (Node's socket), ws-floor (plus a ws WebSocket) (default both)
  --seed <n>            random seed (default ${d.seed})
  --note <text>         a line written into the result (e.g. what else was running)
  --out <path>          result path without extension (default bench/results/tracker-load)
  --smoke               a few connections for a few seconds (what npm test runs)
  --nodes <n>           instead: the cluster bench, one tracker vs n trackers sharing swarms
                        through a redis-server (CPU per 1,000 announces, cross-node relay
                        latency); writes bench/results/tracker-cluster.{json,md}. With it:
                        --connections, --swarms, --offers, --rate-seconds, --note, --out,
                        --rate <n[,n…]> (several: the bench at each offered load in turn, one summary table),
                        --rounds (default ${DEFAULT_CLUSTER_BENCH.rounds}: 1 node and n nodes alternate, medians reported),
                        --separate (each round also runs the n nodes without Redis: the cost before sharing)
  --soak                instead: the soak, the compiled tracker (npm run build first) under a
                        turning-over audience; writes bench/results/tracker-soak.{json,md,svg}. With it:
                        --minutes (default ${DEFAULT_SOAK_CONFIG.minutes}), --connections (default ${DEFAULT_SOAK_CONFIG.connections}),
                        --replace-rate per second (default ${DEFAULT_SOAK_CONFIG.replacePerSecond}), --swarms (default ${DEFAULT_SOAK_CONFIG.swarms}),
                        --offers (default ${DEFAULT_SOAK_CONFIG.offers}), --seed, --note, --out
  --failover            instead: the cluster's failure drill with Chromium viewers (3 nodes behind
                        HAProxy, a node SIGKILLed, then Redis restarted); needs \`npm run build\`
                        first; writes bench/results/tracker-cluster-failover.{json,md} (--note, --out)
  --relay-transport     instead: the cross-node relay over Redis pub/sub vs streams (latency, node
                        and Redis CPU per 1,000 records); writes
                        bench/results/tracker-cluster-relay.{json,md} (--rate, --rate-seconds, --note, --out)
  --help
`;

function num(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`bench:tracker: --${name}: expected a number ≥ ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        connections: { type: "string" },
        swarms: { type: "string" },
        zipf: { type: "string" },
        offers: { type: "string" },
        rate: { type: "string" },
        "rate-seconds": { type: "string" },
        "warmup-seconds": { type: "string" },
        rounds: { type: "string" },
        separate: { type: "boolean" },
        window: { type: "string" },
        "saturation-seconds": { type: "string" },
        idle: { type: "string" },
        trackers: { type: "string" },
        floors: { type: "string" },
        seed: { type: "string" },
        note: { type: "string" },
        out: { type: "string" },
        smoke: { type: "boolean" },
        nodes: { type: "string" },
        soak: { type: "boolean" },
        minutes: { type: "string" },
        "replace-rate": { type: "string" },
        failover: { type: "boolean" },
        "relay-transport": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench:tracker: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.soak) {
    const s = DEFAULT_SOAK_CONFIG;
    const connections = num("connections", values.connections, s.connections, 1);
    const result = await runSoak({
      ...s,
      minutes: num("minutes", values.minutes, s.minutes, 0.1),
      connections,
      replacePerSecond: num("replace-rate", values["replace-rate"], s.replacePerSecond),
      swarms: num("swarms", values.swarms, s.swarms, 1),
      offers: num("offers", values.offers, s.offers),
      seed: num("seed", values.seed, s.seed),
      // Each generator holds at most ~9,500 sockets (20,000 open files per process here).
      generators: Math.max(s.generators, Math.ceil(connections / 9000)),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    const out = resolve(values.out ?? "bench/results/tracker-soak");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.json`, `${JSON.stringify({ ...result, note: values.note ?? "" }, null, 2)}\n`);
    const md = renderSoakMarkdown(result, values.note ?? "");
    writeFileSync(`${out}.md`, md);
    writeFileSync(`${out}.svg`, renderSoakChart(result));
    process.stdout.write(`\n${md}\nwrote ${out}.json, .md and .svg\n`);
    return;
  }
  if (values["relay-transport"]) {
    const r = DEFAULT_RELAY_BENCH;
    const result = await runRelayTransportBench(
      {
        rate: num("rate", values.rate, r.rate, 1),
        seconds: num("rate-seconds", values["rate-seconds"], r.seconds, 1),
      },
      values.note ?? "",
      (line) => process.stdout.write(`${line}\n`),
    );
    const out = resolve(values.out ?? "bench/results/tracker-cluster-relay");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = renderRelayTransportMarkdown(result);
    writeFileSync(`${out}.md`, md);
    process.stdout.write(`\n${md}\nwrote ${out}.json and ${out}.md\n`);
    return;
  }
  if (values.failover) {
    const result = await runFailoverBench(values.note ?? "");
    const out = resolve(values.out ?? "bench/results/tracker-cluster-failover");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = renderFailoverMarkdown(result);
    writeFileSync(`${out}.md`, md);
    process.stdout.write(`\n${md}\nwrote ${out}.json and ${out}.md\n`);
    return;
  }
  if (values.nodes !== undefined) {
    const c = DEFAULT_CLUSTER_BENCH;
    const rates = (values.rate ?? String(c.rate)).split(",").map((r) => num("rate", r, c.rate, 1));
    const results = await runClusterSweep(
      rates,
      {
        nodes: num("nodes", values.nodes, c.nodes, 2),
        connections: num("connections", values.connections, c.connections, 1),
        swarms: num("swarms", values.swarms, c.swarms, 1),
        offers: num("offers", values.offers, c.offers, 0),
        seconds: num("rate-seconds", values["rate-seconds"], c.seconds, 1),
        rounds: num("rounds", values.rounds, c.rounds, 1),
        separate: values.separate ?? false,
      },
      values.note ?? "",
      (line) => process.stdout.write(`${line}\n`),
    );
    const out = resolve(values.out ?? "bench/results/tracker-cluster");
    mkdirSync(dirname(out), { recursive: true });
    const json = results.length === 1 ? results[0] : { sweep: results };
    writeFileSync(`${out}.json`, `${JSON.stringify(json, null, 2)}\n`);
    const md = renderClusterSweepMarkdown(results);
    writeFileSync(`${out}.md`, md);
    process.stdout.write(md);
    return;
  }
  const base = { ...d, ...(values.smoke ? SMOKE_CONFIG : {}) };
  const trackers = (values.trackers ?? base.trackers.join(",")).split(",").map((t) => {
    if (isTrackerKind(t)) return t;
    process.stderr.write(`bench:tracker: --trackers: unknown tracker "${t}" (swarmcast, reference)\n`);
    process.exit(2);
  });
  const floorList = values.floors ?? base.floors.join(",");
  const floors = (floorList === "none" ? [] : floorList.split(",").filter(Boolean)) as FloorKind[];
  for (const f of floors) {
    if (!FLOOR_KINDS.includes(f)) {
      process.stderr.write(`bench:tracker: --floors: unknown floor "${f}" (${FLOOR_KINDS.join(", ")}, none)\n`);
      process.exit(2);
    }
  }
  const idle =
    values.idle === undefined
      ? base.idleConnections
      : values.idle
          .split(",")
          .filter(Boolean)
          .map((x) => num("idle", x, 0, 1));
  if (idle.some((n) => n > 19_900))
    process.stderr.write("bench:tracker: note: the tracker process has an open-files limit of 20,000 here\n");
  const cfg: Partial<TrackerBenchConfig> = {
    ...base,
    trackers,
    connections: num("connections", values.connections, base.connections, 2),
    swarms: num("swarms", values.swarms, base.swarms, 1),
    zipfS: num("zipf", values.zipf, base.zipfS),
    offers: num("offers", values.offers, base.offers),
    rate: num("rate", values.rate, base.rate, 1),
    rateSeconds: num("rate-seconds", values["rate-seconds"], base.rateSeconds, 0.5),
    rounds: num("rounds", values.rounds, base.rounds, 1),
    warmupSeconds: num("warmup-seconds", values["warmup-seconds"], base.warmupSeconds),
    window: num("window", values.window, base.window, 1),
    saturationSeconds: num("saturation-seconds", values["saturation-seconds"], base.saturationSeconds, 0.5),
    idleConnections: idle,
    floors,
    seed: num("seed", values.seed, base.seed),
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const result = await runTrackerBench(cfg);
  const out = resolve(values.out ?? "bench/results/tracker-load");
  mkdirSync(dirname(out), { recursive: true });
  const note = values.note ?? "";
  writeFileSync(`${out}.json`, `${JSON.stringify({ ...result, note }, null, 2)}\n`);
  const md = renderMarkdown(result, note);
  writeFileSync(`${out}.md`, md);
  process.stdout.write(`\n${md}\nwrote ${out}.json and ${out}.md\n`);
}

function isTrackerKind(name: string): name is TrackerKind {
  return name === "swarmcast" || name === "reference";
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:tracker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
