import { httpFallbackOf } from "./http-fallback";

/**
 * Whether PML should try a peer, not the CDN, for a segment it is about to fetch over HTTP.
 *
 * PML 2.3.1 gives a segment it needs soon `httpErrorRetries` (3) HTTP attempts before it looks at
 * peers, however many of them hold the segment. When this viewer's CDN edge fails (503s, resets,
 * connections that hang until PML's 3 s no-bytes timeout), that is up to 9 s of retries the
 * buffer does not have, while a peer would send the segment in one. A build-time patch
 * (`patchPmlQueue` in rollup.config.mjs) asks this before each HTTP attempt, with PML's segment
 * store: a connected peer that announced the segment gets it when
 * - the segment's last attempt failed over HTTP, or
 * - it has had no attempt yet and this viewer's CDN failed lately (`HttpFallback.failedLately`):
 *   against an edge that holds requests until the timeout, a first attempt over HTTP costs each
 *   segment 3 s. Once the last failure is older than `liveEdge.cdnFailurePauseMs`, the next
 *   segment's first attempt asks the CDN again, so a recovered edge is found within that time.
 * If the peer fails, the last attempt is a peer one and HTTP is next: the sources alternate,
 * and PML still gives up on the segment after its HTTP attempts are spent.
 */

/** What the patched PML passes: its request for the segment (undefined before the first attempt). */
export interface PmlRequestAttempts {
  failedAttempts: { lastAttempt?: { downloadSource?: string } };
}

/** PML's loader of peers for the current stream. */
export interface PmlPeerHolders<Segment> {
  isSegmentLoadedBySomeone(segment: Segment): boolean;
}

export function peerAfterHttpFailure<Segment>(
  request: PmlRequestAttempts | undefined,
  segment: Segment,
  peers: PmlPeerHolders<Segment>,
  store?: object,
): boolean {
  const lastSource = request?.failedAttempts.lastAttempt?.downloadSource;
  if (lastSource === "p2p") return false;
  if (lastSource !== "http" && !httpFallbackOf(store)?.failedLately) return false;
  return peers.isSegmentLoadedBySomeone(segment);
}
