/**
 * The live chart: kB/s from the CDN and from peers (stacked, so the top edge is what viewers
 * downloaded in all) and the running offload ratio on its own axis. echarts draws it.
 */
import type { EChartsType } from "echarts";

export const CHART_COLORS = { cdn: "#e8590c", peers: "#2b8a3e", offload: "#1c7ed6" };

/** Seconds of history on screen. */
const WINDOW_S = 180;

type Point = [number, number];

export class ThroughputChart {
  private readonly chart: EChartsType;
  private readonly cdn: Point[] = [];
  private readonly peers: Point[] = [];
  private readonly offload: Point[] = [];

  constructor(element: HTMLElement) {
    this.chart = echarts.init(element, null, { renderer: "canvas" });
    this.chart.setOption({
      animation: false,
      grid: { left: 56, right: 56, top: 40, bottom: 32 },
      legend: { top: 4, left: "center", itemGap: 24, textStyle: { fontSize: 13 } },
      tooltip: {
        trigger: "axis",
        valueFormatter: (v: unknown) => (typeof v === "number" ? v.toFixed(1) : String(v)),
      },
      xAxis: { type: "time", splitLine: { show: false }, axisLabel: { hideOverlap: true } },
      yAxis: [
        {
          type: "value",
          name: "kB/s",
          min: 0,
          nameTextStyle: { align: "right" },
          splitLine: { lineStyle: { color: "#eee" } },
        },
        { type: "value", name: "offload %", min: 0, max: 100, position: "right", splitLine: { show: false } },
      ],
      series: [
        {
          name: "From CDN (HTTP)",
          type: "line",
          stack: "bytes",
          showSymbol: false,
          areaStyle: { opacity: 0.35 },
          lineStyle: { width: 1.5 },
          color: CHART_COLORS.cdn,
          data: this.cdn,
        },
        {
          name: "From peers (P2P)",
          type: "line",
          stack: "bytes",
          showSymbol: false,
          areaStyle: { opacity: 0.35 },
          lineStyle: { width: 1.5 },
          color: CHART_COLORS.peers,
          data: this.peers,
        },
        {
          name: "Offload % (running)",
          type: "line",
          yAxisIndex: 1,
          showSymbol: false,
          lineStyle: { width: 2, type: "dashed" },
          color: CHART_COLORS.offload,
          data: this.offload,
        },
      ],
    });
    new ResizeObserver(() => this.chart.resize()).observe(element);
  }

  /** One sample: rates in kB/s, offload as a ratio 0..1. */
  push(time: number, cdnKBps: number, peersKBps: number, offloadRatio: number): void {
    this.cdn.push([time, cdnKBps]);
    this.peers.push([time, peersKBps]);
    this.offload.push([time, Math.round(offloadRatio * 1000) / 10]);
    const oldest = time - WINDOW_S * 1000;
    for (const series of [this.cdn, this.peers, this.offload]) {
      while (series.length > 0 && series[0][0] < oldest) series.shift();
    }
    this.chart.setOption({ series: [{ data: this.cdn }, { data: this.peers }, { data: this.offload }] });
  }

  /** What is on screen, for tests and curious people in the console. */
  data(): { cdn: Point[]; peers: Point[]; offload: Point[] } {
    return { cdn: [...this.cdn], peers: [...this.peers], offload: [...this.offload] };
  }
}
