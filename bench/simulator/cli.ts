/**
 * `npm run simulate -- [options]`: sweeps the swarm model over audience sizes and latency
 * targets and writes <out>/<name>.{json,md} with two charts (bench/simulator/README.md).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type * as SdkEngine from "../../sdk/src/engine-entry";
import { ENGINE_BUILD } from "../audience/viewer-build";
import { loadProfiles, type LinkProfile } from "../links/profile";
import {
  renderLatencyChart,
  renderMarkdown,
  renderSizeChart,
  renderWhatIfMarkdown,
  type CalibrationRow,
  type WhatIfCell,
  type SimulatorReport,
  type SweepPoint,
} from "./report";
import { DEFAULT_SIMULATION, simulate, type SimulationConfig } from "./simulation";

const HELP = `npm run simulate -- [options]

  --viewers <list>          audience sizes (default 12,100,1000,10000,100000)
  --links <profile>         link profile of bench/links/profiles.json (default "default")
  --seeds <n>               runs per configuration up to --seeds-up-to viewers (default 5); 1 above
  --seeds-up-to <n>         (default 1000)
  --latency-viewers <n>     audience of the latency sweep (default 1000; 0: no sweep)
  --latency-counts <list>   hls.js liveSyncDurationCount values of that sweep (default 3,4,5)
  --steady <s>              measured seconds per run (default ${DEFAULT_SIMULATION.steadySec})
  --seed-copies <n>         liveEdge.seedCopies (default: the SDK's)
  --name <name>             result file name (default "simulator")
  --out <dir>               (default bench/results)
  --no-calibration          skip the comparison with the committed 12-viewer bench runs
  --what-if                 instead: the SDK's rules against variants, on the default link mix
                            and on uniform uplinks of 3, 5 and 20 Mbit/s, at 12, 100 and 1000
                            viewers (writes <name>-what-if.{json,md})
`;

type Sdk = typeof SdkEngine;

function list(name: string, value: string): number[] {
  const xs = value.split(",").map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 2))
    throw new Error(`--${name} must list whole numbers ≥ 2, got "${value}"`);
  return xs;
}

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isFinite(x) || x < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${value}"`);
  return x;
}

/** The committed bench runs the 12-viewer points are compared with (the goal's stream, default links). */
/** Committed 12-viewer bench runs, each with the SDK settings it ran (runs before relays had none). */
const CALIBRATION: { label: string; adaptive: boolean; config: Partial<SimulationConfig>; sources: string[] }[] = [
  {
    label: "12 viewers, stock latency, no relay",
    adaptive: false,
    config: { relayMinCopies: 0 },
    sources: ["audience-12-ladder1"],
  },
  {
    label: "12 viewers, adaptive latency, no relay",
    adaptive: true,
    config: { relayMinCopies: 0 },
    sources: ["audience-12-ladder1-adaptive-2modes", "audience-12-ladder1-adaptive", "audience-12-ladder1-norelay"],
  },
  {
    label: "12 viewers, adaptive latency, relays (the defaults)",
    adaptive: true,
    config: {},
    sources: ["audience-12-ladder1-relay-2modes", "audience-12-ladder1-relay"],
  },
];

function benchFigures(dir: string, source: string) {
  const file = join(dir, `${source}.json`);
  const run = JSON.parse(readFileSync(file, "utf8")) as {
    modes: { mode: string; steady: { offload: number; latencyMedianSec: number; latencyP95Sec: number } }[];
  };
  const mode = run.modes.find((m) => m.mode === "swarmcast");
  if (!mode) throw new Error(`${file}: no swarmcast mode`);
  const { offload, latencyMedianSec, latencyP95Sec } = mode.steady;
  return { source, offload, latencyMedianSec, latencyP95Sec };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      viewers: { type: "string" },
      links: { type: "string" },
      seeds: { type: "string" },
      "seeds-up-to": { type: "string" },
      "latency-viewers": { type: "string" },
      "latency-counts": { type: "string" },
      steady: { type: "string" },
      "seed-copies": { type: "string" },
      name: { type: "string" },
      out: { type: "string" },
      "no-calibration": { type: "boolean" },
      "what-if": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (!existsSync(ENGINE_BUILD)) throw new Error(`${ENGINE_BUILD} is missing: run "npm run build" first`);
  const sdk = (await import(ENGINE_BUILD)) as Sdk;
  const profiles = loadProfiles();
  const linksName = values.links ?? "default";
  const links = profiles[linksName];
  if (!links) throw new Error(`--links: no profile "${linksName}" (known: ${Object.keys(profiles).join(", ")})`);
  const sizes = list("viewers", values.viewers ?? "12,100,1000,10000,100000");
  const seeds = positive("seeds", values.seeds, 5);
  const seedsUpTo = positive("seeds-up-to", values["seeds-up-to"], 1000);
  const latencyViewers = positive("latency-viewers", values["latency-viewers"], 1000, 0);
  const latencyCounts = list("latency-counts", values["latency-counts"] ?? "3,4,5");
  const steadySec = positive("steady", values.steady, DEFAULT_SIMULATION.steadySec, 10);
  const seedCopies =
    values["seed-copies"] === undefined ? undefined : positive("seed-copies", values["seed-copies"], 1);
  const outDir = values.out ?? "bench/results";
  const name = values.name ?? "simulator";

  if (values["what-if"]) return whatIf(sdk, links, outDir, name, steadySec);

  const base: Omit<SimulationConfig, "viewers" | "adaptiveLatency" | "seed"> = {
    ...DEFAULT_SIMULATION,
    links,
    steadySec,
    seedCopies,
  };
  const point = (
    label: string,
    viewers: number,
    adaptiveLatency: boolean,
    liveSyncCount: number,
    config: Partial<SimulationConfig> = {},
  ): SweepPoint => {
    const n = viewers <= seedsUpTo ? seeds : 1;
    const runs = [];
    for (let seed = 1; seed <= n; seed++) {
      const r = simulate(sdk, { ...base, viewers, adaptiveLatency, liveSyncCount, seed, ...config }, linksName);
      runs.push(r);
      console.log(
        `${label}: ${viewers} viewers, seed ${seed}: offload ${(r.offload * 100).toFixed(1)} % (÷ bound ${(r.offload / r.bound).toFixed(2)}), ` +
          `stalls ${r.stalls}, latency ${r.latencyMedianSec.toFixed(1)} / ${r.latencyP95Sec.toFixed(1)} s, ${(r.wallMs / 1000).toFixed(1)} s`,
      );
    }
    return { label, viewers, adaptiveLatency, liveSyncCount, runs };
  };

  const sizePoints: SweepPoint[] = [];
  for (const viewers of sizes)
    for (const adaptive of [false, true])
      sizePoints.push(point(adaptive ? "adaptive" : "stock", viewers, adaptive, DEFAULT_SIMULATION.liveSyncCount));
  const latencyPoints: SweepPoint[] = [];
  if (latencyViewers > 0) {
    for (const count of latencyCounts) {
      const same = sizePoints.find(
        (p) => p.viewers === latencyViewers && !p.adaptiveLatency && p.liveSyncCount === count,
      );
      latencyPoints.push(same ?? point(`target ${count}`, latencyViewers, false, count));
    }
    const adaptive = sizePoints.find((p) => p.viewers === latencyViewers && p.adaptiveLatency);
    latencyPoints.push(adaptive ?? point("adaptive", latencyViewers, true, DEFAULT_SIMULATION.liveSyncCount));
  }
  const calibration: CalibrationRow[] = [];
  if (!values["no-calibration"]) {
    for (const c of CALIBRATION) {
      const defaults = Object.keys(c.config).length === 0;
      const simulated =
        (defaults ? sizePoints.find((p) => p.viewers === 12 && p.adaptiveLatency === c.adaptive) : undefined) ??
        point(c.label, 12, c.adaptive, DEFAULT_SIMULATION.liveSyncCount, c.config);
      calibration.push({
        label: c.label,
        bench: c.sources.map((s) => benchFigures("bench/results", s)),
        simulated,
      });
    }
  }

  const report: SimulatorReport = {
    createdAt: new Date().toISOString(),
    machine: `${cpus().length} cores, Node ${process.version}`,
    links: linksName,
    bitrateBps: base.bitrateBps,
    segmentSec: base.segmentSec,
    steadySec,
    sizes: sizePoints,
    latency: latencyPoints,
    calibration,
  };
  mkdirSync(outDir, { recursive: true });
  const charts = { sizes: `${name}-sizes.svg`, latency: `${name}-latency.svg` };
  writeFileSync(join(outDir, charts.sizes), renderSizeChart(sizePoints));
  if (latencyPoints.length > 0) writeFileSync(join(outDir, charts.latency), renderLatencyChart(latencyPoints));
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(outDir, `${name}.md`), renderMarkdown(report, charts));
  console.log(`wrote ${join(outDir, name)}.{json,md} and its charts`);
}

/** The variants the what-if matrix compares with the SDK's rules as they are. */
const VARIANTS: { name: string; what: string; config: Partial<SimulationConfig> }[] = [
  { name: "SDK defaults", what: "the SDK's rules and defaults as they are", config: {} },
  {
    name: "seedCopies 10",
    what: "`liveEdge.seedCopies: 10`: full early-fetch weight only from 10 copies in time (an SDK option)",
    config: { seedCopies: 10 },
  },
  {
    name: "no relay",
    what: "`liveEdge.relayMinCopies: 0`: nobody announces a segment before it has all of it (the SDK before relays)",
    config: { relayMinCopies: 0 },
  },
  {
    name: "peer choice",
    what: "`peerChoice: true`: a full peer set closes its least useful connection every 30 s for a random new one (an SDK option, off by default)",
    config: { peerChoice: true },
  },
];

function whatIf(sdk: Sdk, links: LinkProfile, outDir: string, name: string, steadySec: number): void {
  const mixes: [string, LinkProfile][] = [["default", links]];
  for (const mbps of [3, 5, 20])
    mixes.push([
      `every uplink ${mbps} Mbit/s`,
      { ...links, description: `every uplink ${mbps} Mbit/s`, uplink: [{ mbps, share: 1 }] },
    ]);
  const cells: WhatIfCell[] = [];
  for (const [linksName, profile] of mixes)
    for (const viewers of [12, 100, 1000])
      for (const variant of VARIANTS) {
        const runs = [];
        for (let seed = 1; seed <= (viewers >= 1000 ? 2 : 5); seed++)
          runs.push(
            simulate(
              sdk,
              { ...DEFAULT_SIMULATION, links: profile, steadySec, viewers, seed, ...variant.config },
              linksName,
            ),
          );
        cells.push({ links: linksName, viewers, variant: variant.name, runs });
        const ratio = runs.reduce((a, r) => a + r.offload / r.bound, 0) / runs.length;
        console.log(`${linksName}, ${viewers} viewers, ${variant.name}: offload ÷ bound ${ratio.toFixed(3)}`);
      }
  const createdAt = new Date().toISOString();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}-what-if.json`), `${JSON.stringify({ createdAt, cells }, null, 1)}\n`);
  writeFileSync(join(outDir, `${name}-what-if.md`), renderWhatIfMarkdown(createdAt, VARIANTS, cells));
  console.log(`wrote ${join(outDir, name)}-what-if.{json,md}`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
