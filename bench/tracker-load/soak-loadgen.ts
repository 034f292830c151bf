/**
 * Soak load generator child process, driven over IPC by soak.ts. Holds a population of
 * WebSocket peers in Zipf-chosen swarms and keeps it turning over the way a live audience does:
 * every tick some peers say `stopped` and leave and as many new ones join, announcing with
 * offers; every peer re-announces (with offers) once per interval and answers every offer it
 * receives.
 */
import WebSocket from "ws";
import { ANSWER_JSON, OFFER_SDP_JSON, peerIdFor } from "./frames";
import {
  emptySoakCounters,
  type SoakCounters,
  type SoakGenReply,
  type SoakGenRequest,
  type SoakGenStart,
} from "./messages";
import { makeZipf, mulberry32 } from "./zipf";

const BYTES_INTERVAL = Buffer.from('"interval"');
const BYTES_OFFER = Buffer.from('"offer":');
const BYTES_ANSWER = Buffer.from('"answer":');
const BYTES_FAILURE = Buffer.from('"failure reason"');
const BYTES_PEER_ID = Buffer.from('"peer_id":"');
const BYTES_OFFER_ID = Buffer.from('"offer_id":"');
const TICK_MS = 100;

interface SoakPeer {
  ws: WebSocket;
  announcePrefix: string;
  answerPrefix: string;
  joined: boolean;
  leaving: boolean;
  nextAnnounceAt: number;
}

const counters: SoakCounters = emptySoakCounters();

let config: SoakGenStart;
let rand: () => number;
let zipf: (r: () => number) => number;
let serial = 0;
let offerSerial = 0;
const live: SoakPeer[] = [];
let pendingOpens = 0;
let ticker: NodeJS.Timeout | undefined;
let replaceDebt = 0;

function openPeer(): void {
  const n = config.offset + serial++;
  const swarm = zipf(rand);
  const ws = new WebSocket(config.url, {
    perMessageDeflate: false,
    // Many loopback source addresses: ports never run out and per-IP limits see an audience.
    localAddress: `127.${10 + ((n >> 16) % 200)}.${(n >> 8) & 255}.${1 + (n % 250)}`,
  });
  const ih = JSON.stringify(`soak-swarm-${swarm.toString().padStart(9, "0")}`);
  const pid = JSON.stringify(peerIdFor(`${config.tag}s`, n));
  const peer: SoakPeer = {
    ws,
    announcePrefix: `{"action":"announce","info_hash":${ih},"peer_id":${pid},"uploaded":0,"downloaded":0,`,
    answerPrefix: `{"action":"announce","info_hash":${ih},"peer_id":${pid},"answer":${ANSWER_JSON},`,
    joined: false,
    leaving: false,
    nextAnnounceAt: 0,
  };
  pendingOpens++;
  ws.on("error", () => {});
  ws.once("open", () => {
    pendingOpens--;
    peer.joined = true;
    counters.opened++;
    live.push(peer);
    // First re-announce at a random point of the interval, so re-announces spread evenly.
    peer.nextAnnounceAt = performance.now() + rand() * config.reannounceSeconds * 1000;
    announce(peer, "started");
  });
  ws.on("message", (data: Buffer) => onMessage(peer, data));
  ws.once("close", () => {
    if (!peer.joined) {
      pendingOpens--;
      counters.openFailures++;
      return;
    }
    const i = live.indexOf(peer);
    if (i >= 0) live.splice(i, 1);
    if (!peer.leaving) counters.droppedByTracker++;
  });
}

function announce(peer: SoakPeer, event?: "started" | "stopped"): void {
  if (peer.ws.readyState !== WebSocket.OPEN) return;
  counters.announces++;
  if (event === "stopped") {
    peer.ws.send(`${peer.announcePrefix}"numwant":0,"event":"stopped"}`);
    return;
  }
  let frame = `${peer.announcePrefix}"numwant":${config.offers}${event ? `,"event":"${event}"` : ""}`;
  if (config.offers > 0) {
    frame += ',"offers":[';
    for (let i = 0; i < config.offers; i++) {
      const offerId = peerIdFor(`${config.tag}o`, offerSerial++);
      frame += `${i ? "," : ""}{"offer":{"type":"offer","sdp":${OFFER_SDP_JSON}},"offer_id":"${offerId}"}`;
    }
    frame += "]";
  }
  peer.ws.send(`${frame}}`);
}

function onMessage(peer: SoakPeer, data: Buffer): void {
  if (data.indexOf(BYTES_FAILURE) >= 0) {
    counters.failures++;
    let reason = "?";
    try {
      reason = String((JSON.parse(data.toString()) as Record<string, unknown>)["failure reason"]);
    } catch {
      // A frame that is not JSON is counted under "?".
    }
    counters.failureReasons[reason] = (counters.failureReasons[reason] ?? 0) + 1;
  } else if (data.indexOf(BYTES_OFFER) >= 0) {
    counters.offersIn++;
    // Ids here are plain ASCII, so they sit verbatim in the frame: no need to parse the SDP.
    const pi = data.indexOf(BYTES_PEER_ID) + BYTES_PEER_ID.length;
    const oi = data.indexOf(BYTES_OFFER_ID) + BYTES_OFFER_ID.length;
    if (peer.ws.readyState !== WebSocket.OPEN) return;
    peer.ws.send(
      `${peer.answerPrefix}"to_peer_id":"${data.toString("latin1", pi, pi + 20)}","offer_id":"${data.toString("latin1", oi, oi + 20)}"}`,
    );
    counters.answersOut++;
  } else if (data.indexOf(BYTES_ANSWER) >= 0) {
    counters.answersIn++;
  } else if (data.indexOf(BYTES_INTERVAL) >= 0) {
    counters.replies++;
  }
}

function leave(peer: SoakPeer): void {
  peer.leaving = true;
  counters.left++;
  announce(peer, "stopped");
  peer.ws.close(1000);
}

function tick(): void {
  const now = performance.now();
  replaceDebt += (config.replacePerSecond * TICK_MS) / 1000;
  for (; replaceDebt >= 1 && live.length > 0; replaceDebt--) {
    const i = Math.floor(rand() * live.length);
    const peer = live[i];
    live[i] = live[live.length - 1];
    live.pop();
    leave(peer);
    openPeer();
  }
  // Keep the population whole: replace peers the tracker dropped and opens that failed.
  const missing = config.connections - live.length - pendingOpens;
  for (let i = 0; i < Math.min(missing, config.concurrency); i++) openPeer();
  for (const peer of live) {
    if (now < peer.nextAnnounceAt) continue;
    peer.nextAnnounceAt = now + config.reannounceSeconds * 1000;
    announce(peer);
  }
}

async function start(req: SoakGenStart): Promise<SoakGenReply> {
  config = req;
  rand = mulberry32(req.seed);
  zipf = makeZipf(req.swarms, req.zipfS);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const ramp = setInterval(() => {
      const missing = config.connections - live.length - pendingOpens;
      for (let i = 0; i < Math.min(missing, config.concurrency - pendingOpens); i++) openPeer();
      if (live.length >= config.connections || performance.now() - started > req.rampTimeoutMs) {
        clearInterval(ramp);
        resolve();
      }
    }, 20);
  });
  ticker = setInterval(tick, TICK_MS);
  return { type: "started", live: live.length, ms: Math.round(performance.now() - started) };
}

async function stop(): Promise<SoakGenReply> {
  clearInterval(ticker);
  for (const peer of live.slice()) leave(peer);
  const deadline = performance.now() + 10_000;
  while (live.length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const peer of live) peer.ws.terminate();
  return snapshot();
}

function snapshot(): SoakGenReply {
  return {
    type: "counters",
    counters: { ...counters, failureReasons: { ...counters.failureReasons }, live: live.length },
  };
}

async function answer(req: SoakGenRequest): Promise<void> {
  let reply: SoakGenReply;
  try {
    if (req.type === "start") reply = await start(req);
    else if (req.type === "counters") reply = snapshot();
    else if (req.type === "stop") reply = await stop();
    else process.exit(0);
  } catch (err) {
    reply = { type: "error", message: (err as Error).stack ?? String(err) };
  }
  process.send!(reply);
}

// answer() catches every error into its reply, so the promise never rejects.
process.on("message", (req: SoakGenRequest) => void answer(req));
process.on("disconnect", () => process.exit(0));
