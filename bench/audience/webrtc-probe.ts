import { createRequire } from "node:module";

/** What the probe saw of this process's peer connections. */
export interface ConnectionCounts {
  /**
   * Connections that got the remote peer's answer or offer (both directions). The tracker
   * client pre-creates offers that nobody may answer; those are not attempts.
   */
  attempts: number;
  /** Those that reached `connected`. */
  connected: number;
  /** Connected through a TURN relay (the selected candidate pair has a relay candidate). */
  relayed: number;
  /** Attempts that ended as `failed`, or closed before connecting. */
  failed: number;
}

/** Where a connection's remote address is hidden (a peer-reflexive candidate). */
export const UNKNOWN_ADDRESS = "unknown";

/** Bytes carried by this process's peer connections, per remote address (the selected candidate pair's). */
export type BytesByAddress = Record<string, { received: number; sent: number }>;

/**
 * Reads every peer connection's selected candidate pair: bytes per remote address, closed
 * connections counted with their last reading. This is how the bench sees which viewers a
 * viewer exchanged segments with (each viewer has its own address on the emulated links).
 */
export class PeerTraffic {
  private readonly open = new Set<RTCPeerConnection>();
  private readonly lastReading = new Map<RTCPeerConnection, { address: string; received: number; sent: number }>();
  private readonly closed: BytesByAddress = {};

  track(connection: RTCPeerConnection): void {
    this.open.add(connection);
  }

  /** The connection closed: its last reading moves to the closed totals. */
  forget(connection: RTCPeerConnection): void {
    if (!this.open.delete(connection)) return;
    const last = this.lastReading.get(connection);
    this.lastReading.delete(connection);
    if (last) add(this.closed, last.address, last.received, last.sent);
  }

  async read(): Promise<BytesByAddress> {
    await Promise.all(
      [...this.open].map(async (connection) => {
        const reading = await selectedPair(connection);
        if (reading && this.open.has(connection)) this.lastReading.set(connection, reading);
      }),
    );
    const totals: BytesByAddress = structuredClone(this.closed);
    for (const r of this.lastReading.values()) add(totals, r.address, r.received, r.sent);
    return totals;
  }
}

function add(totals: BytesByAddress, address: string, received: number, sent: number): void {
  const entry = (totals[address] ??= { received: 0, sent: 0 });
  entry.received += received;
  entry.sent += sent;
}

async function selectedPair(
  connection: RTCPeerConnection,
): Promise<{ address: string; received: number; sent: number } | undefined> {
  try {
    const report = await connection.getStats();
    const byId = new Map<string, { type: string; [key: string]: unknown }>();
    report.forEach((stat: { id: string; type: string }) => byId.set(stat.id, stat));
    for (const stat of byId.values()) {
      if (stat.type !== "candidate-pair" || !(stat.nominated || stat.selected) || stat.state !== "succeeded") continue;
      const remote = byId.get(String(stat.remoteCandidateId));
      // WebRTC hides the address of a peer-reflexive remote candidate (a peer behind NAT seen
      // from a port it never signalled): its bytes are kept, under UNKNOWN_ADDRESS.
      const address =
        [remote?.address, remote?.ip].find((a): a is string => typeof a === "string" && a !== "") ?? UNKNOWN_ADDRESS;
      return { address, received: Number(stat.bytesReceived ?? 0), sent: Number(stat.bytesSent ?? 0) };
    }
  } catch {
    // Closed meanwhile: its last reading stands.
  }
  return undefined;
}

/**
 * Installs `@roamhq/wrtc` as the `RTCPeerConnection` globals PML's WebRTC client uses, through
 * a subclass that counts connection attempts, successes and relayed connections. It changes
 * nothing of what a connection does.
 */
export function installWebRtc(traffic?: PeerTraffic): ConnectionCounts {
  const require = createRequire(import.meta.url);
  const wrtc = require("@roamhq/wrtc") as Record<string, unknown>;
  const counts: ConnectionCounts = { attempts: 0, connected: 0, relayed: 0, failed: 0 };
  const Base = wrtc.RTCPeerConnection as typeof RTCPeerConnection;
  class CountedPeerConnection extends Base {
    constructor(config?: RTCConfiguration) {
      super(config);
      traffic?.track(this);
      let attempted = false;
      this.addEventListener("signalingstatechange", () => {
        if (attempted || !this.remoteDescription) return;
        attempted = true;
        counts.attempts++;
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled || !attempted) return;
        settled = true;
        if (!ok) {
          counts.failed++;
          return;
        }
        counts.connected++;
        void this.usesRelay().then((relay) => {
          if (relay) counts.relayed++;
        });
      };
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") settle(true);
        else if (this.connectionState === "failed" || this.connectionState === "closed") {
          settle(false);
          traffic?.forget(this);
        }
      });
      // wrtc reports ICE states more reliably than the aggregate one.
      this.addEventListener("iceconnectionstatechange", () => {
        if (this.iceConnectionState === "connected" || this.iceConnectionState === "completed") settle(true);
        else if (this.iceConnectionState === "failed") settle(false);
      });
    }

    override close(): void {
      traffic?.forget(this);
      super.close();
    }

    private async usesRelay(): Promise<boolean> {
      try {
        const report = await this.getStats();
        const byId = new Map<string, { type: string; [key: string]: unknown }>();
        report.forEach((stat: { id: string; type: string }) => byId.set(stat.id, stat));
        for (const stat of byId.values()) {
          if (stat.type !== "candidate-pair" || !(stat.nominated || stat.selected) || stat.state !== "succeeded")
            continue;
          const local = byId.get(String(stat.localCandidateId));
          const remote = byId.get(String(stat.remoteCandidateId));
          if (local?.candidateType === "relay" || remote?.candidateType === "relay") return true;
        }
      } catch {
        // A connection closed meanwhile: counted as not relayed.
      }
      return false;
    }
  }
  Object.assign(globalThis, {
    RTCPeerConnection: CountedPeerConnection,
    RTCSessionDescription: wrtc.RTCSessionDescription,
    RTCIceCandidate: wrtc.RTCIceCandidate,
    RTCDataChannel: wrtc.RTCDataChannel,
  });
  return counts;
}
