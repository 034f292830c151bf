/**
 * Load generator child process. Driven over IPC by run.ts: opens WebSocket connections (one peer
 * each, in a Zipf-chosen swarm), then runs announce phases — open loop at a fixed rate, or closed
 * loop with a window of outstanding announces per connection — answering every offer it
 * receives, and reports counts and announce-reply latencies.
 */
import WebSocket from "ws";
import { rankQuantile } from "../../devkit/quantiles";
import { ANSWER_JSON, OFFER_SDP_JSON, peerIdFor } from "./frames";
import { makeZipf, mulberry32 } from "./zipf";
import type { LoadgenReply, LoadgenRequest, OpenRequest, PhaseResult, RunRequest } from "./messages";

const BYTES_INTERVAL = Buffer.from('"interval"');
const BYTES_OFFER = Buffer.from('"offer":');
const BYTES_ANSWER = Buffer.from('"answer":');
const BYTES_FAILURE = Buffer.from('"failure reason"');
const BYTES_PEER_ID = Buffer.from('"peer_id":"');
const BYTES_OFFER_ID = Buffer.from('"offer_id":"');

class Peer {
  readonly sent: number[] = [];
  readonly announcePrefix: string;
  readonly answerPrefix: string;
  constructor(
    readonly ws: WebSocket,
    readonly swarm: number,
    infoHash: string,
    peerId: string,
  ) {
    const ih = JSON.stringify(infoHash);
    const pid = JSON.stringify(peerId);
    this.announcePrefix = `{"action":"announce","info_hash":${ih},"peer_id":${pid},"uploaded":0,"downloaded":0,`;
    this.answerPrefix = `{"action":"announce","info_hash":${ih},"peer_id":${pid},"answer":${ANSWER_JSON},`;
  }
}

const peers: Peer[] = [];
let offerSeq = 0;
const stats = {
  replies: 0,
  offersIn: 0,
  answersIn: 0,
  failures: 0,
  answersOut: 0,
  latencies: [] as number[],
};
let onReply: ((p: Peer) => void) | null = null;

function onMessage(this: WebSocket, data: Buffer): void {
  const p = (this as unknown as { peer: Peer }).peer;
  if (data.indexOf(BYTES_INTERVAL) >= 0) {
    stats.replies++;
    const t0 = p.sent.shift();
    if (t0 !== undefined) stats.latencies.push(performance.now() - t0);
    onReply?.(p);
  } else if (data.indexOf(BYTES_OFFER) >= 0) {
    stats.offersIn++;
    // This generator's ids are plain ASCII, so both sit verbatim in the frame: no JSON.parse of
    // the whole SDP is needed to answer.
    const pi = data.indexOf(BYTES_PEER_ID) + BYTES_PEER_ID.length;
    const oi = data.indexOf(BYTES_OFFER_ID) + BYTES_OFFER_ID.length;
    p.ws.send(
      `${p.answerPrefix}"to_peer_id":"${data.toString("latin1", pi, pi + 20)}","offer_id":"${data.toString("latin1", oi, oi + 20)}"}`,
    );
    stats.answersOut++;
  } else if (data.indexOf(BYTES_ANSWER) >= 0) {
    stats.answersIn++;
  } else if (data.indexOf(BYTES_FAILURE) >= 0) {
    stats.failures++;
  }
}

function announce(p: Peer, offers: number): void {
  let frame = `${p.announcePrefix}"numwant":${offers}`;
  if (offers > 0) {
    frame += ',"offers":[';
    for (let i = 0; i < offers; i++) {
      frame += `${i ? "," : ""}{"offer":{"type":"offer","sdp":${OFFER_SDP_JSON}},"offer_id":"${peerIdFor(`${process.pid}o`, offerSeq++)}"}`;
    }
    frame += "]";
  }
  p.sent.push(performance.now());
  p.ws.send(`${frame}}`);
}

async function open(req: OpenRequest): Promise<LoadgenReply> {
  const started = performance.now();
  const rand = mulberry32(req.seed);
  const zipf = makeZipf(req.swarms, req.zipfS);
  const sizes = new Map<number, number>();
  let failed = 0;
  let next = 0;
  let joined = 0;
  await new Promise<void>((resolveAll) => {
    let inFlight = 0;
    const launch = () => {
      while (inFlight < req.concurrency && next < req.connections) {
        const i = next++;
        inFlight++;
        const swarm = zipf(rand);
        sizes.set(swarm, (sizes.get(swarm) ?? 0) + 1);
        const ws = new WebSocket(req.url, {
          perMessageDeflate: false,
          localAddress: `127.0.${1 + (((req.offset + i) >> 8) % 200)}.${1 + ((req.offset + i) % 250)}`,
        });
        const peer = new Peer(ws, swarm, peerIdFor("swarm", swarm), peerIdFor(`${req.tag}p`, req.offset + i));
        (ws as unknown as { peer: Peer }).peer = peer;
        const done = (ok: boolean) => {
          inFlight--;
          if (ok) joined++;
          else failed++;
          if (joined + failed === req.connections) resolveAll();
          else launch();
        };
        ws.once("error", () => {});
        ws.once("close", () => {
          if (!settled) {
            settled = true;
            done(false);
          }
        });
        let settled = false;
        ws.once("open", () => {
          ws.on("message", onMessage);
          const first = (data: Buffer) => {
            if (data.indexOf(BYTES_INTERVAL) < 0) return;
            ws.off("message", first);
            if (!settled) {
              settled = true;
              peers.push(peer);
              done(true);
            }
          };
          ws.on("message", first);
          peer.ws.send(`${peer.announcePrefix}"numwant":0,"event":"started"}`);
          peer.sent.push(performance.now());
        });
      }
    };
    if (req.connections === 0) resolveAll();
    launch();
  });
  stats.replies = 0;
  stats.latencies.length = 0;
  return {
    type: "opened",
    opened: joined,
    failed,
    topSwarm: sizes.get(0) ?? 0,
    ms: Math.round(performance.now() - started),
  };
}

async function run(req: RunRequest): Promise<LoadgenReply> {
  for (const k of ["replies", "offersIn", "answersIn", "failures", "answersOut"] as const) stats[k] = 0;
  stats.latencies.length = 0;
  for (const p of peers) p.sent.length = 0;
  let announces = 0;
  const rand = mulberry32(req.seed);
  const t0 = performance.now();
  const end = t0 + req.durationMs;
  if (req.mode === "rate") {
    const tickMs = 5;
    let due = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (now >= end) {
          clearInterval(timer);
          resolve();
          return;
        }
        const target = Math.floor(((now - t0) / 1000) * req.rate);
        due = target - announces;
        for (; due > 0; due--) {
          const p = peers[(rand() * peers.length) | 0];
          if (p.ws.readyState === WebSocket.OPEN) announce(p, req.offers);
          announces++;
        }
      }, tickMs);
    });
  } else {
    onReply = (p) => {
      if (performance.now() < end && p.ws.readyState === WebSocket.OPEN) {
        announce(p, req.offers);
        announces++;
      }
    };
    const active = peers.slice(0, Math.min(peers.length, req.window));
    for (const p of active) {
      announce(p, req.offers);
      announces++;
    }
    await new Promise((r) => setTimeout(r, req.durationMs));
    onReply = null;
  }
  const elapsed = (performance.now() - t0) / 1000;
  // Let replies to the last announces arrive before counting.
  await new Promise((r) => setTimeout(r, 300));
  const sorted = stats.latencies.slice().sort((a, b) => a - b);
  const result: PhaseResult = {
    seconds: elapsed,
    announces,
    replies: stats.replies,
    offersReceived: stats.offersIn,
    answersSent: stats.answersOut,
    answersReceived: stats.answersIn,
    failures: stats.failures,
    latencyMs: {
      p50: rankQuantile(sorted, 0.5),
      p90: rankQuantile(sorted, 0.9),
      p99: rankQuantile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
    },
    samples: sorted.map((x) => Math.round(x * 100) / 100),
  };
  return { type: "ran", result };
}

async function answer(req: LoadgenRequest): Promise<void> {
  let reply: LoadgenReply;
  try {
    if (req.type === "open") reply = await open(req);
    else if (req.type === "run") reply = await run(req);
    else {
      for (const p of peers) p.ws.terminate();
      process.exit(0);
    }
  } catch (err) {
    reply = { type: "error", message: (err as Error).stack ?? String(err) };
  }
  process.send!(reply);
}

// answer() catches every error into its reply, so the promise never rejects.
process.on("message", (req: LoadgenRequest) => void answer(req));
process.on("disconnect", () => process.exit(0));
