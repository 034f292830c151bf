import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { startOrigin, type Origin } from "../../devkit/origin/index";
import { startPageServer, type PageServer } from "../../devkit/page-server";
import { rankQuantile } from "../../devkit/quantiles";
import { startTracker, type RunningTracker } from "../../tracker/src/index";
import { createLinkLab, type LinkLab } from "../links/namespaces";
import { assignLinks, loadProfiles, type ViewerLink } from "../links/profile";
import { buildBenchPages, checkSdkBuild } from "../offload/pages";
import { renditionBound, totalBound, type RenditionBound } from "./bound";
import { ChromiumViewer } from "./chromium-viewer";
import { renderAudienceChart, renderAudienceMarkdown } from "./report";
import { evaluateScenario, type ScenarioOutcome } from "./scenario-outcome";
import { buildViewerBundle } from "./viewer-build";
import {
  affectedSlots,
  injectFault,
  scenarioSteadySec,
  timingOf,
  type FaultRecord,
  type ScenarioSetup,
} from "./scenarios";
import { resourceCurve } from "./soak";
import { TrackerChild } from "./tracker-child";
import { VirtualViewerProcess } from "./virtual-process";
import type { AudienceMode, VirtualSnapshot } from "./virtual-protocol";
import type { HttpCauseCounts } from "./http-causes";
import { UNKNOWN_ADDRESS } from "./webrtc-probe";

/** A viewer of either kind, as the run sees it. */
type AudienceViewer = VirtualViewerProcess | ChromiumViewer;

export interface AudienceOptions {
  /** Viewers in all, Chromium ones included. */
  viewers: number;
  /** How many of them are Chromium viewers (each its own browser process in its own namespace). */
  browsers: number;
  modes: AudienceMode[];
  /** A profile of bench/links/profiles.json, or "off" (loopback, no caps). */
  links: string;
  /** 3: the ladder's multivariant playlist; 1: its 1.6 Mbit/s rendition alone. */
  ladder: 1 | 3;
  /** The profile's round-trip times (the delay line); false keeps only rates and NAT. */
  rtt: boolean;
  joinIntervalSec: number;
  warmupSec: number;
  durationSec: number;
  sampleIntervalSec: number;
  name: string;
  outDir: string;
  /** A fault scenario injected in each mode's steady window (scenarios.ts); null: a calm run. */
  scenario: ScenarioSetup | null;
  /** SDK options of the swarmcast mode besides those the bench sets (`--sdk-config`). */
  sdkOptions: Record<string, unknown>;
}

export const DEFAULT_AUDIENCE_OPTIONS: AudienceOptions = {
  viewers: 10,
  browsers: 0,
  modes: ["http-only", "pml-defaults", "swarmcast"],
  links: "default",
  ladder: 3,
  rtt: true,
  joinIntervalSec: 1,
  warmupSec: 20,
  durationSec: 120,
  sampleIntervalSec: 2,
  name: "",
  outDir: "bench/results",
  scenario: null,
  sdkOptions: {},
};

interface Servers {
  origin: Origin;
  tracker: RunningTracker | TrackerChild;
  /** Bench pages and the SDK's script build, for Chromium viewers. */
  pages: PageServer;
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
  memoryUsedBytes: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** Memory in use on the machine (MemTotal − MemAvailable), bytes. */
function machineMemoryUsed(): number {
  const info = readFileSync("/proc/meminfo", "utf8");
  const kB = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(info)?.[1] ?? 0);
  return (kB("MemTotal") - kB("MemAvailable")) * 1024;
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
  const lab = options.links === "off" ? undefined : createLinkLab(links, undefined, { delay: options.rtt });
  const host = lab ? lab.hubAddress : "127.0.0.1";
  try {
    // Delay line bound and coturn answering: before it, packets would pass undelayed.
    await lab?.ready;
    const scenario = options.scenario;
    const [origin, tracker, pages] = await Promise.all([
      startOrigin({ host, hashTags: scenario?.name !== "lying-peer" || scenario.hashes }),
      // A tracker the scenario kills must be a process of its own.
      scenario?.name === "tracker-kill" ? TrackerChild.start(host) : startTracker({ host, port: 0, logLevel: "warn" }),
      startPageServer({ "/pages/": "bench/pages", "/dist/bench/": "dist/bench", "/dist/": "sdk/dist" }, host),
    ]);
    return { origin, tracker, pages, host, trackerUrl: `ws://${host}:${new URL(tracker.url).port}`, lab, links };
  } catch (error) {
    lab?.close();
    throw error;
  }
}

/** Slots of the Chromium viewers: spread evenly over the audience (and so over the link classes). */
export function browserSlots(viewers: number, browsers: number): Set<number> {
  return new Set(Array.from({ length: browsers }, (_, k) => Math.floor(((k + 0.5) * viewers) / browsers)));
}

function failProfile(name: string): never {
  throw new Error(
    `--links: no profile "${name}" in bench/links/profiles.json (known: ${Object.keys(loadProfiles()).join(", ")}, off)`,
  );
}

function clientId(mode: AudienceMode, index: number, chromium: boolean): string {
  return `${mode === "http-only" ? "http" : mode === "pml-defaults" ? "pml" : "sc"}-${chromium ? "c" : "v"}${String(index).padStart(3, "0")}`;
}

function sweep(servers: Servers, seats: Seat[]): Sweep {
  const report = servers.origin.egress();
  const lab = servers.lab;
  const viewers = seats.map((seat) => seat.viewer);
  // A viewer that joined into a taken slot shares its namespace: the link counts the slot's first viewer.
  const linkOwners = seats.filter((seat) => seat.group !== "joined");
  return {
    at: Date.now(),
    link: new Map(lab ? linkOwners.map((seat) => [seat.viewer.config.id, lab.linkBytes(seat.slot)]) : []),
    egress: new Map(Object.entries(report.byClient).map(([id, c]) => [id, c.segmentBytes])),
    viewers: new Map(viewers.map((v) => [v.config.id, v.last])),
    cpu: readCpu(),
    memoryUsedBytes: machineMemoryUsed(),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function quantile(values: number[], q: number): number | null {
  return values.length === 0 ? null : rankQuantile(values, q);
}

export interface TimelinePoint {
  /** Seconds since the mode's first join. */
  t: number;
  phase: "joining" | "warm-up" | "steady";
  playing: number;
  /** P2P share of the segment bytes the viewers received since the point before. */
  p2pShare: number | null;
  /** CDN segment egress to this mode's viewers since the point before, Mbit/s. */
  cdnMbps: number;
  /** Machine CPU busy share since the point before. */
  machineCpu: number;
  loadavg: number;
  /** With a scenario: the same per group of viewers (those the fault hits, and the others). */
  groups?: Record<ViewerGroup, GroupPoint>;
}

/** The viewers a fault hits, those it spares, and those that joined because of it. */
export type ViewerGroup = "affected" | "others" | "joined";

export interface GroupPoint {
  viewers: number;
  cdnMbps: number;
  /** Segment bytes from peers since the point before, Mbit/s. */
  peerMbps: number;
  /** Viewers stalled right now (after their first frame). */
  stalled: number;
  /** Mean connected peers per viewer. */
  peersMean: number;
}

const PROGRESS_INTERVAL_MS = 5000;
/** With a scenario the timeline is finer: a fault's edges are what it shows. */
const SCENARIO_PROGRESS_INTERVAL_MS = 2000;

/** One viewer of a mode, as the run keeps it: where it plays and which group it counts in. */
interface Seat {
  viewer: AudienceViewer;
  slot: number;
  group: ViewerGroup;
  present: boolean;
}

/** Joins every viewer of a mode, waits out the warm-up, measures the steady window, stops them. */
async function runMode(
  servers: Servers,
  options: AudienceOptions,
  mode: AudienceMode,
  log: (line: string) => void,
): Promise<AudienceModeResult> {
  const swarmId = `audience-${mode}-${Date.now()}`;
  const chromiumSlots = browserSlots(options.viewers, options.browsers);
  const pagesOrigin = new URL(servers.pages.url).origin;
  const scenario = options.scenario;
  const affected = scenario ? affectedSlots(scenario, options.viewers, chromiumSlots) : new Set<number>();
  const liars = scenario?.name === "lying-peer" ? affected : new Set<number>();
  const makeViewer = (i: number, suffix = ""): AudienceViewer => {
    const id = clientId(mode, i, chromiumSlots.has(i)) + suffix;
    const manifestUrl = options.ladder === 3 ? servers.origin.ladderUrl(id) : servers.origin.renditionUrl(1, id);
    const netns = servers.lab?.viewers[i].namespace;
    // lying-peer: hashes required on a hash-tagged stream; without hashes, the SDK's defaults.
    const sdkOptions = {
      ...(mode === "swarmcast" ? options.sdkOptions : {}),
      ...(scenario?.name === "lying-peer" && scenario.hashes && mode === "swarmcast" ? { integrity: "required" } : {}),
    };
    if (chromiumSlots.has(i)) {
      return new ChromiumViewer({
        id,
        netns,
        secureOrigins: servers.lab ? [pagesOrigin, new URL(servers.origin.url).origin] : [],
        pageUrl: `${servers.pages.url}/pages/viewer.html`,
        page: {
          mode,
          src: manifestUrl,
          trackers: [servers.trackerUrl],
          swarmId,
          libUrl: `${servers.pages.url}${mode === "pml-defaults" ? "/dist/bench/pml-page.js" : "/dist/swarmcast.js"}`,
          sdkOptions,
          iceServers: servers.lab?.iceServers(i) ?? [],
        },
        sampleIntervalMs: options.sampleIntervalSec * 1000,
      });
    }
    return new VirtualViewerProcess(
      {
        id,
        mode,
        manifestUrl,
        trackers: [servers.trackerUrl],
        swarmId,
        iceServers: servers.lab?.iceServers(i) ?? [],
        sampleIntervalMs: options.sampleIntervalSec * 1000,
        sdkOptions,
        ...(liars.has(i) && mode !== "http-only" ? { role: "liar" as const } : {}),
        ...(scenario?.name === "lying-peer" ? { verifyMedia: true } : {}),
      },
      { netns },
    );
  };
  const seats: Seat[] = Array.from({ length: options.viewers }, (_, i) => ({
    viewer: makeViewer(i),
    slot: i,
    group: affected.has(i) ? "affected" : "others",
    present: true,
  }));
  const viewers = () => seats.map((s) => s.viewer);
  const timeline: TimelinePoint[] = [];
  const started = Date.now();
  let phase: TimelinePoint["phase"] = "joining";
  const zeroGroups = () => ({ affected: { cdn: 0, p2p: 0 }, others: { cdn: 0, p2p: 0 }, joined: { cdn: 0, p2p: 0 } });
  let previous = { http: 0, p2p: 0, cdn: 0, cpu: readCpu(), at: started, groups: zeroGroups() };
  let regrouped = false;
  const progress = setInterval(
    () => {
      const now = Date.now();
      const last = seats.map((s) => s.viewer.last);
      const http = last.reduce((a, s) => a + (s?.httpBytes ?? 0), 0);
      const p2p = last.reduce((a, s) => a + (s?.p2pBytes ?? 0), 0);
      const egress = servers.origin.egress().byClient;
      const cdnOf = (seat: Seat) => egress[seat.viewer.config.id]?.segmentBytes ?? 0;
      const cdn = seats.reduce((a, seat) => a + cdnOf(seat), 0);
      const cpu = readCpu();
      const received = http + p2p - previous.http - previous.p2p;
      const spanMs = Math.max(1, now - previous.at);
      const groups = zeroGroups();
      // Groups changed since the point before: its per-group rates start from here.
      const baseline = regrouped;
      regrouped = false;
      let groupPoints: TimelinePoint["groups"];
      if (scenario) {
        groupPoints = {} as Record<ViewerGroup, GroupPoint>;
        for (const group of ["affected", "others", "joined"] as const) {
          const members = seats.filter((seat) => seat.group === group);
          const present = members.filter((seat) => seat.present);
          groups[group].cdn = members.reduce((a, seat) => a + cdnOf(seat), 0);
          groups[group].p2p = members.reduce((a, seat) => a + (seat.viewer.last?.p2pBytes ?? 0), 0);
          if (baseline) previous.groups[group] = { ...groups[group] };
          groupPoints[group] = {
            viewers: present.length,
            cdnMbps: ((groups[group].cdn - previous.groups[group].cdn) * 8) / spanMs / 1000,
            peerMbps: ((groups[group].p2p - previous.groups[group].p2p) * 8) / spanMs / 1000,
            stalled: present.filter((seat) => {
              const snapshot = seat.viewer.last;
              return snapshot !== undefined && snapshot.firstFrameAt !== null && !snapshot.playing;
            }).length,
            peersMean:
              present.length === 0
                ? 0
                : present.reduce((a, seat) => a + (seat.viewer.last?.peers ?? 0), 0) / present.length,
          };
        }
      }
      const point: TimelinePoint = {
        t: Math.round((now - started) / 100) / 10,
        phase,
        playing: seats.filter((seat) => seat.present && seat.viewer.last?.playing).length,
        p2pShare: received > 0 ? (p2p - previous.p2p) / received : null,
        cdnMbps: ((cdn - previous.cdn) * 8) / spanMs / 1000,
        machineCpu: (cpu.busy - previous.cpu.busy) / Math.max(1, cpu.total - previous.cpu.total),
        loadavg: loadavg()[0],
        ...(groupPoints ? { groups: groupPoints } : {}),
      };
      previous = { http, p2p, cdn, cpu, at: now, groups };
      timeline.push(point);
      const stalls = last.reduce((a, s) => a + (s?.stalls ?? 0), 0);
      log(
        `${mode}: ${Math.round(point.t)} s ${phase}, ${point.playing}/${seats.filter((seat) => seat.present).length} playing, P2P ${point.p2pShare === null ? "–" : (point.p2pShare * 100).toFixed(0) + " %"}, CDN ${point.cdnMbps.toFixed(1)} Mbit/s, stalls ${stalls}, CPU ${(point.machineCpu * 100).toFixed(0)} %, load ${point.loadavg.toFixed(1)}`,
      );
    },
    scenario ? SCENARIO_PROGRESS_INTERVAL_MS : PROGRESS_INTERVAL_MS,
  );
  const starting: Promise<void>[] = [];
  const start = (v: AudienceViewer) => {
    const promise = Promise.resolve(v.start()).catch((error: unknown) =>
      log(`${v.config.id} did not start: ${error instanceof Error ? error.message : String(error)}`),
    );
    starting.push(promise);
    return promise;
  };
  try {
    for (const seat of seats) {
      // A Chromium viewer takes seconds to launch: the joins go on meanwhile.
      void start(seat.viewer);
      await sleep(options.joinIntervalSec * 1000);
    }
    await Promise.all(starting);
    phase = "warm-up";
    await sleep(options.warmupSec * 1000);
    const first = sweep(servers, seats);
    if (scenario?.name === "cdn-partial") {
      // The half whose CDN fails: those that fetched the most from it so far (for swarmcast the
      // viewers fetching at the live edge for the others, the outage that hurts most).
      const ranked = [...seats].sort(
        (a, b) =>
          (first.egress.get(b.viewer.config.id) ?? 0) - (first.egress.get(a.viewer.config.id) ?? 0) || a.slot - b.slot,
      );
      const half = new Set(ranked.slice(0, Math.floor(seats.length / 2)).map((seat) => seat.slot));
      affected.clear();
      for (const seat of seats) {
        seat.group = half.has(seat.slot) ? "affected" : "others";
        if (half.has(seat.slot)) affected.add(seat.slot);
      }
      regrouped = true;
    }
    phase = "steady";
    let fault: FaultRecord | undefined;
    if (scenario) {
      await sleep(scenario.faultAtSec * 1000);
      fault = await injectFault(scenario, {
        origin: servers.origin,
        tracker: servers.tracker instanceof TrackerChild ? servers.tracker : undefined,
        affected: [...affected],
        affectedIds: seats.filter((seat) => seat.group === "affected").map((seat) => seat.viewer.config.id),
        sleep,
        log,
        async leave(slots) {
          const leaving = seats.filter((seat) => seat.present && seat.group !== "joined" && slots.includes(seat.slot));
          for (const seat of leaving) seat.present = false;
          await Promise.all(leaving.map((seat) => seat.viewer.stop()));
        },
        async join(slots, label) {
          const joining = slots.map((slot) => ({
            viewer: makeViewer(slot, `-${label}`),
            slot,
            group: "joined" as const,
            present: true,
          }));
          seats.push(...joining);
          await Promise.all(joining.map((seat) => start(seat.viewer)));
          return joining.map((seat) => seat.viewer.config.id);
        },
        async throttle(slot, rate) {
          const viewer = seats.find((seat) => seat.slot === slot && seat.present)?.viewer;
          if (!(viewer instanceof ChromiumViewer)) throw new Error(`slot ${slot} is not a Chromium viewer`);
          await viewer.throttleCpu(rate);
        },
      });
      await sleep(Math.max(0, first.at + options.durationSec * 1000 - Date.now()));
    } else await sleep(options.durationSec * 1000);
    const last = sweep(servers, seats);
    return summarizeMode(mode, servers, options, seats, first, last, timeline, started, fault);
  } finally {
    clearInterval(progress);
    await Promise.allSettled(starting);
    await Promise.all(viewers().map((v) => v.stop()));
  }
}

/**
 * A Chromium viewer's CPU share of one core by thread between two samples, largest first, those
 * under 0.5 % left out (a thread that exited meanwhile takes its time with it: never below 0).
 */
function threadShares(a: VirtualSnapshot, b: VirtualSnapshot): Record<string, number> | null {
  if (!a.cpuMicrosByThread || !b.cpuMicrosByThread) return null;
  const ms = b.at - a.at;
  return Object.fromEntries(
    Object.entries(b.cpuMicrosByThread)
      .map(([key, micros]): [string, number] => [
        key,
        Math.max(0, micros - (a.cpuMicrosByThread?.[key] ?? 0)) / 1e3 / ms,
      ])
      .filter(([, share]) => share >= 0.005)
      .sort((x, y) => y[1] - x[1]),
  );
}

/** Counters `keys` of `b` less those of the earlier sample `a` (absent in `a`: counted from zero). */
function countsBetween<K extends string>(
  a: Partial<Record<K, number>> | undefined,
  b: Record<K, number>,
  keys = Object.keys(b) as K[],
): Record<K, number> {
  const d = {} as Record<K, number>;
  for (const key of keys) d[key] = b[key] - (a?.[key] ?? 0);
  return d;
}

/** Counters summed key by key over the viewers that have them; null when none has. */
function sumCounts<K extends string>(records: Array<Record<K, number> | null | undefined>): Record<K, number> | null {
  const present = records.filter((r): r is Record<K, number> => r != null);
  if (present.length === 0) return null;
  const total = {} as Record<K, number>;
  for (const record of present)
    for (const key of Object.keys(record) as K[]) total[key] = (total[key] ?? 0) + record[key];
  return total;
}

function httpCausesBetween(a: HttpCauseCounts | undefined, b: HttpCauseCounts): HttpCauseCounts {
  const afterPeerByError: Record<string, number> = {};
  for (const [error, n] of Object.entries(countsBetween(a?.afterPeerByError, b.afterPeerByError)))
    if (n > 0) afterPeerByError[error] = n;
  return {
    edge: countsBetween(a?.edge, b.edge),
    direct: countsBetween(a?.direct, b.direct),
    afterPeer: countsBetween(a?.afterPeer, b.afterPeer),
    afterPeerByError,
  };
}

/**
 * The virtual viewers' CDN bytes by cause, each as a share of the segment bytes they took in: the
 * three shares add up to their CDN share, and times their count they give CDN copies per segment.
 */
function httpCauseShares(
  perViewer: Array<{ httpCauses: HttpCauseCounts | null; httpByLevel: number[]; p2pByLevel: number[] }>,
): {
  viewers: number;
  edge: number;
  direct: number;
  afterPeer: number;
  afterPeerByError: Record<string, number>;
} | null {
  const counted = perViewer.flatMap((v) => (v.httpCauses ? [{ ...v, httpCauses: v.httpCauses }] : []));
  const taken = counted.reduce(
    (a, v) => a + v.httpByLevel.reduce((x, y) => x + y, 0) + v.p2pByLevel.reduce((x, y) => x + y, 0),
    0,
  );
  if (counted.length === 0 || taken === 0) return null;
  const share = (key: "edge" | "direct" | "afterPeer") =>
    counted.reduce((a, v) => a + v.httpCauses[key].bytes, 0) / taken;
  return {
    viewers: counted.length,
    edge: share("edge"),
    direct: share("direct"),
    afterPeer: share("afterPeer"),
    afterPeerByError: sumCounts(counted.map((v) => v.httpCauses.afterPeerByError)) ?? {},
  };
}

function summarizeMode(
  mode: AudienceMode,
  servers: Servers,
  options: AudienceOptions,
  seats: Seat[],
  first: Sweep,
  last: Sweep,
  timeline: TimelinePoint[],
  startedAt: number,
  fault: FaultRecord | undefined,
) {
  const egressNow = servers.origin.egress().byClient;
  const bitrates = options.ladder === 3 ? servers.origin.ladderBitrates : [servers.origin.ladderBitrates[1]];
  const levels = bitrates.length;
  const perViewer = seats.map(({ viewer: v, slot: i, group }) => {
    const a = first.viewers.get(v.config.id);
    const b = last.viewers.get(v.config.id) ?? v.last;
    const d = (f: (s: VirtualSnapshot) => number) => (b ? f(b) - (a ? f(a) : 0) : 0);
    const byLevel = (source: "http" | "p2p") =>
      Array.from({ length: levels }, (_, l) => d((s) => s.bytesByLevel[source][l] ?? 0));
    const link = servers.links[i];
    const origin = egressNow[v.config.id];
    return {
      id: v.config.id,
      group,
      kind: v instanceof ChromiumViewer ? ("chromium" as const) : ("virtual" as const),
      address: servers.lab?.viewers[i].address ?? null,
      peerBytesByAddress: b?.peerBytesByAddress ?? {},
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
      startLagSec: b?.startLagSec ?? null,
      /** Chromium viewers: when each step of hls.js's start came, ms after the player started. */
      startSteps: b?.startSteps ?? null,
      level: b?.level ?? 0,
      levelSwitches: b?.levelSwitches ?? 0,
      peers: b?.peers ?? 0,
      /** The SDK's uplink budget at the end of the window: measured Mbit/s, requests it refused and uploads it admitted to measure again, in the window. */
      uplinkEstimateMbps: b?.uplink?.estimateBps != null ? b.uplink.estimateBps / 1e6 : null,
      uplinkRefused: b?.uplink ? b.uplink.refusedRequests - (a?.uplink?.refusedRequests ?? 0) : null,
      uplinkProbes: b?.uplink?.probes !== undefined ? b.uplink.probes - (a?.uplink?.probes ?? 0) : null,
      /** Serial uploads in the window: uploads that waited a turn, refused for a late turn, given up by their requester. */
      uploadTurns: b?.uplink?.queue
        ? countsBetween(a?.uplink?.queue ?? undefined, b.uplink.queue, ["queued", "refused", "cancelled"])
        : null,
      /** Playlist reloads the SDK asked for in the window (a peer announced a segment not listed yet). */
      playlistRefreshes: b?.playlistRefreshes !== undefined ? b.playlistRefreshes - (a?.playlistRefreshes ?? 0) : null,
      /** The edge fetcher in the window: segments seeded, draws reopened after a refusal, and those that ended in a fetch. */
      liveEdge: b?.liveEdge ? countsBetween(a?.liveEdge, b.liveEdge) : null,
      /** The SDK's latency steps by the end of the window (adaptiveLatency): steps and seconds added since the viewer joined. */
      adaptiveLatency: b?.adaptiveLatency
        ? { steps: b.adaptiveLatency.steps, addedSec: b.adaptiveLatency.addedSec }
        : null,
      /** Why its CDN segments came from the CDN, in the window (virtual viewers of the P2P modes). */
      httpCauses: b?.httpCauses ? httpCausesBetween(a?.httpCauses, b.httpCauses) : null,
      connections: b?.connections ?? { attempts: 0, connected: 0, relayed: 0, failed: 0 },
      cpuSec: d((s) => s.cpuMicros) / 1e6,
      cpuShare: b && a && b.at > a.at ? (b.cpuMicros - a.cpuMicros) / 1e3 / (b.at - a.at) : null,
      /** A Chromium viewer's CPU share of one core by "process kind/thread name" in the window, largest first. */
      cpuShareByThread: b && a && b.at > a.at ? threadShares(a, b) : null,
      rssMB: b ? b.rssBytes / 2 ** 20 : null,
      latencies: v.samples
        .filter((s) => s.at >= first.at && s.at <= last.at && s.latency !== null)
        .map((s) => s.latency as number),
      clockLatencies: v.samples
        .filter((s) => s.at >= first.at && s.at <= last.at && s.clockLatency != null)
        .map((s) => s.clockLatency as number),
      problems: v.problems.slice(-3),
      /** Stalls in the window with the steps of the segment each one waited for (virtual viewers). */
      stallLog: (b?.stallLog ?? []).filter((stall) => stall.at >= first.at && stall.at <= last.at),
      /** The origin's count for this viewer, whole run: requests a fault hit, error answers, segments sent twice. */
      originFaults: origin?.faults ?? 0,
      originErrors: origin?.errors ?? 0,
      repeatedSegments: origin?.repeatedSegments ?? 0,
      /** What the viewer itself counted, whole run (SDK errors, failed loads, rejections, console errors). */
      faults: b?.faults ?? null,
      /** viewer-soak: heap, timers, store and peers through the steady window, one point per bucket. */
      ...(options.scenario?.name === "viewer-soak"
        ? { resources: resourceCurve(v.samples, first.at, last.at, timingOf(options.scenario).soakBucketSec) }
        : {}),
    };
  });
  const sum = (f: (v: (typeof perViewer)[number]) => number) => perViewer.reduce((a, v) => a + f(v), 0);
  // What the players took in: each segment once, whatever its source. The viewers' byte counters
  // (`received`) also count what they threw away — a peer transfer given up for the CDN, a
  // segment loaded twice — which would lift offload for bytes nobody watched.
  const consumed = sum((v) => v.httpByLevel.reduce((a, b) => a + b, 0) + v.p2pByLevel.reduce((a, b) => a + b, 0));
  const received = sum((v) => v.httpBytes + v.p2pBytes);
  const cdn = sum((v) => v.cdnBytes);
  const renditions = bitrates.map((bitrate, l) => {
    const watchers = perViewer.filter((v) => v.level === l);
    const bound: RenditionBound = renditionBound(
      watchers.map((v) => (v.uplinkMbps ?? 1000) * 1e6),
      bitrate,
    );
    const http = sum((v) => v.httpByLevel[l]);
    const p2p = sum((v) => v.p2pByLevel[l]);
    // Under one KB a rendition had no real traffic (a Chromium viewer's split can leave fractions).
    const offload = http + p2p > 1000 ? p2p / (http + p2p) : 0;
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
  const clockLatencies = perViewer.flatMap((v) => v.clockLatencies);
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
  // Segments crossing between the two kinds, from the virtual viewers' transport counters (the
  // Chromium viewers' addresses are known): whole run, not only the steady window.
  const chromiumAddresses = new Set(perViewer.flatMap((v) => (v.kind === "chromium" && v.address ? [v.address] : [])));
  // A peer behind NAT may be seen from an address WebRTC does not reveal: those bytes are counted
  // apart, as a Chromium or a virtual viewer's.
  const crossing = {
    virtualFromChromiumBytes: 0,
    virtualToChromiumBytes: 0,
    virtualToVirtualBytes: 0,
    unattributedReceivedBytes: 0,
    unattributedSentBytes: 0,
  };
  for (const v of perViewer) {
    if (v.kind !== "virtual") continue;
    for (const [address, bytes] of Object.entries(v.peerBytesByAddress)) {
      if (chromiumAddresses.has(address)) {
        crossing.virtualFromChromiumBytes += bytes.received;
        crossing.virtualToChromiumBytes += bytes.sent;
      } else if (address === UNKNOWN_ADDRESS) {
        crossing.unattributedReceivedBytes += bytes.received;
        crossing.unattributedSentBytes += bytes.sent;
      } else crossing.virtualToVirtualBytes += bytes.sent;
    }
  }
  const chromium = perViewer.filter((v) => v.kind === "chromium");
  return {
    mode,
    steadyFromSec: (first.at - startedAt) / 1000,
    steadyToSec: (last.at - startedAt) / 1000,
    steady: {
      cdnBytes: cdn,
      consumedBytes: consumed,
      receivedBytes: received,
      offload,
      viewerP2pShare: received > 0 ? sum((v) => v.p2pBytes) / received : 0,
      /** Virtual viewers in the window: uploads that waited a turn, refused for a late turn, given up; null without serial uploads. */
      uploadTurns: sumCounts(perViewer.map((v) => v.uploadTurns)),
      /** Virtual viewers' playlist reloads on a peer's announcement in the window; null without them. */
      playlistRefreshes: perViewer.some((v) => v.playlistRefreshes !== null)
        ? sum((v) => v.playlistRefreshes ?? 0)
        : null,
      /** Virtual viewers' edge fetcher in the window, summed; null without it. */
      liveEdge: sumCounts(perViewer.map((v) => v.liveEdge)),
      /** Viewers (virtual and Chromium) that had added latency by the end of the window, of those reporting it; null without them. */
      latencySteps: perViewer.some((v) => v.adaptiveLatency !== null)
        ? {
            stepped: perViewer.filter((v) => (v.adaptiveLatency?.steps ?? 0) > 0).length,
            of: perViewer.filter((v) => v.adaptiveLatency !== null).length,
          }
        : null,
      /** Virtual viewers' CDN segments by cause, as shares of the segment bytes they took in; null without them. */
      httpCauses: httpCauseShares(perViewer),
      bound,
      ratioToBound: bound > 0 ? offload / bound : null,
      renditions,
      rebufferingShare: watchMs > 0 ? sum((v) => v.stalledMs) / watchMs : 0,
      stalls: sum((v) => v.stalls),
      latencyMedianSec: quantile(latencies, 0.5),
      latencyP95Sec: quantile(latencies, 0.95),
      /** Behind the origin's clock (program date-time at the playhead), whatever the playlist reload phase. */
      clockLatencyMedianSec: quantile(clockLatencies, 0.5),
      clockLatencyP95Sec: quantile(clockLatencies, 0.95),
      /** Virtual viewers' start lag (first playlist load after the edge's publication), median: it stays in the clock latency. */
      startLagMedianSec: quantile(
        perViewer.flatMap((v) => (v.startLagSec == null ? [] : [v.startLagSec])),
        0.5,
      ),
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
      /** Machine memory in use at the end of the steady window (all processes, others' too), GB. */
      machineMemoryUsedGB: last.memoryUsedBytes / 2 ** 30,
      viewerCpuSecMedian: quantile(
        perViewer.map((v) => v.cpuSec),
        0.5,
      ),
      viewerRssMBMedian: quantile(
        perViewer.flatMap((v) => (v.kind === "virtual" && v.rssMB !== null ? [v.rssMB] : [])),
        0.5,
      ),
      /** Per Chromium viewer: its browser's whole process tree, CPU share of one core and PSS. */
      chromium: chromium.map((v) => ({
        id: v.id,
        cpuShare: v.cpuShare,
        pssMB: v.rssMB,
        cpuShareByThread: v.cpuShareByThread,
      })),
      crossing,
    },
    counts: cpuShare < 0.85,
    viewers: perViewer.map(({ latencies, clockLatencies: _c, ...rest }) => ({
      ...rest,
      /** This viewer's latency behind the live edge over the window, seconds (null without samples). */
      latencyMedianSec: quantile(latencies, 0.5),
      latencyP95Sec: quantile(latencies, 0.95),
    })),
    timeline,
    fault: fault
      ? {
          ...fault,
          startSec: (fault.startAt - startedAt) / 1000,
          endSec: (fault.endAt - startedAt) / 1000,
        }
      : null,
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
  format: string;
  options: AudienceOptions;
  machine: {
    cpus: number;
    memoryGB: number;
    loadavgStart: number[];
    loadavgEnd: number[];
    startedAt: string;
    /** Machine CPU busy share over 3 s before the bench started anything: other work's share. */
    cpuBeforeBench: number;
  };
  links: ViewerLink[];
  /** Slots played by Chromium viewers. */
  chromiumSlots: number[];
  /**
   * A run counts only if http-only had no stall after startup and the machine's CPU stayed
   * under 85 % in every mode's steady window; `reasons` says what failed.
   */
  valid: { counts: boolean; reasons: string[]; httpOnlyStalls: number | null; machineCpuUnder85: boolean };
  modes: AudienceModeResult[];
  /** With `--scenario`: the goal and whether it was met, measured. */
  scenario: ScenarioOutcome | null;
}

export const AUDIENCE_RESULT_FORMAT = "swarmcast-audience-bench/2";
/** Machine CPU share above which a steady window does not count. */
export const MAX_MACHINE_CPU = 0.85;

function validity(modes: AudienceModeResult[], scenario: ScenarioSetup | null): AudienceResult["valid"] {
  const reasons: string[] = [];
  const httpOnly = modes.find((m) => m.mode === "http-only");
  // A soak's hours cannot run twice on one machine: its goal counts any swarmcast stall as a miss instead.
  if (!httpOnly && scenario?.name !== "viewer-soak") reasons.push("no http-only mode to check stalls against");
  // Under a fault http-only may stall: that is the figure swarmcast is compared with.
  else if (httpOnly && httpOnly.steady.stalls > 0 && !scenario)
    reasons.push(`http-only stalled ${httpOnly.steady.stalls} times after startup (the machine or links, not P2P)`);
  for (const m of modes)
    if (m.steady.machineCpuShare >= MAX_MACHINE_CPU)
      reasons.push(
        `machine CPU ${(m.steady.machineCpuShare * 100).toFixed(0)} % in ${m.mode}'s steady window (limit 85 %)`,
      );
  return {
    counts: reasons.length === 0,
    reasons,
    httpOnlyStalls: httpOnly ? httpOnly.steady.stalls : null,
    machineCpuUnder85: modes.every((m) => m.steady.machineCpuShare < MAX_MACHINE_CPU),
  };
}

export async function runAudienceBench(
  requested: AudienceOptions,
  log: (line: string) => void = console.log,
): Promise<{ result: AudienceResult; files: string[] }> {
  // A scenario's steady window holds its fault and the recovery after it.
  const options = requested.scenario
    ? { ...requested, durationSec: Math.max(requested.durationSec, scenarioSteadySec(requested.scenario)) }
    : requested;
  if (options.browsers > options.viewers)
    throw new Error(`--browsers: ${options.browsers} is more than --viewers ${options.viewers}`);
  if (options.browsers > 0) {
    checkSdkBuild();
    await buildBenchPages(options.modes);
  }
  await buildViewerBundle({ stockPml: options.modes.includes("pml-defaults") });
  const idleFrom = readCpu();
  await sleep(3000);
  const idleTo = readCpu();
  const cpuBeforeBench = (idleTo.busy - idleFrom.busy) / Math.max(1, idleTo.total - idleFrom.total);
  log(`machine CPU before the bench starts: ${(cpuBeforeBench * 100).toFixed(0)} % (load ${loadavg()[0].toFixed(1)})`);
  const servers = await startServers(options);
  const stop = () => servers.lab?.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  try {
    const modes: AudienceModeResult[] = [];
    for (const mode of options.modes) {
      modes.push(await runMode(servers, options, mode, log));
      // A tracker killed for good comes back for the next mode.
      if (servers.tracker instanceof TrackerChild) await servers.tracker.start();
    }
    const result: AudienceResult = {
      format: AUDIENCE_RESULT_FORMAT,
      options,
      machine: {
        cpus: cpus().length,
        memoryGB: Math.round(totalmem() / 2 ** 30),
        loadavgStart: loadStart,
        loadavgEnd: loadavg(),
        startedAt,
        cpuBeforeBench,
      },
      links: servers.links,
      chromiumSlots: [...browserSlots(options.viewers, options.browsers)],
      valid: validity(modes, options.scenario),
      modes,
      scenario: options.scenario ? evaluateScenario(options.scenario, modes, options.viewers) : null,
    };
    return { result, files: writeReport(result, options) };
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await Promise.all([servers.origin.close(), servers.tracker.close(), servers.pages.close()]);
    servers.lab?.close();
  }
}

export function audienceName(options: AudienceOptions): string {
  const scenario = options.scenario;
  if (!options.name && scenario) {
    const variant =
      scenario.name === "cdn-partial" && scenario.cdnFault !== "503"
        ? `-${scenario.cdnFault}`
        : scenario.name === "tracker-kill" && scenario.trackerRestartSec === null
          ? "-never-back"
          : scenario.name === "lying-peer" && !scenario.hashes
            ? "-no-hashes"
            : "";
    return `scenario-${scenario.name}${variant}`;
  }
  return (
    options.name ||
    `audience-${options.viewers}${options.browsers > 0 ? `-${options.browsers}b` : ""}-${options.links}${options.rtt ? "" : "-nortt"}-ladder${options.ladder}`
  );
}

function writeReport(result: AudienceResult, options: AudienceOptions): string[] {
  mkdirSync(options.outDir, { recursive: true });
  const name = audienceName(options);
  const files = ["json", "md", "svg"].map((ext) => join(options.outDir, `${name}.${ext}`));
  writeFileSync(files[0], JSON.stringify(result, null, 2) + "\n");
  writeFileSync(files[1], renderAudienceMarkdown(result));
  writeFileSync(files[2], renderAudienceChart(result));
  return files;
}
