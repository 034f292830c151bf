/**
 * Loopback helpers for tracker tests: start our tracker or bittorrent-tracker's Server, and a
 * small WebSocket client that queues frames so tests can await the next matching one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import Server from "bittorrent-tracker/server";
import WebSocket from "ws";
import { type RedisProcess, startRedis } from "../../devkit/redis";
import { startTracker, type RunningTracker, type StartOptions, type TrackerInit } from "../../tracker/src/index";

export interface TrackerUnderTest {
  name: string;
  url: string;
  /** Several nodes of one tracker: clients connect to them in turn. */
  urls?: string[];
  close(): Promise<void>;
}

export async function startOurs(init: TrackerInit & StartOptions = {}): Promise<RunningTracker & TrackerUnderTest> {
  const t = await startTracker({ host: "127.0.0.1", port: 0, logLevel: "silent", ...init });
  return Object.assign(t, { name: "swarmcast" });
}

/** `nodes` trackers sharing swarms through a real redis-server started for them. */
export async function startCluster(
  nodes: number,
  init: TrackerInit & StartOptions = {},
): Promise<TrackerUnderTest & { nodes: RunningTracker[]; redis: RedisProcess }> {
  const redis = await startRedis();
  const started: RunningTracker[] = [];
  for (let i = 0; i < nodes; i++) started.push(await startOurs({ redis: redis.url, ...init }));
  return {
    name: `swarmcast ${nodes}-node cluster`,
    url: started[0].url,
    urls: started.map((t) => t.url),
    nodes: started,
    redis,
    async close() {
      await Promise.all(started.map((t) => t.close()));
      await redis.stop();
    },
  };
}

/** bittorrent-tracker's Server, WebSocket only, on loopback: the protocol reference. */
export async function startReference(intervalMs = 600_000): Promise<TrackerUnderTest> {
  const server = new Server({ udp: false, http: false, ws: true, stats: false, interval: intervalMs });
  server.on("warning", () => {});
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.http.address() as AddressInfo).port;
  return {
    name: "bittorrent-tracker",
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.http.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export type Frame = Record<string, any>;

export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closeCode: number | null = null;
  closeReason = "";

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const f = JSON.parse(textOf(data)) as Frame;
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(f);
      else this.frames.push(f);
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on("error", () => {});
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const c = new TestClient(ws);
    await once(ws, "open");
    return c;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Next frame matching pred (already queued or yet to come). */
  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 3000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames).slice(0, 400)}`),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Resolves true if no frame matching pred arrives within ms. */
  async nothing(pred: (f: Frame) => boolean = () => true, ms = 300): Promise<boolean> {
    try {
      await this.next(pred, ms);
      return false;
    } catch {
      return true;
    }
  }

  async closed(timeoutMs = 3000): Promise<number> {
    if (this.closeCode !== null) return this.closeCode;
    const t = setTimeout(() => this.ws.terminate(), timeoutMs);
    await once(this.ws, "close");
    clearTimeout(t);
    return this.closeCode!;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A 20-character binary id (latin1 code points), like the WebTorrent client sends. */
export function binId(seed: number | string): string {
  return createHash("sha1").update(String(seed)).digest("latin1");
}

export function offers(n: number, tag = "o"): { offer: { type: "offer"; sdp: string }; offer_id: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    offer: { type: "offer", sdp: `v=0 ${tag}${i}` },
    offer_id: binId(`${tag}-${i}-${Math.random()}`),
  }));
}

export function announce(infoHash: string, peerId: string, extra: Frame = {}): Frame {
  return { action: "announce", info_hash: infoHash, peer_id: peerId, numwant: 0, uploaded: 0, downloaded: 0, ...extra };
}

/** `count` new clients, each announced into `infoHash` under the id `peerId()` gives it. */
export async function joinPeers(
  connect: () => Promise<TestClient>,
  infoHash: string,
  peerId: () => string,
  count: number,
): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) {
    const c = await connect();
    c.send(announce(infoHash, peerId(), { event: "started" }));
    await c.next(isReply);
    clients.push(c);
  }
  return clients;
}

export const isReply = (f: Frame) => f.action === "announce" && typeof f.interval === "number";
export const isOffer = (f: Frame) => f.action === "announce" && f.offer !== undefined;
export const isAnswer = (f: Frame) => f.action === "announce" && f.answer !== undefined;
export const isFailure = (f: Frame) => typeof f["failure reason"] === "string";

/** The text of a ws message, whichever of its binary types it arrived as. */
export function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString("utf8");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Attempts a WebSocket upgrade that should be refused; resolves with the HTTP status and body. */
export function refusedUpgrade(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("upgrade was accepted"));
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", () => {});
  });
}

/** Polls until check() returns true or the time runs out. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  stepMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(stepMs);
  }
}

export function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * Sends raw bytes on a fresh TCP connection and resolves with what came back before the server
 * closed it (or `timeoutMs` passed, or with `untilHead` once a response head is complete).
 * Connection errors resolve too, with `error` set.
 */
export function rawExchange(
  port: number,
  request: string | Buffer,
  timeoutMs = 2000,
  untilHead = false,
): Promise<{ response: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let response = "";
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(error === undefined ? { response } : { response, error });
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      response += d;
      if (response.length > 65536 || (untilHead && response.includes("\r\n\r\n"))) finish();
    });
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    socket.on("error", (err) => finish(err.message));
    socket.on("connect", () => socket.write(request));
  });
}

/** The head of a WebSocket upgrade request for `path`, with extra header lines. */
export function upgradeHead(path = "/", extra: string[] = []): string {
  const key = randomBytes(16).toString("base64");
  return [
    `GET ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...extra,
    "",
    "",
  ].join("\r\n");
}

/** A masked client text frame, as a browser sends it. */
export function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x81;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x81;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, payload]);
}

/**
 * A WebSocket client on a bare TCP socket: completes the handshake, then lets the test decide
 * whether to read at all (a client that stops reading is something `ws` cannot play).
 */
export async function rawWebSocket(port: number, path = "/"): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  socket.write(upgradeHead(path));
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    head += chunk.toString("latin1");
  }
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
  return socket;
}

/** `swarmcast-tracker` in its own process (the bin users run), on a free loopback port. */
export async function spawnTracker(
  args: string[],
): Promise<{ child: ChildProcess; port: number; httpUrl: string; stop(): Promise<void> }> {
  const bin = fileURLToPath(new URL("../../tracker/bin/swarmcast-tracker.mjs", import.meta.url));
  const child = spawn(process.execPath, [bin, "--host", "127.0.0.1", "--port", "0", "--log-level", "info", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 20_000);
    child.stdout.on("data", (d: string) => {
      if (out.length < 100_000) out += d;
      const m = /"url":"ws:\/\/[^"]+:(\d+)"/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`tracker exited with ${code}: ${out}`)));
  });
  return {
    child,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await once(child, "exit");
    },
  };
}
