import { median } from "../../devkit/quantiles";
import type { AudienceResult } from "./run";
import type { AudienceMode } from "./virtual-protocol";

/** The two kinds of viewer a calibration compares. */
export type ViewerKind = "chromium" | "virtual";

/** What one run of one kind measured in one mode's steady window. */
export interface CalibrationRun {
  links: string;
  kind: ViewerKind;
  mode: AudienceMode;
  run: number;
  offload: number;
  bound: number;
  stalls: number;
  /** Stalled seconds in the steady window, summed over the viewers, divided by their number. */
  stalledSecPerViewer: number;
  latencyMedianSec: number | null;
  startupMedianMs: number | null;
  peersMedian: number | null;
  machineCpuShare: number;
}

/** Medians of the runs of one kind. */
export interface KindMedians {
  runs: number;
  offload: number;
  stalledSecPerViewer: number;
  stalls: number;
  latencyMedianSec: number | null;
  startupMedianMs: number | null;
  machineCpuShare: number;
}

/** Chromium against virtual viewers, for one link setting and one mode. */
export interface CalibrationComparison {
  links: string;
  mode: AudienceMode;
  chromium: KindMedians;
  virtual: KindMedians;
  /** Virtual − Chromium offload, in points. */
  offloadGapPoints: number;
  /** |virtual − Chromium| stalled seconds per viewer, and the tolerance 1 s + 20 % of the larger. */
  stallGapSec: number;
  stallToleranceSec: number;
  offloadHolds: boolean;
  stallHolds: boolean;
  /** Any run of either kind at or above the machine CPU limit: the comparison measures the machine. */
  machineLimited: boolean;
}

export const OFFLOAD_TOLERANCE_POINTS = 3;
export const STALL_TOLERANCE = { absoluteSec: 1, share: 0.2 };

/** One row per mode of an audience result. */
export function calibrationRuns(result: AudienceResult, kind: ViewerKind, run: number): CalibrationRun[] {
  return result.modes.map((m) => {
    const watched = m.viewers.length;
    const stalledMs = m.viewers.reduce((a, v) => a + v.stalledMs, 0);
    return {
      links: result.options.links,
      kind,
      mode: m.mode,
      run,
      offload: m.steady.offload,
      bound: m.steady.bound,
      stalls: m.steady.stalls,
      stalledSecPerViewer: watched > 0 ? stalledMs / 1000 / watched : 0,
      latencyMedianSec: m.steady.latencyMedianSec,
      startupMedianMs: m.steady.startupMedianMs,
      peersMedian: m.steady.peersMedian,
      machineCpuShare: m.steady.machineCpuShare,
    };
  });
}

function medianOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? median(present) : null;
}

function medians(runs: CalibrationRun[]): KindMedians {
  return {
    runs: runs.length,
    offload: median(runs.map((r) => r.offload)),
    stalledSecPerViewer: median(runs.map((r) => r.stalledSecPerViewer)),
    stalls: median(runs.map((r) => r.stalls)),
    latencyMedianSec: medianOrNull(runs.map((r) => r.latencyMedianSec)),
    startupMedianMs: medianOrNull(runs.map((r) => r.startupMedianMs)),
    machineCpuShare: median(runs.map((r) => r.machineCpuShare)),
  };
}

/** Compares the two kinds per link setting and mode; pairs missing either kind are left out. */
export function compareKinds(runs: CalibrationRun[], maxMachineCpu: number): CalibrationComparison[] {
  const keys = [...new Set(runs.map((r) => `${r.links}\u0000${r.mode}`))];
  return keys.flatMap((key) => {
    const [links, mode] = key.split("\u0000") as [string, AudienceMode];
    const of = (kind: ViewerKind) => runs.filter((r) => r.links === links && r.mode === mode && r.kind === kind);
    const chromiumRuns = of("chromium");
    const virtualRuns = of("virtual");
    if (chromiumRuns.length === 0 || virtualRuns.length === 0) return [];
    const chromium = medians(chromiumRuns);
    const virtual = medians(virtualRuns);
    const offloadGapPoints = (virtual.offload - chromium.offload) * 100;
    const stallGapSec = Math.abs(virtual.stalledSecPerViewer - chromium.stalledSecPerViewer);
    const stallToleranceSec =
      STALL_TOLERANCE.absoluteSec +
      STALL_TOLERANCE.share * Math.max(virtual.stalledSecPerViewer, chromium.stalledSecPerViewer);
    return [
      {
        links,
        mode,
        chromium,
        virtual,
        offloadGapPoints,
        stallGapSec,
        stallToleranceSec,
        offloadHolds: Math.abs(offloadGapPoints) <= OFFLOAD_TOLERANCE_POINTS,
        stallHolds: stallGapSec <= stallToleranceSec,
        machineLimited: [...chromiumRuns, ...virtualRuns].some((r) => r.machineCpuShare >= maxMachineCpu),
      },
    ];
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const num = (x: number | null, digits = 1) => (x === null || Number.isNaN(x) ? "–" : x.toFixed(digits));

export interface CalibrationReport {
  format: string;
  viewers: number;
  ladder: 1 | 3;
  durationSec: number;
  startedAt: string;
  runs: CalibrationRun[];
  comparisons: CalibrationComparison[];
}

export function renderCalibrationMarkdown(report: CalibrationReport): string {
  const lines = [
    `# Calibration: ${report.viewers} Chromium against ${report.viewers} virtual viewers`,
    "",
    `Ladder ${report.ladder === 1 ? "1 (the 1.6 Mbit/s rendition alone)" : "3"}, ${report.durationSec} s steady per run, started ${report.startedAt}. ` +
      `Goal: offload within ${OFFLOAD_TOLERANCE_POINTS} points, stalled seconds per viewer within ` +
      `${STALL_TOLERANCE.absoluteSec} s + ${STALL_TOLERANCE.share * 100} % of the larger (medians of the runs).`,
    "",
    "| Links | Mode | Kind | Runs | Offload | Stalled s / viewer | Stalls | Latency s | Startup ms | Machine CPU |",
    "| ----- | ---- | ---- | ---- | ------- | ------------------ | ------ | --------- | ---------- | ----------- |",
  ];
  for (const c of report.comparisons)
    for (const kind of ["chromium", "virtual"] as const) {
      const k = c[kind];
      lines.push(
        `| ${c.links} | ${c.mode} | ${kind} | ${k.runs} | ${pct(k.offload)} | ${num(k.stalledSecPerViewer, 2)} | ${num(k.stalls, 0)} | ${num(k.latencyMedianSec)} | ${num(k.startupMedianMs, 0)} | ${pct(k.machineCpuShare)} |`,
      );
    }
  lines.push("", "| Links | Mode | Offload gap (virtual − Chromium) | Stall gap / tolerance | Holds? |");
  lines.push("| ----- | ---- | -------------------------------- | --------------------- | ------ |");
  for (const c of report.comparisons) {
    const verdict =
      c.offloadHolds && c.stallHolds
        ? "yes"
        : [!c.offloadHolds && "offload", !c.stallHolds && "stalls"].filter(Boolean).join(", ") + " off";
    lines.push(
      `| ${c.links} | ${c.mode} | ${c.offloadGapPoints >= 0 ? "+" : ""}${c.offloadGapPoints.toFixed(1)} points | ${c.stallGapSec.toFixed(2)} s / ${c.stallToleranceSec.toFixed(2)} s | ${verdict}${c.machineLimited ? " (machine CPU at the limit in a run)" : ""} |`,
    );
  }
  lines.push("", "## Every run", "");
  lines.push(
    "| Links | Kind | Mode | Run | Offload | Bound | Stalls | Stalled s / viewer | Latency s | Peers | Machine CPU |",
  );
  lines.push(
    "| ----- | ---- | ---- | --- | ------- | ----- | ------ | ------------------ | --------- | ----- | ----------- |",
  );
  for (const r of report.runs)
    lines.push(
      `| ${r.links} | ${r.kind} | ${r.mode} | ${r.run} | ${pct(r.offload)} | ${pct(r.bound)} | ${r.stalls} | ${r.stalledSecPerViewer.toFixed(2)} | ${num(r.latencyMedianSec)} | ${num(r.peersMedian, 0)} | ${pct(r.machineCpuShare)} |`,
    );
  return lines.join("\n") + "\n";
}
