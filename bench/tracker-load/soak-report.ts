/** The tracker soak's Markdown table and SVG timeline. */
import * as echarts from "echarts";
import type { SoakResult } from "./soak";

export function renderSoakMarkdown(r: SoakResult, note: string): string {
  const c = r.config;
  const g = r.generators;
  const row = (name: string, before: number | string, peak: number | string, after: number | string) =>
    `| ${name} | ${before} | ${peak} | ${after} |`;
  const reasons = Object.entries(g.failureReasons)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(", ");
  const messages = Object.entries(r.log.messages)
    .sort((a, b) => b[1] - a[1])
    .map(([msg, n]) => `| ${msg.replace(/\|/g, "\\|")} | ${n} |`);
  return [
    "# Tracker soak",
    "",
    `${c.minutes} min, ${c.connections.toLocaleString("en")} concurrent connections in ${c.swarms} swarms ` +
      `(Zipf ${c.zipfS}), ${c.replacePerSecond} replaced per second (leave with \`stopped\`, join with ` +
      `${c.offers} offers), every peer re-announcing with ${c.offers} offers every ${c.reannounceSeconds} s and ` +
      `answering every offer. The compiled tracker (\`tracker/dist/cli.js\`) with its default limits. ` +
      `Started ${r.startedAt}; load average at start ${r.machine.loadAverageAtStart.join(" / ")} on ` +
      `${r.machine.cores} cores.${note ? ` ${note}` : ""}`,
    "",
    "| | before the load | peak | after the load |",
    "| --- | ---: | ---: | ---: |",
    row("RSS (MiB)", r.before.rssMiB, r.peak.rssMiB, r.after.rssMiB),
    row("connections", r.before.connections, r.peak.connections, r.after.connections),
    row("peers", r.before.peers, r.peak.peers, r.after.peers),
    row("swarms", r.before.swarms, "", r.after.swarms),
    row("pending offers", r.before.pendingOffers, r.peak.pendingOffers, r.after.pendingOffers),
    row("tracked IPs", r.before.trackedIps, "", r.after.trackedIps),
    row("queued bytes", r.before.queuedBytes, "", r.after.queuedBytes),
    "",
    r.after.secondsToBaseline === null
      ? `Counts did **not** return to their baseline within ${c.drainTimeoutSeconds} s after the load stopped.`
      : `Connections, peers, swarms, pending offers and queued bytes were back to 0 within ` +
        `${r.after.secondsToBaseline} s after the load stopped.`,
    "",
    `**/health** during the run: ${r.health.probes.toLocaleString("en")} probes, ${r.health.failed} failed, ` +
      `p50 ${r.health.p50Ms} ms, p99 ${r.health.p99Ms} ms, max ${r.health.maxMs} ms.`,
    "",
    `**Generators:** ${g.opened.toLocaleString("en")} connections opened (${g.openFailures} failed to open), ` +
      `${g.left.toLocaleString("en")} left, ${g.droppedByTracker} closed by the tracker; ` +
      `${g.announces.toLocaleString("en")} announces, ${g.replies.toLocaleString("en")} announce replies, ` +
      `${g.offersIn.toLocaleString("en")} offers received and answered, ${g.answersIn.toLocaleString("en")} answers ` +
      `received; ${g.failures} failure replies${reasons ? ` (${reasons})` : ""}.`,
    "",
    `**Tracker log:** ${r.log.lines.toLocaleString("en")} lines, ${r.log.warn} warnings, ${r.log.error} errors.`,
    ...(messages.length > 0 ? ["", "| warning or error | count |", "| --- | ---: |", ...messages] : []),
    "",
    "![timeline](tracker-soak.svg)",
    "",
  ].join("\n");
}

export function renderSoakChart(r: SoakResult): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: 960, height: 640 });
  const xs = r.samples.map((s) => s.t / 60);
  const line = (name: string, grid: number, values: number[], color: string) => ({
    name,
    type: "line",
    xAxisIndex: grid,
    yAxisIndex: grid,
    showSymbol: false,
    color,
    data: values.map((v, i) => [Math.round(xs[i] * 100) / 100, v]),
  });
  chart.setOption({
    animation: false,
    backgroundColor: "#ffffff",
    title: {
      text: `Tracker soak — ${r.config.connections.toLocaleString("en")} connections, ${r.config.replacePerSecond} replaced/s`,
      subtext: "top: RSS and connections; middle: pending offers; bottom: /health p99 per sample window",
      left: "center",
    },
    legend: { top: 56 },
    grid: [
      { left: 72, right: 72, top: 96, height: 170 },
      { left: 72, right: 72, top: 320, height: 110 },
      { left: 72, right: 72, top: 480, height: 110 },
    ],
    xAxis: [0, 1, 2].map((gridIndex) => ({
      type: "value",
      gridIndex,
      min: 0,
      name: gridIndex === 2 ? "minutes" : "",
      nameLocation: "middle",
      nameGap: 26,
    })),
    yAxis: [
      { type: "value", gridIndex: 0, name: "RSS MiB", min: 0 },
      { type: "value", gridIndex: 1, name: "pending", min: 0 },
      { type: "value", gridIndex: 2, name: "ms", min: 0 },
      { type: "value", gridIndex: 0, name: "connections", min: 0, position: "right" },
    ],
    series: [
      line(
        "RSS MiB",
        0,
        r.samples.map((s) => s.rssMiB),
        "#2b6cd9",
      ),
      {
        ...line(
          "connections",
          0,
          r.samples.map((s) => s.connections),
          "#888888",
        ),
        yAxisIndex: 3,
      },
      line(
        "pending offers",
        1,
        r.samples.map((s) => s.pendingOffers),
        "#d9822b",
      ),
      line(
        "/health p99",
        2,
        r.samples.map((s) => (Number.isFinite(s.healthP99Ms) ? s.healthP99Ms : 0)),
        "#d92b2b",
      ),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
