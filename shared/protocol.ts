/**
 * The few facts the browser SDK and the tracker must agree on. Everything else about the
 * WebTorrent tracker protocol is defined by bittorrent-tracker's client, which PML uses.
 */

/**
 * Version of what two viewers say to each other: PML's peer protocol as the SDK uses it, and the
 * segments they exchange. The SDK writes it into every swarm id, so viewers whose SDKs could not
 * exchange segments are never introduced to each other. Raise it with any change two viewers
 * must agree on; leave it for changes that only one side sees (see sdk/README.md, "Versions").
 */
export const WIRE_VERSION = 1;

/** Query parameter of the tracker URL that carries an access token for private swarms. */
export const TOKEN_QUERY_PARAM = "token";

/** Length of the binary info_hash and peer_id strings the WebTorrent client sends. */
export const BINARY_ID_LENGTH = 20;

/**
 * Values of an announce's `event`. "empty" is the BitTorrent spelling of a plain update (the
 * reference server takes it, so the tracker does too); an absent event means "update".
 */
export const ANNOUNCE_EVENTS = ["started", "update", "completed", "stopped", "paused", "empty"] as const;
export type AnnounceEvent = (typeof ANNOUNCE_EVENTS)[number];

export interface SdpOffer {
  offer: { type: "offer"; sdp: string };
  offer_id: string;
}

/** Frames a WebTorrent client sends to a tracker. */
export interface AnnounceRequest {
  action: "announce";
  info_hash: string;
  peer_id: string;
  numwant?: number;
  event?: AnnounceEvent;
  uploaded?: number;
  downloaded?: number;
  left?: number | null;
  offers?: SdpOffer[];
  /** Present when the frame answers an offer relayed earlier. */
  answer?: { type: "answer"; sdp: string };
  to_peer_id?: string;
  offer_id?: string;
}

export interface ScrapeRequest {
  action: "scrape";
  info_hash?: string | string[];
}

/** The tracker's reply to a request it refuses; the connection stays open. */
export interface FailureReply {
  action?: "announce" | "scrape";
  info_hash?: string;
  "failure reason": string;
}

/**
 * Access tokens for private swarms: `p + "." + base64url(hmacSha256(secret, p))` where
 * `p = base64url(JSON of {@link TokenClaims})` (base64url without padding; the HMAC covers the
 * text `p` itself). The tracker verifies them; a site's backend mints them.
 */
export interface TokenClaims {
  /** Expiry, seconds since the Unix epoch. */
  exp: number;
  /** Optional subject, for logs only. */
  sub?: string;
  /** The only info_hashes the holder may announce or scrape; absent = any. */
  ih?: string[];
  /** The only page origin (upgrade `Origin` header) the token is valid from; absent = any. */
  origin?: string;
}

/** The tag the broadcaster writes before a segment URI in a media playlist: its SHA-256, hex. */
export const SEGMENT_HASH_TAG = "#EXT-X-SWARMCAST-SHA256";
