// What tests/browser-pages/trust-player.html records in window.trustTest, for tests that read it
// through page.evaluate().
import type { DeliverySource, SwarmcastPlayer } from "../../sdk/src/index";

declare global {
  interface Window {
    trustTest: {
      errors: Array<{ t: number; kind: string; message: string; fatal: boolean; cause?: unknown }>;
      peerEvents: Array<{ t: number; type: "connect" | "close"; peerId: string }>;
      segments: Array<{ t: number; url: string; source: DeliverySource; peerId?: string; bytes: number }>;
      frags: Array<{
        t: number;
        sn: number;
        url: string;
        bytes: number;
        expected: string | null;
        actual?: string;
        ok: boolean | null;
      }>;
      uploads: Record<string, number>;
      uploadLog: Array<[t: number, bytes: number, peerId: string, uploadDisabled: boolean]>;
      corruptedServed: number;
      attachError: string | null;
      player: SwarmcastPlayer | null;
    };
  }
}
