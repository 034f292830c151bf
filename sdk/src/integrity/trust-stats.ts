import type { PeerConnectionStats } from "../peers/peer-connection-guard";
import type { UploadStats } from "../upload/upload-governor";
import type { IntegrityStats } from "./verifier";

/** The part of `stats()` about segment integrity and upload limits. */
export interface TrustStats {
  /** Segments from peers that failed their SHA-256 check (each dropped its peer). */
  integrityFailures: number;
  /** Integrity checks: counts, time spent hashing, failures per peer id. */
  integrity: IntegrityStats;
  /** Upload switch and cap (`upload`, `maxUploadKbps`); the rate itself is `uploadRate`. */
  upload: UploadStats;
  /** WebRTC connections: open now, most at once, refused at the cap, dropped for an oversize segment. */
  peerConnections: PeerConnectionStats;
}
