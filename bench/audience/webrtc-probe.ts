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

/**
 * Installs `@roamhq/wrtc` as the `RTCPeerConnection` globals PML's WebRTC client uses, through
 * a subclass that counts connection attempts, successes and relayed connections. It changes
 * nothing of what a connection does.
 */
export function installWebRtc(): ConnectionCounts {
  const require = createRequire(import.meta.url);
  const wrtc = require("@roamhq/wrtc") as Record<string, unknown>;
  const counts: ConnectionCounts = { attempts: 0, connected: 0, relayed: 0, failed: 0 };
  const Base = wrtc.RTCPeerConnection as typeof RTCPeerConnection;
  class CountedPeerConnection extends Base {
    constructor(config?: RTCConfiguration) {
      super(config);
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
        else if (this.connectionState === "failed" || this.connectionState === "closed") settle(false);
      });
      // wrtc reports ICE states more reliably than the aggregate one.
      this.addEventListener("iceconnectionstatechange", () => {
        if (this.iceConnectionState === "connected" || this.iceConnectionState === "completed") settle(true);
        else if (this.iceConnectionState === "failed") settle(false);
      });
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
