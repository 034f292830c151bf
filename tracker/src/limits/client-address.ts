/**
 * The client's address. Behind `trustProxy` proxies, the address is the hop the outermost
 * trusted proxy appended to X-Forwarded-For — the N-th from the end. Everything to its left was
 * written by the client and can be forged, so it is never used.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";

function unmapped(addr: string): string {
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

export function clientAddress(req: IncomingMessage, socket: Duplex, trustedHops: number): string {
  const direct = unmapped((socket as Duplex & { remoteAddress?: string }).remoteAddress ?? "");
  if (trustedHops <= 0) return direct;
  // Node joins repeated X-Forwarded-For headers with ", ", so the list is one string.
  const xff = req.headers["x-forwarded-for"];
  if (typeof xff !== "string") return direct;
  let end = xff.length;
  let hop = "";
  for (let n = 0; n < trustedHops; n++) {
    if (end < 0) return direct;
    const start = xff.lastIndexOf(",", end - 1);
    hop = xff.slice(start + 1, end).trim();
    end = start;
  }
  // Fewer hops than trusted proxies, or a hop that is not an address: the request did not
  // come the way the operator said, so the socket's own address is the only fact.
  return isIP(hop) === 0 ? direct : unmapped(hop);
}
