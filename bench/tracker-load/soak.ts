/**
 * Tracker soak: the compiled tracker (`tracker/dist/cli.js`, default limits) under a turning-over
 * audience for a long time. Generators hold `connections` peers and replace `replacePerSecond`
 * of them every second (join, announce with offers, answer, leave); every peer re-announces with
 * offers once per interval. Sampled every few seconds: the tracker's RSS and CPU share, its swarm /
 * peer / pending-offer counts from /stats.json, and /health latency. After the load stops, the
 * counts must come back to their empty baseline; every warning and error line the tracker logs
 * is counted.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { rankQuantile } from "../../devkit/quantiles";
import { freePort } from "../../devkit/redis";
import { emptySoakCounters, type SoakCounters, type SoakGenReply, type SoakGenRequest } from "./messages";

export interface SoakConfig {
  minutes: number;
  connections: number;
  replacePerSecond: number;
  swarms: number;
  zipfS: number;
  offers: number;
  /** Seconds between two announces of one peer (the tracker's interval, as clients keep it). */
  reannounceSeconds: number;
  generators: number;
  sampleSeconds: number;
  /** /health probes per second. */
  healthProbesPerSecond: number;
  /** Seconds to wait after the load stops for the counts to reach their baseline. */
  drainTimeoutSeconds: number;
  seed: number;
  log?: (line: string) => void;
}

export const DEFAULT_SOAK_CONFIG: SoakConfig = {
  minutes: 30,
  connections: 15_000,
  replacePerSecond: 50,
  swarms: 300,
  zipfS: 1,
  offers: 5,
  reannounceSeconds: 120,
  generators: 2,
  sampleSeconds: 10,
  healthProbesPerSecond: 5,
  drainTimeoutSeconds: 90,
  seed: 7,
};

export interface SoakSample {
  t: number;
  phase: "baseline" | "ramp" | "soak" | "drain";
  rssMiB: number;
  cpuShare: number;
  connections: number;
  swarms: number;
  peers: number;
  pendingOffers: number;
  trackedIps: number;
  queuedBytes: number;
  announcesPerSecond: number;
  offersRelayedPerSecond: number;
  healthP50Ms: number;
  healthP99Ms: number;
}

interface TrackerCounts {
  connections: number;
  swarms: number;
  peers: number;
  pendingOffers: number;
  trackedIps: number;
  queuedBytes: number;
  announces: number;
  offersRelayed: number;
}

export interface SoakResult {
  config: Omit<SoakConfig, "log">;
  startedAt: string;
  machine: { loadAverageAtStart: number[]; cores: number };
  before: TrackerCounts & { rssMiB: number };
  peak: { rssMiB: number; connections: number; peers: number; pendingOffers: number };
  after: TrackerCounts & { rssMiB: number; secondsToBaseline: number | null };
  health: { probes: number; failed: number; p50Ms: number; p99Ms: number; maxMs: number };
  log: { lines: number; warn: number; error: number; messages: Record<string, number> };
  generators: SoakCounters;
  samples: SoakSample[];
}

const here = fileURLToPath(new URL(".", import.meta.url));
const TRACKER_CLI = fileURLToPath(new URL("../../tracker/dist/cli.js", import.meta.url));

export async function runSoak(config: SoakConfig): Promise<SoakResult> {
  const log = config.log ?? (() => {});
  if (!existsSync(TRACKER_CLI)) throw new Error(`${TRACKER_CLI} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const tracker = startTracker(port);
  const generators: ChildProcess[] = [];
  const probe = new HealthProbe(port, config.healthProbesPerSecond);
  const startedAt = new Date();
  const t0 = performance.now();
  const samples: SoakSample[] = [];
  let phase: SoakSample["phase"] = "baseline";
  let last = { at: performance.now(), cpuTicks: 0, announces: 0, offersRelayed: 0 };
  let generatorCounters: SoakCounters | undefined;
  const sample = async (): Promise<SoakSample> => {
    const counts = await readCounts(port);
    const now = performance.now();
    const cpuTicks = readCpuTicks(tracker.process.pid!);
    const seconds = (now - last.at) / 1000;
    const s: SoakSample = {
      t: Math.round((now - t0) / 100) / 10,
      phase,
      rssMiB: readRssMiB(tracker.process.pid!),
      cpuShare: round3((cpuTicks - last.cpuTicks) / CLOCK_TICKS / seconds),
      connections: counts.connections,
      swarms: counts.swarms,
      peers: counts.peers,
      pendingOffers: counts.pendingOffers,
      trackedIps: counts.trackedIps,
      queuedBytes: counts.queuedBytes,
      announcesPerSecond: Math.round((counts.announces - last.announces) / seconds),
      offersRelayedPerSecond: Math.round((counts.offersRelayed - last.offersRelayed) / seconds),
      ...probe.takeWindow(),
    };
    last = { at: now, cpuTicks, announces: counts.announces, offersRelayed: counts.offersRelayed };
    samples.push(s);
    return s;
  };
  try {
    await tracker.ready;
    probe.start();
    await sleep(3000);
    const beforeCounts = await readCounts(port);
    const before = { ...beforeCounts, rssMiB: readRssMiB(tracker.process.pid!) };
    last = { at: performance.now(), cpuTicks: readCpuTicks(tracker.process.pid!), ...beforeCounts };
    await sample();
    log(`soak: tracker on :${port}, RSS ${before.rssMiB} MiB; opening ${config.connections} connections`);

    phase = "ramp";
    const share = Math.ceil(config.connections / config.generators);
    const starts: Promise<SoakGenReply>[] = [];
    for (let g = 0; g < config.generators; g++) {
      const gen = fork(`${here}soak-loadgen.ts`, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
      generators.push(gen);
      starts.push(
        ask(gen, {
          type: "start",
          url: `ws://127.0.0.1:${port}`,
          connections: Math.min(share, config.connections - g * share),
          swarms: config.swarms,
          zipfS: config.zipfS,
          seed: config.seed + g,
          offset: g * 10_000_000,
          tag: `g${g}`,
          concurrency: 200,
          replacePerSecond: config.replacePerSecond / config.generators,
          offers: config.offers,
          reannounceSeconds: config.reannounceSeconds,
          rampTimeoutMs: 120_000,
        }),
      );
    }
    const sampler = setInterval(() => {
      void sample().then(
        (s) =>
          log(
            `soak: ${s.t.toFixed(0).padStart(5)} s ${s.phase.padEnd(5)} conns ${s.connections} peers ${s.peers} ` +
              `swarms ${s.swarms} pending ${s.pendingOffers} RSS ${s.rssMiB} MiB CPU ${(s.cpuShare * 100).toFixed(0)} % ` +
              `announces/s ${s.announcesPerSecond} /health p99 ${s.healthP99Ms} ms`,
          ),
        (err: unknown) => log(`soak: sample failed: ${String(err)}`),
      );
    }, config.sampleSeconds * 1000);
    try {
      for (const reply of await Promise.all(starts)) {
        if (reply.type === "error") throw new Error(`generator: ${reply.message}`);
      }
      phase = "soak";
      log(`soak: population up; turning over ${config.replacePerSecond}/s for ${config.minutes} min`);
      await sleep(config.minutes * 60_000);
      phase = "drain";
      const stopped = await Promise.all(generators.map((g) => ask(g, { type: "stop" })));
      generatorCounters = sumCounters(stopped);
    } finally {
      clearInterval(sampler);
    }
    log("soak: load stopped; waiting for the counts to reach their baseline");
    const drainStart = performance.now();
    let secondsToBaseline: number | null = null;
    while ((performance.now() - drainStart) / 1000 < config.drainTimeoutSeconds) {
      const c = await readCounts(port);
      if (c.connections === 0 && c.swarms === 0 && c.peers === 0 && c.pendingOffers === 0 && c.queuedBytes === 0) {
        secondsToBaseline = Math.round((performance.now() - drainStart) / 100) / 10;
        break;
      }
      await sleep(1000);
    }
    // Give the heap a moment idle (V8 collects when the loop is quiet) before reading RSS.
    await sleep(15_000);
    await sample();
    const afterCounts = await readCounts(port);
    probe.stop();
    const all = probe.all();
    return {
      config: { ...config, log: undefined } as Omit<SoakConfig, "log">,
      startedAt: startedAt.toISOString(),
      machine: { loadAverageAtStart: loadAverage(), cores: availableParallelism() },
      before,
      peak: {
        rssMiB: Math.max(...samples.map((s) => s.rssMiB)),
        connections: Math.max(...samples.map((s) => s.connections)),
        peers: Math.max(...samples.map((s) => s.peers)),
        pendingOffers: Math.max(...samples.map((s) => s.pendingOffers)),
      },
      after: { ...afterCounts, rssMiB: readRssMiB(tracker.process.pid!), secondsToBaseline },
      health: {
        probes: all.latencies.length + all.failed,
        failed: all.failed,
        p50Ms: quantile(all.latencies, 0.5),
        p99Ms: quantile(all.latencies, 0.99),
        maxMs: Math.round(Math.max(0, ...all.latencies) * 10) / 10,
      },
      log: tracker.logSummary(),
      generators: generatorCounters,
      samples,
    };
  } finally {
    probe.stop();
    for (const g of generators) g.kill("SIGKILL");
    tracker.process.kill("SIGTERM");
  }
}

// ---- the tracker process ------------------------------------------------------------------

function startTracker(port: number) {
  const proc = spawn(process.execPath, [TRACKER_CLI, "--host", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const summary = { lines: 0, warn: 0, error: 0, messages: {} as Record<string, number> };
  let buffered = "";
  let onReady: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    proc.once("exit", (code) => reject(new Error(`tracker exited with ${code}`)));
  });
  proc.stdout.setEncoding("utf8");
  proc.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      summary.lines++;
      let entry: { level?: number; msg?: string };
      try {
        entry = JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        continue;
      }
      if (/listening/i.test(entry.msg ?? "")) onReady();
      if ((entry.level ?? 0) >= 40) {
        if ((entry.level ?? 0) >= 50) summary.error++;
        else summary.warn++;
        const key = `${entry.level} ${entry.msg ?? ""}`;
        summary.messages[key] = (summary.messages[key] ?? 0) + 1;
      }
    }
  });
  return { process: proc, ready, logSummary: () => ({ ...summary, messages: { ...summary.messages } }) };
}

async function readCounts(port: number): Promise<TrackerCounts> {
  const body = await get(port, "/stats.json", 10_000);
  const s = JSON.parse(body.text) as TrackerCounts;
  return {
    connections: s.connections,
    swarms: s.swarms,
    peers: s.peers,
    pendingOffers: s.pendingOffers,
    trackedIps: s.trackedIps,
    queuedBytes: s.queuedBytes,
    announces: s.announces,
    offersRelayed: s.offersRelayed,
  };
}

const CLOCK_TICKS = 100;

function readCpuTicks(pid: number): number {
  // Fields after the command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function readRssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 102.4) / 10 : NaN;
}

// ---- /health probe --------------------------------------------------------------------------

class HealthProbe {
  private timer: NodeJS.Timeout | undefined;
  private window: number[] = [];
  private readonly latencies: number[] = [];
  private failed = 0;

  constructor(
    private readonly port: number,
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const t = performance.now();
      get(this.port, "/health", 5000).then(
        (r) => {
          if (r.status !== 200) {
            this.failed++;
            return;
          }
          const ms = performance.now() - t;
          this.window.push(ms);
          this.latencies.push(ms);
        },
        () => this.failed++,
      );
    }, 1000 / this.perSecond);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  takeWindow(): { healthP50Ms: number; healthP99Ms: number } {
    const w = this.window;
    this.window = [];
    return { healthP50Ms: quantile(w, 0.5), healthP99Ms: quantile(w, 0.99) };
  }

  all(): { latencies: number[]; failed: number } {
    return { latencies: this.latencies, failed: this.failed };
  }
}

// ---- helpers --------------------------------------------------------------------------------

function get(port: number, path: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("timeout", () => req.destroy(new Error(`${path} timed out`)));
    req.on("error", reject);
  });
}

function ask(child: ChildProcess, req: SoakGenRequest): Promise<SoakGenReply> {
  return new Promise((resolve, reject) => {
    child.once("message", (reply: SoakGenReply) => resolve(reply));
    child.once("exit", (code) => reject(new Error(`generator exited with ${code}`)));
    child.send(req);
  });
}

function sumCounters(replies: SoakGenReply[]): SoakCounters {
  const total: SoakCounters = emptySoakCounters();
  for (const reply of replies) {
    if (reply.type === "error") throw new Error(`generator: ${reply.message}`);
    if (reply.type !== "counters") continue;
    const c = reply.counters;
    for (const key of Object.keys(total) as Array<keyof SoakCounters>) {
      if (key === "failureReasons") {
        for (const [reason, n] of Object.entries(c.failureReasons))
          total.failureReasons[reason] = (total.failureReasons[reason] ?? 0) + n;
      } else total[key] += c[key];
    }
  }
  return total;
}

function quantile(values: number[], q: number): number {
  return Math.round(rankQuantile(values, q) * 10) / 10;
}

function loadAverage(): number[] {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
