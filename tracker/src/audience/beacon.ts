/**
 * `POST /beacon`: a viewer's byte counters since its previous beacon, for its swarm.
 *
 *   body (≤ 1 KiB, JSON, sent as text/plain so browsers need no CORS preflight):
 *   {"swarm": "<swarm id, 1–200 chars>", "cdn": <bytes>, "peers": <bytes>, "uploaded": <bytes>}
 *
 * Checked: size, types and ranges, the Origin header against --origins, the `?token=` of a
 * private tracker; rate-limited per client IP (token bucket). Answers 204, or an error status
 * with the reason as text.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TOKEN_QUERY_PARAM } from "../../../shared/protocol";
import { verifyToken } from "../token";
import type { ByteCounts } from "./offload";

export const BEACON_DEFAULTS = Object.freeze({
  maxBodyBytes: 1024,
  /** Beacons per second per client IP, sustained (viewers behind one NAT share it). */
  perIpRate: 2,
  perIpBurst: 60,
  /** Largest byte count one beacon may report (30 s at 250 MB/s). */
  maxBytes: 2 ** 33,
  maxSwarmLength: 200,
  /** Client IPs whose buckets are remembered (the least recently refilled are forgotten). */
  maxIps: 100_000,
});

export type BeaconResult = "accepted" | "too_large" | "invalid" | "rate_limited" | "origin_not_allowed" | "bad_token";

export interface BeaconCheck {
  secret: string;
  allowAnyOrigin: boolean;
  origins: Set<string>;
}

export class BeaconEndpoint {
  readonly results = new Map<BeaconResult, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly check: BeaconCheck,
    private readonly accept: (swarm: string, counts: ByteCounts) => void,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, ip: string): void {
    const origin = req.headers.origin;
    // The page's origin may read our answer; browsers send Origin on cross-origin POSTs.
    const headers: Record<string, string> = origin ? { "Access-Control-Allow-Origin": origin, Vary: "Origin" } : {};
    const done = (status: number, result: BeaconResult, text = "") => {
      this.results.set(result, (this.results.get(result) ?? 0) + 1);
      res.writeHead(status, {
        ...headers,
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": Buffer.byteLength(text),
        Connection: "close",
      });
      res.end(text);
    };
    if (!this.check.allowAnyOrigin && (origin === undefined || !this.check.origins.has(origin))) {
      req.resume();
      return done(403, "origin_not_allowed", "origin not allowed\n");
    }
    if (this.check.secret) {
      const url = new URL(req.url ?? "/", "http://tracker");
      const token = verifyToken(this.check.secret, url.searchParams.get(TOKEN_QUERY_PARAM));
      if (!token.ok) {
        req.resume();
        return done(token.status, "bad_token", "token missing, expired or invalid\n");
      }
    }
    if (!this.take(ip)) {
      req.resume();
      return done(429, "rate_limited", "too many beacons\n");
    }
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > BEACON_DEFAULTS.maxBodyBytes) {
      req.resume();
      return done(413, "too_large", `body over ${BEACON_DEFAULTS.maxBodyBytes} bytes\n`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BEACON_DEFAULTS.maxBodyBytes) over = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (over) return done(413, "too_large", `body over ${BEACON_DEFAULTS.maxBodyBytes} bytes\n`);
      const parsed = parseBeacon(Buffer.concat(chunks).toString("utf8"));
      if (typeof parsed === "string") return done(400, "invalid", `${parsed}\n`);
      this.accept(parsed.swarm, parsed.counts);
      done(204, "accepted");
    });
    req.on("error", () => res.destroy());
  }

  private take(ip: string): boolean {
    const now = Date.now();
    let b = this.buckets.get(ip);
    if (b === undefined) {
      if (this.buckets.size >= BEACON_DEFAULTS.maxIps) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: BEACON_DEFAULTS.perIpBurst, at: now };
    } else {
      b.tokens = Math.min(BEACON_DEFAULTS.perIpBurst, b.tokens + ((now - b.at) / 1000) * BEACON_DEFAULTS.perIpRate);
      b.at = now;
      this.buckets.delete(ip);
    }
    this.buckets.set(ip, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= BEACON_DEFAULTS.maxBytes;

/** The beacon's swarm and counts, or the reason it is refused. */
export function parseBeacon(text: string): { swarm: string; counts: ByteCounts } | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "invalid JSON";
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object";
  const { swarm, cdn, peers, uploaded } = body as Record<string, unknown>;
  if (typeof swarm !== "string" || swarm.length < 1 || swarm.length > BEACON_DEFAULTS.maxSwarmLength) {
    return `swarm must be a string of 1–${BEACON_DEFAULTS.maxSwarmLength} characters`;
  }
  for (const [name, v] of [
    ["cdn", cdn],
    ["peers", peers],
    ["uploaded", uploaded],
  ] as const) {
    if (!isCount(v)) return `${name} must be an integer byte count in 0–${BEACON_DEFAULTS.maxBytes}`;
  }
  return { swarm, counts: { cdn: cdn as number, peers: peers as number, uploaded: uploaded as number, beacons: 1 } };
}
