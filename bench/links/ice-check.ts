import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { IceServer } from "./turn";

const PEER = fileURLToPath(new URL("./ice-peer.mjs", import.meta.url));

/** One side of a WebRTC connection attempt, as ice-peer.mjs reports it. */
export interface IcePeerResult {
  connected: boolean;
  ms: number;
  /** Candidate types of the selected pair, seen from this side. */
  local?: string;
  remote?: string;
  iceState?: string;
  /** Candidate types this side offered (host, srflx, relay). */
  candidates: string[];
}

interface PeerMessage {
  type: "description" | "result" | "error";
  description?: unknown;
  candidates?: string[];
  connected?: boolean;
  ms?: number;
  local?: string;
  remote?: string;
  iceState?: string;
  message?: string;
}

function startPeer(namespace: string, role: "offer" | "answer", iceServers: IceServer[], timeoutMs: number) {
  const child = spawn(
    "ip",
    ["netns", "exec", namespace, process.execPath, PEER, JSON.stringify({ role, iceServers, timeoutMs })],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const messages: PeerMessage[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      messages.push(JSON.parse(line) as PeerMessage);
    } catch {
      return;
    }
    waiters.splice(0).forEach((w) => w());
  });
  child.on("exit", () => waiters.splice(0).forEach((w) => w()));
  const next = async (type: PeerMessage["type"]): Promise<PeerMessage> => {
    for (;;) {
      const found = messages.find((m) => m.type === type || m.type === "error");
      if (found?.type === "error") throw new Error(`ice peer in ${namespace}: ${found.message}`);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`ice peer in ${namespace} exited ${child.exitCode}: ${stderr}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, next, send: (m: PeerMessage) => child.stdin.write(JSON.stringify(m) + "\n") };
}

/**
 * Tries one WebRTC data channel between a peer in namespace `a` and one in `b` (real
 * @roamhq/wrtc, full ICE with the given servers), and reports both sides: connected within
 * `timeoutMs` or not, and through which candidate types.
 */
export async function connectPair(
  a: { namespace: string; iceServers: IceServer[] },
  b: { namespace: string; iceServers: IceServer[] },
  timeoutMs = 8000,
): Promise<[IcePeerResult, IcePeerResult]> {
  const offer = startPeer(a.namespace, "offer", a.iceServers, timeoutMs);
  const answer = startPeer(b.namespace, "answer", b.iceServers, timeoutMs);
  try {
    const offered = await offer.next("description");
    answer.send(offered);
    const answered = await answer.next("description");
    offer.send(answered);
    const [x, y] = await Promise.all([offer.next("result"), answer.next("result")]);
    const result = (m: PeerMessage, d: PeerMessage): IcePeerResult => ({
      connected: m.connected === true,
      ms: m.ms ?? 0,
      local: m.local,
      remote: m.remote,
      iceState: m.iceState,
      candidates: d.candidates ?? [],
    });
    return [result(x, offered), result(y, answered)];
  } finally {
    offer.child.kill("SIGKILL");
    answer.child.kill("SIGKILL");
  }
}
