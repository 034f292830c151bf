/**
 * Plain counters bumped on the hot path; /metrics and /stats.json read them on demand, so a
 * request costs an integer increment and nothing else.
 */

/** Why a frame or a connection was refused; the label of the failure metrics. */
export type FailureReason =
  | "invalid_json"
  | "invalid_request"
  | "unknown_action"
  | "invalid_info_hash"
  | "invalid_peer_id"
  | "invalid_event"
  | "invalid_numwant"
  | "invalid_offers"
  | "invalid_answer"
  | "unknown_offer"
  | "too_many_swarms"
  | "full_scrape_disabled"
  | "too_many_hashes"
  | "rate_limited"
  | "too_many_keys"
  | "peer_id_in_use"
  | "info_hash_not_allowed"
  | "frame_too_large"
  | "invalid_utf8"
  | "protocol_error"
  | "socket_error";

export type RejectReason =
  | "draining"
  | "bad_handshake"
  | "origin_not_allowed"
  | "too_many_connections_from_ip"
  | "missing_token"
  | "malformed_token"
  | "bad_signature"
  | "expired_token"
  | "token_ttl_too_long"
  | "token_origin_mismatch"
  | "too_many_connections_per_token"
  | "bad_request";

export class TrackerStats {
  readonly startedAt = Date.now();
  connectionsAccepted = 0;
  connectionsClosedIdle = 0;
  connectionsClosedHeartbeat = 0;
  messages = 0;
  announces = 0;
  scrapes = 0;
  answers = 0;
  offersRelayed = 0;
  answersRelayed = 0;
  peersSwept = 0;
  /** Offers not relayed: the target's offer budget was spent or the pending table was full. */
  offersDropped = 0;
  /** Peer ids handed to a new socket after their owner missed the claim ping. */
  peerIdsMoved = 0;
  /** Connections closed when their access token expired. */
  connectionsClosedTokenExpired = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Frames sent, and socket writes that carried them (several frames per write when coalesced). */
  framesOut = 0;
  writes = 0;
  readonly failures = new Map<FailureReason, number>();
  readonly rejections = new Map<RejectReason, number>();

  fail(reason: FailureReason): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  reject(reason: RejectReason): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }
}
