/**
 * The cluster bench's relay probes, in a process of their own: offer pairs alone in their swarms,
 * the offerer on one node and the receiver on another, timing each offer from send to arrival.
 * Apart from the load generator, whose event loop is busy with a thousand clients, the timings
 * are the relay's (tracker nodes and Redis), as a viewer's browser would see them.
 *
 * argv: sender node URL, receiver node URL, pairs, offers per second per pair.
 * IPC in: {type: "measure", on} starts and stops counting; {type: "report"} asks for the
 * latencies; {type: "exit"}. IPC out: {type: "ready"}, then {type: "report", latencies, sent}.
 */
import { Client, id20 } from "./wt-client";

export type ProbeRequest = { type: "measure"; on: boolean } | { type: "report" } | { type: "exit" };
export type ProbeReply = { type: "ready" } | { type: "report"; latencies: number[]; sent: number };

const [senderUrl, receiverUrl, pairsArg, rateArg] = process.argv.slice(2);
const send = (m: ProbeReply) => process.send!(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sentAt = new Map<string, number>();
const latencies: number[] = [];
let measuring = false;
let sent = 0;
const onOffer = (f: Record<string, string>, at: number) => {
  const t0 = sentAt.get(f.offer_id);
  if (t0 !== undefined && measuring) latencies.push(at - t0);
  sentAt.delete(f.offer_id);
};

const pairs: [Client, Client][] = [];
for (let i = 0; i < Number(pairsArg); i++) {
  const infoHash = id20(`probe${i}-`);
  const receiver = await Client.open(receiverUrl, infoHash, onOffer);
  await sleep(50);
  pairs.push([await Client.open(senderUrl, infoHash), receiver]);
}
await sleep(1000);
const timer = setInterval(
  () => {
    for (const [sender] of pairs) {
      const [offerId] = sender.announce(1);
      sentAt.set(offerId, performance.now());
      if (measuring) sent++;
    }
  },
  1000 / Number(rateArg),
);

process.on("message", (m: ProbeRequest) => {
  if (m.type === "measure") measuring = m.on;
  else if (m.type === "report") send({ type: "report", latencies, sent });
  else {
    clearInterval(timer);
    for (const [a, b] of pairs) {
      a.ws.terminate();
      b.ws.terminate();
    }
    process.disconnect?.();
  }
});
send({ type: "ready" });
