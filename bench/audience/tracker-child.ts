/**
 * The tracker as a child process (`tracker/src/cli.ts`), for scenarios that kill it: SIGKILL,
 * then a start on the same address, and its `announces_total` read from /metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../devkit/redis";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = fileURLToPath(new URL("../../tracker/src/cli.ts", import.meta.url));
const START_TIMEOUT_MS = 20_000;

export class TrackerChild {
  private child: ChildProcess | undefined;
  readonly problems: string[] = [];

  private constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /** Starts a tracker on `host` at a free port and waits for its /health. */
  static async start(host: string): Promise<TrackerChild> {
    const tracker = new TrackerChild(host, await freePort());
    await tracker.start();
    return tracker;
  }

  get url(): string {
    return `ws://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "--host", this.host, "--port", String(this.port), "--log-level", "warn"],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    this.child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.problems.push(chunk.toString().slice(0, 300));
      if (this.problems.length > 5) this.problems.shift();
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`tracker child exited at start: ${this.problems.join(" ")}`);
      try {
        if ((await fetch(`http://${this.host}:${this.port}/health`)).ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`tracker child did not answer /health within ${START_TIMEOUT_MS} ms`);
  }

  /** SIGKILL: no drain, no goodbye to the viewers' sockets. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** `announces_total` from /metrics; undefined while the tracker is down. */
  async announces(): Promise<number | undefined> {
    try {
      const text = await (await fetch(`http://${this.host}:${this.port}/metrics`)).text();
      const match = /^\S*announces_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)/m.exec(text);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
