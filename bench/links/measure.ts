import { spawn } from "node:child_process";
import { createServer, type AddressInfo, type Socket } from "node:net";

/** Seconds of a measuring transfer, and the head left out (the token bucket's burst, TCP's start). */
const TRANSFER_SEC = 4;
const SKIP_SEC = 1;

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
  socket.on("data", (d) => { const t = Date.now() - start; if (t >= skip * 1000) { if (!from) from = t; counted += d.length; last = t; } });
  socket.on("end", () => { process.stdout.write(String((counted * 8) / ((last - from) / 1000) / 1e6)); });
}
`;

/**
 * Measures a viewer's uplink (viewer → hub) and downlink (hub → viewer) with one TCP transfer
 * each, timed on the receiving side after the first second.
 */
export async function measureLink(namespace: string, hubAddress: string): Promise<MeasuredLink> {
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
            while (Date.now() - start < TRANSFER_SEC * 1000)
              if (!socket.write(chunk)) return void socket.once("drain", pump);
            socket.end();
          };
          pump();
        }
        return;
      }
      const t = Date.now() - start;
      if (t < SKIP_SEC * 1000) return;
      if (!from) from = t;
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
          String(TRANSFER_SEC),
          String(SKIP_SEC),
        ]);
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("exit", (code) =>
          code === 0 ? resolve(out) : reject(new Error(`measuring client in ${namespace} exited ${code}`)),
        );
      });
    await runClient("up");
    const down = Number(await runClient("down"));
    return { uplinkMbps: upRate, downlinkMbps: down };
  } finally {
    server.close();
  }
}
