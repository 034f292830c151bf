/**
 * Programmatic entry of the offload bench: `runBench(options)` starts the origin, the tracker,
 * a page server and one Chromium, runs every mode with N viewers one after another, and writes
 * <out>/<name>.json, .md and .svg. Everything it starts is stopped before it returns or throws.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { isAbsolute, join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../devkit/chromium.js";
import { startPageServer, type PageServer } from "../../devkit/page-server.js";
import { startOrigin, type EgressReport, type Origin } from "../../devkit/origin/index.js";
import {
  offloadBound,
  startupDistribution,
  windowFigures,
  type EgressSample,
  type ViewerRecord,
  type WindowFigures,
  type Distribution,
} from "./metrics.js";
import { resolveBenchOptions, type BenchOptions, type Mode } from "./options.js";
import { buildBenchPages, checkSdkBuild, ROOT } from "./pages.js";
import { renderChart, renderMarkdown } from "./report.js";
import { startBenchTracker, type BenchTracker } from "./tracker.js";
import { BenchViewer, type ViewerConfig } from "./viewer.js";

export const RESULT_FORMAT = "swarmcast-offload-bench/1";

/** Width of the sliding window of the timeline's offload figure. */
const TIMELINE_WINDOW_MS = 10_000;
/** Period of the progress line. */
const PROGRESS_INTERVAL_MS = 5_000;

const PML_VERSION = (
  JSON.parse(readFileSync(join(ROOT, "node_modules/p2p-media-loader-core/package.json"), "utf8")) as { version: string }
).version;

const MODE_TAG: Record<Mode, string> = { "http-only": "http", "pml-defaults": "pml", swarmcast: "sc" };

export interface TimelinePoint {
  /** Seconds since the mode's first join. */
  t: number;
  present: number;
  playing: number;
  /** Cumulative since the mode's first join. */
  egressSegmentBytes: number;
  consumedBytes: number;
  /** Offload over the last TIMELINE_WINDOW_MS; null without consumed bytes. */
  offload: number | null;
}

export interface ViewerResult {
  id: string;
  slot: number;
  joinedAt: number;
  leftAt: number | null;
  startupMs: number | null;
  httpBytes: number;
  p2pBytes: number;
  uploadedBytes: number;
  /** p2p / (http + p2p) over the steady state; null if the viewer was not there. */
  steadyP2PShare: number | null;
  stalls: number;
  stalledMs: number;
  watchMs: number;
  hlsFatal: number;
  hlsNonFatal: number;
  playerErrors: number;
  pageErrors: number;
  sampleFailures: number;
  recentProblems: string[];
  /** Latency steps the SDK took (swarmcast mode, `stats().adaptiveLatency`); null otherwise. */
  latencySteps: number | null;
}

export interface ModeResult {
  mode: Mode;
  swarmId: string;
  /** Options given to the player besides src (swarmcast mode) or the fixed stock settings. */
  playerConfig: Record<string, unknown>;
  /** hls.js, SDK and PML versions the pages played with. */
  versions: { hls: string; swarmcast: string | null; pml: string | null };
  startedAt: number;
  /** Last join done; the warm-up starts here. */
  joinedAt: number;
  steadyFrom: number;
  steadyTo: number;
  /** Fault window in epoch ms and the slots it hit, if any. */
  fault: { from: number; until: number; slots: number[]; clients: string[] } | null;
  viewers: number;
  /** (N−1)/N. */
  bound: number;
  /** Steady-state offload / bound; null when the bound is 0 (one viewer). */
  offloadToBound: number | null;
  steady: WindowFigures;
  /** From the first join to the end, warm-up included. */
  whole: WindowFigures;
  startupMs: Distribution;
  notStarted: number;
  pageErrors: number;
  /** Viewers that joined in all (churn adds some). */
  joins: number;
  timeline: TimelinePoint[];
  viewerResults: ViewerResult[];
}

export interface BenchResult {
  format: string;
  name: string;
  startedAt: string;
  finishedAt: string;
  options: BenchOptions;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemoryMB: number;
    node: string;
    chromium: string;
    /** os.loadavg() at start and end: other work on the machine skews the timing figures. */
    loadavgStart: number[];
    loadavgEnd: number[];
  };
  tracker: string;
  segmentDuration: number;
  modes: ModeResult[];
}

export interface RunHooks {
  /** Aborts the run; everything started is stopped and the promise rejects. */
  signal?: AbortSignal;
  /** Progress lines (one every few seconds while a mode runs). */
  log?: (line: string) => void;
}

export interface BenchOutput {
  result: BenchResult;
  files: { json: string; md: string; svg: string };
}

class AbortedError extends Error {
  override name = "AbortError";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError("bench aborted"));
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("bench aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Options handed to Swarmcast.attach besides src, in the swarmcast mode. */
export function swarmcastOptions(options: BenchOptions): Record<string, unknown> {
  const reserved = ["src", "trackers", "swarmId", "iceServers"].filter((k) => k in options.sdkConfig);
  if (reserved.length > 0) {
    throw new Error(
      `--sdk-config: "${reserved[0]}" is set by the bench (loopback tracker, per-viewer origin URL, swarm per mode, no ICE servers)`,
    );
  }
  const { hls, core, ...rest } = options.sdkConfig as { hls?: Record<string, unknown>; core?: Record<string, unknown> };
  const result: Record<string, unknown> = { ...rest };
  const hlsConfig: Record<string, unknown> = {};
  if (options.liveSyncCount > 0) hlsConfig.liveSyncDurationCount = options.liveSyncCount;
  if (options.liveSync > 0) hlsConfig.liveSyncDuration = options.liveSync;
  Object.assign(hlsConfig, hls ?? {});
  if (Object.keys(hlsConfig).length > 0) result.hls = hlsConfig;
  if (core) result.core = core;
  if (options.uploadCap > 0) result.maxUploadKbps = options.uploadCap;
  return result;
}

interface RunContext {
  options: BenchOptions;
  browser: Browser;
  origin: Origin;
  tracker: BenchTracker;
  pageUrl: string;
  pagesUrl: string;
  runId: string;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function runBench(input: Partial<BenchOptions> = {}, hooks: RunHooks = {}): Promise<BenchOutput> {
  const options = resolveBenchOptions(input);
  const log = hooks.log ?? (() => undefined);
  const sdkOptions = swarmcastOptions(options);
  checkSdkBuild();
  await buildBenchPages(options.modes);
  if (hooks.signal?.aborted) throw new AbortedError("bench aborted");

  const startedAt = new Date();
  const loadavgStart = os.loadavg();
  let origin: Origin | undefined;
  let tracker: BenchTracker | undefined;
  let pages: PageServer | undefined;
  let browser: Browser | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    origin = await startOrigin({ windowSegments: options.window });
    tracker = await startBenchTracker(options.tracker);
    pages = await startPageServer({ "/pages/": "bench/pages", "/dist/bench/": "dist/bench", "/dist/": "sdk/dist" });
    // The bench stops the browser itself, on signals too.
    browser = await launchChromium({ handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    log(
      `origin ${origin.url}  tracker ${tracker.kind} ${tracker.url}  chromium ${browser.version()}  load ${loadavgStart.map((l) => l.toFixed(2)).join(" ")}`,
    );

    const ctx: RunContext = {
      options,
      browser,
      origin,
      tracker,
      pageUrl: `${pages.url}/pages/viewer.html`,
      pagesUrl: pages.url,
      runId: startedAt.toISOString().replace(/\D/g, "").slice(0, 14),
      signal: hooks.signal,
      log,
    };
    const modes: ModeResult[] = [];
    for (const mode of options.modes) {
      modes.push(await runMode(ctx, mode, sdkOptions, cleanups));
    }

    const result: BenchResult = {
      format: RESULT_FORMAT,
      name: options.name,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
        node: process.version,
        chromium: browser.version(),
        loadavgStart,
        loadavgEnd: os.loadavg(),
      },
      tracker: tracker.kind,
      segmentDuration: origin.segmentDuration,
      modes,
    };
    const files = writeResults(result, options);
    return { result, files };
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await pages?.close().catch(() => undefined);
    await tracker?.close().catch(() => undefined);
    await origin?.close().catch(() => undefined);
  }
}

function writeResults(result: BenchResult, options: BenchOptions): BenchOutput["files"] {
  const dir = isAbsolute(options.out) ? options.out : join(ROOT, options.out);
  mkdirSync(dir, { recursive: true });
  const files = {
    json: join(dir, `${options.name}.json`),
    md: join(dir, `${options.name}.md`),
    svg: join(dir, `${options.name}.svg`),
  };
  writeFileSync(files.json, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(files.md, renderMarkdown(result));
  writeFileSync(files.svg, renderChart(result));
  return files;
}

async function runMode(
  ctx: RunContext,
  mode: Mode,
  sdkOptions: Record<string, unknown>,
  cleanups: Array<() => Promise<void>>,
): Promise<ModeResult> {
  const player = modePlayer(ctx, mode, sdkOptions);
  const audience = new ModeAudience(ctx, mode, player);
  cleanups.push(() => audience.leaveAll({ sample: false }));

  const phases = await driveMode(ctx, mode, player, audience);

  await audience.leaveAll();
  if (audience.fault) ctx.origin.setFaults([]);
  cleanups.pop();

  const result = modeResult(ctx.options, mode, player, audience, phases);
  ctx.log(doneLine(mode, result));
  return result;
}

/** What one mode's pages load and are configured with. */
interface ModePlayer {
  tag: string;
  swarmId: string;
  libUrl: string;
  /** Reported in the result: the SDK options, PML's stock settings, or nothing (plain hls.js). */
  playerConfig: Record<string, unknown>;
  /** Handed to Swarmcast.attach in the swarmcast mode only. */
  sdkOptions: Record<string, unknown> | undefined;
}

function modePlayer(ctx: RunContext, mode: Mode, sdkOptions: Record<string, unknown>): ModePlayer {
  const tag = MODE_TAG[mode];
  const swarmId = `bench-${ctx.runId}-${tag}`;
  const libUrl =
    mode === "pml-defaults" ? `${ctx.pagesUrl}/dist/bench/pml-page.js` : `${ctx.pagesUrl}/dist/swarmcast.js`;
  const playerConfig: Record<string, unknown> =
    mode === "swarmcast"
      ? sdkOptions
      : mode === "pml-defaults"
        ? { core: { announceTrackers: "<tracker>", swarmId, rtcConfig: { iceServers: [] } } }
        : {};
  return { tag, swarmId, libUrl, playerConfig, sdkOptions: mode === "swarmcast" ? sdkOptions : undefined };
}

/**
 * The viewers of one mode: joins them, samples them together with the origin's egress, and keeps
 * the origin's fault rule pointed at the viewers in the faulted slots.
 */
class ModeAudience {
  readonly viewers: BenchViewer[] = [];
  readonly egress: EgressSample[] = [];
  /** When each sampling round ended; the timeline's sliding window starts at one of these. */
  readonly tickTimes: number[] = [];
  versions: ModeResult["versions"] = { hls: "unknown", swarmcast: null, pml: null };
  fault: ModeResult["fault"] = null;
  /** The first faultShare × N slots. */
  readonly faultSlots = new Set<number>();
  private nextId = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly mode: Mode,
    private readonly player: ModePlayer,
  ) {
    const faultCount = Math.round(ctx.options.faultShare * ctx.options.viewers);
    for (let s = 0; s < faultCount; s++) this.faultSlots.add(s);
  }

  present(): BenchViewer[] {
    return this.viewers.filter((v) => v.present);
  }

  async join(slot: number): Promise<void> {
    const viewer = new BenchViewer(`${this.player.tag}-v${String(this.nextId++).padStart(2, "0")}`, slot);
    this.viewers.push(viewer);
    const config: ViewerConfig = {
      mode: this.mode,
      src: this.ctx.origin.liveUrl(viewer.id),
      trackers: [this.ctx.tracker.url],
      swarmId: this.player.swarmId,
      libUrl: this.player.libUrl,
      sdkOptions: this.player.sdkOptions,
    };
    const reported = await viewer.join(this.ctx.browser, this.ctx.pageUrl, config);
    this.versions = { ...reported, pml: this.mode === "pml-defaults" ? PML_VERSION : null };
    this.applyFaults();
  }

  async leaveAll(options?: { sample: boolean }): Promise<void> {
    await Promise.all(this.viewers.map((v) => v.leave(options)));
  }

  /** Samples every present viewer and the origin's egress; returns an instant at or after all of them. */
  async sampleAll(): Promise<number> {
    await Promise.all(this.present().map((v) => v.sample()));
    this.egress.push({ at: Date.now(), byClient: this.ctx.origin.egress().byClient });
    // Every snapshot and the egress sample are at or before this instant.
    const at = Date.now();
    this.tickTimes.push(at);
    return at;
  }

  records(): ViewerRecord[] {
    return this.viewers.map((v) => ({
      id: v.id,
      slot: v.slot,
      joinedAt: v.joinedAt,
      leftAt: v.leftAt,
      pageErrors: v.pageErrors,
      samples: v.samples,
    }));
  }

  /** Schedules the fault window relative to the steady state's start, if any slot is faulted. */
  scheduleFault(steadyFrom: number): void {
    if (this.faultSlots.size === 0) return;
    const { faultWindow } = this.ctx.options;
    this.fault = {
      from: steadyFrom + faultWindow[0] * 1000,
      until: steadyFrom + faultWindow[1] * 1000,
      slots: [...this.faultSlots],
      clients: [],
    };
    this.applyFaults();
  }

  private applyFaults(): void {
    const fault = this.fault;
    if (!fault) return;
    fault.clients = [
      ...new Set([
        ...fault.clients,
        ...this.present()
          .filter((v) => this.faultSlots.has(v.slot))
          .map((v) => v.id),
      ]),
    ];
    this.ctx.origin.setFaults([
      { clients: fault.clients, status: 503, from: fault.from, until: fault.until, target: "segments" },
    ]);
  }
}

/** The instants that bound one mode's phases (joining, warm-up, steady state) and its timeline. */
interface ModePhases {
  startAt: number;
  joinedAt: number;
  steadyFrom: number;
  steadyTo: number;
  timeline: TimelinePoint[];
}

/**
 * The mode's schedule: joins a viewer every joinInterval, then warms up, then measures the steady
 * state, sampling every sampleInterval, churning every churn seconds and logging progress, one
 * due step at a time, until the steady state is over.
 */
async function driveMode(ctx: RunContext, mode: Mode, player: ModePlayer, audience: ModeAudience): Promise<ModePhases> {
  const { options, signal, log } = ctx;
  const timeline: TimelinePoint[] = [];
  const startAt = Date.now();
  log(`[${mode}] ${options.viewers} viewers joining every ${options.joinInterval} s, swarm ${player.swarmId}`);
  let joinedAt: number | null = null;
  let steadyFrom: number | null = null;
  let steadyTo: number | null = null;
  let nextSampleAt = startAt;
  let nextProgressAt = startAt + PROGRESS_INTERVAL_MS;
  let nextChurnAt = Infinity;
  let slotsJoined = 0;
  const nextJoinAt = () => startAt + slotsJoined * options.joinInterval * 1000;

  for (;;) {
    if (signal?.aborted) throw new AbortedError("bench aborted");
    if (!ctx.browser.isConnected()) throw new Error(`Chromium exited during the ${mode} mode`);
    const now = Date.now();
    if (slotsJoined < options.viewers) {
      if (now >= nextJoinAt()) {
        await audience.join(slotsJoined++);
        continue;
      }
    } else if (joinedAt === null) {
      joinedAt = now;
      steadyFrom = joinedAt + options.warmup * 1000;
      if (options.churn > 0) nextChurnAt = joinedAt + options.churn * 1000;
      audience.scheduleFault(steadyFrom);
    }
    if (steadyFrom !== null && steadyTo === null && now >= steadyFrom) {
      steadyFrom = await audience.sampleAll();
      steadyTo = steadyFrom + options.duration * 1000;
      log(`[${mode}] steady state for ${options.duration} s`);
      continue;
    }
    if (steadyTo !== null && now >= steadyTo) {
      steadyTo = await audience.sampleAll();
      break;
    }
    if (now >= nextChurnAt) {
      nextChurnAt += options.churn * 1000;
      await churnOldest(mode, audience, log);
      continue;
    }
    if (now >= nextSampleAt) {
      nextSampleAt = Math.max(nextSampleAt + options.sampleInterval * 1000, Date.now());
      const at = await audience.sampleAll();
      timeline.push(timelinePoint(audience.records(), audience.egress, audience.tickTimes, at, startAt));
      continue;
    }
    if (now >= nextProgressAt) {
      nextProgressAt += PROGRESS_INTERVAL_MS;
      log(progressLine(mode, options.viewers, audience.records(), audience.egress, timeline, startAt, steadyFrom, now));
    }
    const wakeAt = Math.min(
      nextSampleAt,
      nextProgressAt,
      nextChurnAt,
      slotsJoined < options.viewers ? nextJoinAt() : Infinity,
      steadyTo ?? steadyFrom ?? Infinity,
    );
    await sleep(Math.min(1000, wakeAt - Date.now()), signal);
  }
  return { startAt, joinedAt: joinedAt!, steadyFrom: steadyFrom!, steadyTo, timeline };
}

/** The longest-present viewer leaves and a new one takes its slot. */
async function churnOldest(mode: Mode, audience: ModeAudience, log: (line: string) => void): Promise<void> {
  const leaving = audience.present().sort((a, b) => a.joinedAt - b.joinedAt)[0];
  if (!leaving) return;
  await leaving.leave();
  await audience.join(leaving.slot);
  log(`[${mode}] churn: ${leaving.id} left, ${audience.viewers[audience.viewers.length - 1].id} joined`);
}

function modeResult(
  options: BenchOptions,
  mode: Mode,
  player: ModePlayer,
  audience: ModeAudience,
  phases: ModePhases,
): ModeResult {
  const { viewers, egress } = audience;
  const all = audience.records();
  const steady = windowFigures(all, egress, phases.steadyFrom, phases.steadyTo);
  const whole = windowFigures(all, egress, phases.startAt, phases.steadyTo);
  const bound = offloadBound(options.viewers);
  const startup = startupDistribution(all);
  return {
    mode,
    swarmId: player.swarmId,
    playerConfig: player.playerConfig,
    versions: audience.versions,
    startedAt: phases.startAt,
    joinedAt: phases.joinedAt,
    steadyFrom: phases.steadyFrom,
    steadyTo: phases.steadyTo,
    fault: audience.fault,
    viewers: options.viewers,
    bound,
    offloadToBound: bound > 0 && steady.offload !== null ? steady.offload / bound : null,
    steady,
    whole,
    startupMs: startup.ms,
    notStarted: startup.notStarted,
    pageErrors: viewers.reduce((sum, v) => sum + v.pageErrors, 0),
    joins: viewers.length,
    timeline: phases.timeline,
    viewerResults: viewers.map((v) => viewerResult(v, steady)),
  };
}

function doneLine(mode: Mode, result: ModeResult): string {
  const { steady, bound, startupMs, notStarted } = result;
  return (
    `[${mode}] done: steady offload ${pct(steady.offload)} (bound ${pct(bound)}, ${pct(result.offloadToBound)} of it), ` +
    `egress ${mb(steady.egressSegmentBytes)}, consumed ${mb(steady.consumedBytes)}, rebuffering ${pct(steady.rebufferShare)}, ` +
    `startup median ${startupMs.median === null ? "–" : Math.round(startupMs.median) + " ms"}` +
    (notStarted > 0 ? `, ${notStarted} viewer(s) never played` : "")
  );
}

function viewerResult(v: BenchViewer, steady: WindowFigures): ViewerResult {
  const last = v.last;
  return {
    id: v.id,
    slot: v.slot,
    joinedAt: v.joinedAt,
    leftAt: v.leftAt,
    startupMs: last?.firstFrameAt != null ? last.firstFrameAt - last.startedAt : null,
    httpBytes: last?.httpBytes ?? 0,
    p2pBytes: last?.p2pBytes ?? 0,
    uploadedBytes: last?.uploadedBytes ?? 0,
    steadyP2PShare: steady.p2pShareByViewer[v.id] ?? null,
    stalls: last?.stalls ?? 0,
    stalledMs: last?.stalledMs ?? 0,
    watchMs: last?.watchMs ?? 0,
    hlsFatal: last?.hlsFatal ?? 0,
    hlsNonFatal: last?.hlsNonFatal ?? 0,
    playerErrors: last?.playerErrors ?? 0,
    pageErrors: v.pageErrors,
    sampleFailures: v.sampleFailures,
    recentProblems: v.recentProblems(),
    latencySteps: last?.adaptiveLatency?.steps ?? null,
  };
}

function totals(
  viewers: ViewerRecord[],
  egress: EgressSample[],
): { egressSegmentBytes: number; consumedBytes: number } {
  const byClient: EgressReport["byClient"] = egress[egress.length - 1]?.byClient ?? {};
  let egressSegmentBytes = 0;
  let consumedBytes = 0;
  for (const v of viewers) {
    egressSegmentBytes += byClient[v.id]?.segmentBytes ?? 0;
    const last = v.samples[v.samples.length - 1];
    consumedBytes += last ? last.httpBytes + last.p2pBytes : 0;
  }
  return { egressSegmentBytes, consumedBytes };
}

function timelinePoint(
  viewers: ViewerRecord[],
  egress: EgressSample[],
  tickTimes: number[],
  at: number,
  startAt: number,
): TimelinePoint {
  const from = [...tickTimes].reverse().find((t) => t <= at - TIMELINE_WINDOW_MS) ?? startAt;
  const window = windowFigures(viewers, egress, from, at);
  const present = viewers.filter((v) => v.leftAt === null);
  const { egressSegmentBytes, consumedBytes } = totals(viewers, egress);
  return {
    t: Math.round((at - startAt) / 100) / 10,
    present: present.length,
    playing: present.filter((v) => v.samples[v.samples.length - 1]?.playing).length,
    egressSegmentBytes,
    consumedBytes,
    offload: window.offload,
  };
}

function progressLine(
  mode: Mode,
  n: number,
  viewers: ViewerRecord[],
  egress: EgressSample[],
  timeline: TimelinePoint[],
  startAt: number,
  steadyFrom: number | null,
  now: number,
): string {
  const point = timeline[timeline.length - 1];
  const elapsed = Math.round((now - startAt) / 1000);
  const lastSampleAt = egress[egress.length - 1]?.at ?? now;
  const inSteady = steadyFrom !== null && lastSampleAt > steadyFrom;
  const sinceFrom = inSteady ? steadyFrom : startAt;
  const soFar = windowFigures(viewers, egress, sinceFrom, lastSampleAt);
  const phase = steadyFrom === null ? "joining" : inSteady ? "steady" : "warm-up";
  return (
    `[${mode}] ${String(elapsed).padStart(4)} s  ${phase.padEnd(7)}  playing ${point?.playing ?? 0}/${n}  ` +
    `offload last 10 s ${pct(point?.offload)}, ${inSteady ? "steady" : "since start"} ${pct(soFar.offload)} (bound ${pct(offloadBound(n))})  ` +
    `egress ${mb(point?.egressSegmentBytes ?? 0)}  stalls ${soFar.stalls}`
  );
}
