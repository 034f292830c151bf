import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { VirtualSnapshot, VirtualViewerConfig, VirtualViewerMessage } from "./virtual-protocol";

const ENTRY = fileURLToPath(new URL("./virtual-viewer.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A virtual viewer process seen from the bench: started (optionally inside a network namespace
 * through `ip netns exec`), read line by line, stopped with SIGTERM.
 */
export class VirtualViewerProcess {
  readonly samples: VirtualSnapshot[] = [];
  /** Chunks sent to peers, [ms since epoch, bytes], when the config asks for `logUploads`. */
  readonly uploads: Array<[number, number]> = [];
  readonly problems: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly config: VirtualViewerConfig,
    private readonly netns?: string,
  ) {}

  get last(): VirtualSnapshot | undefined {
    return this.samples[this.samples.length - 1];
  }

  start(): void {
    const node = [process.execPath, "--import", "tsx", ENTRY, JSON.stringify(this.config)];
    const [command, ...args] = this.netns ? ["ip", "netns", "exec", this.netns, ...node] : node;
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
      if (message.type === "sample") this.samples.push(message.snapshot);
      else if (message.type === "upload") this.uploads.push([message.at, message.bytes]);
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
