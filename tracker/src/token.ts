/**
 * Signed, expiring access tokens for private trackers (format in shared/protocol.ts):
 * `base64url(JSON claims) + "." + base64url(HMAC-SHA256(secret, firstPart))`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { BINARY_ID_LENGTH, type TokenClaims } from "../../shared/protocol";

export interface MintOptions {
  /** Lifetime in seconds from now. */
  ttlSeconds: number;
  /** Optional subject, shown in the tracker's logs. */
  sub?: string;
  /** info_hashes the token may announce and scrape (see swarmInfoHashes); absent = any. */
  infoHashes?: string[];
  /** The page origin the token is valid from (the upgrade's Origin header); absent = any. */
  origin?: string;
  /** Clock override, seconds since the epoch. */
  now?: number;
}

/** What an accepted token allows one connection, kept on the connection. */
export interface AccessGrant {
  /** The token's signature: one key per token, for the per-token socket count. */
  key: string;
  /** Expiry, seconds since the epoch: the socket is closed then. */
  exp: number;
  /** info_hashes this connection may use; null = any. */
  infoHashes: ReadonlySet<string> | null;
  sub?: string;
}

function sign(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function mintToken(secret: string, { ttlSeconds, sub, infoHashes, origin, now }: MintOptions): string {
  if (typeof secret !== "string" || secret.length === 0)
    throw new TypeError("mintToken: secret must be a non-empty string");
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError("mintToken: ttlSeconds must be a positive number");
  }
  const claims: TokenClaims = { exp: Math.floor((now ?? Date.now() / 1000) + ttlSeconds) };
  if (sub !== undefined) claims.sub = String(sub);
  if (infoHashes !== undefined) {
    if (!Array.isArray(infoHashes) || infoHashes.length === 0 || !infoHashes.every(isInfoHash)) {
      throw new TypeError(
        `mintToken: infoHashes must be a non-empty list of ${BINARY_ID_LENGTH}-character info_hashes`,
      );
    }
    claims.ih = [...infoHashes];
  }
  if (origin !== undefined) {
    if (typeof origin !== "string" || origin === "")
      throw new TypeError("mintToken: origin must be a non-empty string");
    claims.origin = origin;
  }
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

type RefusalReason =
  | "missing_token"
  | "malformed_token"
  | "bad_signature"
  | "expired_token"
  | "token_ttl_too_long"
  | "token_origin_mismatch";

export type TokenCheck =
  { ok: true; claims: TokenClaims; grant: AccessGrant } | { ok: false; status: 401 | 403; reason: RefusalReason };

export interface VerifyOptions {
  /** Seconds since the epoch. */
  now?: number;
  /** Longest accepted `exp - now`, seconds; 0 = no maximum. */
  maxTtl?: number;
  /** The upgrade's Origin header, checked against an `origin` claim. */
  origin?: string;
}

const MAX_TOKEN_LENGTH = 4096;
/** base64url without padding, as the minting side writes it. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** An HMAC-SHA256 is 32 bytes: 43 base64url characters, the last one carrying 2 zero bits. */
const SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

function isInfoHash(v: unknown): v is string {
  if (typeof v !== "string" || v.length !== BINARY_ID_LENGTH) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return false;
  return true;
}

export function verifyToken(
  secret: string,
  token: string | null | undefined,
  options: VerifyOptions | number = {},
): TokenCheck {
  const { now = Date.now() / 1000, maxTtl = 0, origin } = typeof options === "number" ? { now: options } : options;
  if (!token) return { ok: false, status: 401, reason: "missing_token" };
  const dot = token.indexOf(".");
  if (token.length > MAX_TOKEN_LENGTH || dot <= 0 || dot !== token.lastIndexOf(".")) {
    return { ok: false, status: 403, reason: "malformed_token" };
  }
  const payload = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  // One spelling per signature: the decoder would also take padding, '+' '/' or stray bits.
  if (!BASE64URL.test(payload) || !SIGNATURE.test(signature))
    return { ok: false, status: 403, reason: "malformed_token" };
  const given = Buffer.from(signature, "latin1");
  const expected = Buffer.from(sign(secret, payload), "latin1");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, status: 403, reason: "bad_signature" };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, status: 403, reason: "malformed_token" };
  }
  if (!isTokenClaims(claims)) return { ok: false, status: 403, reason: "malformed_token" };
  if (claims.exp <= now) return { ok: false, status: 401, reason: "expired_token" };
  if (maxTtl > 0 && claims.exp - now > maxTtl) return { ok: false, status: 403, reason: "token_ttl_too_long" };
  if (claims.origin !== undefined && claims.origin !== origin)
    return { ok: false, status: 403, reason: "token_origin_mismatch" };
  const grant: AccessGrant = {
    key: signature,
    exp: claims.exp,
    infoHashes: claims.ih === undefined ? null : new Set(claims.ih),
    ...(claims.sub !== undefined ? { sub: claims.sub } : {}),
  };
  return { ok: true, claims, grant };
}

/** Claims as JSON.parse gave them: checked field by field before any is trusted. */
function isTokenClaims(value: unknown): value is TokenClaims {
  if (value === null || typeof value !== "object") return false;
  const claims = value as Record<string, unknown>;
  return (
    typeof claims.exp === "number" &&
    (claims.ih === undefined || (Array.isArray(claims.ih) && claims.ih.every(isInfoHash))) &&
    (claims.origin === undefined || typeof claims.origin === "string") &&
    (claims.sub === undefined || typeof claims.sub === "string")
  );
}

export const TOKEN_REASON_TEXT: Record<RefusalReason | "too_many_connections_per_token", string> = {
  missing_token: "this tracker requires an access token (?token=)",
  malformed_token: "access token is malformed",
  bad_signature: "access token signature is invalid",
  expired_token: "access token has expired",
  token_ttl_too_long: "access token lives longer than this tracker accepts",
  token_origin_mismatch: "access token is not valid from this origin",
  too_many_connections_per_token: "too many connections with this access token",
};
