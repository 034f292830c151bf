/** The Markdown table and the SVG chart of an audience bench result. */
import * as echarts from "echarts";
import type { AudienceModeResult, AudienceResult } from "./run";

const CHART_WIDTH = 900;
const CHART_HEIGHT = 640;
const MODE_COLORS: Record<string, string> = { "http-only": "#8c8c8c", "pml-defaults": "#d9822b", swarmcast: "#2b6cd9" };

const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? "–" : `${(x * 100).toFixed(digits)} %`;
const num = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? "–" : x.toFixed(digits));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function renderAudienceMarkdown(result: AudienceResult): string {
  const o = result.options;
  const modes = result.modes;
  const row = (label: string, f: (m: AudienceModeResult) => string) => `| ${label} | ${modes.map(f).join(" | ")} |`;
  const virtual = o.viewers - o.browsers;
  const lines = [
    `# Audience bench: ${o.viewers} viewers (${virtual} virtual, ${o.browsers} Chromium), links ${o.links}, ${o.ladder === 3 ? "3-rendition ladder" : "1.6 Mbit/s rendition alone"}`,
    "",
    `Joins ${o.joinIntervalSec} s apart, ${o.warmupSec} s warm-up, ${o.durationSec} s steady state per mode; machine ${result.machine.cpus} CPUs, load ${result.machine.loadavgStart.map((x) => x.toFixed(1)).join(" / ")} at start, ${result.machine.loadavgEnd.map((x) => x.toFixed(1)).join(" / ")} at end; machine CPU ${pct(result.machine.cpuBeforeBench, 0)} busy with other work before the bench started; started ${result.machine.startedAt}.`,
    "",
    result.valid.counts
      ? "**Valid run**: http-only had no stall after startup and the machine's CPU stayed under 85 % in every steady window."
      : `**Invalid run** (does not count): ${result.valid.reasons.join("; ")}.`,
    "",
    `| | ${modes.map((m) => m.mode).join(" | ")} |`,
    `|---|${modes.map(() => "---").join("|")}|`,
    row("**Offload** (1 − CDN segment egress / segment bytes received)", (m) => `**${pct(m.steady.offload)}**`),
    row(
      "Bound (byte-weighted over renditions) / offload ÷ bound",
      (m) => `${pct(m.steady.bound)} / ${pct(m.steady.ratioToBound)}`,
    ),
    ...(modes[0]?.steady.renditions ?? []).map((r, l) =>
      row(
        `Rendition ${l} (${(r.bitrateBps / 1e6).toFixed(1)} Mbit/s): P2P share / bound (binding term, viewers) / ratio`,
        (m) => {
          const x = m.steady.renditions[l];
          return `${pct(x.offload)} / ${pct(x.bound)} (${x.binding}, n=${x.viewers}) / ${pct(x.ratioToBound)}`;
        },
      ),
    ),
    row("CDN segment egress / received", (m) => `${mb(m.steady.cdnBytes)} / ${mb(m.steady.consumedBytes)}`),
    row("P2P share as viewers count it", (m) => pct(m.steady.viewerP2pShare)),
    row("Rebuffering share / stalls", (m) => `${pct(m.steady.rebufferingShare, 2)} / ${m.steady.stalls}`),
    row("Live latency median / p95 (s)", (m) => `${num(m.steady.latencyMedianSec)} / ${num(m.steady.latencyP95Sec)}`),
    row("Startup median (s)", (m) => num(m.steady.startupMedianMs === null ? null : m.steady.startupMedianMs / 1000)),
    row("Peers per viewer (median)", (m) => num(m.steady.peersMedian, 0)),
    row(
      "P2P connection success / TURN share (virtual viewers)",
      (m) => `${pct(m.steady.connectionSuccess)} / ${pct(m.steady.turnShare)}`,
    ),
    row(
      "Upload per viewer by uplink, median Mbit/s: SDK-reported / on the link",
      (m) =>
        Object.entries(m.steady.uploadMbpsByUplink)
          .map(([k, v]) => `${k}: ${num(v.sdkMedian, 2)} / ${num(v.linkMedian, 2)}`)
          .join("; ") || "–",
    ),
    row(
      "Virtual ↔ Chromium traffic (virtual viewers' transport counters, whole run): received / sent (+ from peers behind NAT whose address WebRTC hides)",
      (m) => {
        if (o.browsers === 0) return "–";
        const c = m.steady.crossing;
        const hidden = c.unattributedReceivedBytes + c.unattributedSentBytes > 0;
        return (
          `${mb(c.virtualFromChromiumBytes)} / ${mb(c.virtualToChromiumBytes)}` +
          (hidden ? ` (+ ${mb(c.unattributedReceivedBytes)} / ${mb(c.unattributedSentBytes)})` : "")
        );
      },
    ),
    row(
      "Machine CPU in the steady window / memory in use at its end",
      (m) => `${pct(m.steady.machineCpuShare, 0)} / ${num(m.steady.machineMemoryUsedGB)} GB`,
    ),
    row(
      "Virtual viewer process: CPU s in window / RSS MB (median)",
      (m) => `${num(m.steady.viewerCpuSecMedian)} / ${num(m.steady.viewerRssMBMedian, 0)}`,
    ),
    row("Chromium viewer (whole browser): CPU of one core / PSS MB, each", (m) =>
      m.steady.chromium.length === 0
        ? "–"
        : m.steady.chromium.map((c) => `${pct(c.cpuShare, 0)} / ${num(c.pssMB, 0)}`).join("; "),
    ),
    "",
    "Per-rendition figures count a viewer on the rendition it was loading at the end of the window; a",
    "Chromium viewer's bytes per rendition are split by its P2P share. Chromium viewers count in every",
    "figure; connection success and TURN share come from the virtual viewers' WebRTC probe.",
    "",
  ];
  return lines.join("\n");
}

export function renderAudienceChart(result: AudienceResult): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  const o = result.options;
  const first = result.modes[0];
  const xMax = Math.ceil(Math.max(0, ...result.modes.map((m) => m.timeline.at(-1)?.t ?? 0)) / 10) * 10 || undefined;
  const xAxis = (gridIndex: number, name: string) => ({
    type: "value",
    gridIndex,
    min: 0,
    max: xMax,
    name,
    nameLocation: "middle",
    nameGap: 28,
  });
  const line = (m: AudienceModeResult, axis: number, data: Array<[number, number]>, width = 2) => ({
    name: m.mode,
    type: "line",
    xAxisIndex: axis,
    yAxisIndex: axis,
    showSymbol: false,
    lineStyle: { width },
    color: MODE_COLORS[m.mode],
    data,
  });
  chart.setOption({
    animation: false,
    backgroundColor: "#ffffff",
    title: {
      text: `Audience bench — ${o.viewers} viewers (${o.browsers} Chromium), links ${o.links}, ladder ${o.ladder}${result.valid.counts ? "" : " — INVALID RUN"}`,
      subtext:
        "top: P2P share of received segment bytes per 5 s (dashed: swarmcast's bound); middle: CDN segment egress; bottom: machine CPU",
      left: "center",
    },
    legend: { top: 64, data: result.modes.map((m) => m.mode) },
    grid: [
      { left: 64, right: 32, top: 104, height: 220 },
      { left: 64, right: 32, top: 370, height: 100 },
      { left: 64, right: 32, top: 510, height: 80 },
    ],
    xAxis: [xAxis(0, ""), xAxis(1, ""), xAxis(2, "seconds since the mode's first join")],
    yAxis: [
      { type: "value", gridIndex: 0, name: "P2P share", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
      { type: "value", gridIndex: 1, name: "CDN Mbit/s", min: 0 },
      { type: "value", gridIndex: 2, name: "CPU", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
    ],
    series: [
      ...result.modes.map((m, i) => ({
        ...line(
          m,
          0,
          m.timeline.filter((p) => p.p2pShare !== null).map((p) => [p.t, Math.round(p.p2pShare! * 1000) / 10]),
        ),
        ...(i === result.modes.length - 1 && first
          ? {
              markLine: {
                symbol: "none",
                silent: true,
                label: { formatter: `bound ${pct(m.steady.bound)}`, position: "insideEndTop" },
                lineStyle: { type: "dashed", color: "#333333" },
                data: [{ yAxis: Math.round(m.steady.bound * 1000) / 10 }],
              },
              markArea: {
                silent: true,
                itemStyle: { color: "rgba(43,108,217,0.06)" },
                data: [
                  [{ name: `steady state (${first.mode})`, xAxis: first.steadyFromSec }, { xAxis: first.steadyToSec }],
                ],
              },
            }
          : {}),
      })),
      ...result.modes.map((m) =>
        line(
          m,
          1,
          m.timeline.map((p) => [p.t, Math.round(p.cdnMbps * 100) / 100]),
          1.5,
        ),
      ),
      ...result.modes.map((m) =>
        line(
          m,
          2,
          m.timeline.map((p) => [p.t, Math.round(p.machineCpu * 1000) / 10]),
          1,
        ),
      ),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
