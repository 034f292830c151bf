import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { chromiumPath, launchChromium } from "../../devkit/chromium";
import { BenchViewer, type ViewerConfig, type ViewerSnapshot } from "../offload/viewer";
import type { VirtualSnapshot } from "./virtual-protocol";

/** What a Chromium viewer is told: the page's config plus where it lives. */
export interface ChromiumViewerSetup {
  id: string;
  /** Network namespace its browser runs in; undefined on loopback. */
  netns: string | undefined;
  /** Origins served over plain http from a non-loopback address that must count as secure (crypto.subtle). */
  secureOrigins: string[];
  pageUrl: string;
  page: ViewerConfig;
  sampleIntervalMs: number;
}

/** CPU time and proportional memory of a process and all its descendants. */
interface TreeUsage {
  cpuMicros: number;
  pssBytes: number;
  /** CPU time by thread, µs, keyed "process kind/thread name" (see {@link threadCpu}). */
  threads: Record<string, number>;
}

const TICK_MICROS = 1e6 / 100; // USER_HZ

function treeUsage(marker: string): TreeUsage | undefined {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  let root: number | undefined;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(pid, Number(fields[1]));
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MICROS);
      if (root === undefined && fields[0] !== "Z" && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) {
        root = pid;
      }
    } catch {
      // Exited meanwhile.
    }
  }
  if (root === undefined) return undefined;
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents)
      if (!tree.has(pid) && tree.has(parent)) {
        tree.add(pid);
        grew = true;
      }
  }
  // The process whose command line carries the marker may be a child of the first match.
  let cpuMicros = 0;
  let pssBytes = 0;
  const threads: Record<string, number> = {};
  for (const pid of tree) {
    cpuMicros += cpu.get(pid) ?? 0;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      pssBytes += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      threadCpu(pid, threads);
    } catch {
      // Exited meanwhile.
    }
  }
  return { cpuMicros, pssBytes, threads };
}

/**
 * Adds the CPU time of each thread of `pid` to `into`, keyed by the process's kind (its
 * `--type`, the network service apart: WebRTC runs in the renderer, HTTP in the network service)
 * and the thread's name: where a browser's CPU goes, JavaScript on the renderer's main thread,
 * WebRTC's own threads or media decoding.
 */
function threadCpu(pid: number, into: Record<string, number>): void {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  const type = /--type=([^\s\0]+)/.exec(cmdline)?.[1] ?? "browser";
  const kind = cmdline.includes("NetworkService") ? "network" : type;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const key = `${kind}/${name}`;
    into[key] = (into[key] ?? 0) + (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
  }
}

/**
 * One Chromium viewer of the audience bench: its own Chromium process (never a context of a
 * shared browser) started inside its own network namespace, playing the bench page. Snapshots
 * are the page's, in the virtual viewers' shape, with the browser's whole process tree's CPU
 * time and proportional memory (PSS) added.
 */
export class ChromiumViewer {
  readonly kind = "chromium";
  readonly samples: VirtualSnapshot[] = [];
  readonly problems: string[] = [];
  private browser: Browser | undefined;
  private readonly viewer: BenchViewer;
  private timer: NodeJS.Timeout | undefined;
  private readonly marker: string;
  private wrapperDir: string | undefined;
  private lastLevel = 0;
  /** Per-rendition bytes by source so far, and the page's counters at the last sample. */
  private readonly split = {
    http: [] as number[],
    p2p: [] as number[],
    levels: [] as number[],
    httpBytes: 0,
    p2pBytes: 0,
  };

  constructor(readonly setup: ChromiumViewerSetup) {
    this.viewer = new BenchViewer(setup.id, 0);
    this.marker = `--swarmcast-bench-viewer=${setup.id}-${process.pid}`;
  }

  get config(): { id: string } {
    return { id: this.setup.id };
  }

  get last(): VirtualSnapshot | undefined {
    return this.samples[this.samples.length - 1];
  }

  async start(): Promise<void> {
    let executablePath = chromiumPath();
    if (this.setup.netns) {
      // Playwright talks to Chromium over inherited pipes; `ip netns exec` keeps them.
      this.wrapperDir = mkdtempSync(join(tmpdir(), "sc-chromium-"));
      const wrapper = join(this.wrapperDir, "chromium");
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${this.setup.netns} ${executablePath} "$@"\n`);
      chmodSync(wrapper, 0o755);
      executablePath = wrapper;
    }
    this.browser = await launchChromium({
      executablePath,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      args: [
        this.marker,
        ...(this.setup.secureOrigins.length > 0
          ? [`--unsafely-treat-insecure-origin-as-secure=${this.setup.secureOrigins.join(",")}`]
          : []),
      ],
    });
    try {
      await this.viewer.join(this.browser, this.setup.pageUrl, this.setup.page);
    } catch (error) {
      // A page that did not start in time may still be playing: close it, or its CDN egress
      // would count with no bytes received against it.
      this.note(error instanceof Error ? error.message : String(error));
      await this.stop();
      throw error;
    }
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.setup.sampleIntervalMs);
  }

  async sample(): Promise<VirtualSnapshot | undefined> {
    const snapshot = await this.viewer.sample();
    for (const p of this.viewer.recentProblems()) if (!this.problems.includes(p)) this.note(p);
    if (!snapshot) return undefined;
    const usage = treeUsage(this.marker);
    const heapUsedBytes = await this.viewer.heapUsedBytes();
    const converted = this.toVirtualShape(snapshot, usage, heapUsedBytes ?? null);
    this.lastLevel = converted.level;
    this.samples.push(converted);
    return converted;
  }

  /** CDP CPU throttling of the page (4 = four times slower). */
  throttleCpu(rate: number): Promise<void> {
    return this.viewer.throttleCpu(rate);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.browser) {
      await this.sample().catch(() => undefined);
      await this.viewer.leave({ sample: false });
      await this.browser.close().catch(() => undefined);
      this.browser = undefined;
    }
    if (this.wrapperDir) rmSync(this.wrapperDir, { recursive: true, force: true });
  }

  /**
   * The page's snapshot in the virtual viewers' shape. The page counts bytes per rendition
   * (hls.js FRAG_LOADED) and per source (the player's counters), not both at once: the bytes
   * each rendition gained since the last sample are split by that interval's P2P share.
   */
  private toVirtualShape(
    s: ViewerSnapshot,
    usage: TreeUsage | undefined,
    heapUsedBytes: number | null,
  ): VirtualSnapshot {
    const split = this.split;
    const gainedHttp = Math.max(0, s.httpBytes - split.httpBytes);
    const gainedP2p = Math.max(0, s.p2pBytes - split.p2pBytes);
    const share = gainedHttp + gainedP2p > 0 ? gainedP2p / (gainedHttp + gainedP2p) : 0;
    for (const [l, total] of (s.segmentBytesByLevel ?? []).entries()) {
      const gained = Math.max(0, total - (split.levels[l] ?? 0));
      split.levels[l] = total;
      split.http[l] = (split.http[l] ?? 0) + gained * (1 - share);
      split.p2p[l] = (split.p2p[l] ?? 0) + gained * share;
    }
    split.httpBytes = s.httpBytes;
    split.p2pBytes = s.p2pBytes;
    return {
      ...s,
      level: s.level ?? this.lastLevel,
      levelSwitches: s.levelSwitches ?? 0,
      bytesByLevel: { http: Array.from(split.http, (b) => b ?? 0), p2p: Array.from(split.p2p, (b) => b ?? 0) },
      bandwidthEstimate: s.bandwidthEstimate ?? 0,
      connections: { attempts: 0, connected: 0, relayed: 0, failed: 0 },
      cpuMicros: usage?.cpuMicros ?? 0,
      ...(usage ? { cpuMicrosByThread: usage.threads } : {}),
      rssBytes: usage?.pssBytes ?? 0,
      peerBytesByAddress: {},
      faults: {
        errorsByKind: s.errorsByKind ?? {},
        loadFailures: s.hlsNonFatal + s.hlsFatal,
        // Uncaught exceptions and rejections both reach Playwright as page errors.
        unhandledRejections: this.viewer.pageErrors,
        consoleErrors: this.viewer.consoleErrorCount,
        ...(s.tracker ? { tracker: s.tracker } : {}),
        ...(s.integrity ? { integrity: s.integrity } : {}),
        ...(s.peerIds ? { peerIds: s.peerIds } : {}),
        ...(s.cdn ? { cdn: s.cdn } : {}),
      },
      resources: {
        heapUsedBytes,
        timers: s.timers ?? null,
        storeSegments: s.storage ? s.storage.segments + s.storage.pending : null,
        storeBytes: s.storage ? s.storage.bytes : null,
      },
    };
  }

  private note(text: string): void {
    this.problems.push(text.slice(0, 400));
    if (this.problems.length > 8) this.problems.shift();
  }
}
