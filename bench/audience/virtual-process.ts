import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ENGINE_BUILD, STOCK_PML_BUNDLE, VIEWER_BUNDLE } from "./viewer-build";
import type { VirtualSnapshot, VirtualViewerConfig, VirtualViewerMessage } from "./virtual-protocol";

const SOURCE = fileURLToPath(new URL("./virtual-viewer.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What the bench gives a viewer; the process adds the paths of the builds it plays through. */
export type ViewerProcessConfig = Omit<VirtualViewerConfig, "engineModule" | "stockPmlModule">;

export interface ViewerProcessOptions {
  /** Network namespace to start in (`ip netns exec`). */
  netns?: string;
  /**
   * "bundle" (default): `node dist/bench/virtual-viewer.mjs`, built by buildViewerBundle();
   * "source": `node --import tsx bench/audience/virtual-viewer.ts`, compiled at every start
   * (the pml-defaults mode still loads the stock PML build: PML does not load in Node unbundled).
   */
  runner?: "bundle" | "source";
}

/** SWARMCAST_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each virtual viewer there. */
const PROFILE_FLAGS = process.env.SWARMCAST_BENCH_CPU_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${process.env.SWARMCAST_BENCH_CPU_PROF}`]
  : [];

/**
 * A virtual viewer process seen from the bench: started (optionally inside a network namespace
 * through `ip netns exec`), read line by line, stopped with SIGTERM. Call buildViewerBundle()
 * once before starting bundled viewers.
 */
export class VirtualViewerProcess {
  readonly samples: VirtualSnapshot[] = [];
  /** Chunks sent to peers, [ms since epoch, bytes], when the config asks for `logUploads`. */
  readonly uploads: Array<[number, number]> = [];
  readonly problems: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  /** Epoch ms of start() and of the first sample line: the process's start cost. */
  spawnedAt = 0;
  firstSampleAt: number | null = null;

  constructor(
    readonly config: ViewerProcessConfig,
    private readonly options: ViewerProcessOptions = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get last(): VirtualSnapshot | undefined {
    return this.samples[this.samples.length - 1];
  }

  start(): void {
    const config: VirtualViewerConfig = {
      ...this.config,
      engineModule: ENGINE_BUILD,
      stockPmlModule: STOCK_PML_BUNDLE,
    };
    const entry = this.options.runner === "source" ? ["--import", "tsx", SOURCE] : [VIEWER_BUNDLE];
    // --expose-gc: the soak's heap figure is taken after a full collection (virtual-viewer.ts).
    const node = [process.execPath, "--expose-gc", ...PROFILE_FLAGS, ...entry, JSON.stringify(config)];
    const netns = this.options.netns;
    const [command, ...args] = netns ? ["ip", "netns", "exec", netns, ...node] : node;
    this.spawnedAt = Date.now();
    const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    createInterface({ input: child.stdout }).on("line", (line) => {
      let message: VirtualViewerMessage;
      try {
        message = JSON.parse(line) as VirtualViewerMessage;
      } catch {
        return;
      }
      if (message.type === "sample") {
        this.firstSampleAt ??= Date.now();
        this.samples.push(message.snapshot);
      } else if (message.type === "upload") this.uploads.push([message.at, message.bytes]);
      else this.note(message.message);
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (line.trim() !== "") this.note(line);
    });
  }

  /** Asks the viewer for a last sample and waits (at most `timeoutMs`) for it to exit. */
  async stop(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private note(text: string): void {
    this.problems.push(text.slice(0, 400));
    if (this.problems.length > 8) this.problems.shift();
  }
}
