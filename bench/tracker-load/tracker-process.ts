/**
 * A tracker alone in its own process — ours or bittorrent-tracker's Server — so its CPU time and
 * memory can be read without the load generator's. Reports process.cpuUsage() and RSS over IPC.
 *
 * Two memory floors run here too, holding connections with no tracker behind them: `ws-floor`
 * (node:http + a `ws` WebSocket per connection, a fixed reply to every message) and
 * `socket-floor` (node:http, the handshake answered and the bare socket kept, a fixed reply
 * frame). They show what any tracker on Node and `ws` pays per connection before its own state.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Server from "bittorrent-tracker/server";
import { WebSocketServer, type WebSocket } from "ws";
import { startTracker } from "../../tracker/src/index";
import type { TrackerReply, TrackerRequest } from "./messages";

const kind = process.argv[2];

let ours: Awaited<ReturnType<typeof startTracker>> | null = null;

async function start(): Promise<number> {
  if (kind === "swarmcast") {
    const t = (ours = await startTracker({
      host: "127.0.0.1",
      port: 0,
      logLevel: "warn",
      // The cluster bench passes the Redis its nodes share.
      redis: process.argv[3] ?? "",
      // Every connection of the bench comes from loopback and is deliberately busy.
      limits: {
        maxConnectionsPerIp: 0,
        messageRate: 1e6,
        messageBurst: 1e6,
        byteRate: 1e9,
        byteBurst: 1e9,
        ipByteRate: 1e9,
        ipByteBurst: 1e9,
        offerRate: 1e6,
        offerBurst: 1e6,
        maxPendingOffersPerConnection: 1e6,
      },
    }));
    return t.port;
  }
  if (kind === "reference") {
    const server = new Server({ udp: false, http: false, ws: true, stats: false });
    server.on("warning", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return (server.http.address() as AddressInfo).port;
  }
  if (kind === "ws-floor" || kind === "socket-floor") return startFloor(kind);
  throw new Error(`unknown tracker kind ${kind}`);
}

/** What the load generator waits for after its first announce: any frame naming "interval". */
const FLOOR_REPLY = '{"action":"announce","interval":120,"complete":0,"incomplete":0}';
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

async function startFloor(kind: "ws-floor" | "socket-floor"): Promise<number> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  if (kind === "ws-floor") {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
    const reply = function (this: WebSocket) {
      this.send(FLOOR_REPLY);
    };
    server.on("upgrade", (req, socket: Duplex, head: Buffer) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", reply)),
    );
  } else {
    // One unmasked text frame (payload < 126 bytes: a two-byte header), sent for any input.
    const frame = Buffer.concat([Buffer.from([0x81, FLOOR_REPLY.length]), Buffer.from(FLOOR_REPLY)]);
    const reply = function (this: Duplex) {
      this.write(frame);
    };
    server.on("upgrade", (req, socket: Duplex) => {
      const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}${WS_GUID}`).digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.on("data", reply);
      socket.on("error", () => socket.destroy());
    });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
}

const gc = (globalThis as { gc?: () => void }).gc;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * After full GCs, the median of three RSS readings 200 ms apart: freed pages reach the kernel a
 * little after the collection, and one reading alone jumps by megabytes.
 */
async function settledMemory(): Promise<{ rss: number; heapUsed: number }> {
  const rss: number[] = [];
  let heapUsed = 0;
  for (let i = 0; i < 3; i++) {
    gc?.();
    gc?.();
    await sleep(200);
    const m = process.memoryUsage();
    rss.push(m.rss);
    heapUsed = m.heapUsed;
  }
  rss.sort((a, b) => a - b);
  return { rss: rss[1], heapUsed };
}

async function answer(req: TrackerRequest): Promise<void> {
  if (req.type === "exit") process.exit(0);
  if (req.type === "usage") {
    const cpu = process.cpuUsage();
    const mem = req.gc ? await settledMemory() : process.memoryUsage();
    const stats = ours?.stats();
    const reply: TrackerReply = {
      type: "usage",
      userUs: cpu.user,
      systemUs: cpu.system,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      ...(stats ? { framesOut: stats.framesOut, writes: stats.writes } : {}),
    };
    process.send!(reply);
  }
}

process.on("message", (req: TrackerRequest) => {
  answer(req).catch((err: unknown) => {
    process.send!({
      type: "error",
      message: err instanceof Error ? String(err.stack) : String(err),
    } satisfies TrackerReply);
    process.exit(1);
  });
});
process.on("disconnect", () => process.exit(0));

start().then(
  (port) => process.send!({ type: "ready", port } satisfies TrackerReply),
  (err: unknown) => {
    process.send!({
      type: "error",
      message: err instanceof Error ? String(err.stack) : String(err),
    } satisfies TrackerReply);
    process.exit(1);
  },
);
