import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startTracker, type RunningTracker } from "../../tracker/src/index";
import { createLinkLab, type LinkLab } from "../links/namespaces";
import { assignLinks, loadProfiles, type ViewerLink } from "../links/profile";
import { renditionBound, totalBound, type RenditionBound } from "./bound";
import { VirtualViewerProcess } from "./virtual-process";
import type { AudienceMode, VirtualSnapshot } from "./virtual-protocol";

export interface AudienceOptions {
  viewers: number;
  modes: AudienceMode[];
  /** A profile of bench/links/profiles.json, or "off" (loopback, no caps). */
  links: string;
  /** 3: the ladder's multivariant playlist; 1: its 1.6 Mbit/s rendition alone. */
  ladder: 1 | 3;
  joinIntervalSec: number;
  warmupSec: number;
  durationSec: number;
  sampleIntervalSec: number;
  name: string;
  outDir: string;
}

export const DEFAULT_AUDIENCE_OPTIONS: AudienceOptions = {
  viewers: 10,
  modes: ["http-only", "pml-defaults", "swarmcast"],
  links: "default",
  ladder: 3,
  joinIntervalSec: 1,
  warmupSec: 20,
  durationSec: 120,
  sampleIntervalSec: 2,
  name: "",
  outDir: "bench/results",
};

interface Servers {
  origin: Origin;
  tracker: RunningTracker;
  /** Address viewers reach the servers at. */
  host: string;
  trackerUrl: string;
  lab: LinkLab | undefined;
  links: ViewerLink[];
}

interface Sweep {
  at: number;
  /** Per viewer id: bytes its emulated link carried up and down (all traffic, IP headers included). */
  link: Map<string, { sentBytes: number; receivedBytes: number }>;
  egress: Map<string, number>;
  viewers: Map<string, VirtualSnapshot | undefined>;
  cpu: CpuTimes;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** Whole-machine CPU counters from /proc/stat (jiffies). */
function readCpu(): CpuTimes {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function startServers(options: AudienceOptions): Promise<Servers> {
  const links =
    options.links === "off"
      ? []
      : assignLinks(loadProfiles()[options.links] ?? failProfile(options.links), options.viewers);
  const lab = options.links === "off" ? undefined : createLinkLab(links);
  const host = lab ? lab.hubAddress : "127.0.0.1";
  const [origin, tracker] = await Promise.all([
    startOrigin({ host }),
    startTracker({ host, port: 0, logLevel: "warn" }),
  ]);
  return { origin, tracker, host, trackerUrl: `ws://${host}:${new URL(tracker.url).port}`, lab, links };
}

function failProfile(name: string): never {
  throw new Error(
    `--links: no profile "${name}" in bench/links/profiles.json (known: ${Object.keys(loadProfiles()).join(", ")}, off)`,
  );
}

function clientId(mode: AudienceMode, index: number): string {
  return `${mode === "http-only" ? "http" : mode === "pml-defaults" ? "pml" : "sc"}-v${String(index).padStart(3, "0")}`;
}

function sweep(servers: Servers, viewers: VirtualViewerProcess[]): Sweep {
  const report = servers.origin.egress();
  const lab = servers.lab;
  return {
    at: Date.now(),
    link: new Map(lab ? viewers.map((v, i) => [v.config.id, lab.linkBytes(i)]) : []),
    egress: new Map(Object.entries(report.byClient).map(([id, c]) => [id, c.segmentBytes])),
    viewers: new Map(viewers.map((v) => [v.config.id, v.last])),
    cpu: readCpu(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Joins every viewer of a mode, waits out the warm-up, measures the steady window, stops them. */
async function runMode(
  servers: Servers,
  options: AudienceOptions,
  mode: AudienceMode,
  log: (line: string) => void,
): Promise<AudienceModeResult> {
  const swarmId = `audience-${mode}-${Date.now()}`;
  const viewers = Array.from({ length: options.viewers }, (_, i) => {
    const id = clientId(mode, i);
    const manifestUrl = options.ladder === 3 ? servers.origin.ladderUrl(id) : servers.origin.renditionUrl(1, id);
    return new VirtualViewerProcess(
      {
        id,
        mode,
        manifestUrl,
        trackers: [servers.trackerUrl],
        swarmId,
        iceServers: [],
        sampleIntervalMs: options.sampleIntervalSec * 1000,
      },
      servers.lab?.viewers[i].namespace,
    );
  });
  const samples: { t: number; playing: number; loadavg: number }[] = [];
  const started = Date.now();
  const progress = setInterval(() => {
    const playing = viewers.filter((v) => v.last?.playing).length;
    samples.push({ t: (Date.now() - started) / 1000, playing, loadavg: loadavg()[0] });
    log(
      `${mode}: ${Math.round((Date.now() - started) / 1000)} s, ${playing}/${viewers.length} playing, load ${loadavg()[0].toFixed(1)}`,
    );
  }, 5000);
  try {
    for (const v of viewers) {
      v.start();
      await sleep(options.joinIntervalSec * 1000);
    }
    await sleep(options.warmupSec * 1000);
    const first = sweep(servers, viewers);
    await sleep(options.durationSec * 1000);
    const last = sweep(servers, viewers);
    return summarizeMode(mode, servers, options, viewers, first, last, samples);
  } finally {
    clearInterval(progress);
    await Promise.all(viewers.map((v) => v.stop()));
  }
}

function summarizeMode(
  mode: AudienceMode,
  servers: Servers,
  options: AudienceOptions,
  viewers: VirtualViewerProcess[],
  first: Sweep,
  last: Sweep,
  timeline: { t: number; playing: number; loadavg: number }[],
) {
  const bitrates = options.ladder === 3 ? servers.origin.ladderBitrates : [servers.origin.ladderBitrates[1]];
  const levels = bitrates.length;
  const perViewer = viewers.map((v, i) => {
    const a = first.viewers.get(v.config.id);
    const b = last.viewers.get(v.config.id) ?? v.last;
    const d = (f: (s: VirtualSnapshot) => number) => (b ? f(b) - (a ? f(a) : 0) : 0);
    const byLevel = (source: "http" | "p2p") =>
      Array.from({ length: levels }, (_, l) => d((s) => s.bytesByLevel[source][l] ?? 0));
    const link = servers.links[i];
    return {
      id: v.config.id,
      uplinkMbps: link?.uplinkMbps ?? null,
      downlinkMbps: link?.downlinkMbps ?? null,
      cdnBytes: (last.egress.get(v.config.id) ?? 0) - (first.egress.get(v.config.id) ?? 0),
      httpBytes: d((s) => s.httpBytes),
      p2pBytes: d((s) => s.p2pBytes),
      uploadedBytes: d((s) => s.uploadedBytes),
      /** Measured on the link between the two sweeps (all traffic), Mbit/s. */
      linkUpMbps: linkRate(first, last, v.config.id, "sentBytes"),
      linkDownMbps: linkRate(first, last, v.config.id, "receivedBytes"),
      /** Seconds between this viewer's two samples the deltas are taken from. */
      spanSec: b ? (b.at - (a?.at ?? b.startedAt)) / 1000 : 0,
      httpByLevel: byLevel("http"),
      p2pByLevel: byLevel("p2p"),
      stalls: d((s) => s.stalls),
      stalledMs: d((s) => s.stalledMs),
      watchMs: d((s) => s.watchMs),
      startupMs: b?.firstFrameAt != null ? b.firstFrameAt - b.startedAt : null,
      level: b?.level ?? 0,
      levelSwitches: b?.levelSwitches ?? 0,
      peers: b?.peers ?? 0,
      connections: b?.connections ?? { attempts: 0, connected: 0, relayed: 0, failed: 0 },
      cpuSec: d((s) => s.cpuMicros) / 1e6,
      rssMB: b ? b.rssBytes / 2 ** 20 : null,
      latencies: v.samples
        .filter((s) => s.at >= first.at && s.at <= last.at && s.latency !== null)
        .map((s) => s.latency as number),
      problems: v.problems.slice(-3),
    };
  });
  const sum = (f: (v: (typeof perViewer)[number]) => number) => perViewer.reduce((a, v) => a + f(v), 0);
  const consumed = sum((v) => v.httpBytes + v.p2pBytes);
  const cdn = sum((v) => v.cdnBytes);
  const renditions = bitrates.map((bitrate, l) => {
    const watchers = perViewer.filter((v) => v.level === l);
    const bound: RenditionBound = renditionBound(
      watchers.map((v) => (v.uplinkMbps ?? 1000) * 1e6),
      bitrate,
    );
    const http = sum((v) => v.httpByLevel[l]);
    const p2p = sum((v) => v.p2pByLevel[l]);
    const offload = http + p2p > 0 ? p2p / (http + p2p) : 0;
    return {
      level: l,
      consumedBytes: http + p2p,
      offload,
      ...bound,
      ratioToBound: bound.bound > 0 ? offload / bound.bound : null,
    };
  });
  const bound = totalBound(
    renditions,
    renditions.map((r) => r.consumedBytes),
  );
  const offload = consumed > 0 ? 1 - cdn / consumed : 0;
  const latencies = perViewer.flatMap((v) => v.latencies);
  const watchMs = sum((v) => v.watchMs);
  const byUplink = new Map<number, { sdk: number[]; link: number[] }>();
  for (const v of perViewer) {
    if (v.uplinkMbps === null) continue;
    const entry = byUplink.get(v.uplinkMbps) ?? { sdk: [], link: [] };
    entry.sdk.push((v.uploadedBytes * 8) / Math.max(1, v.spanSec) / 1e6);
    if (v.linkUpMbps !== null) entry.link.push(v.linkUpMbps);
    byUplink.set(v.uplinkMbps, entry);
  }
  const attempts = sum((v) => v.connections.attempts);
  const connected = sum((v) => v.connections.connected);
  const cpuShare = (last.cpu.busy - first.cpu.busy) / Math.max(1, last.cpu.total - first.cpu.total);
  return {
    mode,
    steady: {
      cdnBytes: cdn,
      consumedBytes: consumed,
      offload,
      viewerP2pShare: consumed > 0 ? sum((v) => v.p2pBytes) / consumed : 0,
      bound,
      ratioToBound: bound > 0 ? offload / bound : null,
      renditions,
      rebufferingShare: watchMs > 0 ? sum((v) => v.stalledMs) / watchMs : 0,
      stalls: sum((v) => v.stalls),
      latencyMedianSec: quantile(latencies, 0.5),
      latencyP95Sec: quantile(latencies, 0.95),
      startupMedianMs: quantile(
        perViewer.flatMap((v) => (v.startupMs === null ? [] : [v.startupMs])),
        0.5,
      ),
      peersMedian: quantile(
        perViewer.map((v) => v.peers),
        0.5,
      ),
      connectionSuccess: attempts > 0 ? connected / attempts : null,
      turnShare: connected > 0 ? sum((v) => v.connections.relayed) / connected : null,
      /** Per uplink class: what the SDK reports sending, and what the link carried (median, max). */
      uploadMbpsByUplink: Object.fromEntries(
        [...byUplink].map(([mbps, e]) => [
          `${mbps} Mbit/s`,
          {
            sdkMedian: quantile(e.sdk, 0.5),
            sdkMax: Math.max(...e.sdk),
            linkMedian: quantile(e.link, 0.5),
            linkMax: e.link.length ? Math.max(...e.link) : null,
          },
        ]),
      ),
      machineCpuShare: cpuShare,
      viewerCpuSecMedian: quantile(
        perViewer.map((v) => v.cpuSec),
        0.5,
      ),
      viewerRssMBMedian: quantile(
        perViewer.flatMap((v) => (v.rssMB === null ? [] : [v.rssMB])),
        0.5,
      ),
    },
    counts: cpuShare < 0.85,
    viewers: perViewer.map(({ latencies: _l, ...rest }) => rest),
    timeline,
  };
}

function linkRate(first: Sweep, last: Sweep, id: string, key: "sentBytes" | "receivedBytes"): number | null {
  const a = first.link.get(id);
  const b = last.link.get(id);
  if (!a || !b) return null;
  return ((b[key] - a[key]) * 8) / ((last.at - first.at) / 1000) / 1e6;
}

export type AudienceModeResult = ReturnType<typeof summarizeMode>;

export interface AudienceResult {
  options: AudienceOptions;
  machine: { cpus: number; memoryGB: number; loadavgStart: number[]; loadavgEnd: number[]; startedAt: string };
  links: ViewerLink[];
  valid: { httpOnlyStalls: number | null; machineCpuUnder85: boolean };
  modes: AudienceModeResult[];
}

export async function runAudienceBench(
  options: AudienceOptions,
  log: (line: string) => void = console.log,
): Promise<{ result: AudienceResult; files: string[] }> {
  const servers = await startServers(options);
  const stop = () => servers.lab?.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  try {
    const modes: AudienceModeResult[] = [];
    for (const mode of options.modes) modes.push(await runMode(servers, options, mode, log));
    const httpOnly = modes.find((m) => m.mode === "http-only");
    const result: AudienceResult = {
      options,
      machine: {
        cpus: cpus().length,
        memoryGB: Math.round(totalmem() / 2 ** 30),
        loadavgStart: loadStart,
        loadavgEnd: loadavg(),
        startedAt,
      },
      links: servers.links,
      valid: {
        httpOnlyStalls: httpOnly ? httpOnly.steady.stalls : null,
        machineCpuUnder85: modes.every((m) => m.counts),
      },
      modes,
    };
    return { result, files: writeReport(result, options) };
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await Promise.all([servers.origin.close(), servers.tracker.close()]);
    servers.lab?.close();
  }
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null, digits = 1) => (x === null ? "–" : x.toFixed(digits));

function writeReport(result: AudienceResult, options: AudienceOptions): string[] {
  mkdirSync(options.outDir, { recursive: true });
  const name = options.name || `audience-${options.viewers}-${options.links}-ladder${options.ladder}`;
  const json = join(options.outDir, `${name}.json`);
  const md = join(options.outDir, `${name}.md`);
  writeFileSync(json, JSON.stringify(result, null, 2) + "\n");
  const modes = result.modes;
  const row = (label: string, f: (m: AudienceModeResult) => string) => `| ${label} | ${modes.map(f).join(" | ")} |`;
  const lines = [
    `# Audience bench: ${options.viewers} virtual viewers, links ${options.links}, ${options.ladder === 3 ? "3-rendition ladder" : "1.6 Mbit/s rendition alone"}`,
    "",
    `${options.durationSec} s steady state after ${options.warmupSec} s warm-up; machine ${result.machine.cpus} CPUs, load ${result.machine.loadavgStart.map((x) => x.toFixed(1)).join("/")} at start, ${result.machine.loadavgEnd.map((x) => x.toFixed(1)).join("/")} at end.`,
    result.valid.machineCpuUnder85 && result.valid.httpOnlyStalls === 0
      ? ""
      : `**Does not count as a valid run**: http-only stalls ${result.valid.httpOnlyStalls}, machine CPU under 85 %: ${result.valid.machineCpuUnder85}.`,
    "",
    `| | ${modes.map((m) => m.mode).join(" | ")} |`,
    `|---|${modes.map(() => "---").join("|")}|`,
    row("offload (CDN egress)", (m) => pct(m.steady.offload)),
    row(
      "bound / ratio",
      (m) =>
        `${pct(m.steady.bound)} / ${m.steady.ratioToBound === null ? "–" : (m.steady.ratioToBound * 100).toFixed(1) + " %"}`,
    ),
    ...(modes[0]?.steady.renditions ?? []).map((r, l) =>
      row(`rendition ${l} (${(r.bitrateBps / 1e6).toFixed(2)} Mbit/s): offload / bound (binds)`, (m) => {
        const x = m.steady.renditions[l];
        return `${pct(x.offload)} / ${pct(x.bound)} (${x.binding}, n=${x.viewers})`;
      }),
    ),
    row("rebuffering share / stalls", (m) => `${pct(m.steady.rebufferingShare)} / ${m.steady.stalls}`),
    row("latency median / p95 (s)", (m) => `${num(m.steady.latencyMedianSec)} / ${num(m.steady.latencyP95Sec)}`),
    row("startup median (s)", (m) => num(m.steady.startupMedianMs === null ? null : m.steady.startupMedianMs / 1000)),
    row("peers per viewer (median)", (m) => num(m.steady.peersMedian, 0)),
    row(
      "P2P connection success / TURN share",
      (m) => `${pct(m.steady.connectionSuccess)} / ${pct(m.steady.turnShare)}`,
    ),
    row(
      "upload per viewer by uplink, median Mbit/s: SDK-reported / on the link",
      (m) =>
        Object.entries(m.steady.uploadMbpsByUplink)
          .map(([k, v]) => `${k}: ${num(v.sdkMedian, 2)} / ${num(v.linkMedian, 2)}`)
          .join(", ") || "–",
    ),
    row("machine CPU in steady window", (m) => pct(m.steady.machineCpuShare)),
    row(
      "viewer process CPU s / RSS MB (median)",
      (m) => `${num(m.steady.viewerCpuSecMedian)} / ${num(m.steady.viewerRssMBMedian, 0)}`,
    ),
    "",
  ];
  writeFileSync(md, lines.join("\n"));
  return [json, md];
}
