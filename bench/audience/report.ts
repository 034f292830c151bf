/** The Markdown table and the SVG chart of an audience bench result. */
import * as echarts from "echarts";
import type { AudienceModeResult, AudienceResult, GroupPoint, ViewerGroup } from "./run";
import type { ModeOutcome } from "./scenario-outcome";
import { timingOf } from "./scenarios";
import type { JudgedFigure, ResourcePoint, ViewerSoak } from "./soak";

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
    `# Audience bench: ${o.viewers} viewers (${virtual} virtual, ${o.browsers} Chromium), links ${o.links}${o.rtt === false ? " without round-trip times" : ""}, ${o.ladder === 3 ? "3-rendition ladder" : "1.6 Mbit/s rendition alone"}`,
    "",
    `Joins ${o.joinIntervalSec} s apart, ${o.warmupSec} s warm-up, ${o.durationSec} s steady state per mode; machine ${result.machine.cpus} CPUs, load ${result.machine.loadavgStart.map((x) => x.toFixed(1)).join(" / ")} at start, ${result.machine.loadavgEnd.map((x) => x.toFixed(1)).join(" / ")} at end; machine CPU ${pct(result.machine.cpuBeforeBench, 0)} busy with other work before the bench started; started ${result.machine.startedAt}.${Object.keys(o.sdkOptions ?? {}).length > 0 ? ` swarmcast mode with SDK options \`${JSON.stringify(o.sdkOptions)}\`.` : ""}`,
    "",
    result.valid.counts
      ? result.valid.httpOnlyStalls === null
        ? "**Valid run**: the machine's CPU stayed under 85 % in the steady window (no http-only mode ran alongside: the scenario's goal counts every swarmcast stall)."
        : "**Valid run**: http-only had no stall after startup and the machine's CPU stayed under 85 % in every steady window."
      : `**Invalid run** (does not count): ${result.valid.reasons.join("; ")}.`,
    "",
    `| | ${modes.map((m) => m.mode).join(" | ")} |`,
    `|---|${modes.map(() => "---").join("|")}|`,
    row(
      "**Offload** (1 − CDN segment egress / segment bytes the players took in)",
      (m) => `**${pct(m.steady.offload)}**`,
    ),
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
    row(
      "CDN segment egress / taken in by the players / received (thrown-away bytes included)",
      (m) =>
        `${mb(m.steady.cdnBytes)} / ${mb(m.steady.consumedBytes)} / ${m.steady.receivedBytes === undefined ? "–" : mb(m.steady.receivedBytes)}`,
    ),
    row("P2P share as viewers count it", (m) => pct(m.steady.viewerP2pShare)),
    row("Rebuffering share / stalls", (m) => `${pct(m.steady.rebufferingShare, 2)} / ${m.steady.stalls}`),
    row("Live latency median / p95 (s)", (m) => `${num(m.steady.latencyMedianSec)} / ${num(m.steady.latencyP95Sec)}`),
    row(
      "Latency behind the origin's clock (program date-time at the playhead) median / p95 (s); virtual viewers' start lag behind the edge's publication, median (s)",
      (m) =>
        `${num(m.steady.clockLatencyMedianSec ?? null)} / ${num(m.steady.clockLatencyP95Sec ?? null)}; ${num(m.steady.startLagMedianSec ?? null)}`,
    ),
    row("Startup median (s)", (m) => num(m.steady.startupMedianMs === null ? null : m.steady.startupMedianMs / 1000)),
    row("Peers per viewer (median)", (m) => num(m.steady.peersMedian, 0)),
    row(
      "P2P connection success / TURN share (virtual viewers)",
      (m) => `${pct(m.steady.connectionSuccess)} / ${pct(m.steady.turnShare)}`,
    ),
    row(
      "Virtual viewers: uploads that waited a turn / refused for a late turn / given up; playlist reloads on a peer's announcement",
      (m) => {
        const t = m.steady.uploadTurns;
        const turns = t ? `${t.queued} / ${t.refused} / ${t.cancelled}` : "–";
        return `${turns}; ${m.steady.playlistRefreshes ?? "–"}`;
      },
    ),
    row(
      "Virtual viewers' CDN segments by cause, share of what they took in: own early fetch (seed) / urgent before any peer had it / after a peer attempt (its last error)",
      (m) => {
        const c = m.steady.httpCauses;
        if (!c) return "–";
        const errors = Object.entries(c.afterPeerByError)
          .sort((x, y) => y[1] - x[1])
          .map(([error, n]) => `${error} ${n}`)
          .join(", ");
        return `${pct(c.edge)} / ${pct(c.direct)} / ${pct(c.afterPeer)}${errors ? ` (${errors})` : ""}`;
      },
    ),
    row(
      "Virtual viewers' early CDN fetches (seeds) / draws reopened after a holder refused / of those, ending in a fetch",
      (m) => {
        const e = m.steady.liveEdge;
        return e ? `${e.seeded} / ${e.redraws} / ${e.redrawSeeded}` : "–";
      },
    ),
    row("Viewers that added a segment of latency (adaptive latency) by the window's end", (m) => {
      const l = m.steady.latencySteps;
      return l ? `${l.stepped} of ${l.of}` : "–";
    }),
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
    row("Chromium viewer: CPU of one core by process/thread, the largest five, each", (m) =>
      m.steady.chromium.length === 0 || m.steady.chromium.every((c) => !c.cpuShareByThread)
        ? "–"
        : m.steady.chromium
            .map((c) =>
              Object.entries(c.cpuShareByThread ?? {})
                .slice(0, 5)
                .map(([key, share]) => `${key} ${pct(share, 1)}`)
                .join(", "),
            )
            .join("; "),
    ),
    row(
      "Chromium viewer start, ms after the player started: first media playlist / segment loaded / buffered / frame, each",
      (m) => {
        const steps = m.viewers.flatMap((v) => (v.kind === "chromium" && v.startSteps ? [v.startSteps] : []));
        return steps.length === 0
          ? "–"
          : steps
              .map((st) => [st.level, st.fragLoaded, st.fragBuffered, st.frame].map((x) => x ?? "–").join(" / "))
              .join("; ");
      },
    ),
    "",
    "Per-rendition figures count a viewer on the rendition it was loading at the end of the window; a",
    "Chromium viewer's bytes per rendition are split by its P2P share. Chromium viewers count in every",
    "figure; connection success and TURN share come from the virtual viewers' WebRTC probe.",
    "",
    ...scenarioMarkdown(result),
    ...stallsMarkdown(modes),
  ];
  return lines.join("\n");
}

/** Each virtual viewer's stalls in the steady window, with the steps of the segment it waited for. */
function stallsMarkdown(modes: AudienceModeResult[]): string[] {
  const lines: string[] = [];
  for (const m of modes) {
    const stalls = m.viewers.flatMap((v) => (v.stallLog ?? []).map((stall) => ({ v, stall })));
    if (stalls.length === 0) continue;
    lines.push(
      "",
      `### ${m.mode}: stalls of virtual viewers (steps in ms from the stall's start)`,
      "",
      ...stalls.map(({ v, stall }) => {
        const waited =
          stall.requestedMsBefore === null ? "no request under way" : `requested ${stall.requestedMsBefore} ms before`;
        const lasted = stall.durationMs === null ? "still running" : `${stall.durationMs} ms`;
        const steps = stall.trace.length > 0 ? `: ${stall.trace.join(" · ")}` : "";
        return `- ${v.id} (${v.uplinkMbps ?? "?"} Mbit/s up), ${lasted}, segment ${stall.sn} of rendition ${stall.level}, ${waited}${steps}`;
      }),
    );
  }
  return lines;
}

const GROUP_LABELS: Record<string, Record<ViewerGroup, string>> = {
  "cdn-partial": { affected: "viewers whose CDN failed", others: "viewers whose CDN worked", joined: "joined" },
  "churn-storm": { affected: "leavers", others: "stayers", joined: "newcomers" },
  "lying-peer": { affected: "liars", others: "honest viewers", joined: "joined" },
  starved: { affected: "the throttled viewer", others: "the others", joined: "joined" },
  "tracker-kill": { affected: "viewers", others: "–", joined: "late joiner" },
  "viewer-soak": { affected: "viewers", others: "–", joined: "–" },
};

function groupLabel(name: string, group: ViewerGroup): string {
  return GROUP_LABELS[name]?.[group] ?? (group === "affected" ? "viewers" : group);
}

/** ", uplinks N Mbit/s in all" for a group's stall figure; older results and runs without links have none. */
function uplinkSum(mbps: number | null | undefined): string {
  return mbps === null || mbps === undefined ? "" : `, uplinks ${num(mbps, 0)} Mbit/s in all`;
}

/** The scenario's section: its goal, each check with what was measured, and the per-mode figures. */
function scenarioMarkdown(result: AudienceResult): string[] {
  const scenario = result.scenario;
  if (!scenario) return [];
  const modes = scenario.modes;
  const row = (label: string, f: (m: ModeOutcome) => string) => `| ${label} | ${modes.map(f).join(" | ")} |`;
  const groups = (["affected", "others", "joined"] as const).filter((g) => modes.some((m) => m.stalls[g].viewers > 0));
  const setup = scenario.setup;
  const variant = [
    setup.name === "cdn-partial" ? `failure: ${setup.cdnFault}` : "",
    setup.name === "tracker-kill"
      ? setup.trackerRestartSec === null
        ? "the tracker never comes back"
        : `restart after ${setup.trackerRestartSec} s`
      : "",
    setup.name === "lying-peer" ? (setup.hashes ? 'hash-tagged stream, integrity "required"' : "no hashes") : "",
  ].filter((x) => x !== "");
  return [
    `## Scenario ${scenario.name}${variant.length ? ` (${variant.join(", ")})` : ""}: goal ${scenario.met === null ? "not judged" : scenario.met ? "**met**" : "**NOT met**"}`,
    "",
    `Goal: ${scenario.goal}.`,
    "",
    ...(result.valid.counts
      ? []
      : [
          `**The run is invalid (${result.valid.reasons.join("; ")}): the verdict below measures an overloaded machine, not the SDK.**`,
          "",
        ]),
    setup.name === "viewer-soak"
      ? `No fault: the steady window (${num((setup.timing?.soakSec ?? timingOf(setup).soakSec) / 60, 0)} min) is the soak.`
      : `The fault starts ${setup.faultAtSec} s into each mode's steady window.`,
    "",
    "| Check | Measured | |",
    "|---|---|---|",
    ...scenario.checks.map((c) => `| ${c.what} | ${c.measured} | ${c.ok ? "ok" : "**missed**"} |`),
    "",
    `| | ${modes.map((m) => m.mode).join(" | ")} |`,
    `|---|${modes.map(() => "---").join("|")}|`,
    row("Fault window (s since the mode's first join)", (m) => `${num(m.faultStartSec, 0)}–${num(m.faultEndSec, 0)}`),
    ...groups.map((g) =>
      row(
        `Stalls / stalled s — ${groupLabel(scenario.name, g)}`,
        (m) =>
          `${m.stalls[g].stalls} / ${num(m.stalls[g].stalledSec)} (n=${m.stalls[g].viewers}${uplinkSum(m.stalls[g].uplinkMbps)})`,
      ),
    ),
    row(
      "P2P share before / during / after the fault",
      (m) => `${pct(m.offloadBefore)} / ${pct(m.offloadDuring)} / ${pct(m.offloadAfter)}`,
    ),
    row("Offload back within 5 points after (s)", (m) => (m.recoverySec === null ? "not back" : num(m.recoverySec, 0))),
    row("Origin: requests a fault hit / error answers", (m) => `${m.originFaults} / ${m.originErrors}`),
    row("Origin: segments sent twice to one viewer", (m) => String(m.repeatedSegments)),
    row("Viewers: failed segment loads", (m) => String(m.loadFailures)),
    row(
      "Viewers: SDK/hls.js errors by kind",
      (m) =>
        Object.entries(m.errorsByKind)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ") || "none",
    ),
    row("Viewers: unhandled rejections / console errors", (m) => `${m.unhandledRejections} / ${m.consoleErrors}`),
    row("Viewers: tracker errors / reconnects (SDK stats)", (m) => `${m.trackerErrors} / ${m.trackerReconnects}`),
    row(
      `SDK stats().cdn of ${groupLabel(scenario.name, "affected")}: CDN failures / time failing / segments from peers meanwhile`,
      (m) =>
        m.cdnSeen.viewersReporting === 0
          ? "–"
          : `${m.cdnSeen.failures} / ${num(m.cdnSeen.outageSec)} s / ${m.cdnSeen.peerSegmentsDuringOutage} (n=${m.cdnSeen.viewersReporting})`,
    ),
    ...(scenario.name === "tracker-kill"
      ? [
          row(
            "Announces/s the restarted tracker saw: highest 5 s mean / mean",
            (m) => `${num(m.announceRateMax ?? null, 2)} / ${num(m.announceRateMean ?? null, 2)}`,
          ),
          row("Late joiner's peers at the end", (m) => m.lateJoinerPeers?.join(", ") || "–"),
        ]
      : []),
    ...(scenario.name === "lying-peer"
      ? [
          row("Honest viewers' consumed segments: checked / mismatched (bytes)", (m) =>
            m.media ? `${m.media.checked} / ${m.media.mismatched} (${m.media.mismatchedBytes})` : "–",
          ),
          row(
            "Corrupted copies served / peers blamed / most failures one viewer took / still connected at the end",
            (m) =>
              m.liars
                ? `${m.liars.corruptedServed} / ${m.liars.blamed.length} / ${m.liars.maxFailuresPerViewer} / ${m.liars.stillConnected.length}`
                : "–",
          ),
        ]
      : []),
    ...soakMarkdown(modes),
    "",
    "P2P share is the share of segment bytes the viewers received from peers (2 s points); recovery",
    "is the first 6 s mean after the fault within 5 points of the mean before it. Failures are counted",
    "at the origin (per viewer id) and by the viewers (SDK `error` events, failed loads, page errors).",
    "",
  ];
}

/** viewer-soak: per viewer, each figure's high in the first and in the last quarter of the soak. */
function soakMarkdown(modes: ModeOutcome[]): string[] {
  const lines: string[] = [];
  for (const m of modes) {
    if (!m.soak) continue;
    const cell = (v: ViewerSoak, figure: JudgedFigure) => {
      const g = v.growth[figure];
      return g ? `${g.firstHigh} → ${g.lastHigh}${g.bounded ? "" : " **grew**"}` : "–";
    };
    const firstToLast = (v: ViewerSoak, figure: "rssMB" | "latencySec") => {
      const values = v.points.flatMap((p) => (p[figure] === null ? [] : [p[figure]]));
      return values.length > 0 ? `${values[0]} → ${values[values.length - 1]}` : "–";
    };
    lines.push(
      "",
      `${m.mode}: highest value in the first quarter → in the last quarter of the soak (RSS and latency: first → last point, not judged).`,
      "",
      "| Viewer | JS heap MB | Timers | Store segments | Store MB | Peers | RSS / PSS MB | Latency s |",
      "|---|---|---|---|---|---|---|---|",
      ...m.soak.map(
        (v) =>
          `| ${v.id} (${v.kind}) | ${cell(v, "heapMB")} | ${cell(v, "timers")} | ${cell(v, "storeSegments")} | ${cell(v, "storeMB")} | ${cell(v, "peers")} | ${firstToLast(v, "rssMB")} | ${firstToLast(v, "latencySec")} |`,
      ),
    );
  }
  return lines;
}

export function renderAudienceChart(result: AudienceResult): string {
  if (result.scenario?.name === "viewer-soak") return renderSoakChart(result);
  if (result.scenario) return renderScenarioChart(result);
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
      text: `Audience bench — ${o.viewers} viewers (${o.browsers} Chromium), links ${o.links}${o.rtt === false ? " (no RTT)" : ""}, ladder ${o.ladder}${result.valid.counts ? "" : " — INVALID RUN"}`,
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

/**
 * A scenario's timeline: per mode and per group of viewers, CDN and peer Mbit/s, viewers stalled
 * and peers per viewer, with the fault's window shaded.
 */
function renderScenarioChart(result: AudienceResult): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height: 820 });
  const scenario = result.scenario!;
  const o = result.options;
  const xMax = Math.ceil(Math.max(0, ...result.modes.map((m) => m.timeline.at(-1)?.t ?? 0)) / 10) * 10 || undefined;
  const panels = [
    { name: "CDN Mbit/s", value: (g: GroupPoint) => g.cdnMbps },
    { name: "peer Mbit/s", value: (g: GroupPoint) => g.peerMbps },
    { name: "stalled viewers", value: (g: GroupPoint) => g.stalled },
    { name: "peers / viewer", value: (g: GroupPoint) => g.peersMean },
  ];
  const groups = (["affected", "others", "joined"] as const).filter((g) =>
    result.modes.some((m) => m.timeline.some((p) => (p.groups?.[g].viewers ?? 0) > 0)),
  );
  const dash: Record<ViewerGroup, string> = { affected: "solid", others: "dashed", joined: "dotted" };
  const fault = result.modes.find((m) => m.fault)?.fault;
  const series = panels.flatMap((panel, axis) =>
    result.modes.flatMap((m) =>
      groups.map((g, k) => ({
        name: `${m.mode} — ${groupLabel(scenario.name, g)}`,
        type: "line",
        xAxisIndex: axis,
        yAxisIndex: axis,
        showSymbol: false,
        lineStyle: { width: 1.5, type: dash[g] },
        color: MODE_COLORS[m.mode],
        data: m.timeline.flatMap((p) => (p.groups ? [[p.t, Math.round(panel.value(p.groups[g]) * 100) / 100]] : [])),
        ...(axis === 0 && k === 0 && m.fault
          ? {
              markArea: {
                silent: true,
                itemStyle: { color: m.mode === "swarmcast" ? "rgba(217,43,43,0.10)" : "rgba(120,120,120,0.10)" },
                data: [[{ name: `fault (${m.mode})`, xAxis: m.fault.startSec }, { xAxis: m.fault.endSec }]],
              },
            }
          : {}),
        ...(axis > 0 && k === 0 && m.fault
          ? {
              markArea: {
                silent: true,
                itemStyle: { color: "rgba(217,43,43,0.07)" },
                data: [[{ xAxis: m.fault.startSec }, { xAxis: m.fault.endSec }]],
              },
            }
          : {}),
      })),
    ),
  );
  chart.setOption({
    animation: false,
    backgroundColor: "#ffffff",
    title: {
      text: `Scenario ${scenario.name} — ${o.viewers} viewers (${o.browsers} Chromium), links ${o.links} — goal ${scenario.met ? "met" : "NOT met"}${result.valid.counts ? "" : " — INVALID RUN"}`,
      subtext: `fault shaded${fault ? ` (${fault.startSec.toFixed(0)}–${fault.endSec.toFixed(0)} s)` : ""}; solid: ${groupLabel(scenario.name, "affected")}, dashed: ${groupLabel(scenario.name, "others")}, dotted: ${groupLabel(scenario.name, "joined")}`,
      left: "center",
      textStyle: { fontSize: 14 },
    },
    legend: { top: 56, type: "scroll", data: series.slice(0, result.modes.length * groups.length).map((x) => x.name) },
    ...stackedPanels(panels, xMax, "seconds since the mode's first join"),
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** viewer-soak: each viewer's JS heap, store, timers and peers through the soak, Chromium viewers drawn bold. */
function renderSoakChart(result: AudienceResult): string {
  const panels: Array<{ name: string; value: (p: ResourcePoint) => number | null }> = [
    { name: "JS heap MB", value: (p) => p.heapMB },
    { name: "store MB", value: (p) => p.storeMB },
    { name: "timers", value: (p) => p.timers },
    { name: "peers", value: (p) => p.peers },
    { name: "latency s", value: (p) => p.latencySec },
  ];
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: CHART_WIDTH,
    height: 140 + panels.length * 170,
  });
  const scenario = result.scenario!;
  const o = result.options;
  const soaks = scenario.modes.flatMap((m) => (m.soak ?? []).map((v) => ({ mode: m.mode, ...v })));
  const xMax = Math.ceil(Math.max(1, ...soaks.flatMap((v) => v.points.map((p) => p.min))));
  const series = panels.flatMap((panel, axis) =>
    soaks.map((v) => ({
      name: `${v.mode} ${v.kind}`,
      type: "line",
      xAxisIndex: axis,
      yAxisIndex: axis,
      showSymbol: false,
      lineStyle: {
        width: v.kind === "chromium" ? 2 : 1,
        opacity: v.kind === "chromium" ? 1 : 0.6,
        type: v.mode === "http-only" ? "dashed" : "solid",
      },
      color: v.kind === "chromium" ? "#d9822b" : MODE_COLORS[v.mode],
      data: v.points.flatMap((p) => {
        const y = panel.value(p);
        return y === null ? [] : [[p.min, y]];
      }),
    })),
  );
  chart.setOption({
    animation: false,
    backgroundColor: "#ffffff",
    title: {
      text: `Viewer soak — ${o.viewers} viewers (${o.browsers} Chromium), links ${o.links} — goal ${scenario.met ? "met" : "NOT met"}${result.valid.counts ? "" : " — INVALID RUN"}`,
      subtext:
        "one line per viewer, one point per minute; bold orange: Chromium viewers (heap of the page); dashed: http-only",
      left: "center",
      textStyle: { fontSize: 14 },
    },
    legend: { top: 56, data: [...new Set(series.map((x) => x.name))] },
    ...stackedPanels(panels, xMax, "minutes into the soak"),
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** Grids and axes of panels stacked one above the other, sharing the x range; the x name on the last. */
function stackedPanels(panels: Array<{ name: string }>, xMax: number | undefined, xName: string) {
  return {
    grid: panels.map((_, i) => ({ left: 64, right: 32, top: 110 + i * 170, height: 130 })),
    xAxis: panels.map((_, i) => ({
      type: "value",
      gridIndex: i,
      min: 0,
      max: xMax,
      name: i === panels.length - 1 ? xName : "",
      nameLocation: "middle",
      nameGap: 28,
    })),
    yAxis: panels.map((panel, i) => ({ type: "value", gridIndex: i, name: panel.name, min: 0 })),
  };
}
