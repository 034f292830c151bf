/**
 * The attacker of `npm run bench:attack`, in a process of its own: `attacker.ts PORT KIND SOCKETS
 * RATE BURST` opens SOCKETS WebSockets that each send BURST frames of KIND at once, then RATE per
 * second, reconnecting any socket the tracker closes; on the IPC message "stop" it reports
 * { sent, closes } and stops.
 */
import WebSocket from "ws";

const [port, kind, sockets, rate, burst] = process.argv.slice(2);
const SOCKETS = Number(sockets);
const RATE = Number(rate);
const BURST = Number(burst);

function frameOfKeys(keyCount: number, size: number): string {
  const keys: string[] = [];
  let length = 0;
  for (let i = 0; i < keyCount && length < size; i++) length += keys[keys.push(`"k${i}":1`) - 1].length + 1;
  const body = `{"action":"announce",${keys.join(",")}`;
  const pad = size - body.length - 10;
  return pad > 0 ? `${body},"p":"${"x".repeat(pad)}"}` : `${body}}`;
}

const FRAMES: Record<string, Buffer> = {
  "many-keys": Buffer.from(frameOfKeys(1e9, 60_000)),
  "256-keys": Buffer.from(frameOfKeys(250, 60_000)),
};
const frame = FRAMES[kind];
if (frame === undefined) throw new Error(`unknown frame kind ${kind}`);

let sent = 0;
let closes = 0;
let stopped = false;
const open = new Set<WebSocket>();

function connect(): void {
  if (stopped) return;
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  open.add(ws);
  let timer: NodeJS.Timeout | undefined;
  ws.on("open", () => {
    for (let i = 0; i < BURST; i++) ws.send(frame);
    sent += BURST;
    timer = setInterval(() => {
      if (ws.readyState === 1) {
        ws.send(frame);
        sent++;
      }
    }, 1000 / RATE);
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    clearInterval(timer);
    open.delete(ws);
    if (stopped) return;
    closes++;
    setTimeout(connect, 100);
  });
}

for (let i = 0; i < SOCKETS; i++) connect();
process.on("message", () => {
  stopped = true;
  for (const ws of open) ws.terminate();
  process.send!({ sent, closes });
});
