/**
 * The two Redis connections a node needs (commands, and a subscriber for its channels), with
 * one notion of "up": both connected. ioredis reconnects by itself; while Redis is away
 * commands fail at once instead of queueing, so the node never waits on it.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";

/** Reconnect attempts are spaced this far apart at most, milliseconds. */
const MAX_RETRY_DELAY_MS = 1000;

export class RedisLink {
  readonly cmd: Redis;
  readonly sub: Redis;
  up = false;
  /** Set by the metrics module: observes each timed round trip, seconds. */
  onRoundTrip: (seconds: number) => void = () => {};

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly onUp: () => void,
    private readonly onDown: () => void,
  ) {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RETRY_DELAY_MS),
    };
    this.cmd = new Redis(url, {
      ...options,
      connectionName: "swarmcast-tracker",
      // A relay PUBLISH already carries every record of its turn and is mostly alone in it:
      // through the auto-pipeline it costs a pipeline object and a deferred write for nothing
      // (measured: about 8 % of the cluster's CPU per announce in bench:tracker --nodes 2).
      autoPipeliningIgnoredCommands: ["publish"],
    });
    this.sub = new Redis(url, { ...options, connectionName: "swarmcast-tracker-sub", enableAutoPipelining: false });
    for (const client of [this.cmd, this.sub]) {
      client.on("ready", () => this.check());
      client.on("close", () => this.check());
      client.on("end", () => this.check());
      client.on("error", (err: Error) => this.log.debug({ err: err.message }, "redis connection error"));
    }
  }

  /** Starts connecting; resolves when both connections are up or `waitMs` has passed. */
  async connect(waitMs: number): Promise<void> {
    this.cmd.connect().catch(() => {});
    this.sub.connect().catch(() => {});
    const end = Date.now() + waitMs;
    while (!this.up && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  /** Awaits a command, observing its round trip. */
  async timed<T>(p: Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    const result = await p;
    this.onRoundTrip(Number(process.hrtime.bigint() - start) / 1e9);
    return result;
  }

  private check(): void {
    const up = this.cmd.status === "ready" && this.sub.status === "ready";
    if (up === this.up) return;
    this.up = up;
    if (up) {
      this.log.info("redis connected");
      this.onUp();
    } else {
      this.log.warn("redis unreachable: serving local swarms only");
      this.onDown();
    }
  }

  close(): Promise<void> {
    this.cmd.disconnect();
    this.sub.disconnect();
    return Promise.resolve();
  }
}
