/**
 * Drives one tracker load run: each tracker (ours, then bittorrent-tracker's Server) runs alone
 * in a child process and gets the same load from separate load-generator processes. CPU time is
 * the tracker process's own process.cpuUsage(); memory is its RSS after a full GC.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { rankQuantile } from "../../devkit/quantiles";
import type { LoadgenReply, LoadgenRequest, PhaseResult, TrackerReply, TrackerRequest, TrackerUsage } from "./messages";

export type TrackerKind = "swarmcast" | "reference";
/** Connections held with no tracker behind them: Node's socket alone, and with a `ws` WebSocket. */
export type FloorKind = "socket-floor" | "ws-floor";
export const FLOOR_KINDS: FloorKind[] = ["socket-floor", "ws-floor"];

export interface TrackerBenchConfig {
  trackers: TrackerKind[];
  /** Connections (one peer each) during the load phases. */
  connections: number;
  swarms: number;
  /** Zipf exponent of swarm popularity. */
  zipfS: number;
  /** Offers carried by each announce. */
  offers: number;
  /** Fixed offered load, announces per second. */
  rate: number;
  rateSeconds: number;
  /**
   * The load phases are cut into this many rounds, alternating the trackers (A B, B A, A B…),
   * so that whatever else the machine does weighs on both alike.
   */
  rounds: number;
  /** Unmeasured load before the fixed-load phase, so both trackers are measured JIT-warm. */
  warmupSeconds: number;
  /** Closed loop: connections each keeping one announce outstanding. */
  window: number;
  saturationSeconds: number;
  /** Sizes of the idle-connection memory phases. */
  idleConnections: number[];
  /** Memory floors measured with the same idle phases (empty: none). */
  floors: FloorKind[];
  /** Most connections one generator process holds (each socket is a file descriptor). */
  connectionsPerGenerator: number;
  seed: number;
  /** Progress lines; silent when undefined. */
  log?: (line: string) => void;
}

export const DEFAULT_BENCH_CONFIG: TrackerBenchConfig = {
  trackers: ["swarmcast", "reference"],
  connections: 5000,
  swarms: 500,
  zipfS: 1,
  offers: 10,
  rate: 1000,
  rateSeconds: 15,
  rounds: 3,
  warmupSeconds: 3,
  window: 500,
  saturationSeconds: 10,
  idleConnections: [5000, 19000],
  floors: FLOOR_KINDS,
  connectionsPerGenerator: 9500,
  seed: 42,
};

/** A few connections for a few seconds: checks the harness end to end (npm test runs it). */
export const SMOKE_CONFIG: Partial<TrackerBenchConfig> = {
  connections: 30,
  swarms: 6,
  rate: 50,
  rateSeconds: 0.5,
  rounds: 1,
  warmupSeconds: 0,
  window: 10,
  saturationSeconds: 0.5,
  idleConnections: [40, 80],
};

export interface LoadPhase extends Omit<PhaseResult, "samples"> {
  rounds: number;
  /** Frames per socket write (our tracker reports it; null for the reference). */
  framesPerWrite: number | null;
  trackerCpuMs: number;
  /** The kernel's share: on loopback each write also runs the receiver's TCP path. */
  trackerSystemCpuMs: number;
  /** Tracker CPU time over wall time (1 = one core busy). */
  trackerCpuShare: number;
  repliesPerSecond: number;
  framesOutPerSecond: number;
  cpuMsPer1000Replies: number;
  repliesPerCpuSecond: number;
}

export interface IdlePhase {
  target: number;
  opened: number;
  failed: number;
  topSwarm: number;
  openSeconds: number;
  rssBaseline: number;
  rss: number;
  heapBaseline: number;
  heap: number;
  rssPerConnection: number;
  heapPerConnection: number;
  /** RSS added per connection since the previous, smaller step in the same process. */
  marginalRssPerConnection: number | null;
  marginalHeapPerConnection: number | null;
}

export interface TrackerRunResult {
  kind: TrackerKind;
  fixedLoad: LoadPhase;
  saturation: LoadPhase;
  idle: IdlePhase[];
  /** Failure or note for phases that could not run fully. */
  notes: string[];
}

export interface FloorResult {
  kind: FloorKind;
  idle: IdlePhase[];
  notes: string[];
}

export interface TrackerBenchResult {
  startedAt: string;
  finishedAt: string;
  config: Omit<TrackerBenchConfig, "log">;
  machine: { cpus: number; model: string; node: string; loadAverage: number[]; openFilesLimit: string };
  trackers: TrackerRunResult[];
  floors: FloorResult[];
  /** swarmcast / reference; efficiency = replies per tracker CPU-second. */
  ratios: {
    efficiency: number;
    cpuPer1000Replies: number;
    saturationRepliesPerSecond: number;
    fixedLoadP99: number;
    memoryPerConnection: number;
    memoryPerConnectionAt: number;
    marginalMemoryPerConnection: number | null;
  } | null;
}

const here = fileURLToPath(new URL(".", import.meta.url));
export const EXEC_ARGV = ["--import", "tsx", "--expose-gc"];
/** SWARMCAST_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each tracker process there. */
if (process.env.SWARMCAST_BENCH_CPU_PROF)
  EXEC_ARGV.push("--cpu-prof", `--cpu-prof-dir=${process.env.SWARMCAST_BENCH_CPU_PROF}`);
/** SWARMCAST_BENCH_TRACKER_FLAGS="--trace-gc …": more Node flags for the tracker processes. */
if (process.env.SWARMCAST_BENCH_TRACKER_FLAGS)
  EXEC_ARGV.push(...process.env.SWARMCAST_BENCH_TRACKER_FLAGS.split(/\s+/).filter(Boolean));

class Child<Req, Rep extends { type: string }> {
  private readonly queue: Rep[] = [];
  private waiter: ((r: Rep) => void) | null = null;
  exited = false;

  constructor(readonly proc: ChildProcess) {
    proc.on("message", (m: Rep) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(m);
      } else this.queue.push(m);
    });
    proc.on("exit", () => {
      this.exited = true;
      this.waiter?.({ type: "error", message: "child exited" } as unknown as Rep);
    });
  }

  next(timeoutMs = 120_000): Promise<Rep> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.exited) return Promise.reject(new Error("child exited"));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("child did not answer in time")), timeoutMs);
      this.waiter = (r) => {
        clearTimeout(t);
        if ((r as { type: string }).type === "error") reject(new Error((r as unknown as { message: string }).message));
        else resolve(r);
      };
    });
  }

  async ask(req: Req, timeoutMs?: number): Promise<Rep> {
    this.proc.send(req as object);
    return this.next(timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.proc, "exit");
    try {
      this.proc.send({ type: "exit" });
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
}

type TrackerChild = Child<TrackerRequest, TrackerReply>;
type LoadChild = Child<LoadgenRequest, LoadgenReply>;

async function startTrackerChild(kind: TrackerKind | FloorKind): Promise<{ child: TrackerChild; url: string }> {
  const proc = fork(`${here}tracker-process.ts`, [kind], {
    execArgv: EXEC_ARGV,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const child: TrackerChild = new Child(proc);
  const ready = await child.next(30_000);
  if (ready.type !== "ready") throw new Error(`tracker ${kind} failed to start`);
  return { child, url: `ws://127.0.0.1:${ready.port}` };
}

function startLoadgen(): LoadChild {
  const proc = fork(`${here}loadgen.ts`, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Child(proc);
}

async function usage(t: TrackerChild, gc = false): Promise<TrackerUsage> {
  const r = await t.ask({ type: "usage", gc });
  if (r.type !== "usage") throw new Error("unexpected reply");
  return r;
}

interface PhasePart {
  result: PhaseResult;
  userUs: number;
  systemUs: number;
  framesOut?: number;
  writes?: number;
}

async function measure(t: TrackerChild, g: LoadChild, req: LoadgenRequest & { type: "run" }): Promise<PhasePart> {
  const before = await usage(t);
  const r = await g.ask(req, req.durationMs + 60_000);
  const after = await usage(t);
  if (r.type !== "ran") throw new Error("load phase failed");
  return {
    result: r.result,
    userUs: after.userUs - before.userUs,
    systemUs: after.systemUs - before.systemUs,
    framesOut: after.framesOut === undefined ? undefined : after.framesOut - (before.framesOut ?? 0),
    writes: after.writes === undefined ? undefined : after.writes - (before.writes ?? 0),
  };
}

/** Sums the rounds of one tracker's phase; latency quantiles over all their samples. */
function combine(parts: PhasePart[]): LoadPhase {
  const sum = (f: (p: PhasePart) => number) => parts.reduce((a, p) => a + f(p), 0);
  const seconds = sum((p) => p.result.seconds);
  const replies = sum((p) => p.result.replies);
  const offersReceived = sum((p) => p.result.offersReceived);
  const answersReceived = sum((p) => p.result.answersReceived);
  const cpuMs = sum((p) => p.userUs + p.systemUs) / 1000;
  const samples = parts.flatMap((p) => p.result.samples).sort((a, b) => a - b);
  return {
    rounds: parts.length,
    seconds: round(seconds, 2),
    announces: sum((p) => p.result.announces),
    replies,
    offersReceived,
    answersSent: sum((p) => p.result.answersSent),
    answersReceived,
    failures: sum((p) => p.result.failures),
    latencyMs: {
      p50: rankQuantile(samples, 0.5),
      p90: rankQuantile(samples, 0.9),
      p99: rankQuantile(samples, 0.99),
      max: samples.at(-1) ?? NaN,
    },
    trackerCpuMs: round(cpuMs, 1),
    trackerSystemCpuMs: round(sum((p) => p.systemUs) / 1000, 1),
    trackerCpuShare: round(cpuMs / 1000 / seconds, 3),
    repliesPerSecond: round(replies / seconds, 1),
    framesOutPerSecond: round((replies + offersReceived + answersReceived) / seconds, 1),
    cpuMsPer1000Replies: round((cpuMs / replies) * 1000, 2),
    repliesPerCpuSecond: round(replies / (cpuMs / 1000), 1),
    framesPerWrite: parts.every((p) => p.writes !== undefined)
      ? round(
          sum((p) => p.framesOut ?? 0) /
            Math.max(
              1,
              sum((p) => p.writes ?? 0),
            ),
          2,
        )
      : null,
  };
}

/**
 * One tracker process; connections are added in steps (e.g. 5,000 then up to 19,000) and the
 * process's RSS and heap are read after a full GC at each step, so both the cost per connection
 * from the empty baseline and the marginal cost between steps come out of the same run.
 */
async function idlePhases(
  kind: TrackerKind | FloorKind,
  sizes: number[],
  cfg: TrackerBenchConfig,
  salt: number,
  log: (l: string) => void,
): Promise<{ phases: IdlePhase[]; notes: string[] }> {
  const { child, url } = await startTrackerChild(kind);
  const generators: LoadChild[] = [];
  const phases: IdlePhase[] = [];
  const notes: string[] = [];
  try {
    const base = await usage(child, true);
    let held = 0;
    let failedTotal = 0;
    let topSwarm = 0;
    let prev: TrackerUsage | null = null;
    let prevHeld = 0;
    for (const target of [...sizes].sort((x, y) => x - y)) {
      const add = target - held - failedTotal;
      if (add <= 0) continue;
      const parts = Math.max(1, Math.ceil(add / cfg.connectionsPerGenerator));
      const t0 = performance.now();
      let replies: LoadgenReply[];
      try {
        replies = await Promise.all(
          Array.from({ length: parts }, (_, i) => {
            const g = startLoadgen();
            generators.push(g);
            const count = Math.floor(add / parts) + (i < add % parts ? 1 : 0);
            const gi = generators.length;
            return g.ask(
              {
                type: "open",
                url,
                connections: count,
                swarms: Math.max(1, Math.round(Math.max(...sizes) / 10)),
                zipfS: cfg.zipfS,
                seed: cfg.seed + salt * 100 + gi,
                offset: salt * 1_000_000 + gi * 10_000,
                tag: `i${salt}`,
                concurrency: 250,
              },
              180_000,
            );
          }),
        );
      } catch (err) {
        notes.push(`idle step ${target}: ${(err as Error).message}`);
        break;
      }
      const openSeconds = (performance.now() - t0) / 1000;
      let opened = 0;
      let failed = 0;
      for (const r of replies) {
        if (r.type !== "opened") throw new Error("open failed");
        opened += r.opened;
        failed += r.failed;
        topSwarm += r.topSwarm;
      }
      held += opened;
      failedTotal += failed;
      const now = await usage(child, true);
      const phase: IdlePhase = {
        target,
        opened: held,
        failed: failedTotal,
        topSwarm,
        openSeconds: round(openSeconds, 1),
        rssBaseline: base.rss,
        rss: now.rss,
        heapBaseline: base.heapUsed,
        heap: now.heapUsed,
        rssPerConnection: Math.round((now.rss - base.rss) / Math.max(1, held)),
        heapPerConnection: Math.round((now.heapUsed - base.heapUsed) / Math.max(1, held)),
        marginalRssPerConnection: prev ? Math.round((now.rss - prev.rss) / Math.max(1, held - prevHeld)) : null,
        marginalHeapPerConnection: prev
          ? Math.round((now.heapUsed - prev.heapUsed) / Math.max(1, held - prevHeld))
          : null,
      };
      phases.push(phase);
      log(
        `${kind}: ${held}/${target} idle connections held: ${phase.rssPerConnection} B RSS, ${phase.heapPerConnection} B heap per connection` +
          (phase.marginalRssPerConnection === null
            ? ""
            : `; marginal ${phase.marginalRssPerConnection} B RSS, ${phase.marginalHeapPerConnection} B heap`),
      );
      if (failed > 0) notes.push(`${failed} of ${add} idle connections failed to open at step ${target}`);
      prev = now;
      prevHeld = held;
    }
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await child.stop();
  }
  return { phases, notes };
}

interface Session {
  kind: TrackerKind;
  child: TrackerChild;
  g: LoadChild;
  fixed: PhasePart[];
  saturated: PhasePart[];
  notes: string[];
}

/** Both trackers loaded side by side; load phases alternate between them round by round. */
async function loadPhases(cfg: TrackerBenchConfig, log: (l: string) => void): Promise<Session[]> {
  const sessions: Session[] = [];
  try {
    for (const kind of cfg.trackers) {
      const { child, url } = await startTrackerChild(kind);
      const g = startLoadgen();
      const session: Session = { kind, child, g, fixed: [], saturated: [], notes: [] };
      sessions.push(session);
      const opened = await g.ask(
        {
          type: "open",
          url,
          connections: cfg.connections,
          swarms: cfg.swarms,
          zipfS: cfg.zipfS,
          seed: cfg.seed,
          offset: 0,
          tag: "L",
          concurrency: 250,
        },
        120_000,
      );
      if (opened.type !== "opened") throw new Error("open failed");
      log(
        `${kind}: ${opened.opened} connections in ${cfg.swarms} swarms (largest ${opened.topSwarm} peers) in ${opened.ms} ms`,
      );
      if (opened.failed > 0) session.notes.push(`${opened.failed} load connections failed to open`);
    }
    const rate = (durationMs: number, seed: number) =>
      ({ type: "run", mode: "rate", rate: cfg.rate, window: 0, offers: cfg.offers, durationMs, seed }) as const;
    const closed = (durationMs: number, seed: number) =>
      ({ type: "run", mode: "closed", rate: 0, window: cfg.window, offers: cfg.offers, durationMs, seed }) as const;
    if (cfg.warmupSeconds > 0) {
      for (const s of sessions) await s.g.ask(rate(cfg.warmupSeconds * 1000, cfg.seed + 7), 120_000);
    }
    const rounds = Math.max(1, Math.round(cfg.rounds));
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? sessions : [...sessions].reverse()) {
        s.fixed.push(await measure(s.child, s.g, rate((cfg.rateSeconds * 1000) / rounds, cfg.seed + r)));
      }
    }
    for (const s of sessions) {
      const f = combine(s.fixed);
      log(
        `${s.kind}: fixed load ${cfg.rate}/s: ${f.cpuMsPer1000Replies} CPU ms per 1000 replies, p99 ${round(f.latencyMs.p99, 2)} ms`,
      );
    }
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? sessions : [...sessions].reverse()) {
        s.saturated.push(
          await measure(s.child, s.g, closed((cfg.saturationSeconds * 1000) / rounds, cfg.seed + 100 + r)),
        );
      }
    }
    for (const s of sessions) {
      const f = combine(s.saturated);
      log(
        `${s.kind}: saturation: ${f.repliesPerSecond} replies/s, tracker CPU ${Math.round(f.trackerCpuShare * 100)} %`,
      );
    }
    return sessions;
  } finally {
    for (const s of sessions) {
      await s.g.stop();
      await s.child.stop();
    }
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function openFilesLimit(): string {
  try {
    const text = readFileSync("/proc/self/limits", "utf8");
    const line = text.split("\n").find((l) => l.startsWith("Max open files"));
    return line?.split(/\s{2,}/)[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

export async function runTrackerBench(config: Partial<TrackerBenchConfig> = {}): Promise<TrackerBenchResult> {
  const cfg = { ...DEFAULT_BENCH_CONFIG, ...config };
  const startedAt = new Date().toISOString();
  const loadAverage = os.loadavg().map((x) => round(x, 2));
  const log = cfg.log ?? (() => {});
  const sessions = await loadPhases(cfg, log);
  const trackers: TrackerRunResult[] = [];
  for (const s of sessions) {
    const { phases: idle, notes } = await idlePhases(
      s.kind,
      cfg.idleConnections,
      cfg,
      s.kind === "reference" ? 2 : 1,
      log,
    );
    trackers.push({
      kind: s.kind,
      fixedLoad: combine(s.fixed),
      saturation: combine(s.saturated),
      idle,
      notes: [...s.notes, ...notes],
    });
  }
  const floors: FloorResult[] = [];
  for (const [i, kind] of cfg.floors.entries()) {
    const { phases: idle, notes } = await idlePhases(kind, cfg.idleConnections, cfg, 3 + i, log);
    floors.push({ kind, idle, notes });
  }
  const ours = trackers.find((t) => t.kind === "swarmcast");
  const ref = trackers.find((t) => t.kind === "reference");
  let ratios: TrackerBenchResult["ratios"] = null;
  if (ours && ref) {
    const sizes = ours.idle.map((p) => p.target).filter((n) => ref.idle.some((q) => q.target === n && q.opened > 0));
    const at = Math.max(0, ...sizes);
    const o = ours.idle.find((p) => p.target === at);
    const r = ref.idle.find((p) => p.target === at);
    ratios = {
      efficiency: round(ours.fixedLoad.repliesPerCpuSecond / ref.fixedLoad.repliesPerCpuSecond, 2),
      cpuPer1000Replies: round(ours.fixedLoad.cpuMsPer1000Replies / ref.fixedLoad.cpuMsPer1000Replies, 3),
      saturationRepliesPerSecond: round(ours.saturation.repliesPerSecond / ref.saturation.repliesPerSecond, 2),
      fixedLoadP99: round(ours.fixedLoad.latencyMs.p99 / ref.fixedLoad.latencyMs.p99, 2),
      memoryPerConnection: o && r ? round(o.rssPerConnection / r.rssPerConnection, 3) : NaN,
      memoryPerConnectionAt: at,
      marginalMemoryPerConnection:
        o?.marginalRssPerConnection && r?.marginalRssPerConnection
          ? round(o.marginalRssPerConnection / r.marginalRssPerConnection, 3)
          : null,
    };
  }
  const { log: _log, ...plain } = cfg;
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    config: plain,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? "",
      node: process.version,
      loadAverage,
      openFilesLimit: openFilesLimit(),
    },
    trackers,
    floors,
    ratios,
  };
}
