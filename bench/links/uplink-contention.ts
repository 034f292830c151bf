// What a busy uplink does to a viewer's own CDN fetches: one viewer per uplink class behind the
// bench's emulated links (50 Mbit/s downlink, no added delay), each fetching a segment-sized
// body from the hub over a kept-alive HTTP connection, first with its uplink idle, then while a
// TCP upload from the same viewer keeps the uplink busy (as a viewer serving peers does: the
// data channels' congestion control fills the link's queue as TCP's does), and in the third
// condition ("yielded") with the upload stopped while the viewer fetches, as the SDK's uplink
// yield holds it (sdk/src/upload/uplink-yield.ts).
//
//   npx tsx bench/links/uplink-contention.ts [fetches] [uplinks] [--out FILE.json]
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { rankQuantile } from "../../devkit/quantiles";
import { canCreateNamespaces, createLinkLab } from "./namespaces";

const SEGMENT_BYTES = 830_000;
const DOWNLINK_MBPS = 50;
const GAP_MS = 1000;

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const outFile = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const fetches = Number(args[0] ?? 8);
const uplinks = (args[1] ?? "1,5,20").split(",").map(Number);

/**
 * Runs inside a viewer's namespace: `count` fetches of `url` one after another, `gap` ms apart,
 * on one kept-alive connection; with `uploadPort`, a TCP upload to the hub runs throughout
 * (`busy`) or only between fetches (`yielded`). Prints the fetch times (ms) as JSON.
 */
const CLIENT = `
const http = require("node:http");
const net = require("node:net");
const [url, count, gap, host, uploadPort, mode] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true });
// A TCP sender's kernel buffer keeps sending after its writer pauses; the SDK's hold leaves
// little behind (a browser's data channel holds about 64 KB), so "yielded" drops the upload's
// connection for the fetch and opens a new one after it.
let socket;
const startUpload = () => {
  socket = net.connect(Number(uploadPort), host);
  const chunk = Buffer.alloc(16 * 1024);
  const pump = () => { while (!socket.destroyed) { if (!socket.write(chunk)) return void socket.once("drain", pump); } };
  socket.on("connect", pump);
  socket.on("error", () => undefined);
};
if (mode !== "idle") startUpload();
globalThis.pauseUpload = () => { if (mode === "yielded") socket.destroy(); };
globalThis.resumeUpload = () => { if (mode === "yielded") startUpload(); };
const fetchOnce = () => new Promise((resolve, reject) => {
  const started = performance.now();
  http.get(url, { agent }, (res) => { res.resume(); res.on("end", () => resolve(performance.now() - started)); }).on("error", reject);
});
(async () => {
  await new Promise((r) => setTimeout(r, mode === "idle" ? 100 : 1500));
  const times = [];
  for (let i = 0; i < Number(count); i++) {
    globalThis.pauseUpload();
    times.push(Math.round(await fetchOnce()));
    globalThis.resumeUpload();
    await new Promise((r) => setTimeout(r, Number(gap)));
  }
  process.stdout.write(JSON.stringify(times));
  process.exit(0);
})();
`;

type Mode = "idle" | "busy" | "yielded";
const MODES: Mode[] = ["idle", "busy", "yielded"];

function runClient(namespace: string, argv: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let out = "";
    const child: ChildProcess = spawn("ip", ["netns", "exec", namespace, process.execPath, "-e", CLIENT, ...argv]);
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`client exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  if (!canCreateNamespaces()) throw new Error("uplink-contention needs root and network namespaces");
  const lab = createLinkLab(
    uplinks.map((mbps) => ({
      uplinkMbps: mbps,
      downlinkMbps: DOWNLINK_MBPS,
      oneWayDelayMs: 0,
      cdnRttMs: 0,
      behindNat: false,
    })),
    `scuc${process.pid % 10000}`,
    { delay: false, nat: false, turn: false },
  );
  const body = Buffer.alloc(SEGMENT_BYTES, 7);
  const origin = createHttpServer((_req, res) => res.end(body));
  const sink = createTcpServer((socket) => {
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
  });
  const rows: Array<{ uplinkMbps: number; mode: Mode; fetchMs: number[]; medianMs: number; maxMs: number }> = [];
  try {
    await lab.ready;
    await new Promise<void>((resolve) => origin.listen(0, lab.hubAddress, resolve));
    await new Promise<void>((resolve) => sink.listen(0, lab.hubAddress, resolve));
    const url = `http://${lab.hubAddress}:${(origin.address() as AddressInfo).port}/segment.ts`;
    const sinkPort = String((sink.address() as AddressInfo).port);
    for (const [i, mbps] of uplinks.entries()) {
      for (const mode of MODES) {
        const argv = [url, String(fetches), String(GAP_MS), lab.hubAddress, sinkPort, mode];
        const fetchMs = await runClient(lab.viewers[i].namespace, argv);
        const row = {
          uplinkMbps: mbps,
          mode,
          fetchMs,
          medianMs: rankQuantile(fetchMs, 0.5),
          maxMs: Math.max(...fetchMs),
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    origin.close();
    sink.close();
    lab.close();
  }
  if (outFile) {
    writeFileSync(
      outFile,
      `${JSON.stringify({ segmentBytes: SEGMENT_BYTES, downlinkMbps: DOWNLINK_MBPS, gapMs: GAP_MS, rows }, null, 2)}\n`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
