/**
 * Signed, expiring access tokens for private trackers (format in shared/protocol.ts):
 * `base64url(JSON claims) + "." + base64url(HMAC-SHA256(secret, firstPart))`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { TokenClaims } from "../../shared/protocol";

export interface MintOptions {
  /** Lifetime in seconds from now. */
  ttlSeconds: number;
  /** Optional subject, shown in the tracker's logs. */
  sub?: string;
  /** Clock override, seconds since the epoch. */
  now?: number;
}

function sign(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function mintToken(secret: string, { ttlSeconds, sub, now }: MintOptions): string {
  if (typeof secret !== "string" || secret.length === 0) throw new TypeError("mintToken: secret must be a non-empty string");
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError("mintToken: ttlSeconds must be a positive number");
  }
  const claims: TokenClaims = { exp: Math.floor((now ?? Date.now() / 1000) + ttlSeconds) };
  if (sub !== undefined) claims.sub = String(sub);
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; status: 401 | 403; reason: "missing_token" | "malformed_token" | "bad_signature" | "expired_token" };

const MAX_TOKEN_LENGTH = 2048;

export function verifyToken(secret: string, token: string | null | undefined, nowSeconds = Date.now() / 1000): TokenCheck {
  if (!token) return { ok: false, status: 401, reason: "missing_token" };
  const dot = token.indexOf(".");
  if (token.length > MAX_TOKEN_LENGTH || dot <= 0 || dot !== token.lastIndexOf(".")) {
    return { ok: false, status: 403, reason: "malformed_token" };
  }
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = Buffer.from(sign(secret, payload), "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, status: 403, reason: "bad_signature" };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, status: 403, reason: "malformed_token" };
  }
  if (claims === null || typeof claims !== "object" || !("exp" in claims) || typeof claims.exp !== "number") {
    return { ok: false, status: 403, reason: "malformed_token" };
  }
  if (claims.exp <= nowSeconds) return { ok: false, status: 401, reason: "expired_token" };
  return { ok: true, claims: claims as TokenClaims };
}

export const TOKEN_REASON_TEXT: Record<string, string> = {
  missing_token: "this tracker requires an access token (?token=)",
  malformed_token: "access token is malformed",
  bad_signature: "access token signature is invalid",
  expired_token: "access token has expired",
};
