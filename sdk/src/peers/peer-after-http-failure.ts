/**
 * Whether PML should try a peer, not the CDN again, for a segment whose last attempt failed over
 * HTTP.
 *
 * PML 2.3.1 gives a segment it needs soon `httpErrorRetries` (3) HTTP attempts before it looks at
 * peers, however many of them hold the segment. When this viewer's CDN edge fails (503s, resets,
 * connections that hang until PML's 3 s no-bytes timeout), that is up to 9 s of retries the
 * buffer does not have, while a peer would send the segment in one. A build-time patch
 * (`patchPmlQueue` in rollup.config.mjs) asks this before each HTTP attempt: when the last
 * attempt failed over HTTP and a connected peer announced the segment, PML loads it from a peer.
 * If the peer fails too, the last attempt is a peer one and HTTP is next: the sources alternate,
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
): boolean {
  if (request?.failedAttempts.lastAttempt?.downloadSource !== "http") return false;
  return peers.isSegmentLoadedBySomeone(segment);
}
