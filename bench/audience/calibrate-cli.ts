/**
 * `npm run bench:calibrate -- [options]`: the same audience scenario with every viewer a
 * Chromium and with every viewer virtual, alternated run by run, on loopback and on emulated
 * links; writes bench/results/<name>.{json,md} with every run and the medians compared.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { loadProfiles } from "../links/profile.js";
import { MODES } from "../offload/options.js";
import { ROOT } from "../offload/pages.js";
import {
  calibrationRuns,
  compareKinds,
  renderCalibrationMarkdown,
  type CalibrationReport,
  type CalibrationRun,
  type ViewerKind,
} from "./calibration.js";
import { DEFAULT_AUDIENCE_OPTIONS, MAX_MACHINE_CPU, runAudienceBench } from "./run.js";
import type { AudienceMode } from "./virtual-protocol.js";

const HELP = `npm run bench:calibrate -- [options]   (as root: emulated links need network namespaces)
  --viewers N      viewers per run, all Chromium or all virtual (default 8)
  --runs N         runs of each kind per link setting; the medians are compared (default 3)
  --links LIST     link settings, comma-separated: off (loopback) and/or profiles (default off,default)
  --ladder 1|3     the 1.6 Mbit/s rendition alone, or the 3-rendition ladder (default 1)
  --modes LIST     comma-separated, of ${MODES.join(", ")} (default swarmcast)
  --warmup S       seconds between the last join and the steady window (default 20)
  --duration S     steady seconds per mode (default 60)
  --name NAME      result files bench/results/NAME.{json,md} (default calibration-<viewers>)`;

class OptionError extends Error {}

function positiveInt(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new OptionError(`--${name}: ${value} is not an integer in 1–${max}`);
  return n;
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      viewers: { type: "string", default: "8" },
      runs: { type: "string", default: "3" },
      links: { type: "string", default: "off,default" },
      ladder: { type: "string", default: "1" },
      modes: { type: "string", default: "swarmcast" },
      warmup: { type: "string", default: "20" },
      duration: { type: "string", default: "60" },
      name: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const profiles = loadProfiles();
  const links = values.links.split(",");
  for (const l of links)
    if (l !== "off" && !(l in profiles))
      throw new OptionError(`--links: "${l}" is neither off nor a profile (${Object.keys(profiles).join(", ")})`);
  const modes = values.modes.split(",") as AudienceMode[];
  for (const m of modes)
    if (!(MODES as readonly string[]).includes(m))
      throw new OptionError(`--modes: "${m}" is not one of ${MODES.join(", ")}`);
  if (values.ladder !== "1" && values.ladder !== "3") throw new OptionError(`--ladder: ${values.ladder} is not 1 or 3`);
  const viewers = positiveInt("viewers", values.viewers, 16);
  return {
    help: values.help,
    viewers,
    runs: positiveInt("runs", values.runs, 9),
    links,
    ladder: Number(values.ladder) as 1 | 3,
    modes,
    warmupSec: positiveInt("warmup", values.warmup, 600),
    durationSec: positiveInt("duration", values.duration, 3600),
    name: values.name ?? `calibration-${viewers}`,
  };
}

async function main(): Promise<number> {
  let o;
  try {
    o = options(process.argv.slice(2));
  } catch (error) {
    console.error(`bench:calibrate: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  // Each run's full report goes to a scratch folder: the committed result is the comparison.
  const scratch = mkdtempSync(join(tmpdir(), "swarmcast-calibration-"));
  const runs: CalibrationRun[] = [];
  const startedAt = new Date().toISOString();
  const kinds: ViewerKind[] = ["chromium", "virtual"];
  for (const links of o.links)
    for (let run = 1; run <= o.runs; run++)
      // Alternating kinds spreads whatever else the machine does over both.
      for (const kind of run % 2 ? kinds : [...kinds].reverse()) {
        const label = `${links} ${kind} run ${run}/${o.runs}`;
        console.log(`\n== ${label}`);
        const { result } = await runAudienceBench(
          {
            ...DEFAULT_AUDIENCE_OPTIONS,
            viewers: o.viewers,
            browsers: kind === "chromium" ? o.viewers : 0,
            modes: o.modes,
            links,
            ladder: o.ladder,
            warmupSec: o.warmupSec,
            durationSec: o.durationSec,
            name: `${links}-${kind}-${run}`,
            outDir: scratch,
          },
          (line) => console.log(`  ${line}`),
        );
        for (const r of calibrationRuns(result, kind, run)) {
          runs.push(r);
          console.log(
            `${label} ${r.mode}: offload ${(r.offload * 100).toFixed(1)} %, stalled ${r.stalledSecPerViewer.toFixed(2)} s per viewer, CPU ${(r.machineCpuShare * 100).toFixed(0)} %`,
          );
        }
      }
  const report: CalibrationReport = {
    format: "swarmcast-calibration/1",
    viewers: o.viewers,
    ladder: o.ladder,
    durationSec: o.durationSec,
    startedAt,
    runs,
    comparisons: compareKinds(runs, MAX_MACHINE_CPU),
  };
  const outDir = join(ROOT, "bench/results");
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, `${o.name}.json`), join(outDir, `${o.name}.md`)];
  writeFileSync(files[0], JSON.stringify(report, null, 2) + "\n");
  const markdown = renderCalibrationMarkdown(report);
  writeFileSync(files[1], markdown);
  console.log("\n" + markdown);
  console.log(`wrote ${files.map((f) => relative(ROOT, f)).join(", ")}; every run's report in ${scratch}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench:calibrate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
