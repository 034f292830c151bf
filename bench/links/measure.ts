import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { buildNative } from "./native";

/** Seconds of a measuring transfer, and the head left out (the token bucket's burst, TCP's start). */
const TRANSFER_SEC = 4;
const SKIP_SEC = 1;

/** How long a rate measurement transfers, and how much of its start it leaves out. */
export interface TransferTiming {
  seconds: number;
  skipSeconds: number;
}

/** Rates measured on one viewer's link, Mbit/s. */
export interface MeasuredLink {
  uplinkMbps: number;
  downlinkMbps: number;
}

/** A client run inside the viewer's namespace: sends for `up`, receives and prints its rate for `down`. */
const CLIENT = `
const net = require("node:net");
const [host, port, mode, seconds, skip] = process.argv.slice(1);
const socket = net.connect(Number(port), host);
const start = Date.now();
if (mode === "up") {
  const chunk = Buffer.alloc(64 * 1024);
  const pump = () => { while (Date.now() - start < seconds * 1000) { if (!socket.write(chunk)) return void socket.once("drain", pump); } socket.end(); };
  socket.write(mode + "\\n"); pump();
} else {
  socket.write(mode + "\\n");
  let counted = 0; let from = 0; let last = 0;
  socket.on("data", (d) => { const t = Date.now() - start; if (t >= skip * 1000) { if (!from) { from = t; return; } counted += d.length; last = t; } });
  socket.on("end", () => { process.stdout.write(String((counted * 8) / ((last - from) / 1000) / 1e6)); });
}
`;

/**
 * Measures a viewer's uplink (viewer → hub) and downlink (hub → viewer) with one TCP transfer
 * each, timed on the receiving side after the first second.
 */
export async function measureLink(namespace: string, hubAddress: string): Promise<MeasuredLink> {
  const timing = { seconds: TRANSFER_SEC, skipSeconds: SKIP_SEC };
  const uplinkMbps = await measureRate(namespace, hubAddress, "up", timing);
  const downlinkMbps = await measureRate(namespace, hubAddress, "down", timing);
  return { uplinkMbps, downlinkMbps };
}

/**
 * One TCP transfer between the hub (this process, at `hubAddress`) and a client in `namespace`:
 * `up` sends from the namespace, `down` to it. The rate is timed on the receiving side, from
 * the first byte after `skipSeconds` to the last. Transfers on different links can run at once
 * (up and down of one link should not: the ACKs of one ride the other).
 */
export async function measureRate(
  namespace: string,
  hubAddress: string,
  direction: "up" | "down",
  timing: TransferTiming,
): Promise<number> {
  const { seconds, skipSeconds } = timing;
  let upRate = 0;
  const server = createServer((socket: Socket) => {
    let mode: string | undefined;
    let counted = 0;
    let from = 0;
    let last = 0;
    const start = Date.now();
    socket.on("data", (data) => {
      if (mode === undefined) {
        const text = data.toString("latin1");
        mode = text.slice(0, text.indexOf("\n"));
        if (mode === "down") {
          const chunk = Buffer.alloc(64 * 1024);
          const pump = () => {
            while (Date.now() - start < seconds * 1000)
              if (!socket.write(chunk)) return void socket.once("drain", pump);
            socket.end();
          };
          pump();
        }
        return;
      }
      const t = Date.now() - start;
      if (t < skipSeconds * 1000) return;
      // The first read after the skip opens the window; its bytes arrived before it.
      if (!from) {
        from = t;
        return;
      }
      counted += data.length;
      last = t;
    });
    socket.on("end", () => {
      if (mode === "up") upRate = (counted * 8) / ((last - from) / 1000) / 1e6;
      socket.end();
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, hubAddress, resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const runClient = (mode: "up" | "down") =>
      new Promise<string>((resolve, reject) => {
        const child = spawn("ip", [
          "netns",
          "exec",
          namespace,
          process.execPath,
          "-e",
          CLIENT,
          hubAddress,
          String(port),
          mode,
          String(seconds),
          String(skipSeconds),
        ]);
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("close", (code) =>
          code === 0 ? resolve(out) : reject(new Error(`measuring client in ${namespace} exited ${code}`)),
        );
      });
    const printed = await runClient(direction);
    return direction === "up" ? upRate : Number(printed);
  } finally {
    server.close();
  }
}

/**
 * ICMP echo round trips from `namespace` to each of `addresses`, ms (`ping.c`: the target's
 * kernel answers and the kernel stamps the reply's arrival, so no process scheduling is in the
 * figure). The targets are pinged in turn, `count` times each.
 */
export function measureRtts(namespace: string, addresses: string[], count = 10): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", namespace, buildNative("ping"), String(count), ...addresses]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Record<string, number[]>)
        : reject(new Error(`ping in ${namespace} exited ${code}: ${err.trim()}`)),
    );
  });
}
