/** The Markdown table and the SVG chart of a bench result. */
import * as echarts from "echarts";
import type { Distribution } from "./metrics.js";
import type { BenchResult, ModeResult } from "./run.js";

const CHART_WIDTH = 900;
const CHART_HEIGHT = 580;
const MODE_COLORS: Record<string, string> = { "http-only": "#8c8c8c", "pml-defaults": "#d9822b", swarmcast: "#2b6cd9" };

const pct = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(digits)} %`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (v: number | null) =>
  v === null ? "–" : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
const sec = (v: number | null) => (v === null ? "–" : `${v.toFixed(1)} s`);
const dist = (d: Distribution, f: (v: number | null) => string) => (d.n === 0 ? "–" : `${f(d.median)} / ${f(d.p95)}`);

function p2pShareCell(m: ModeResult): string {
  const shares = Object.values(m.steady.p2pShareByViewer).filter((v): v is number => v !== null);
  if (shares.length === 0) return "–";
  const min = Math.min(...shares);
  const max = Math.max(...shares);
  return `${pct(min, 0)} / ${pct(m.steady.p2pShare.median, 0)} / ${pct(max, 0)}`;
}

function ratioToBaseline(m: ModeResult, baseline: ModeResult | undefined): string {
  if (!baseline || baseline === m || baseline.steady.egressSegmentBytes === 0) return "–";
  return `${((m.steady.egressSegmentBytes / baseline.steady.egressSegmentBytes) * 100).toFixed(0)} %`;
}

export function renderMarkdown(result: BenchResult): string {
  const o = result.options;
  const modes = result.modes;
  const baseline = modes.find((m) => m.mode === "http-only");
  const rows: Array<[string, (m: ModeResult) => string]> = [
    ["**Offload, steady state** (1 − CDN egress / consumed)", (m) => `**${pct(m.steady.offload)}**`],
    ["Bound (N−1)/N", (m) => pct(m.bound)],
    ["Offload / bound", (m) => pct(m.offloadToBound)],
    ["CDN segment egress", (m) => mb(m.steady.egressSegmentBytes)],
    ["CDN egress vs http-only", (m) => ratioToBaseline(m, baseline)],
    ["CDN playlist egress", (m) => mb(m.steady.egressPlaylistBytes)],
    ["Segment bytes consumed (HTTP + P2P)", (m) => mb(m.steady.consumedBytes)],
    [
      "Consumed / egress (≈ 1 without P2P)",
      (m) => (m.steady.consumedToEgress === null ? "–" : m.steady.consumedToEgress.toFixed(2)),
    ],
    ["P2P share as viewers count it", (m) => pct(m.steady.viewerReportedOffload)],
    ["P2P share per viewer, min / median / max", p2pShareCell],
    ["Uploaded to peers", (m) => mb(m.steady.uploadedBytes)],
    ["Rebuffering, share of watch time", (m) => pct(m.steady.rebufferShare, 2)],
    ["Stalls (count / total)", (m) => `${m.steady.stalls} / ${ms(m.steady.stalledMs)}`],
    ["Startup to first frame, median / p95", (m) => dist(m.startupMs, ms)],
    ["Live latency, median / p95", (m) => dist(m.steady.latencySeconds, sec)],
    [
      "Viewers that added a segment of latency (adaptive latency)",
      (m) => {
        const reporting = m.viewerResults.filter((v) => v.latencySteps !== null);
        return reporting.length ? `${reporting.filter((v) => v.latencySteps! > 0).length} of ${reporting.length}` : "–";
      },
    ],
    ["hls.js errors, fatal / non-fatal", (m) => `${m.steady.hlsFatal} / ${m.steady.hlsNonFatal}`],
    ["Player error events (SDK / PML)", (m) => String(m.steady.playerErrors)],
    ["Page exceptions", (m) => String(m.pageErrors)],
    ["Viewers that never played", (m) => String(m.notStarted)],
    ["Offload incl. joins and warm-up", (m) => pct(m.whole.offload)],
    [
      "Player",
      (m) =>
        [
          `hls.js ${m.versions.hls}`,
          m.versions.pml && `PML ${m.versions.pml}`,
          m.mode === "swarmcast" && m.versions.swarmcast && `swarmcast ${m.versions.swarmcast}`,
        ]
          .filter(Boolean)
          .join(", "),
    ],
  ];
  const lines: string[] = [];
  lines.push(`# Offload bench: ${result.name}`, "");
  lines.push(
    `${o.viewers} viewers per mode joining every ${o.joinInterval} s, ${o.warmup} s warm-up, ${o.duration} s steady state` +
      (o.churn > 0 ? `, churn every ${o.churn} s` : "") +
      (o.faultShare > 0
        ? `, 503s for ${pct(o.faultShare, 0)} of viewers ${o.faultWindow[0]}–${o.faultWindow[1]} s into the steady state`
        : "") +
      (o.uploadCap > 0 ? `, upload cap ${o.uploadCap} kbit/s` : "") +
      `. ${result.segmentDuration} s segments, ${o.window}-segment live window, tracker: ${result.tracker}.`,
  );
  if (o.liveSyncCount > 0 || o.liveSync > 0 || Object.keys(o.sdkConfig).length > 0) {
    lines.push(
      "",
      `swarmcast options: \`${JSON.stringify(modes.find((m) => m.mode === "swarmcast")?.playerConfig ?? {})}\``,
    );
  }
  lines.push("");
  lines.push(`| | ${modes.map((m) => m.mode).join(" | ")} |`);
  lines.push(`|---|${modes.map(() => "---:").join("|")}|`);
  for (const [label, cell] of rows) lines.push(`| ${label} | ${modes.map(cell).join(" | ")} |`);
  lines.push("");
  const m = result.machine;
  lines.push(
    `Run ${result.startedAt} – ${result.finishedAt} on ${m.cpus} CPUs (${m.cpuModel}), Chromium ${m.chromium}, Node ${m.node}. ` +
      `Load average at start ${m.loadavgStart.map((l) => l.toFixed(2)).join(" / ")}, at end ${m.loadavgEnd.map((l) => l.toFixed(2)).join(" / ")} (1 / 5 / 15 min).`,
  );
  lines.push("");
  lines.push(
    "Steady state: from the end of the warm-up to the end of the mode; every figure is a delta of cumulative counters sampled at those two instants. " +
      "Egress counts origin body bytes per viewer; consumed bytes are what the viewers received from HTTP and peers. See bench/README.md.",
  );
  const problems = modes.flatMap((mode) =>
    mode.viewerResults
      .filter((v) => v.recentProblems.length > 0)
      .map((v) => `- ${mode.mode} ${v.id}: ${v.recentProblems.slice(-3).join(" · ")}`),
  );
  if (problems.length > 0) lines.push("", "Last problems reported by viewers:", "", ...problems.slice(0, 30));
  return lines.join("\n") + "\n";
}

/** CDN segment egress in Mbit/s over the last ~10 s at each timeline point. */
function egressRate(m: ModeResult): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  const timeline = m.timeline;
  for (let i = 1; i < timeline.length; i++) {
    const now = timeline[i];
    let j = i - 1;
    while (j > 0 && now.t - timeline[j].t < 10) j--;
    const seconds = now.t - timeline[j].t;
    if (seconds <= 0) continue;
    points.push([
      now.t,
      Math.round(((now.egressSegmentBytes - timeline[j].egressSegmentBytes) * 8) / seconds / 1e4) / 100,
    ]);
  }
  return points;
}

export function renderChart(result: BenchResult): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  const first = result.modes[0];
  const bound = first?.bound ?? 0;
  const markAreas: Array<[Record<string, unknown>, Record<string, unknown>]> = [];
  if (first) {
    markAreas.push([
      {
        name: "steady state",
        xAxis: (first.steadyFrom - first.startedAt) / 1000,
        itemStyle: { color: "rgba(43,108,217,0.06)" },
        label: { position: "insideTopLeft" },
      },
      { xAxis: (first.steadyTo - first.startedAt) / 1000 },
    ]);
    if (first.fault) {
      markAreas.push([
        {
          name: "503 window",
          xAxis: (first.fault.from - first.startedAt) / 1000,
          itemStyle: { color: "rgba(217,43,43,0.10)" },
          label: { position: "insideBottom" },
        },
        { xAxis: (first.fault.until - first.startedAt) / 1000 },
      ]);
    }
  }
  const o = result.options;
  const xMax =
    Math.ceil(Math.max(0, ...result.modes.map((m) => m.timeline[m.timeline.length - 1]?.t ?? 0)) / 10) * 10 ||
    undefined;
  const xAxis = (gridIndex: number, name: string) => ({
    type: "value",
    gridIndex,
    min: 0,
    max: xMax,
    name,
    nameLocation: "middle",
    nameGap: 28,
  });
  chart.setOption({
    animation: false,
    backgroundColor: "#ffffff",
    title: {
      text: `Offload over time — ${o.viewers} viewers, ${o.joinInterval} s between joins`,
      subtext:
        "top: 1 − CDN segment egress / bytes consumed, over the last 10 s (dashed: bound (N−1)/N); bottom: CDN segment egress",
      left: "center",
    },
    legend: { top: 64, data: result.modes.map((m) => m.mode) },
    grid: [
      { left: 64, right: 32, top: 104, height: 250 },
      { left: 64, right: 32, top: 420, height: 110 },
    ],
    xAxis: [xAxis(0, ""), xAxis(1, "seconds since the first join")],
    yAxis: [
      { type: "value", gridIndex: 0, name: "offload", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
      { type: "value", gridIndex: 1, name: "CDN Mbit/s", min: 0 },
    ],
    series: [
      ...result.modes.map((m, i) => ({
        name: m.mode,
        type: "line",
        xAxisIndex: 0,
        yAxisIndex: 0,
        showSymbol: false,
        lineStyle: { width: 2 },
        color: MODE_COLORS[m.mode],
        data: m.timeline
          .filter((p) => p.offload !== null)
          .map((p) => [p.t, Math.round(Math.max(0, p.offload!) * 1000) / 10]),
        ...(i === 0
          ? {
              markLine: {
                symbol: "none",
                silent: true,
                label: { formatter: `bound ${(bound * 100).toFixed(1)} %`, position: "insideEndTop" },
                lineStyle: { type: "dashed", color: "#333333" },
                data: [{ yAxis: Math.round(bound * 1000) / 10 }],
              },
              markArea: { silent: true, label: { color: "#555555" }, data: markAreas },
            }
          : {}),
      })),
      ...result.modes.map((m) => ({
        name: m.mode,
        type: "line",
        xAxisIndex: 1,
        yAxisIndex: 1,
        showSymbol: false,
        lineStyle: { width: 1.5 },
        color: MODE_COLORS[m.mode],
        data: egressRate(m),
      })),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
