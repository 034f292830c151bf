// One WebRTC peer (@roamhq/wrtc) for checking what a link lets through: run it inside a viewer's
// namespace, pass its config as JSON, relay the one "description" line it prints to the other
// peer's stdin. It prints one "result" line: connected or not within the timeout, and the
// candidate types of the selected pair (host, srflx, prflx, relay).
//
//   node ice-peer.mjs '{"role":"offer","iceServers":[...],"timeoutMs":8000}'
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const { RTCPeerConnection } = require("@roamhq/wrtc");
const config = JSON.parse(process.argv[2]);
const started = Date.now();
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const pc = new RTCPeerConnection({ iceServers: config.iceServers ?? [] });
const gathered = () =>
  new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  });
const remote = new Promise((resolve) =>
  createInterface({ input: process.stdin }).on("line", (line) => resolve(JSON.parse(line))),
);
const opened = new Promise((resolve) => {
  const watch = (channel) => {
    if (channel.readyState === "open") resolve(channel);
    channel.onopen = () => resolve(channel);
  };
  if (config.role === "offer") watch(pc.createDataChannel("probe"));
  else pc.ondatachannel = (event) => watch(event.channel);
});

async function selectedPair() {
  const stats = await pc.getStats();
  const byId = new Map();
  stats.forEach((s) => byId.set(s.id, s));
  for (const s of byId.values()) {
    if (s.type !== "candidate-pair" || !(s.nominated || s.selected) || s.state !== "succeeded") continue;
    return { local: byId.get(s.localCandidateId)?.candidateType, remote: byId.get(s.remoteCandidateId)?.candidateType };
  }
  return { local: undefined, remote: undefined };
}

const candidates = () => {
  const lines = (pc.localDescription?.sdp ?? "").split("\n").filter((l) => l.startsWith("a=candidate"));
  return [...new Set(lines.map((l) => / typ (\w+)/.exec(l)?.[1]))];
};

async function main() {
  if (config.role === "offer") {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    say({ type: "description", description: pc.localDescription, candidates: candidates() });
    await pc.setRemoteDescription((await remote).description);
  } else {
    await pc.setRemoteDescription((await remote).description);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    say({ type: "description", description: pc.localDescription, candidates: candidates() });
  }
  const timeout = new Promise((resolve) => setTimeout(() => resolve(undefined), config.timeoutMs ?? 8000));
  const channel = await Promise.race([opened, timeout]);
  if (!channel) {
    say({ type: "result", connected: false, ms: Date.now() - started, iceState: pc.iceConnectionState });
  } else {
    // Let the other side see its channel open too before this one closes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    say({ type: "result", connected: true, ms: Date.now() - started, ...(await selectedPair()) });
  }
  pc.close();
  process.exit(0);
}

main().catch((error) => {
  say({ type: "error", message: String(error?.stack ?? error) });
  process.exit(1);
});
