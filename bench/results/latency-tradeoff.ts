/**
 * Offload against live latency: one point per mode of each offload-bench result given, drawn
 * with echarts SSR like the bench's own charts.
 *
 *   tsx bench/results/latency-tradeoff.ts bench/results/tuning-sync-6.5.json … [--out bench/results/latency-tradeoff]
 *
 * Writes <out>.svg, <out>.md and <out>.json. A swarmcast point is labelled with the hls.js
 * latency target it played with (`liveSyncDuration`, or `liveSyncDurationCount` × segment).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import * as echarts from "echarts";
import type { BenchResult, ModeResult } from "../offload/run.js";
import { DEFAULT_SWARMCAST_CONFIG } from "../../sdk/src/config.js";

interface Point {
  source: string;
  /** Label on the chart. */
  short: string;
  mode: string;
  label: string;
  target: number | null;
  viewers: number;
  offload: number | null;
  bound: number;
  latencyMedian: number | null;
  latencyP95: number | null;
  rebufferShare: number | null;
  stalls: number;
}

/** hls.js's catch-up rate when above 1: it then speeds playback up to hold the target. */
function catchUp(m: ModeResult): number | null {
  const rate = ((m.playerConfig.hls ?? {}) as Record<string, unknown>).maxLiveSyncPlaybackRate;
  return typeof rate === "number" && rate > 1 ? rate : null;
}

function latencyTarget(m: ModeResult, segment: number): number | null {
  const hls = (m.playerConfig.hls ?? {}) as Record<string, unknown>;
  if (typeof hls.liveSyncDuration === "number") return hls.liveSyncDuration;
  if (typeof hls.liveSyncDurationCount === "number") return hls.liveSyncDurationCount * segment;
  if (m.mode === "http-only" || m.mode === "pml-defaults") return 3 * segment;
  // swarmcast without an hls option: the SDK's default, in force when this chart is drawn.
  const sdk = DEFAULT_SWARMCAST_CONFIG.hls as Record<string, unknown>;
  if (typeof sdk.liveSyncDuration === "number") return sdk.liveSyncDuration;
  return typeof sdk.liveSyncDurationCount === "number" ? sdk.liveSyncDurationCount * segment : null;
}

const isSdkDefault = (m: ModeResult) => m.mode === "swarmcast" && m.playerConfig.hls === undefined;

function pointsOf(path: string): Point[] {
  const result = JSON.parse(readFileSync(path, "utf8")) as BenchResult;
  return result.modes.map((m) => {
    const target = latencyTarget(m, result.segmentDuration);
    const rate = catchUp(m);
    const short = `${target === null ? "?" : `${target} s`}${rate ? ` ×${rate}` : ""}${isSdkDefault(m) ? " (default)" : ""}`;
    const label = m.mode === "swarmcast" ? `swarmcast, target ${short}` : `${m.mode} (stock hls.js)`;
    return {
      source: basename(path),
      short: m.mode === "swarmcast" ? short : m.mode,
      mode: m.mode,
      label,
      target,
      viewers: m.viewers,
      offload: m.steady.offload,
      bound: m.bound,
      latencyMedian: m.steady.latencySeconds.median,
      latencyP95: m.steady.latencySeconds.p95,
      rebufferShare: m.steady.rebufferShare,
      stalls: m.steady.stalls,
    };
  });
}

const COLORS: Record<string, string> = { "http-only": "#8c8c8c", "pml-defaults": "#d9822b", swarmcast: "#2b6cd9" };
const pct = (v: number | null, d = 1) => (v === null ? "–" : `${(v * 100).toFixed(d)} %`);
const sec = (v: number | null) => (v === null ? "–" : `${v.toFixed(1)} s`);

function render(points: Point[]): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: 900, height: 520 });
  const bound = Math.max(...points.map((p) => p.bound));
  const byMode = new Map<string, Point[]>();
  for (const p of points) byMode.set(p.mode, [...(byMode.get(p.mode) ?? []), p]);
  const series = [...byMode.entries()].map(([mode, ps]) => ({
    name: mode,
    type: "scatter",
    symbolSize: 12,
    color: COLORS[mode] ?? "#333",
    label: {
      show: true,
      position: "top",
      formatter: (v: { value: [number, number, string] }) => v.value[2],
    },
    data: ps
      .filter((p) => p.latencyMedian !== null && p.offload !== null)
      .sort((a, b) => (a.latencyMedian ?? 0) - (b.latencyMedian ?? 0))
      .map((p) => ({
        value: [p.latencyMedian, Math.round((p.offload ?? 0) * 1000) / 10, p.short],
        // The default sits on a tuning point of the same target: label it underneath.
        ...(p.short.includes("(default)") ? { label: { position: "bottom" } } : {}),
      })),
  }));
  const viewers = Math.max(...points.map((p) => p.viewers));
  chart.setOption({
    animation: false,
    title: {
      text: "Offload against live latency",
      subtext: `${viewers} viewers per run; swarmcast labelled with its hls.js latency target (×rate: hls.js catch-up on); dashed: bound (N−1)/N`,
      left: "center",
    },
    legend: { bottom: 0 },
    grid: { left: 70, right: 40, top: 80, bottom: 70 },
    xAxis: { type: "value", name: "live latency, median (s)", nameLocation: "middle", nameGap: 30, scale: true },
    yAxis: { type: "value", name: "offload, steady state (%)", nameLocation: "middle", nameGap: 40, min: 0, max: 100 },
    series: [
      ...series,
      {
        name: "bound",
        type: "line",
        data: [],
        markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#444" }, data: [{ yAxis: Math.round(bound * 1000) / 10 }] },
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

function markdown(points: Point[]): string {
  const lines = [
    "# Offload against live latency",
    "",
    "One row per mode of each offload-bench run (`bench/results/<source>`); steady-state figures.",
    "",
    "| run | mode / latency target | viewers | offload | offload / bound | latency median / p95 | rebuffering | stalls |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const p of points) {
    lines.push(
      `| ${p.source} | ${p.label} | ${p.viewers} | ${pct(p.offload)} | ${p.offload === null || p.bound === 0 ? "–" : pct(p.offload / p.bound, 0)} | ${sec(p.latencyMedian)} / ${sec(p.latencyP95)} | ${pct(p.rebufferShare, 2)} | ${p.stalls} |`,
    );
  }
  return lines.join("\n") + "\n";
}

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? args[outIndex + 1] : "bench/results/latency-tradeoff";
const inputs = outIndex >= 0 ? args.filter((_, i) => i !== outIndex && i !== outIndex + 1) : args;
if (inputs.length === 0 || !out) {
  console.error("usage: tsx bench/results/latency-tradeoff.ts <result.json>… [--out <path without extension>]");
  process.exit(2);
}
const points = inputs.flatMap(pointsOf);
writeFileSync(`${out}.svg`, render(points));
writeFileSync(`${out}.md`, markdown(points));
writeFileSync(`${out}.json`, JSON.stringify({ format: "swarmcast-latency-tradeoff/1", inputs, points }, null, 2) + "\n");
console.log(`wrote ${out}.svg, ${out}.md, ${out}.json (${points.length} points)`);
