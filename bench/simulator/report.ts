/** The simulator's summary: Markdown tables and two SVG charts (echarts, rendered server-side). */
import * as echarts from "echarts";
import type { SimulationResult } from "./simulation";

/** The runs of one configuration (seeds), averaged. */
export interface SweepPoint {
  label: string;
  viewers: number;
  adaptiveLatency: boolean;
  liveSyncCount: number;
  runs: SimulationResult[];
}

export interface CalibrationRow {
  /** What was compared, e.g. "12 viewers, stock latency". */
  label: string;
  bench: { source: string; offload: number; latencyMedianSec: number; latencyP95Sec: number }[];
  simulated: SweepPoint;
}

export interface SimulatorReport {
  createdAt: string;
  machine: string;
  links: string;
  bitrateBps: number;
  segmentSec: number;
  steadySec: number;
  sizes: SweepPoint[];
  latency: SweepPoint[];
  calibration: CalibrationRow[];
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (v: number, d = 1) => `${(v * 100).toFixed(d)} %`;
const num = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "–");

export function summarize(p: SweepPoint) {
  const r = p.runs;
  return {
    offload: mean(r.map((x) => x.offload)),
    offloadMin: Math.min(...r.map((x) => x.offload)),
    offloadMax: Math.max(...r.map((x) => x.offload)),
    bound: mean(r.map((x) => x.bound)),
    ratio: mean(r.map((x) => x.offload / x.bound)),
    rebuffering: mean(r.map((x) => x.rebufferingShare)),
    stalls: mean(r.map((x) => x.stalls)),
    latencyMedianSec: mean(r.map((x) => x.latencyMedianSec)),
    latencyP95Sec: mean(r.map((x) => x.latencyP95Sec)),
    stepped: mean(r.map((x) => x.steppedShare)),
    late: mean(r.map((x) => x.outcomeShares.late)),
    seed: mean(r.map((x) => x.outcomeShares.seed)),
    peers: mean(r.map((x) => x.peersMean)),
    wallSec: mean(r.map((x) => x.wallMs)) / 1000,
    upload: Object.fromEntries(
      Object.keys(r[0].uploadMbpsByUplink).map((k) => [k, mean(r.map((x) => x.uploadMbpsByUplink[k] ?? 0))]),
    ),
  };
}

/** The mean offload and, in brackets, its range over the runs. */
const offloadRange = (s: ReturnType<typeof summarize>) =>
  `${pct(s.offload)} (${pct(s.offloadMin)}–${pct(s.offloadMax)})`;

const modeName = (p: SweepPoint) =>
  p.adaptiveLatency ? "adaptive latency (default)" : `stock latency (${p.liveSyncCount} segments)`;

export function renderMarkdown(report: SimulatorReport, charts: { sizes: string; latency: string }): string {
  const lines: string[] = [
    "# Simulated swarms: offload against audience size and latency",
    "",
    `${report.createdAt}, ${report.machine}. \`npm run simulate\` (bench/simulator/README.md): a discrete-event model of one live swarm`,
    `running the SDK's own live decisions from its engine build. Links \`${report.links}\` (bench/links/profiles.json), one`,
    `rendition of ${num(report.bitrateBps / 1e6)} Mbit/s in ${report.segmentSec} s segments, every viewer joining within 10 s,`,
    `${report.steadySec} s measured after a 40 s warm-up; at most 20 peer connections per viewer.`,
    "",
    "## Calibration against the audience bench (12 viewers, the same stream and links)",
    "",
    "| Configuration | Bench run: offload, latency median / p95 | Simulated: offload (range over seeds), latency median / p95 | Offload difference |",
    "|---|---|---|---|",
  ];
  for (const row of report.calibration) {
    const s = summarize(row.simulated);
    const benchOffload = mean(row.bench.map((b) => b.offload));
    lines.push(
      `| ${row.label} | ${row.bench
        .map((b) => `${b.source}: ${pct(b.offload)}, ${num(b.latencyMedianSec)} / ${num(b.latencyP95Sec)} s`)
        .join("; ")} | ${offloadRange(s)}, ${num(s.latencyMedianSec)} / ${num(
        s.latencyP95Sec,
      )} s | ${((s.offload - benchOffload) * 100).toFixed(1)} points |`,
    );
  }
  lines.push(
    "",
    "## Offload against audience size",
    "",
    `![offload against audience size](${charts.sizes})`,
    "",
    "| Viewers | Latency | Runs | Offload (range) | Bound / ÷ bound | Rebuffering / stalls per run | Latency median / p95 (s) | Viewers that stepped | New segments late / seeded | Upload median by uplink (Mbit/s) | Model time per run |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const p of report.sizes) {
    const s = summarize(p);
    lines.push(
      `| ${p.viewers.toLocaleString("en")} | ${modeName(p)} | ${p.runs.length} | ${offloadRange(s)} | ${pct(s.bound)} / **${s.ratio.toFixed(2)}** | ${pct(s.rebuffering, 2)} / ${num(s.stalls)} | ${num(
        s.latencyMedianSec,
      )} / ${num(s.latencyP95Sec)} | ${pct(s.stepped, 0)} | ${pct(s.late)} / ${pct(s.seed)} | ${Object.entries(s.upload)
        .map(([k, v]) => `${k}: ${num(v, 2)}`)
        .join("; ")} | ${num(s.wallSec)} s |`,
    );
  }
  lines.push(
    "",
    "## Offload against latency target",
    "",
    `![offload against latency](${charts.latency})`,
    "",
    "| Viewers | hls.js target (segments) | Runs | Offload (range) | ÷ bound | Rebuffering | Latency median / p95 (s) |",
    "|---|---|---|---|---|---|---|",
  );
  for (const p of report.latency) {
    const s = summarize(p);
    lines.push(
      `| ${p.viewers.toLocaleString("en")} | ${p.liveSyncCount}${p.adaptiveLatency ? " + adaptive" : ""} | ${p.runs.length} | ${offloadRange(s)} | ${s.ratio.toFixed(2)} | ${pct(s.rebuffering, 2)} | ${num(
        s.latencyMedianSec,
      )} / ${num(s.latencyP95Sec)} |`,
    );
  }
  lines.push(
    "",
    "Latency is hls.js's measure (the playlist's edge, aged since its load, minus the playhead), as in the",
    'audience bench. "Late": a new segment taken from the CDN after the swarm could not deliver it (at the',
    'urgent moment, or a second early fetch after a holder refused); "seeded": the first early fetch.',
    "",
  );
  return lines.join("\n");
}

function chart(option: echarts.EChartsCoreOption): string {
  const c = echarts.init(null, null, { renderer: "svg", ssr: true, width: 900, height: 520 });
  c.setOption({ animation: false, ...option });
  const svg = c.renderToSVGString();
  c.dispose();
  return svg;
}

export function renderSizeChart(points: SweepPoint[]): string {
  const series = [false, true].map((adaptive) => ({
    name: adaptive ? "adaptive latency (default)" : "stock latency",
    type: "line",
    symbolSize: 9,
    color: adaptive ? "#2b6cd9" : "#d9822b",
    data: points
      .filter((p) => p.adaptiveLatency === adaptive)
      .map((p) => [p.viewers, Math.round(summarize(p).ratio * 1000) / 1000]),
  }));
  return chart({
    title: {
      text: "Simulated offload ÷ bound against audience size",
      subtext: "default home links, 1.6 Mbit/s in 2 s segments, ≤ 20 peers each; dashed: the goal, 0.9 × the bound",
      left: "center",
    },
    legend: { bottom: 0 },
    grid: { left: 70, right: 40, top: 80, bottom: 70 },
    xAxis: { type: "log", name: "viewers", nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "value", name: "offload ÷ bound", nameLocation: "middle", nameGap: 45, min: 0.5, max: 1 },
    series: [
      ...series,
      {
        name: "goal",
        type: "line",
        data: [],
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: "#444" },
          data: [{ yAxis: 0.9 }],
        },
      },
    ],
  });
}

export function renderLatencyChart(points: SweepPoint[]): string {
  return chart({
    title: {
      text: "Simulated offload against live latency",
      subtext: `${points[0]?.viewers.toLocaleString("en") ?? ""} viewers; labels: hls.js liveSyncDurationCount (+ adaptive latency)`,
      left: "center",
    },
    grid: { left: 70, right: 40, top: 80, bottom: 60 },
    xAxis: { type: "value", name: "live latency, median (s)", nameLocation: "middle", nameGap: 30, scale: true },
    yAxis: { type: "value", name: "offload (%)", nameLocation: "middle", nameGap: 40, min: 50, max: 100 },
    series: [
      {
        type: "scatter",
        symbolSize: 12,
        color: "#2b6cd9",
        label: {
          show: true,
          position: "top",
          formatter: (v: { value: [number, number, string] }) => v.value[2],
        },
        data: points.map((p) => {
          const s = summarize(p);
          return [
            Math.round(s.latencyMedianSec * 100) / 100,
            Math.round(s.offload * 1000) / 10,
            `${p.liveSyncCount}${p.adaptiveLatency ? " + adaptive" : ""}`,
          ];
        }),
      },
    ],
  });
}

/** One cell of the what-if matrix: a link mix, an audience size, a variant of the SDK's rules. */
export interface WhatIfCell {
  links: string;
  viewers: number;
  variant: string;
  runs: SimulationResult[];
}

export function renderWhatIfMarkdown(
  createdAt: string,
  variants: { name: string; what: string }[],
  cells: WhatIfCell[],
): string {
  const lines = [
    "# Simulated what-ifs: the SDK's rules against variants, by link mix and audience",
    "",
    `${createdAt}. \`npm run simulate -- --what-if\` (bench/simulator/README.md); adaptive latency on, 1.6 Mbit/s in 2 s`,
    "segments, ≤ 20 peers each; each cell the mean over its runs (seeds). Offload ÷ bound, then in brackets",
    "the share of new segments that came late and the median latency (s).",
    "",
    ...variants.map((v) => `- **${v.name}**: ${v.what}`),
    "",
    `| Links | Viewers | ${variants.map((v) => v.name).join(" | ")} |`,
    `|---|---|${variants.map(() => "---").join("|")}|`,
  ];
  const keys = [...new Set(cells.map((c) => `${c.links}\n${c.viewers}`))];
  for (const key of keys) {
    const [links, viewers] = key.split("\n");
    const row = variants.map((v) => {
      const cell = cells.find((c) => c.links === links && String(c.viewers) === viewers && c.variant === v.name);
      if (!cell) return "–";
      const r = cell.runs;
      const ratio = mean(r.map((x) => x.offload / x.bound));
      const late = mean(r.map((x) => x.outcomeShares.late));
      const latency = mean(r.map((x) => x.latencyMedianSec));
      return `${ratio.toFixed(3)} (${pct(late)}, ${num(latency)} s)`;
    });
    lines.push(`| ${links} | ${Number(viewers).toLocaleString("en")} | ${row.join(" | ")} |`);
  }
  lines.push("");
  return lines.join("\n");
}
